import Foundation
@testable import Sandbox
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Process spawner")
struct ProcessSpawnerTests {
    /// The nice value (field 19 of /proc/PID/stat) a spawned `sh` reports for itself.
    static func niceOfSpawned(background: Bool) async throws -> Int {
        let argv = ["/bin/sh", "-c", "cat /proc/$$/stat"]
        let process = background
            ? try await ProcessSpawner.spawnInBackground(argv: argv, environment: ["PATH": "/usr/bin:/bin"], stderrPath: nil)
            : try ProcessSpawner.spawn(argv: argv, environment: ["PATH": "/usr/bin:/bin"], stderrPath: nil)
        close(process.stdinFD)
        let output = FileHandle(fileDescriptor: process.stdoutFD, closeOnDealloc: true).readDataToEndOfFile()
        _ = await BubblewrapSandbox.waitForExit(process.pid, timeout: .seconds(30))
        let stat = String(decoding: output, as: UTF8.self)
        // Fields after the command name (which is in parentheses): state is field 3.
        let rest = stat[stat.index(after: try #require(stat.lastIndex(of: ")")))...].split(separator: " ")
        return try #require(Int(rest[16]))
    }

    @Test func backgroundUpkeepRunsAtTheLowestPriority() async throws {
        #expect(try await Self.niceOfSpawned(background: true) == 19)
        // Other processes keep the server's priority.
        #expect(try await Self.niceOfSpawned(background: false) == Int(getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)))
    }
}
