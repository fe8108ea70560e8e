import Synchronization
import Testing
import Tools

/// An in-memory workspace.
final class MemoryFileSystem: ApplyPatch.FileSystem, Sendable {
    let files: Mutex<[String: String]>
    let writes = Mutex(0)

    init(_ files: [String: String] = [:]) {
        self.files = Mutex(files)
    }

    func read(_ path: String) async throws -> String? { files.withLock { $0[path] } }
    func write(_ path: String, _ contents: String) async throws {
        writes.withLock { $0 += 1 }
        files.withLock { $0[path] = contents }
    }
    func delete(_ path: String) async throws { files.withLock { $0[path] = nil } }
    var snapshot: [String: String] { files.withLock { $0 } }
}

@Suite("apply_patch")
struct ApplyPatchTests {
    @Test func addUpdateMoveAndDelete() async throws {
        let fs = MemoryFileSystem([
            "/workspace/src/app.py": "import os\n\ndef main():\n    print('hello')\n    return 0\n",
            "/workspace/old.txt": "bye\n",
            "/workspace/notes.md": "a\nb\nc\n",
        ])
        let patch = """
            *** Begin Patch
            *** Add File: docs/readme.md
            +# Title
            +
            +Body
            *** Update File: src/app.py
            @@ def main():
            -    print('hello')
            +    print('hello, world')
             return 0
            *** Update File: notes.md
            *** Move to: renamed.md
            @@
             a
            -b
            +B
            *** Delete File: old.txt
            *** End Patch
            """
        let summary = try await ApplyPatch.apply(patch, fileSystem: fs)
        #expect(summary == "Success. Updated the following files:\nA docs/readme.md\nM src/app.py\nM renamed.md\nD old.txt")
        let files = fs.snapshot
        #expect(files["/workspace/docs/readme.md"] == "# Title\n\nBody\n")
        #expect(files["/workspace/src/app.py"] == "import os\n\ndef main():\n    print('hello, world')\n    return 0\n")
        #expect(files["/workspace/renamed.md"] == "a\nB\nc\n")
        #expect(files["/workspace/notes.md"] == nil && files["/workspace/old.txt"] == nil)
    }

    @Test func contextMatchingToleratesWhitespaceButNotDifferentText() async throws {
        let fs = MemoryFileSystem(["/workspace/f.txt": "one  \ntwo\nthree\n"])
        _ = try await ApplyPatch.apply("*** Begin Patch\n*** Update File: f.txt\n@@\n one\n-two\n+2\n*** End Patch", fileSystem: fs)
        #expect(fs.snapshot["/workspace/f.txt"] == "one  \n2\nthree\n")

        let before = fs.snapshot
        await #expect(throws: ToolError.self) {
            _ = try await ApplyPatch.apply("*** Begin Patch\n*** Update File: f.txt\n@@\n one\n-zwei\n+2\n*** End Patch", fileSystem: fs)
        }
        #expect(fs.snapshot == before)
    }

    @Test func aFailingHunkLeavesEveryFileUntouched() async throws {
        let fs = MemoryFileSystem(["/workspace/a.txt": "a\n", "/workspace/b.txt": "b\n"])
        let patch = "*** Begin Patch\n*** Update File: a.txt\n-a\n+A\n*** Update File: b.txt\n-nope\n+B\n*** End Patch"
        do {
            _ = try await ApplyPatch.apply(patch, fileSystem: fs)
            Issue.record("the patch applied")
        } catch {
            #expect(error.message.contains("Hunk 1 of b.txt does not match"))
            #expect(error.message.contains("nope"))
        }
        #expect(fs.snapshot == ["/workspace/a.txt": "a\n", "/workspace/b.txt": "b\n"])
        #expect(fs.writes.withLock { $0 } == 0)
    }

    @Test func endOfFileAnchorsAtTheEnd() async throws {
        let fs = MemoryFileSystem(["/workspace/f": "x\ny\nx\ny\n"])
        _ = try await ApplyPatch.apply("*** Begin Patch\n*** Update File: f\n@@\n x\n-y\n+Y\n*** End of File\n*** End Patch", fileSystem: fs)
        #expect(fs.snapshot["/workspace/f"] == "x\ny\nx\nY\n")
    }

    @Test func pathsOutsideTheWorkspaceAreRefused() async throws {
        let fs = MemoryFileSystem()
        for path in ["../etc/passwd", "/etc/passwd", "a/../../x", "/workspace/../root/.ssh/authorized_keys", "/workspacex/y"] {
            await #expect(throws: ToolError.self, "\(path)") {
                _ = try await ApplyPatch.apply("*** Begin Patch\n*** Add File: \(path)\n+x\n*** End Patch", fileSystem: fs)
            }
        }
        #expect(fs.snapshot.isEmpty)
        #expect(try ApplyPatch.resolve("/workspace/a/./b/../c") == "/workspace/a/c")
        #expect(try ApplyPatch.resolve("sub/file.txt") == "/workspace/sub/file.txt")
    }

    @Test func malformedPatchesAreExplained() {
        for (patch, fragment) in [
            ("just text", "Begin Patch"),
            ("*** Begin Patch\n*** Add File: x\n+y", "End Patch"),
            ("*** Begin Patch\n*** Add File: x\ny\n*** End Patch", "must start with '+'"),
            ("*** Begin Patch\n*** Frobnicate: x\n*** End Patch", "Unexpected line"),
            ("*** Begin Patch\n*** End Patch", "changes nothing"),
            ("*** Begin Patch\n*** Update File: x\n*** End Patch", "no changes"),
        ] {
            #expect(throws: ToolError.self, "\(patch)") { _ = try ApplyPatch.parse(patch) }
            do {
                _ = try ApplyPatch.parse(patch)
            } catch {
                #expect(error.message.contains(fragment), "\(error.message)")
            }
        }
    }

    @Test func deletingOrUpdatingAMissingFileFails() async {
        let fs = MemoryFileSystem()
        await #expect(throws: ToolError.self) { _ = try await ApplyPatch.apply("*** Begin Patch\n*** Delete File: gone\n*** End Patch", fileSystem: fs) }
        await #expect(throws: ToolError.self) { _ = try await ApplyPatch.apply("*** Begin Patch\n*** Update File: gone\n-a\n+b\n*** End Patch", fileSystem: fs) }
    }
}
