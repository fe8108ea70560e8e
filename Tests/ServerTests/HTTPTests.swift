import AgentsAPI
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Storage
import TestSupport
import Testing

@Suite("HTTP: status codes, envelopes, auth, pagination, idempotency")
struct HTTPTests {
    static func expectEnvelope(_ reply: ServerHarness.Reply, status: Int, param: String?? = .none, code: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(reply.status == status, "body: \(String(decoding: reply.body, as: UTF8.self))", sourceLocation: sourceLocation)
        #expect(reply.header("content-type") == "application/json", sourceLocation: sourceLocation)
        guard let error = reply.error?.objectValue else {
            Issue.record("no error envelope in \(String(decoding: reply.body, as: UTF8.self))", sourceLocation: sourceLocation)
            return
        }
        #expect(error["message"]?.stringValue?.isEmpty == false, sourceLocation: sourceLocation)
        #expect(error["type"]?.stringValue?.isEmpty == false, sourceLocation: sourceLocation)
        #expect(error.contains("param") && error.contains("code"), sourceLocation: sourceLocation)
        if case .some(let expected) = param {
            #expect(error["param"] == (expected.map { JSONValue.string($0) } ?? .null), sourceLocation: sourceLocation)
        }
        if let code {
            #expect(error["code"] == .string(code), sourceLocation: sourceLocation)
        }
    }

    @Test func authenticationIsRequiredAndChecked() async throws {
        try await withServer { s in
            Self.expectEnvelope(try await s.request(.GET, "/v1/agents", key: .some(nil)), status: 401, code: "missing_api_key")
            Self.expectEnvelope(try await s.request(.GET, "/v1/agents", key: "cma_sk_wrong"), status: 401, code: "invalid_api_key")
            Self.expectEnvelope(
                try await s.request(.GET, "/v1/agents", key: .some(nil), headers: [("Authorization", "Basic abc")]), status: 401, code: "invalid_api_key")
            #expect(try await s.request(.GET, "/v1/agents").status == 200)
            #expect(try await s.request(.GET, "/health", key: .some(nil)).status == 200)
        }
    }

    @Test func projectsNeverSeeEachOthersObjects() async throws {
        try await withServer { s in
            let agent = try await s.createAgent()
            let session = try await s.createSession()
            let agentID = try #require(agent["id"]?.stringValue)
            let sessionID = try #require(session["id"]?.stringValue)
            let other = try await s.store.createProject(name: "other")
            let (otherKey, _) = try await APIKeys.create(in: s.store, projectID: other)

            for (method, path) in [
                (HTTPMethod.GET, "/v1/agents/\(agentID)"), (.POST, "/v1/agents/\(agentID)"), (.DELETE, "/v1/agents/\(agentID)"),
                (.GET, "/v1/agents/sessions/\(sessionID)"), (.POST, "/v1/agents/sessions/\(sessionID)"), (.DELETE, "/v1/agents/sessions/\(sessionID)"),
                (.GET, "/v1/agents/sessions/\(sessionID)/items"), (.GET, "/v1/agents/sessions/\(sessionID)/turns"),
            ] {
                Self.expectEnvelope(try await s.request(method, path, json: method == .POST ? [:] : nil, key: .some(otherKey)), status: 404, code: "not_found")
            }
            Self.expectEnvelope(
                try await s.request(.POST, "/v1/agents/sessions/\(sessionID)/events", json: ["events": [["type": "agent.session.input.cancel"]]], key: .some(otherKey)),
                status: 404)
            #expect(try await s.request(.GET, "/v1/agents", key: .some(otherKey)).json?["data"] == [])
            #expect(try await s.request(.GET, "/v1/agents/sessions", key: .some(otherKey)).json?["data"] == [])
            // The owner still sees them.
            #expect(try await s.request(.GET, "/v1/agents/\(agentID)").status == 200)
        }
    }

    @Test func badInputGetsA400NamingTheParameterAndChangesNothing() async throws {
        try await withServer { s in
            let cases: [(String, JSONValue?, [UInt8]?, String?, String?)] = [
                ("/v1/agents", nil, Array("{\"model\": ".utf8), nil, "invalid_json"),
                ("/v1/agents", nil, Array("[1,2]".utf8), nil, nil),
                ("/v1/agents", nil, [0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D], nil, "invalid_json"),
                ("/v1/agents", ["name": "x"], nil, "model", "missing_required_parameter"),
                ("/v1/agents", ["model": 5], nil, "model", "invalid_type"),
                ("/v1/agents", ["model": "m", "colour": "red"], nil, "colour", "unknown_parameter"),
                ("/v1/agents", ["model": "m", "tools": [["type": "function", "name": "bad name!", "description": "", "parameters": [:]]]], nil, "tools[0].name", "invalid_value"),
                ("/v1/agents", ["model": "m", "tools": [["type": "mcp", "server_label": "x"]]], nil, "tools[0].transport", "missing_required_parameter"),
                ("/v1/agents", ["model": "m", "reasoning": ["effort": "extreme"]], nil, "reasoning.effort", "invalid_value"),
                ("/v1/agents/sessions", ["agent": ["model": "m"], "environment": ["type": "openai_hosted"], "input": "x"], nil, "environment.type", "feature_not_available"),
                ("/v1/agents/sessions", ["agent": ["model": "m"], "environment": ["type": "none"]], nil, "input", "missing_required_parameter"),
                ("/v1/agents/sessions", ["agent": ["model": "m"], "environment": ["type": "none"], "input": "x", "stream_options": ["include_obfuscation": false]], nil, "stream_options", "invalid_value"),
                ("/v1/agents/sessions", ["environment": ["type": "none"], "input": "x"], nil, "agent", "missing_required_parameter"),
                ("/v1/agents/sessions", ["agent": ["model": "m"], "environment": ["type": "none"], "input": [["role": "assistant", "content": [["type": "input_text", "text": "x"]]]]], nil, "input[0].role", "invalid_value"),
            ]
            for (path, json, raw, param, code) in cases {
                let reply = try await s.request(.POST, path, json: json, raw: raw)
                Self.expectEnvelope(reply, status: 400, param: param.map { .some($0) } ?? .none, code: code)
            }
            let tooMany = JSONValue.object(JSONObject((0..<17).map { ("k\($0)", JSONValue.string("v")) }))
            Self.expectEnvelope(try await s.request(.POST, "/v1/agents", json: ["model": "m", "metadata": tooMany]), status: 400, param: "metadata")
            for query in ["limit=0", "limit=101", "limit=ten", "order=sideways"] {
                Self.expectEnvelope(try await s.request(.GET, "/v1/agents?\(query)"), status: 400, param: .some(String(query.split(separator: "=")[0])))
            }
            // Nothing was created by any of these.
            #expect(try await s.request(.GET, "/v1/agents").json?["data"] == [])
            #expect(try await s.request(.GET, "/v1/agents/sessions").json?["data"] == [])
            // Deep nesting is refused, not crashed on.
            let deep = Array(repeating: UInt8(ascii: "["), count: 100_000)
            Self.expectEnvelope(try await s.request(.POST, "/v1/agents", raw: deep), status: 400, code: "invalid_json")
        }
    }

    @Test func oversizedBodiesAreRefused() async throws {
        try await withServer { s in
            var big = Array(#"{"model":"m","instructions":""#.utf8)
            big.append(contentsOf: Array(repeating: UInt8(ascii: "a"), count: 9 * 1024 * 1024))
            big.append(contentsOf: Array(#""}"#.utf8))
            let reply = try await s.request(.POST, "/v1/agents", raw: big)
            Self.expectEnvelope(reply, status: 413, code: "request_too_large")
            #expect(try await s.request(.GET, "/v1/agents").json?["data"] == [])
        }
    }

    @Test func unavailableFeaturesAndUnknownRoutes() async throws {
        try await withServer { s in
            for (method, path) in [
                (HTTPMethod.POST, "/v1/vaults"), (.GET, "/v1/vaults/v1/credentials"), (.POST, "/v1/agents/automations"), (.GET, "/v1/agents/automations"),
            ] {
                Self.expectEnvelope(try await s.request(method, path, json: [:]), status: 400, code: "feature_not_available")
            }
            Self.expectEnvelope(try await s.request(.GET, "/v1/nothing/here"), status: 404)
            Self.expectEnvelope(try await s.request(.GET, "/v1/agents/agent_missing"), status: 404, code: "not_found")
            let session = try await s.createSession()
            let id = try #require(session["id"]?.stringValue)
            Self.expectEnvelope(try await s.request(.GET, "/v1/agents/sessions/\(id)/turns/turn_missing"), status: 404)
            #expect(try await s.request(.GET, "/v1/agents/sessions/\(id)/subagents").json?["data"] == [])
            #expect(try await s.request(.GET, "/v1/agents/sessions/\(id)/traces").json?["data"] == [])
            #expect(try await s.request(.GET, "/v1/agents/sessions/\(id)/artifacts").json?["data"] == [])
            Self.expectEnvelope(try await s.request(.GET, "/v1/agents/sessions/\(id)/artifacts/art_x"), status: 404)
        }
    }

    @Test func cursorPaginationFollowsTheContract() async throws {
        try await withServer { s in
            var ids: [String] = []
            for i in 0..<7 { ids.append(try #require(try await s.createAgent(["model": "m", "name": .string("a\(i)")])["id"]?.stringValue)) }
            // Default order is desc, default limit 20.
            let all = try #require(try await s.request(.GET, "/v1/agents").json)
            #expect(all["object"] == "list" && all["has_more"] == false)
            #expect(all["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == ids.reversed())
            #expect(all["first_id"] == .string(ids.last!) && all["last_id"] == .string(ids.first!))
            for order in ["asc", "desc"] {
                var seen: [String] = []
                var after: String?
                var pages = 0
                repeat {
                    let page = try #require(try await s.request(.GET, "/v1/agents?limit=3&order=\(order)" + (after.map { "&after=\($0)" } ?? "")).json)
                    let data = page["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
                    seen += data
                    after = data.last
                    pages += 1
                    if page["has_more"] == false { break }
                } while pages < 10
                #expect(seen == (order == "asc" ? ids : ids.reversed()))
                #expect(pages == 3)
            }
            let empty = try #require(try await s.request(.GET, "/v1/agents?after=\(ids.last!)&order=asc").json)
            #expect(empty["data"] == [] && empty["has_more"] == false && empty["first_id"] == .null && empty["last_id"] == .null)
        }
    }

    @Test func sessionListFiltersByAgentAndMetadata() async throws {
        try await withServer { s in
            let agent = try await s.createAgent(["model": "m", "name": "saved"])
            let agentID = try #require(agent["id"]?.stringValue)
            let fromAgent = try #require(
                try await s.request(.POST, "/v1/agents/sessions", json: ["agent_id": .string(agentID), "environment": ["type": "none"], "input": "x", "metadata": ["team": "a b", "k[1]": "v"]]).json)
            _ = try await s.createSession(extra: ["metadata": ["team": "other"]])
            let byAgent = try #require(try await s.request(.GET, "/v1/agents/sessions?agent_id=\(agentID)").json)
            #expect(byAgent["data"]?.arrayValue?.compactMap { $0["id"] } == [fromAgent["id"]!])
            #expect(byAgent["data"]?.arrayValue?.first?["agent"]?["name"] == "saved")
            let byMeta = try #require(try await s.request(.GET, "/v1/agents/sessions?metadata%5Bteam%5D=a%20b&metadata%5Bk%5B1%5D%5D=v").json)
            #expect(byMeta["data"]?.arrayValue?.compactMap { $0["id"] } == [fromAgent["id"]!])
            let none = try #require(try await s.request(.GET, "/v1/agents/sessions?metadata%5Bteam%5D=nobody").json)
            #expect(none["data"] == [])
        }
    }

    @Test func eventsAreAcceptedWith202AndIdempotencyKeysReplay() async throws {
        try await withServer { s in
            let session = try await s.createSession(input: "one")
            let id = try #require(session["id"]?.stringValue)
            try await s.waitForStatus(id, "idle")
            let body: JSONValue = ["events": [["type": "agent.session.input.message", "input": [["role": "user", "content": [["type": "input_text", "text": "two"]]]]]]]
            let first = try await s.request(.POST, "/v1/agents/sessions/\(id)/events", json: body, headers: [("Idempotency-Key", "abc")])
            #expect(first.status == 202 && first.body.isEmpty)
            try await s.waitForStatus(id, "idle")
            // The same key and body (whitespace differs) replays the acceptance.
            let again = try await s.request(.POST, "/v1/agents/sessions/\(id)/events", raw: Array(JSONWriter.string(body).replacingOccurrences(of: ",", with: ", ").utf8), headers: [("Idempotency-Key", "abc")])
            #expect(again.status == 202)
            let different = try await s.request(.POST, "/v1/agents/sessions/\(id)/events", json: ["events": [["type": "agent.session.input.cancel"]]], headers: [("Idempotency-Key", "abc")])
            Self.expectEnvelope(different, status: 400, param: "Idempotency-Key", code: "idempotency_key_reused")
            let turns = try #require(try await s.request(.GET, "/v1/agents/sessions/\(id)/turns").json)
            #expect(turns["data"]?.arrayValue?.count == 2)
            Self.expectEnvelope(
                try await s.request(.POST, "/v1/agents/sessions/\(id)/events", json: body, headers: [("Idempotency-Key", String(repeating: "k", count: 300))]),
                status: 400, param: "Idempotency-Key")
            // The SDK's tool-result race error, exactly.
            let unknown = try await s.request(
                .POST, "/v1/agents/sessions/\(id)/events",
                json: ["events": [["type": "agent.session.input.tool_result", "turn_id": "turn_x", "call_id": "call_zz", "success": true, "output": "x"]]])
            Self.expectEnvelope(unknown, status: 400, code: "invalid_request_error")
            #expect(unknown.error?["message"] == "Unknown pending tool call: call_zz")
        }
    }

    @Test func deletingARunningSessionIsAConflict() async throws {
        try await withServer { s in
            s.model.enqueue(.response(outputs: [.message(text: String(repeating: "z", count: 400))], options: StepOptions(chunkSize: 1, delayBetweenEvents: .milliseconds(10))))
            let session = try await s.createSession(input: "slow")
            let id = try #require(session["id"]?.stringValue)
            let conflict = try await s.request(.DELETE, "/v1/agents/sessions/\(id)")
            Self.expectEnvelope(conflict, status: 409, code: "session_active")
            #expect(conflict.header("x-should-retry") == "false")
            #expect(try await s.request(.POST, "/v1/agents/sessions/\(id)/events", json: ["events": [["type": "agent.session.input.cancel"]]]).status == 202)
            try await s.waitForStatus(id, "idle")
            let deleted = try #require(try await s.request(.DELETE, "/v1/agents/sessions/\(id)").json)
            #expect(deleted == ["id": .string(id), "deleted": true, "object": "agent.session.deleted"])
            Self.expectEnvelope(try await s.request(.GET, "/v1/agents/sessions/\(id)"), status: 404)
            Self.expectEnvelope(try await s.request(.GET, "/v1/agents/sessions/\(id)/items"), status: 404)
            #expect(try await s.store.events(sessionID: id, afterSequence: 0, limit: 10).isEmpty)
        }
    }

    @Test func turnItemsPageByLastID() async throws {
        try await withServer { s in
            s.model.enqueue(
                .response(outputs: [.functionCall(name: "nope", arguments: "{}"), .functionCall(name: "nope2", arguments: "{}")]),
                .message("done"))
            let session = try await s.createSession(input: "x")
            let id = try #require(session["id"]?.stringValue)
            try await s.waitForStatus(id, "idle")
            let turnID = try #require(try await s.request(.GET, "/v1/agents/sessions/\(id)/turns").json?["data"]?.arrayValue?.first?["id"]?.stringValue)
            var collected: [String] = []
            var after: String?
            for _ in 0..<10 {
                let page = try #require(
                    try await s.request(.GET, "/v1/agents/sessions/\(id)/turns/\(turnID)/items?order=asc&limit=2" + (after.map { "&after=\($0)" } ?? "")).json)
                collected += page["data"]?.arrayValue?.compactMap { $0["type"]?.stringValue } ?? []
                after = page["last_id"]?.stringValue
                if page["has_more"] == false { break }
            }
            #expect(collected == ["message", "function_call", "function_call_output", "function_call", "function_call_output", "message"])
            let turn = try #require(try await s.request(.GET, "/v1/agents/sessions/\(id)/turns/\(turnID)").json)
            #expect(turn["object"] == "agent.session.turn" && turn["status"] == "completed")
        }
    }

    @Test func agentAndSessionUpdatesFollowOmittedVersusNull() async throws {
        try await withServer { s in
            let agent = try await s.createAgent(["model": "m1", "name": "n", "instructions": "i", "metadata": ["a": "1"]])
            let id = try #require(agent["id"]?.stringValue)
            let updated = try #require(try await s.request(.POST, "/v1/agents/\(id)", json: ["name": nil, "metadata": ["b": "2"]]).json)
            #expect(updated["name"] == .null && updated["instructions"] == "i" && updated["model"] == "m1" && updated["metadata"] == ["b": "2"])
            #expect(try #require(updated["updated_at"]?.intValue) >= (agent["created_at"]?.intValue ?? 0))
            let cleared = try #require(try await s.request(.POST, "/v1/agents/\(id)", json: ["metadata": nil, "tools": nil]).json)
            #expect(cleared["metadata"] == [:] && cleared["tools"] == [])
            let deleted = try #require(try await s.request(.DELETE, "/v1/agents/\(id)").json)
            #expect(deleted == ["id": .string(id), "deleted": true, "object": "agent.deleted"])
            Self.expectEnvelope(try await s.request(.GET, "/v1/agents/\(id)"), status: 404)

            let session = try await s.createSession(extra: ["metadata": ["x": "1"], "prompt_cache_options": ["ttl": "12h"]])
            let sid = try #require(session["id"]?.stringValue)
            try await s.waitForStatus(sid, "idle")
            let s2 = try #require(
                try await s.request(.POST, "/v1/agents/sessions/\(sid)", json: ["agent": ["model": "m2", "reasoning": ["effort": "high"]], "metadata": ["y": "2"]]).json)
            #expect(s2["agent"]?["model"] == "m2" && s2["agent"]?["reasoning"]?["effort"] == "high" && s2["metadata"] == ["y": "2"])
            #expect(s2["prompt_cache_options"] == ["ttl": "12h"])
            let s3 = try #require(try await s.request(.POST, "/v1/agents/sessions/\(sid)", json: ["prompt_cache_options": nil, "agent": ["reasoning": ["effort": nil]]]).json)
            #expect(s3["prompt_cache_options"] == nil && s3["agent"]?["reasoning"]?["effort"] == .null && s3["metadata"] == ["y": "2"])
            // The next turn uses the updated model.
            _ = try await s.request(.POST, "/v1/agents/sessions/\(sid)/events", json: ["events": [["type": "agent.session.input.message", "input": [["role": "user", "content": [["type": "input_text", "text": "go"]]]]]]])
            try await s.waitForStatus(sid, "idle")
            #expect(s.model.requests().last?.body["model"] == "m2")
        }
    }
}
