import CMAJSON
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `exec` with `"hold": true`, `start` and `discard`: a held command is prepared but runs only
/// when started (the runtime starts it once the command's start is durable).
@Suite struct HeldExecTests {
    /// Sends a held exec of `/bin/sh -c script` (with a log file) and returns its id.
    static func hold(_ agent: AgentClient, _ script: String, logPath: String? = nil) throws -> Int64 {
        let id = agent.makeID()
        var request: JSONObject = [
            "op": "exec", "id": .int(id), "argv": ["/bin/sh", "-c", .string(script)], "env": .object(AgentClient.defaultEnv), "hold": true,
        ]
        if let logPath { request["log_path"] = .string(logPath) }
        try agent.send(.object(request))
        return id
    }

    @Test func aHeldExecRunsOnlyWhenStarted() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        let marker = dirs.ws("ran")
        let log = dirs.ws(".cma/logs/held.log")
        let id = try Self.hold(agent, "touch \(marker); echo started", logPath: log)
        // The agent has read the exec (requests are handled in order) and prepared it: the log
        // file exists, nothing ran, and the exec has no reply yet.
        #expect(try agent.request(["op": "ping"])["ev"] == "pong")
        usleep(100_000)
        #expect(!FileManager.default.fileExists(atPath: marker))
        #expect(FileManager.default.fileExists(atPath: log))
        #expect(!agent.allEvents.contains { $0["id"] == .int(id) })

        let reply = try agent.request(["op": "start", "target": .int(id)])
        #expect(reply["ev"] == "ok")
        let result = try agent.finishExec(id)
        #expect(result.exitCode == 0)
        #expect(result.text == "started\n")
        #expect(FileManager.default.fileExists(atPath: marker))
        #expect(try String(contentsOfFile: log, encoding: .utf8) == "started\n")

        // Started once: a second start finds nothing held.
        let again = try agent.request(["op": "start", "target": .int(id)])
        #expect(again["code"] == "not_found")
    }

    @Test func aDiscardedExecNeverRuns() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        let marker = dirs.ws("ran")
        let id = try Self.hold(agent, "touch \(marker)", logPath: dirs.ws(".cma/logs/discarded.log"))
        let reply = try agent.request(["op": "discard", "target": .int(id)])
        #expect(reply["ev"] == "ok")
        let events = try agent.events(for: id)
        #expect(events.count == 1)
        #expect(events.last?["ev"] == "error")
        #expect(events.last?["code"] == "discarded")
        #expect(try agent.request(["op": "start", "target": .int(id)])["code"] == "not_found")
        #expect(try agent.request(["op": "discard", "target": .int(id)])["code"] == "not_found")
        usleep(200_000)
        #expect(!FileManager.default.fileExists(atPath: marker))
        // The id is free again once the held exec is gone.
        try agent.send(["op": "exec", "id": .int(id), "argv": ["/bin/true"]])
        try agent.wait("the reused id's exit") { $0.contains { $0["id"] == .int(id) && $0["ev"] == "exit" } }
    }

    /// A request that cannot run fails when it is held (before any start), as an exec does.
    @Test func aHeldExecFailsAtOnceWhenItCannotRun() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        #expect(symlink(dirs.outside, dirs.ws("logs")) == 0)
        let marker = dirs.ws("ran")
        let id = try Self.hold(agent, "touch \(marker)", logPath: dirs.ws("logs/call.log"))
        let events = try agent.events(for: id)
        #expect(events.last?["code"] == "symlink")
        #expect(try agent.request(["op": "start", "target": .int(id)])["code"] == "not_found")
        usleep(200_000)
        #expect(!FileManager.default.fileExists(atPath: marker))
        #expect(dirs.outsideSnapshot() == ["secret.txt=secret\n"])

        let badHold = try agent.request(["op": "exec", "argv": ["/bin/true"], "hold": "yes"])
        #expect(badHold["code"] == "bad_request")
    }

    @Test func aHeldIDCannotBeReused() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        let id = try Self.hold(agent, "echo first")
        try agent.send(["op": "exec", "id": .int(id), "argv": ["/bin/sh", "-c", "echo second"], "env": .object(AgentClient.defaultEnv)])
        let refused = try agent.wait("the refusal") { $0.contains { $0["id"] == .int(id) && $0["ev"] == "error" } }
        #expect(refused.last { $0["id"] == .int(id) }?["code"] == "bad_request")
        // The held exec is unaffected.
        #expect(try agent.request(["op": "start", "target": .int(id)])["ev"] == "ok")
        let exit = try agent.wait("the exit") { $0.contains { $0["id"] == .int(id) && $0["ev"] == "exit" } }
        let output = exit.filter { $0["id"] == .int(id) && $0["ev"] == "output" }.compactMap { $0["data"]?.stringValue }.compactMap { Data(base64Encoded: $0) }
        #expect(output.map { String(decoding: $0, as: UTF8.self) }.joined() == "first\n")
    }
}
