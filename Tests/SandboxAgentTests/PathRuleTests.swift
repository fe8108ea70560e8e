import CMAJSON
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The path rules: every way out of the workspace is refused with the right code, and nothing
/// outside the workspace is created or changed.
@Suite struct PathRuleTests {
    @Test func malformedPathsAreInvalid() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        let w = dirs.workspace
        try Data("x".utf8).write(to: URL(fileURLWithPath: dirs.ws("a")))
        let invalid = [
            "", "a", "ws/a", "./a",
            w + "/../outside/secret.txt", w + "/./a", w + "//a", w + "/a/", w + "/.", w + "/..",
            w + "/a\u{0}b", w + "/" + String(repeating: "n", count: 256),
        ]
        for path in invalid {
            for op: JSONObject in [
                ["op": "read_file", "path": .string(path)],
                ["op": "stat", "path": .string(path)],
                ["op": "write_file", "path": .string(path), "data": b64("pwned"), "mkdirs": true],
                ["op": "delete", "path": .string(path), "recursive": true],
                ["op": "list", "path": .string(path)],
                ["op": "rename", "from": .string(dirs.ws("a")), "to": .string(path)],
            ] {
                let reply = try agent.request(op)
                #expect(reply["code"] == "invalid_path", "\(op) → \(reply)")
            }
        }
        #expect(fileBytes(dirs.ws("a")) == Array("x".utf8))
        #expect(dirs.outsideSnapshot() == ["secret.txt=secret\n"])
    }

    @Test func pathsOutsideTheWorkspace() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        for path in ["/etc/passwd", "/", dirs.root, dirs.outside + "/secret.txt", dirs.workspace + "-other/x", dirs.root + "/w"] {
            #expect(try agent.request(["op": "read_file", "path": .string(path)])["code"] == "outside_workspace", "\(path)")
            #expect(try agent.request(["op": "write_file", "path": .string(path), "data": b64("pwned")])["code"] == "outside_workspace")
            #expect(try agent.request(["op": "delete", "path": .string(path), "recursive": true])["code"] == "outside_workspace")
            #expect(try agent.request(["op": "list", "path": .string(path)])["code"] == "outside_workspace")
            #expect(try agent.request(["op": "stat", "path": .string(path)])["code"] == "outside_workspace")
        }
        let log = try agent.request(["op": "exec", "argv": ["/bin/true"], "log_path": .string(dirs.outside + "/log")])
        #expect(log["code"] == "outside_workspace")
        #expect(dirs.outsideSnapshot() == ["secret.txt=secret\n"])
    }

    @Test func finalSymlinkIsRefused() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        let evil = dirs.ws("evil")
        #expect(symlink(dirs.outside + "/secret.txt", evil) == 0)
        #expect(try agent.request(["op": "read_file", "path": .string(evil)])["code"] == "symlink")
        #expect(try agent.request(["op": "write_file", "path": .string(evil), "data": b64("pwned")])["code"] == "symlink")
        #expect(try agent.request(["op": "stat", "path": .string(evil)])["code"] == "symlink")
        #expect(try agent.request(["op": "delete", "path": .string(evil)])["code"] == "symlink")
        #expect(try agent.request(["op": "rename", "from": .string(evil), "to": .string(dirs.ws("moved"))])["code"] == "symlink")
        try Data("mine".utf8).write(to: URL(fileURLWithPath: dirs.ws("mine")))
        #expect(try agent.request(["op": "rename", "from": .string(dirs.ws("mine")), "to": .string(evil)])["code"] == "symlink")
        let log = try agent.request(["op": "exec", "argv": ["/bin/sh", "-c", "echo pwned"], "log_path": .string(evil)])
        #expect(log["code"] == "symlink")
        // A dangling symlink to a file that does not exist yet is not created through.
        let dangling = dirs.ws("dangling")
        #expect(symlink(dirs.outside + "/created", dangling) == 0)
        #expect(try agent.request(["op": "write_file", "path": .string(dangling), "data": b64("pwned")])["code"] == "symlink")
        #expect(try agent.request(["op": "exec", "argv": ["/bin/true"], "log_path": .string(dangling)])["code"] == "symlink")

        #expect(dirs.outsideSnapshot() == ["secret.txt=secret\n"])
        #expect(fileBytes(dirs.ws("mine")) == Array("mine".utf8))
    }

    @Test func intermediateSymlinkIsRefused() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        #expect(symlink(dirs.outside, dirs.ws("link")) == 0)
        #expect(symlink("/", dirs.ws("root")) == 0)
        try FileManager.default.createDirectory(atPath: dirs.ws("real"), withIntermediateDirectories: false)
        #expect(symlink("../link", dirs.ws("real/rel")) == 0)

        for base in [dirs.ws("link"), dirs.ws("real/rel")] {
            #expect(try agent.request(["op": "read_file", "path": .string(base + "/secret.txt")])["code"] == "symlink")
            #expect(try agent.request(["op": "stat", "path": .string(base + "/secret.txt")])["code"] == "symlink")
            #expect(try agent.request(["op": "write_file", "path": .string(base + "/new.txt"), "data": b64("pwned")])["code"] == "symlink")
            #expect(try agent.request(["op": "write_file", "path": .string(base + "/sub/new.txt"), "data": b64("pwned"), "mkdirs": true])["code"] == "symlink")
            #expect(try agent.request(["op": "write_file", "path": .string(base + "/secret.txt"), "data": b64("pwned")])["code"] == "symlink")
            #expect(try agent.request(["op": "delete", "path": .string(base + "/secret.txt")])["code"] == "symlink")
            #expect(try agent.request(["op": "list", "path": .string(base), "recursive": true])["code"] == "symlink")
            #expect(try agent.request(["op": "list", "path": .string(base + "/sub")])["code"] == "symlink")
        }
        #expect(try agent.request(["op": "read_file", "path": .string(dirs.ws("root/etc/passwd"))])["code"] == "symlink")
        // A "/" followed by a combining mark is still a separator: "link" is the (refused) first component.
        #expect(try agent.request(["op": "read_file", "path": .string(dirs.ws("link/\u{301}secret.txt"))])["code"] == "symlink")

        #expect(dirs.outsideSnapshot() == ["secret.txt=secret\n"])
    }

    @Test func logPathThroughASymlinkIsRefusedAndTheCommandDoesNotRun() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        #expect(symlink(dirs.outside, dirs.ws("logs")) == 0)
        let marker = dirs.ws("ran")
        let reply = try agent.request(["op": "exec", "argv": .array([.string("/bin/sh"), .string("-c"), .string("touch \(marker)")]), "log_path": .string(dirs.ws("logs/call.log"))])
        #expect(reply["ev"] == "error")
        #expect(reply["code"] == "symlink")
        let nested = try agent.request(["op": "exec", "argv": .array([.string("/bin/sh"), .string("-c"), .string("touch \(marker)")]), "log_path": .string(dirs.ws("logs/deeper/call.log"))])
        #expect(nested["code"] == "symlink")
        usleep(200_000)
        #expect(!FileManager.default.fileExists(atPath: marker))
        #expect(dirs.outsideSnapshot() == ["secret.txt=secret\n"])
    }

    @Test func renameThroughSymlinkedParentsIsRefused() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        #expect(symlink(dirs.outside, dirs.ws("link")) == 0)
        try Data("mine".utf8).write(to: URL(fileURLWithPath: dirs.ws("mine")))
        #expect(try agent.request(["op": "rename", "from": .string(dirs.ws("link/secret.txt")), "to": .string(dirs.ws("stolen"))])["code"] == "symlink")
        #expect(try agent.request(["op": "rename", "from": .string(dirs.ws("mine")), "to": .string(dirs.ws("link/planted"))])["code"] == "symlink")
        #expect(try agent.request(["op": "rename", "from": .string(dirs.ws("mine")), "to": .string(dirs.ws("link/sub/planted")), "mkdirs": true])["code"] == "symlink")
        #expect(try agent.request(["op": "rename", "from": .string(dirs.ws("mine")), "to": .string(dirs.outside + "/planted")])["code"] == "outside_workspace")
        #expect(!FileManager.default.fileExists(atPath: dirs.ws("stolen")))
        #expect(fileBytes(dirs.ws("mine")) == Array("mine".utf8))
        #expect(dirs.outsideSnapshot() == ["secret.txt=secret\n"])
    }

    @Test func recursiveDeleteNeverFollowsSymlinks() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        let fm = FileManager.default
        try fm.createDirectory(atPath: dirs.outside + "/dir", withIntermediateDirectories: false)
        try Data("keep".utf8).write(to: URL(fileURLWithPath: dirs.outside + "/dir/keep.txt"))
        let outsideBefore = dirs.outsideSnapshot()

        try fm.createDirectory(atPath: dirs.ws("tree/sub"), withIntermediateDirectories: true)
        try Data("a".utf8).write(to: URL(fileURLWithPath: dirs.ws("tree/a.txt")))
        try Data("b".utf8).write(to: URL(fileURLWithPath: dirs.ws("tree/sub/b.txt")))
        #expect(symlink(dirs.outside, dirs.ws("tree/escape")) == 0)
        #expect(symlink(dirs.outside + "/dir", dirs.ws("tree/sub/escape-dir")) == 0)
        #expect(symlink(dirs.outside + "/secret.txt", dirs.ws("tree/sub/escape-file")) == 0)
        #expect(symlink("/", dirs.ws("tree/sub/root")) == 0)

        #expect(try agent.request(["op": "delete", "path": .string(dirs.ws("tree")), "recursive": true])["ev"] == "ok")
        #expect(!fm.fileExists(atPath: dirs.ws("tree")))
        #expect(dirs.outsideSnapshot() == outsideBefore)
        #expect(fm.fileExists(atPath: dirs.outside + "/dir/keep.txt"))
    }

    @Test func mkdirsNeverCreatesOutside() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        try FileManager.default.createDirectory(atPath: dirs.ws("a"), withIntermediateDirectories: false)
        #expect(symlink(dirs.outside, dirs.ws("a/b")) == 0)
        let reply = try agent.request(["op": "write_file", "path": .string(dirs.ws("a/b/c/d.txt")), "data": b64("x"), "mkdirs": true])
        #expect(reply["code"] == "symlink")
        let log = try agent.request(["op": "exec", "argv": ["/bin/true"], "log_path": .string(dirs.ws("a/b/c/log"))])
        #expect(log["code"] == "symlink")
        #expect(dirs.outsideSnapshot() == ["secret.txt=secret\n"])
    }
}
