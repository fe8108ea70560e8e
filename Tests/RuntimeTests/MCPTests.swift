import AgentsAPI
import Foundation
import ModelProviders
import Runtime
import Storage
import TestSupport
import Testing

@Suite("MCP tools")
struct MCPTests {
    static let secret = "s3cret-token-\(UInt32.random(in: 0...UInt32.max))"

    static func httpTool(_ url: String, label: String = "docs", allowed: [String]? = nil, required: Bool = false, authorization: String? = secret) -> JSONValue {
        var transport: JSONObject = ["type": "http", "server_url": .string(url), "headers": ["X-Team": "team-header-value"]]
        if let authorization { transport["authorization"] = .string(authorization) }
        var tool: JSONObject = ["type": "mcp", "server_label": .string(label), "transport": .object(transport), "required": .bool(required)]
        if let allowed { tool["allowed_tools"] = .array(allowed.map { .string($0) }) }
        return .object(tool)
    }

    static func call(_ tool: String, _ arguments: JSONObject = [:], label: String = "docs", callID: String) -> ScriptStep {
        .response(outputs: [.functionCall(name: "mcp__\(label)__\(tool)", arguments: JSONWriter.string(.object(arguments)), callID: callID)])
    }

    static func toolNames(_ request: RecordedRequest) -> [String] {
        request.body["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
    }

    static func mcpCalls(_ items: [SessionItem]) -> [JSONObject] {
        items.compactMap { item in
            if case .other(let o) = item, o["type"]?.stringValue == "mcp_call" { return o }
            return nil
        }
    }

    /// Nothing the API shows carries the secret or the header.
    static func expectNoSecrets(_ h: RuntimeHarness, session: String, recorder: EventRecorder) async throws {
        let shown = [JSONWriter.string(try await h.session(session).json)]
            + recorder.all.map { JSONWriter.string($0.json) }
            + (try await h.items(session)).map { JSONWriter.string($0.json) }
        for text in shown {
            #expect(!text.contains(secret))
            #expect(!text.contains("team-header-value"))
        }
    }

    @Test(arguments: [MCPHTTPTestServer.Mode.json, .sse])
    func httpServerToolsAreListedCalledAndRecorded(mode: MCPHTTPTestServer.Mode) async throws {
        let server = try await MCPHTTPTestServer.start(mode: mode)
        defer { Task { await server.shutdown() } }
        server.requireAuthorization("Bearer " + Self.secret)
        try await withRuntime { h in
            h.model.enqueue(Self.call("echo", ["text": "hi"], callID: "call_echo"), Self.call("fail", callID: "call_fail"), .message("done"))
            let (session, recorder) = try await h.createSession(input: "Use the docs server", tools: [Self.httpTool(server.url)])
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(20))

            let requests = h.model.requests()
            try #require(requests.count == 3)
            // Both pages of the list, as functions named as Codex names them.
            #expect(Self.toolNames(requests[0]).filter { $0.hasPrefix("mcp__") } == [
                "mcp__docs__echo", "mcp__docs__add", "mcp__docs__delete_file", "mcp__docs__fail", "mcp__docs__slow", "mcp__docs__env",
                "mcp__docs__add_tool", "mcp__docs__big", "mcp__docs__barrier",
            ])
            #expect(callOutput(requests[1], callID: "call_echo") == "echo: hi")
            #expect(callOutput(requests[2], callID: "call_fail") == "The tool reported an error: it failed")

            let calls = Self.mcpCalls(try await h.items(session.id))
            try #require(calls.count == 2)
            #expect(calls[0]["server_label"] == "docs")
            #expect(calls[0]["name"] == "echo")
            #expect(calls[0]["status"] == "completed")
            #expect(calls[0]["output"] == "echo: hi")
            #expect(calls[0]["arguments"] == ["text": "hi"])
            #expect(calls[0]["error"] == .null)
            #expect(calls[1]["status"] == "failed")
            #expect(calls[1]["error"] == "it failed")
            #expect(recorder.all.contains { $0.type == "agent.session.turn.item.added" && JSONWriter.string($0.json).contains("\"mcp_call\"") })
            // No function_call items for MCP calls.
            #expect(try await h.items(session.id).allSatisfy { if case .functionCall = $0 { return false } else { return true } })

            // The server got the credentials; nothing the API shows has them.
            let posts = server.received.filter { $0.method == "POST" }
            #expect(!posts.isEmpty)
            #expect(posts.allSatisfy { $0.header("Authorization") == "Bearer " + Self.secret && $0.header("X-Team") == "team-header-value" })
            #expect(posts.dropFirst().allSatisfy { $0.header("Mcp-Session-Id") != nil && $0.header("MCP-Protocol-Version") != nil })
            try await Self.expectNoSecrets(h, session: session.id, recorder: recorder)
            let echoed = JSONWriter.string(try await h.session(session.id).json)
            #expect(echoed.contains("\"server_url\""))
        }
    }

    @Test func callsMadeTogetherRunTogetherAndFinishInCallOrder() async throws {
        let server = try await MCPHTTPTestServer.start()
        defer { Task { await server.shutdown() } }
        try await withRuntime { h in
            h.model.enqueue(
                .response(outputs: [
                    .functionCall(name: "mcp__docs__barrier", arguments: #"{"n":3}"#, callID: "call_b1"),
                    .functionCall(name: "mcp__docs__echo", arguments: #"{"text":"between"}"#, callID: "call_e"),
                    .functionCall(name: "mcp__docs__barrier", arguments: #"{"n":3}"#, callID: "call_b2"),
                    .functionCall(name: "mcp__docs__barrier", arguments: #"{"n":3}"#, callID: "call_b3"),
                ]),
                .message("done"))
            let (session, recorder) = try await h.createSession(tools: [Self.httpTool(server.url)])
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(20))
            let requests = h.model.requests()
            try #require(requests.count == 2)
            // Each barrier call saw the other two in flight: they ran at the same time.
            for id in ["call_b1", "call_b2", "call_b3"] { #expect(callOutput(requests[1], callID: id) == "together") }
            // Outputs follow the calls' order in the next request, and the items finish in it.
            let outputs = requests[1].body["input"]?.arrayValue?.filter { $0["type"] == "function_call_output" }.compactMap { $0["call_id"]?.stringValue }
            #expect(outputs == ["call_b1", "call_e", "call_b2", "call_b3"])
            let done = recorder.all.filter { $0.type == "agent.session.turn.item.done" }.compactMap { e -> String? in
                guard case .itemDone(_, let item, _) = e.body, case .other(let o) = item, o["type"] == "mcp_call" else { return nil }
                return o["arguments"]?["text"]?.stringValue ?? "barrier"
            }
            #expect(done == ["barrier", "between", "barrier", "barrier"])
            _ = session
        }
    }

    @Test func allowedToolsLimitWhatTheModelSeesAndCanCall() async throws {
        let server = try await MCPHTTPTestServer.start()
        defer { Task { await server.shutdown() } }
        try await withRuntime { h in
            h.model.enqueue(Self.call("add", ["a": 2, "b": 3], callID: "call_add"), Self.call("echo", ["text": "x"], callID: "call_echo"), .message("done"))
            let (session, recorder) = try await h.createSession(tools: [Self.httpTool(server.url, allowed: ["echo"])])
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(20))
            let requests = h.model.requests()
            try #require(requests.count == 3)
            #expect(Self.toolNames(requests[0]).filter { $0.hasPrefix("mcp__") } == ["mcp__docs__echo"])
            #expect(callOutput(requests[1], callID: "call_add")?.contains("Unknown tool") == true)
            #expect(callOutput(requests[2], callID: "call_echo") == "echo: x")
            #expect(server.toolCalls == ["echo"])
            _ = session
        }
    }

    @Test func aChangedToolListIsFetchedAgain() async throws {
        let server = try await MCPHTTPTestServer.start(mode: .sse)
        defer { Task { await server.shutdown() } }
        try await withRuntime { h in
            h.model.enqueue(Self.call("add_tool", callID: "call_add_tool"), Self.call("extra", callID: "call_extra"), .message("done"))
            let (_, recorder) = try await h.createSession(tools: [Self.httpTool(server.url)])
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(20))
            let requests = h.model.requests()
            try #require(requests.count == 3)
            #expect(!Self.toolNames(requests[0]).contains("mcp__docs__extra"))
            #expect(Self.toolNames(requests[1]).contains("mcp__docs__extra"))
            #expect(callOutput(requests[2], callID: "call_extra") == "extra ran")
        }
    }

    @Test func aRequiredServerThatCannotStartFailsTheTurnAndAnOptionalOneIsLeftOut() async throws {
        try await withRuntime(mcpSettings: MCPSettings(startupTimeout: .seconds(2))) { h in
            // Port 1 on loopback: nothing listens.
            h.model.enqueue(.message("fine without it"))
            let (optional, r1) = try await h.createSession(tools: [Self.httpTool("http://127.0.0.1:1/mcp", label: "gone")])
            try await r1.wait(for: "agent.session.idle", timeout: .seconds(20))
            #expect(try await h.turns(optional.id).first?.status == .completed)
            #expect(!Self.toolNames(try #require(h.model.requests().first)).contains { $0.hasPrefix("mcp__") })

            let (required, r2) = try await h.createSession(tools: [Self.httpTool("http://127.0.0.1:1/mcp", label: "gone", required: true)])
            try await r2.wait(for: "agent.session.idle", timeout: .seconds(20))
            let turn = try #require(try await h.turns(required.id).first)
            #expect(turn.status == .failed)
            #expect(turn.error?.code == .connectionFailed)
            #expect(turn.error?.message.contains("'gone'") == true)
            #expect(h.model.requests().count == 1)
        }
    }

    @Test func aCallThatTakesTooLongFails() async throws {
        let server = try await MCPHTTPTestServer.start()
        defer { Task { await server.shutdown() } }
        try await withRuntime(mcpSettings: MCPSettings(startupTimeout: .seconds(10), callTimeout: .milliseconds(300))) { h in
            h.model.enqueue(Self.call("slow", ["ms": 3000], callID: "call_slow"), .message("done"))
            let (session, recorder) = try await h.createSession(tools: [Self.httpTool(server.url)])
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(20))
            let call = try #require(Self.mcpCalls(try await h.items(session.id)).first)
            #expect(call["status"] == "failed")
            #expect(call["error"]?.stringValue?.contains("did not answer tools/call within 300 ms") == true)
        }
    }

    @Test func destructiveToolsWaitForApproval() async throws {
        let server = try await MCPHTTPTestServer.start()
        defer { Task { await server.shutdown() } }
        try await withRuntime { h in
            h.model.enqueue(
                Self.call("delete_file", ["path": "a.txt"], callID: "call_del1"), Self.call("delete_file", ["path": "b.txt"], callID: "call_del2"),
                .message("done"))
            let (session, recorder) = try await h.createSession(tools: [Self.httpTool(server.url)])
            try await recorder.wait(for: "agent.session.requires_action", timeout: .seconds(20))
            var snapshot = try await h.session(session.id)
            #expect(snapshot.status == .requiresAction)
            guard case .mcpApproval(let requestID, let label, _, let name, let arguments, let turnID)? = snapshot.requiredActions.first else {
                Issue.record("expected an MCP approval request, got \(snapshot.requiredActions)")
                return
            }
            #expect(label == "docs")
            #expect(name == "delete_file")
            #expect(arguments == ["path": "a.txt"])
            #expect(server.toolCalls.isEmpty)
            let pending = try #require(Self.mcpCalls(try await h.items(session.id)).first)
            #expect(pending["status"] == "in_progress")

            // An unknown request ID is refused and changes nothing.
            await #expect(throws: RuntimeError.self) { try await h.send(session.id, [.mcpApprovalResult(requestID: "mcpr_nope", decision: "approve")]) }

            try await h.send(session.id, [.mcpApprovalResult(requestID: requestID, decision: "approve")])
            try await recorder.wait(for: "agent.session.requires_action", count: 2, timeout: .seconds(20))
            #expect(server.toolCalls == ["delete_file"])
            snapshot = try await h.session(session.id)
            guard case .mcpApproval(let second, _, _, _, _, _)? = snapshot.requiredActions.first else {
                Issue.record("expected a second approval request")
                return
            }
            try await h.send(session.id, [.mcpApprovalResult(requestID: second, decision: "deny")])
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(20))
            #expect(server.toolCalls == ["delete_file"])

            let calls = Self.mcpCalls(try await h.items(session.id))
            try #require(calls.count == 2)
            #expect(calls[0]["status"] == "completed")
            #expect(calls[0]["output"] == "deleted a.txt")
            #expect(calls[1]["status"] == "failed")
            #expect(calls[1]["error"]?.stringValue?.contains("denied") == true)
            let requests = h.model.requests()
            try #require(requests.count == 3)
            #expect(callOutput(requests[1], callID: "call_del1") == "deleted a.txt")
            #expect(callOutput(requests[2], callID: "call_del2")?.contains("denied") == true)
            #expect(try await h.turns(session.id).first?.id == turnID)
            #expect(try await h.turns(session.id).first?.status == .completed)
        }
    }

    @Test func cancellingWhileAnApprovalIsPendingClosesTheCall() async throws {
        let server = try await MCPHTTPTestServer.start()
        defer { Task { await server.shutdown() } }
        try await withRuntime { h in
            h.model.enqueue(Self.call("delete_file", ["path": "a.txt"], callID: "call_del"))
            let (session, recorder) = try await h.createSession(tools: [Self.httpTool(server.url)])
            try await recorder.wait(for: "agent.session.requires_action", timeout: .seconds(20))
            try await h.send(session.id, [.cancel])
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(20))
            #expect(try await h.turns(session.id).first?.status == .cancelled)
            let call = try #require(Self.mcpCalls(try await h.items(session.id)).first)
            #expect(call["status"] == "incomplete")
            #expect(call["error"]?.stringValue?.contains("before this call ran") == true)
            #expect(server.toolCalls.isEmpty)
            // No function_call_output stands in for it.
            #expect(try await h.items(session.id).allSatisfy { if case .functionCallOutput = $0 { return false } else { return true } })
        }
    }

    @Test func secretsSurviveARestartAndStayOutOfTheAPI() async throws {
        let server = try await MCPHTTPTestServer.start()
        defer { Task { await server.shutdown() } }
        server.requireAuthorization("Bearer " + Self.secret)
        let model = try await ScriptedModelServer.start()
        defer { Task { await model.shutdown() } }
        var h = try await RuntimeHarness.start(model: model)
        let directory = h.directory
        model.enqueue(.message("first"))
        let (session, recorder) = try await h.createSession(tools: [Self.httpTool(server.url)])
        try await recorder.wait(for: "agent.session.idle", timeout: .seconds(20))
        await h.stop()

        h = try await RuntimeHarness.start(model: model, directory: directory)
        let recorder2 = EventRecorder(h.runtime.subscribe(sessionID: session.id))
        model.enqueue(Self.call("echo", ["text": "again"], callID: "call_again"), .message("second"))
        try await h.message(session.id, "again")
        try await recorder2.wait(for: "agent.session.idle", timeout: .seconds(20))
        #expect(Self.mcpCalls(try await h.items(session.id)).first?["output"] == "echo: again")
        try await Self.expectNoSecrets(h, session: session.id, recorder: recorder2)
        await h.stop()
        h.removeFiles()
    }

    @Test(.enabled(if: sandboxesAvailable)) func stdioServerRunsInTheSessionSandbox() async throws {
        try await withRuntime(sandboxes: true) { h in
            h.model.enqueue(
                Self.call("env", ["name": "FROM_ENVIRONMENT"], label: "local", callID: "call_env1"),
                Self.call("env", ["name": "MCP_ONLY"], label: "local", callID: "call_env2"),
                Self.call("env", ["name": "NOT_INHERITED"], label: "local", callID: "call_env3"),
                Self.call("add", ["a": 40, "b": 2], label: "local", callID: "call_add"), .message("done"))
            let tool: JSONValue = [
                "type": "mcp", "server_label": "local", "connection_origin": "environment",
                "transport": [
                    "type": "stdio", "command": .string(mcpTestServerPath), "cwd": "/workspace", "args": ["--stderr", "diagnostics on stderr"],
                    "env_vars": ["FROM_ENVIRONMENT"], "env": ["MCP_ONLY": "mcp-secret-value"],
                ],
            ]
            let environment: JSONValue = ["type": "openai_hosted", "env": ["FROM_ENVIRONMENT": "from-env", "NOT_INHERITED": "hidden"]]
            let (session, recorder) = try await h.createSession(tools: [tool], environment: environment)
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(60))
            let requests = h.model.requests()
            try #require(requests.count == 5)
            #expect(callOutput(requests[1], callID: "call_env1") == "from-env")
            #expect(callOutput(requests[2], callID: "call_env2") == "mcp-secret-value")
            #expect(callOutput(requests[3], callID: "call_env3") == "<unset>")
            #expect(callOutput(requests[4], callID: "call_add") == "42")
            let text = JSONWriter.string(try await h.session(session.id).json)
            #expect(!text.contains("mcp-secret-value"))
            #expect(text.contains("FROM_ENVIRONMENT"))
        }
    }

    @Test(.enabled(if: sandboxesAvailable)) func stdioServerFromTheServiceRunsInASandboxOfItsOwn() async throws {
        try await withRuntime(sandboxes: true) { h in
            h.model.enqueue(Self.call("echo", ["text": "service"], label: "svc", callID: "call_svc"), .message("done"))
            let tool: JSONValue = [
                "type": "mcp", "server_label": "svc", "required": true,
                "transport": ["type": "stdio", "command": .string(mcpTestServerPath), "cwd": "/"],
            ]
            let (session, recorder) = try await h.createSession(tools: [tool])
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(60))
            #expect(try await h.turns(session.id).first?.status == .completed)
            #expect(callOutput(try #require(h.model.requests().last), callID: "call_svc") == "echo: service")
        }
    }

    @Test(.enabled(if: sandboxesAvailable)) func aStdioServerThatDiesAtStartFailsARequiredTurnClearly() async throws {
        try await withRuntime(sandboxes: true) { h in
            let tool: JSONValue = [
                "type": "mcp", "server_label": "broken", "required": true,
                "transport": ["type": "stdio", "command": .string(mcpTestServerPath), "cwd": "/", "args": ["--exit-at-start"]],
            ]
            let (session, recorder) = try await h.createSession(tools: [tool])
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(60))
            let turn = try #require(try await h.turns(session.id).first)
            #expect(turn.status == .failed)
            #expect(turn.error?.message.contains("'broken'") == true)
            #expect(turn.error?.message.contains("exited with status 3") == true)
            #expect(h.model.requests().isEmpty)
        }
    }

    @Test func stdioFromTheEnvironmentNeedsAHostedEnvironment() async throws {
        try await withRuntime(sandboxes: sandboxesAvailable) { h in
            let tool: JSONValue = [
                "type": "mcp", "server_label": "local", "connection_origin": "environment",
                "transport": ["type": "stdio", "command": "/bin/true", "cwd": "/workspace"],
            ]
            await #expect(throws: RuntimeError.self) { _ = try await h.createSession(tools: [tool]) }
        }
    }
}
