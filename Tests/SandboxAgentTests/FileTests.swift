import CMAJSON
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// write_file, read_file, delete, rename, list, stat.
@Suite struct FileTests {
    @Test func writeReadRoundTripWithBinaryData() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        let data = (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let path = dirs.ws("bin/data.bin")
        let written = try agent.request(["op": "write_file", "path": .string(path), "data": b64(data), "mode": 0o644, "mkdirs": true])
        #expect(written == ["ev": "ok", "id": written["id"] ?? .null, "size": 70_000])
        #expect(fileBytes(path) == data)

        let read = try agent.request(["op": "read_file", "path": .string(path), "max_bytes": 1_048_576])
        #expect(read["ev"] == "file")
        #expect(decodeData(read) == data)
        #expect(read["size"] == 70_000)
        #expect(read["truncated"] == false)

        // Empty file.
        let empty = dirs.ws("empty")
        #expect(try agent.request(["op": "write_file", "path": .string(empty), "data": ""])["size"] == 0)
        let readEmpty = try agent.request(["op": "read_file", "path": .string(empty)])
        #expect(decodeData(readEmpty) == [])
        #expect(readEmpty["truncated"] == false)
    }

    @Test func modeIsAppliedWithoutSpecialBits() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        func mode(_ path: String) -> Int {
            var st = stat()
            return stat(path, &st) == 0 ? Int(st.st_mode & 0o7777) : -1
        }
        for (requested, expected) in [(0o600, 0o600), (0o755, 0o755), (0o4755, 0o755), (0o2777, 0o777), (0o1644, 0o644), (0o7000, 0)] {
            let path = dirs.ws("m\(requested)")
            #expect(try agent.request(["op": "write_file", "path": .string(path), "data": b64("x"), "mode": .int(Int64(requested))])["ev"] == "ok")
            #expect(mode(path) == expected, "mode \(String(requested, radix: 8))")
        }
        // Default 0644.
        #expect(try agent.request(["op": "write_file", "path": .string(dirs.ws("default")), "data": b64("x")])["ev"] == "ok")
        #expect(mode(dirs.ws("default")) == 0o644)
    }

    @Test func mkdirsAndMissingParents() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        let noParent = try agent.request(["op": "write_file", "path": .string(dirs.ws("a/b/c.txt")), "data": b64("x")])
        #expect(noParent["code"] == "not_found")
        #expect(!FileManager.default.fileExists(atPath: dirs.ws("a")))

        #expect(try agent.request(["op": "write_file", "path": .string(dirs.ws("a/b/c.txt")), "data": b64("x"), "mkdirs": true])["ev"] == "ok")
        var isDir: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: dirs.ws("a/b"), isDirectory: &isDir) && isDir.boolValue)

        // A file where a directory is needed.
        let throughFile = try agent.request(["op": "write_file", "path": .string(dirs.ws("a/b/c.txt/d")), "data": b64("x"), "mkdirs": true])
        #expect(throughFile["code"] == "not_a_directory")
        // A directory where the file should go.
        let ontoDir = try agent.request(["op": "write_file", "path": .string(dirs.ws("a/b")), "data": b64("x")])
        #expect(ontoDir["code"] == "is_a_directory")
        // The root itself.
        let root = try agent.request(["op": "write_file", "path": .string(dirs.workspace), "data": b64("x")])
        #expect(root["ev"] == "error")
    }

    @Test func writeReplacesAtomicallyAndLeavesNoTemporaryFiles() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        let path = dirs.ws("f.txt")
        try Data("old content that is longer".utf8).write(to: URL(fileURLWithPath: path))
        // A hard link to the old file keeps the old content: the file was replaced, not rewritten.
        #expect(link(path, dirs.ws("old-link")) == 0)
        var before = stat()
        _ = stat(path, &before)

        #expect(try agent.request(["op": "write_file", "path": .string(path), "data": b64("new")])["ev"] == "ok")
        #expect(fileBytes(path) == Array("new".utf8))
        #expect(fileBytes(dirs.ws("old-link")) == Array("old content that is longer".utf8))
        var after = stat()
        _ = stat(path, &after)
        #expect(before.st_ino != after.st_ino)
        let names = try FileManager.default.contentsOfDirectory(atPath: dirs.workspace).sorted()
        #expect(names == ["f.txt", "old-link"])

        // A very long name still gets a (shortened) temporary name.
        let long = String(repeating: "é", count: 127)  // 254 bytes
        #expect(try agent.request(["op": "write_file", "path": .string(dirs.ws(long)), "data": b64("x")])["ev"] == "ok")
        #expect(fileBytes(dirs.ws(long)) == Array("x".utf8))
    }

    @Test func readMaxBytesTruncates() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        let path = dirs.ws("ten.txt")
        try Data("0123456789".utf8).write(to: URL(fileURLWithPath: path))
        let four = try agent.request(["op": "read_file", "path": .string(path), "max_bytes": 4])
        #expect(decodeData(four) == Array("0123".utf8))
        #expect(four["size"] == 10)
        #expect(four["truncated"] == true)
        let exact = try agent.request(["op": "read_file", "path": .string(path), "max_bytes": 10])
        #expect(decodeData(exact) == Array("0123456789".utf8))
        #expect(exact["truncated"] == false)
        let zero = try agent.request(["op": "read_file", "path": .string(path), "max_bytes": 0])
        #expect(decodeData(zero) == [])
        #expect(zero["truncated"] == true)

        // A file bigger than what fits in one 1 MiB frame is cut to fit, and says so.
        let big = dirs.ws("big.bin")
        try Data(repeating: 0xAB, count: 2_000_000).write(to: URL(fileURLWithPath: big))
        let id = agent.makeID()
        try agent.send(["op": "read_file", "id": .int(id), "path": .string(big), "max_bytes": 16_777_216])
        let reply = try #require(try agent.events(for: id).last)
        #expect(reply["size"] == 2_000_000)
        #expect(reply["truncated"] == true)
        let got = decodeData(reply) ?? []
        #expect(got.count > 700_000 && got.count < 800_000)
        #expect(got.allSatisfy { $0 == 0xAB })
        #expect(JSONWriter.bytes(reply).count < 1 << 20)

        let missing = try agent.request(["op": "read_file", "path": .string(dirs.ws("nope"))])
        #expect(missing["code"] == "not_found")
        let dir = try agent.request(["op": "read_file", "path": .string(dirs.workspace)])
        #expect(dir["code"] == "is_a_directory")
        // A FIFO is refused at once instead of blocking the agent.
        #expect(mkfifo(dirs.ws("fifo"), 0o644) == 0)
        let fifo = try agent.request(["op": "read_file", "path": .string(dirs.ws("fifo"))], timeout: 5)
        #expect(fifo["code"] == "io")
    }

    @Test func deleteFilesAndTrees() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        let fm = FileManager.default
        try Data("x".utf8).write(to: URL(fileURLWithPath: dirs.ws("file.txt")))
        #expect(try agent.request(["op": "delete", "path": .string(dirs.ws("file.txt"))])["ev"] == "ok")
        #expect(!fm.fileExists(atPath: dirs.ws("file.txt")))
        #expect(try agent.request(["op": "delete", "path": .string(dirs.ws("file.txt"))])["code"] == "not_found")

        try fm.createDirectory(atPath: dirs.ws("tree/a/b/c"), withIntermediateDirectories: true)
        for p in ["tree/x", "tree/a/y", "tree/a/b/z", "tree/a/b/c/w", "tree/.hidden"] {
            try Data(p.utf8).write(to: URL(fileURLWithPath: dirs.ws(p)))
        }
        try fm.createDirectory(atPath: dirs.ws("tree/empty"), withIntermediateDirectories: true)
        // Unreadable-to-others permissions inside do not matter to the owner.
        #expect(chmod(dirs.ws("tree/a/b/c/w"), 0) == 0)

        let nonRecursive = try agent.request(["op": "delete", "path": .string(dirs.ws("tree")), "recursive": false])
        #expect(nonRecursive["code"] == "is_a_directory")
        #expect(fm.fileExists(atPath: dirs.ws("tree/x")))

        #expect(try agent.request(["op": "delete", "path": .string(dirs.ws("tree")), "recursive": true])["ev"] == "ok")
        #expect(!fm.fileExists(atPath: dirs.ws("tree")))

        // Deleting the workspace root is refused.
        let root = try agent.request(["op": "delete", "path": .string(dirs.workspace), "recursive": true])
        #expect(root["code"] == "invalid_path")
        #expect(fm.fileExists(atPath: dirs.workspace))
    }

    @Test func renameFilesAndDirectories() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        let fm = FileManager.default
        try Data("a".utf8).write(to: URL(fileURLWithPath: dirs.ws("a.txt")))
        #expect(try agent.request(["op": "rename", "from": .string(dirs.ws("a.txt")), "to": .string(dirs.ws("b.txt"))])["ev"] == "ok")
        #expect(!fm.fileExists(atPath: dirs.ws("a.txt")))
        #expect(fileBytes(dirs.ws("b.txt")) == Array("a".utf8))

        // Into a new directory.
        let noParent = try agent.request(["op": "rename", "from": .string(dirs.ws("b.txt")), "to": .string(dirs.ws("new/dir/b.txt"))])
        #expect(noParent["code"] == "not_found")
        #expect(try agent.request(["op": "rename", "from": .string(dirs.ws("b.txt")), "to": .string(dirs.ws("new/dir/b.txt")), "mkdirs": true])["ev"] == "ok")
        #expect(fileBytes(dirs.ws("new/dir/b.txt")) == Array("a".utf8))

        // Over an existing file: replaced (POSIX rename).
        try Data("c".utf8).write(to: URL(fileURLWithPath: dirs.ws("c.txt")))
        #expect(try agent.request(["op": "rename", "from": .string(dirs.ws("c.txt")), "to": .string(dirs.ws("new/dir/b.txt"))])["ev"] == "ok")
        #expect(fileBytes(dirs.ws("new/dir/b.txt")) == Array("c".utf8))

        // A directory.
        #expect(try agent.request(["op": "rename", "from": .string(dirs.ws("new")), "to": .string(dirs.ws("moved"))])["ev"] == "ok")
        #expect(fileBytes(dirs.ws("moved/dir/b.txt")) == Array("c".utf8))

        // Errors.
        #expect(try agent.request(["op": "rename", "from": .string(dirs.ws("nope")), "to": .string(dirs.ws("x"))])["code"] == "not_found")
        #expect(try agent.request(["op": "rename", "from": .string(dirs.ws("moved")), "to": .string(dirs.ws("moved/dir/inside"))])["code"] == "invalid_path")
        try Data("f".utf8).write(to: URL(fileURLWithPath: dirs.ws("f")))
        try fm.createDirectory(atPath: dirs.ws("full/sub"), withIntermediateDirectories: true)
        #expect(try agent.request(["op": "rename", "from": .string(dirs.ws("f")), "to": .string(dirs.ws("full"))])["code"] == "is_a_directory")
        #expect(try agent.request(["op": "rename", "from": .string(dirs.ws("moved")), "to": .string(dirs.ws("full"))])["code"] == "exists")
        #expect(try agent.request(["op": "rename", "from": .string(dirs.ws("moved")), "to": .string(dirs.ws("f"))])["code"] == "not_a_directory")
        #expect(try agent.request(["op": "rename", "from": .string(dirs.workspace), "to": .string(dirs.ws("x"))])["code"] == "invalid_path")
    }

    @Test func listIsSortedTypedAndLimited() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        let fm = FileManager.default
        try fm.createDirectory(atPath: dirs.ws("a/b"), withIntermediateDirectories: true)
        try Data("123".utf8).write(to: URL(fileURLWithPath: dirs.ws("a-c")))
        try Data("12".utf8).write(to: URL(fileURLWithPath: dirs.ws("a/b/file")))
        try Data("".utf8).write(to: URL(fileURLWithPath: dirs.ws("B")))
        try Data("".utf8).write(to: URL(fileURLWithPath: dirs.ws("é")))
        #expect(symlink(dirs.outside, dirs.ws("link")) == 0)
        #expect(mkfifo(dirs.ws("pipe"), 0o644) == 0)

        let w = dirs.workspace
        let all = try agent.request(["op": "list", "path": .string(w), "recursive": true, "limit": 100])
        #expect(all["ev"] == "list")
        #expect(all["truncated"] == false)
        let entries = all["entries"]?.arrayValue ?? []
        let paths = entries.compactMap { $0["path"]?.stringValue }
        // Bytewise order of full paths: "a-c" ('-' = 0x2D) sorts before "a/b" ('/' = 0x2F).
        #expect(paths == ["B", "a", "a-c", "a/b", "a/b/file", "link", "pipe", "é"].map { w + "/" + $0 })
        let types = Dictionary(uniqueKeysWithValues: entries.map { ($0["path"]?.stringValue ?? "", $0["type"]?.stringValue ?? "") })
        #expect(types[w + "/a"] == "dir")
        #expect(types[w + "/a-c"] == "file")
        #expect(types[w + "/link"] == "symlink")
        #expect(types[w + "/pipe"] == "other")
        #expect(entries.first { $0["path"]?.stringValue == w + "/a-c" }?["size"] == 3)
        // The symlinked directory's content is not listed.
        #expect(!paths.contains { $0.hasPrefix(w + "/link/") })

        let top = try agent.request(["op": "list", "path": .string(w), "recursive": false])
        #expect((top["entries"]?.arrayValue ?? []).compactMap { $0["path"]?.stringValue } == ["B", "a", "a-c", "link", "pipe", "é"].map { w + "/" + $0 })

        let limited = try agent.request(["op": "list", "path": .string(w), "recursive": true, "limit": 3])
        #expect((limited["entries"]?.arrayValue ?? []).compactMap { $0["path"]?.stringValue } == ["B", "a", "a-c"].map { w + "/" + $0 })
        #expect(limited["truncated"] == true)
        let exact = try agent.request(["op": "list", "path": .string(w), "recursive": true, "limit": 8])
        #expect(exact["truncated"] == false)

        let sub = try agent.request(["op": "list", "path": .string(w + "/a"), "recursive": true])
        #expect((sub["entries"]?.arrayValue ?? []).compactMap { $0["path"]?.stringValue } == [w + "/a/b", w + "/a/b/file"])

        #expect(try agent.request(["op": "list", "path": .string(w + "/a-c")])["code"] == "not_a_directory")
        #expect(try agent.request(["op": "list", "path": .string(w + "/nope")])["code"] == "not_found")
        #expect(try agent.request(["op": "list", "path": .string(w + "/link")])["code"] == "symlink")
    }

    @Test func statReportsTypeAndSize() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        try Data("abc".utf8).write(to: URL(fileURLWithPath: dirs.ws("a")))
        try FileManager.default.createDirectory(atPath: dirs.ws("d"), withIntermediateDirectories: false)
        let file = try agent.request(["op": "stat", "path": .string(dirs.ws("a"))])
        #expect(file["ev"] == "ok")
        #expect(file["type"] == "file")
        #expect(file["size"] == 3)
        #expect(try agent.request(["op": "stat", "path": .string(dirs.ws("d"))])["type"] == "dir")
        #expect(try agent.request(["op": "stat", "path": .string(dirs.workspace)])["type"] == "dir")
        #expect(try agent.request(["op": "stat", "path": .string(dirs.ws("missing"))])["code"] == "not_found")
        #expect(try agent.request(["op": "stat", "path": .string(dirs.ws("a/b"))])["code"] == "not_a_directory")
    }
}
