import AgentsAPI
import Foundation
import Storage
import Testing

@Suite("Idempotency-Key on creates")
struct IdempotencyTests {
    static func list(_ s: ServerHarness, _ path: String) async throws -> [JSONValue] {
        try #require(try await s.request(.GET, path + "?limit=100").json)["data"]?.arrayValue ?? []
    }

    @Test(arguments: [
        ("/v1/agents", ["model": "gpt-test", "name": "a"] as JSONValue, ["model": "gpt-test", "name": "b"] as JSONValue),
        ("/v1/agents/environments/templates", ["name": "small"] as JSONValue, ["name": "medium"] as JSONValue),
        (
            "/v1/agents/sessions", ["agent": ["model": "gpt-test"], "environment": ["type": "none"], "input": "hi"] as JSONValue,
            ["agent": ["model": "gpt-test"], "environment": ["type": "none"], "input": "other"] as JSONValue
        ),
    ])
    func aRetriedCreateGetsTheOriginalResponse(path: String, body: JSONValue, other: JSONValue) async throws {
        try await withServer { s in
            let first = try await s.request(.POST, path, json: body, headers: [("Idempotency-Key", "key-1")])
            #expect(first.status == 200)
            let id = try #require(first.json?["id"]?.stringValue)
            let again = try await s.request(.POST, path, json: body, headers: [("Idempotency-Key", "key-1")])
            #expect(again.status == 200 && again.body == first.body)
            #expect(try await Self.list(s, path).filter { $0["id"]?.stringValue == id }.count == 1)
            #expect(try await Self.list(s, path).count == 1)
            // The same key with another body is refused and creates nothing.
            HTTPTests.expectEnvelope(
                try await s.request(.POST, path, json: other, headers: [("Idempotency-Key", "key-1")]), status: 400, param: "Idempotency-Key",
                code: "idempotency_key_reused")
            #expect(try await Self.list(s, path).count == 1)
            // Another key creates another object; no key always creates.
            #expect(try await s.request(.POST, path, json: body, headers: [("Idempotency-Key", "key-2")]).json?["id"]?.stringValue != id)
            #expect(try await s.request(.POST, path, json: body).status == 200)
            #expect(try await Self.list(s, path).count == 3)
        }
    }

    @Test func aCreateThatFailsDoesNotUseUpItsKey() async throws {
        try await withServer { s in
            let missing = try await s.request(
                .POST, "/v1/agents/sessions", json: ["agent_id": "agent_missing", "environment": ["type": "none"], "input": "hi"],
                headers: [("Idempotency-Key", "k")])
            #expect(missing.status == 404)
            let fixed = try await s.request(
                .POST, "/v1/agents/sessions", json: ["agent": ["model": "gpt-test"], "environment": ["type": "none"], "input": "hi"],
                headers: [("Idempotency-Key", "k")])
            #expect(fixed.status == 200)
        }
    }

    @Test func aKeyLeftByARequestCutShortIsFinishedOnRetry() async throws {
        try await withServer { s in
            let body: JSONValue = ["model": "gpt-test", "name": "cut short"]
            let hash = Hashing.sha256Hex(JSONWriter.bytes(body))
            // As a crash would leave them: a key reserved for an agent that was never created...
            _ = try await s.store.reserveIdempotencyKey(
                projectID: s.projectID, record: IdempotencyRecord(scope: "agents.create", key: "never", requestHash: hash, status: 0, response: "agent_reserved1"))
            let created = try await s.request(.POST, "/v1/agents", json: body, headers: [("Idempotency-Key", "never")])
            #expect(created.status == 200 && created.json?["id"] == "agent_reserved1")
            #expect(try await s.request(.POST, "/v1/agents", json: body, headers: [("Idempotency-Key", "never")]).body == created.body)
            // ...and one reserved for an agent that was created before the crash.
            let existing = try #require(try await s.createAgent(["model": "gpt-test", "name": "cut short"])["id"]?.stringValue)
            _ = try await s.store.reserveIdempotencyKey(
                projectID: s.projectID, record: IdempotencyRecord(scope: "agents.create", key: "made", requestHash: hash, status: 0, response: existing))
            let found = try await s.request(.POST, "/v1/agents", json: body, headers: [("Idempotency-Key", "made")])
            #expect(found.status == 200 && found.json?["id"]?.stringValue == existing)
            #expect(try await Self.list(s, "/v1/agents").count == 2)
        }
    }

    @Test func expiredKeysArePurgedAndCanBeUsedAgain() async throws {
        try await withServer { s in
            let first = try await s.request(.POST, "/v1/agents", json: ["model": "gpt-test"], headers: [("Idempotency-Key", "old")])
            #expect(first.status == 200)
            // As the hourly purge does once the key is a day old.
            #expect(try await s.store.purgeIdempotencyKeys(createdBefore: currentUnixSeconds() + 1) >= 1)
            let reused = try await s.request(.POST, "/v1/agents", json: ["model": "gpt-other"], headers: [("Idempotency-Key", "old")])
            #expect(reused.status == 200 && reused.json?["id"] != first.json?["id"])
        }
    }

    @Test func aRetriedStreamingCreateReplaysTheStream() async throws {
        try await withServer { s in
            let body: JSONValue = ["agent": ["model": "gpt-test"], "environment": ["type": "none"], "input": "hi", "stream": true]
            let first = try await s.request(.POST, "/v1/agents/sessions", json: body, headers: [("Idempotency-Key", "stream-1")])
            let again = try await s.request(.POST, "/v1/agents/sessions", json: body, headers: [("Idempotency-Key", "stream-1")])
            func events(_ reply: ServerHarness.Reply) -> [String] {
                String(decoding: reply.body, as: UTF8.self).components(separatedBy: "\n\n").compactMap { frame in
                    frame.split(separator: "\n").first { $0.hasPrefix("data: {") }.flatMap { line in
                        (try? JSONParser.parse(Array(line.dropFirst(6).utf8)))?["event_id"]?.stringValue
                    }
                }
            }
            #expect(first.status == 200 && again.status == 200)
            // The connection is not reused after a stream, and the client is told so.
            #expect(first.header("connection") == "close")
            #expect(!events(first).isEmpty && events(again) == events(first))
            #expect(String(decoding: again.body, as: UTF8.self).hasSuffix("data: [DONE]\n\n"))
            #expect(try await Self.list(s, "/v1/agents/sessions").count == 1)
        }
    }
}

@Suite("OpenAPI document")
struct OpenAPIDocumentTests {
    @Test func theDocumentIsServedWithoutAKeyAndDescribesTheRoutes() async throws {
        try await withServer { s in
            let reply = try await s.request(.GET, "/v1/openapi.json", key: .some(nil))
            #expect(reply.status == 200 && reply.header("content-type") == "application/json")
            let document = try #require(reply.json)
            #expect(document["openapi"] == "3.1.0")
            let paths = document["paths"]?.objectValue?.keys.map { $0 } ?? []
            for path in ["/agents", "/agents/sessions", "/agents/sessions/{session_id}/events", "/files", "/agents/environments/templates"] {
                #expect(paths.contains(path), "\(path) is not described")
            }
            // Everything else still needs a key.
            #expect(try await s.request(.GET, "/v1/agents", key: .some(nil)).status == 401)
        }
    }
}

@Suite("Path parameters")
struct PathParameterTests {
    @Test func percentEncodedIDsAreDecoded() async throws {
        try await withServer { s in
            let id = try #require(try await s.createAgent()["id"]?.stringValue)
            let encoded = id.replacingOccurrences(of: "_", with: "%5F")
            let reply = try await s.request(.GET, "/v1/agents/\(encoded)")
            #expect(reply.status == 200 && reply.json?["id"]?.stringValue == id)
        }
    }

    @Test func aKnownPathWithAnotherMethodIs405WithAllow() async throws {
        try await withServer { s in
            let reply = try await s.request(.PATCH, "/v1/agents/agent_x")
            HTTPTests.expectEnvelope(reply, status: 405, code: "method_not_allowed")
            #expect(reply.header("allow") == "DELETE, GET, POST")
            HTTPTests.expectEnvelope(try await s.request(.PUT, "/v1/agents/sessions/sess_x/events"), status: 405, code: "method_not_allowed")
            // An unknown path is still a 404.
            HTTPTests.expectEnvelope(try await s.request(.GET, "/v1/nothing/here"), status: 404)
        }
    }
}

