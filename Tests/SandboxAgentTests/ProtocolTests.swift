import CMAJSON
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Framing, ready line, bad requests and shutdown.
@Suite struct ProtocolTests {
    @Test func readyLineThenPingPong() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        let first = try agent.wait("ready") { !$0.isEmpty }.first
        #expect(first?["ev"] == "ready")
        #expect(first?["version"] == 1)
        #expect(first?["pid"]?.intValue == Int64(agent.process.processIdentifier))

        try agent.send(["op": "ping", "id": 1])
        let reply = try agent.events(for: 1)
        #expect(reply == [["ev": "pong", "id": 1]])
    }

    @Test func badRequestsGetErrorsAndTheAgentKeepsWorking() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        func nullIDErrors(_ events: [JSONValue]? = nil) -> [JSONValue] {
            (events ?? agent.allEvents).filter { $0["ev"] == "error" && $0["id"] == .null }
        }

        // Not JSON, not an object, no id, an id that is not an integer.
        for (i, line) in ["this is not json", "[1,2,3]", "{\"op\":\"ping\"}", "{\"op\":\"ping\",\"id\":\"7\"}", "{\"op\":\"ping\",\"id\":1.5}", "{\"op\":", ""].enumerated() {
            try agent.sendRaw(Array((line + "\n").utf8))
            try agent.wait("error \(i + 1)") { nullIDErrors($0).count == i + 1 }
        }
        for error in nullIDErrors() {
            #expect(error["code"] == "bad_request")
            #expect(error["message"]?.stringValue?.isEmpty == false)
        }

        // Errors that carry the request's id.
        let cases: [JSONObject] = [
            ["op": "frobnicate"],
            [:],
            ["op": 5],
            ["op": "exec"],
            ["op": "exec", "argv": []],
            ["op": "exec", "argv": [1, 2]],
            ["op": "exec", "argv": ["/bin/true"], "env": ["A": 1]],
            ["op": "exec", "argv": ["/bin/true"], "env": ["A=B": "x"]],
            ["op": "exec", "argv": ["/bin/true"], "timeout_ms": -1],
            ["op": "exec", "argv": ["/bin/true"], "timeout_ms": "5"],
            ["op": "write_file", "path": .string(dirs.ws("a")), "data": "not base64!"],
            ["op": "write_file", "path": .string(dirs.ws("a")), "data": "QQ="],
            ["op": "write_file", "path": .string(dirs.ws("a")), "data": "QR=="],
            ["op": "write_file", "path": .string(dirs.ws("a")), "data": "QQ==", "mode": "644"],
            ["op": "write_file", "path": .string(dirs.ws("a")), "data": "QQ==", "mode": 0o17777],
            ["op": "write_file", "path": .string(dirs.ws("a"))],
            ["op": "read_file"],
            ["op": "read_file", "path": .string(dirs.ws("a")), "max_bytes": -1],
            ["op": "list", "path": .string(dirs.workspace), "recursive": "yes"],
            ["op": "signal", "target": 1],
            ["op": "signal", "target": 1, "signal": 1000],
            ["op": "rename", "from": .string(dirs.ws("a"))],
        ]
        for fields in cases {
            let reply = try agent.request(fields)
            #expect(reply["ev"] == "error", "\(fields)")
            #expect(reply["code"] == "bad_request", "\(fields) → \(reply)")
        }
        // Nothing was written by the rejected write_file requests.
        #expect(!FileManager.default.fileExists(atPath: dirs.ws("a")))

        // A line over 1 MiB is refused as a whole, and the next line is handled normally.
        let before = nullIDErrors().count
        var long = Array("{\"op\":\"ping\",\"id\":99,\"pad\":\"".utf8)
        long += [UInt8](repeating: UInt8(ascii: "x"), count: (1 << 20) + 10)
        long += Array("\"}\n".utf8)
        try agent.sendRaw(long)
        try agent.wait("the too-long error") { nullIDErrors($0).count == before + 1 }
        #expect(try agent.request(["op": "ping"])["ev"] == "pong")
        #expect(!agent.allEvents.contains { $0["id"] == 99 })

        // A request with absurdly many keys is refused without parsing it (parsing would be
        // quadratic); colons inside strings do not count.
        let manyKeys = (0..<5000).map { "\"k\($0)\":1" }.joined(separator: ",")
        try agent.sendRaw(Array("{\"op\":\"ping\",\"id\":98,\"env\":{\(manyKeys)}}\n".utf8))
        try agent.wait("the too-many-keys error") { nullIDErrors($0).count == before + 2 }
        #expect(!agent.allEvents.contains { $0["id"] == 98 })
        let colons = String(repeating: ":", count: 10_000)
        let reply = try agent.request(["op": "ping", "pad": .string(colons)])
        #expect(reply["ev"] == "pong")
        #expect(agent.unparsedLines.isEmpty)
    }

    @Test func eofOnStdinKillsCommandsAndExits() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        let id = try agent.startExec(["/bin/sh", "-c", "echo $$; exec sleep 1000"])
        let events = try agent.wait("the pid") { $0.contains { $0["id"] == .int(id) && $0["ev"] == "output" } }
        let output = events.first { $0["id"] == .int(id) && $0["ev"] == "output" }
        let text = String(decoding: output.flatMap(decodeData) ?? [], as: UTF8.self)
        let pid = try #require(Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(processAlive(pid))

        let started = Date()
        agent.closeStdin()
        let status = agent.waitForExit(timeout: 5)
        #expect(status == 0)
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(waitUntilDead(pid))
    }

    @Test func refusesToStartWithoutAWorkspace() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace, arguments: ["--workspace", dirs.ws("missing")])
        defer { agent.close() }
        #expect(agent.waitForExit(timeout: 5) == 1)
        #expect(agent.allEvents.isEmpty)
    }
}
