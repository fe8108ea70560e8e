import AgentsAPI
import AsyncHTTPClient
import NIOHTTP1
import Foundation
import TestSupport
import Testing

@Suite("SSE streams")
struct SSETests {
    static let createBody: JSONValue = ["agent": ["model": "gpt-test"], "environment": ["type": "none"], "input": "stream me", "stream": true]

    @Test func createWithStreamSendsTheTurnThenDone() async throws {
        try await withServer { s in
            s.model.enqueue(.response(outputs: [.reasoning(summary: ["hmm"]), .message(text: "streamed answer")]))
            let stream = try await s.openStream(.POST, "/v1/agents/sessions", json: Self.createBody)
            #expect(stream.status == 200)
            #expect(stream.headers.first { $0.0.lowercased() == "content-type" }?.1 == "text/event-stream")
            try await stream.wait("the stream to end") { $0.ended }

            let frames = stream.frames
            #expect(frames.last == "data: [DONE]")
            // Every frame is `event:` + `data:`; no `id:` lines, no empty data.
            for frame in frames.dropLast() {
                let lines = frame.split(separator: "\n", omittingEmptySubsequences: false)
                #expect(lines.count == 2)
                #expect(lines[0].hasPrefix("event: ") && lines[1].hasPrefix("data: {"))
            }
            #expect(!stream.raw.contains("\nid:") && !stream.raw.hasPrefix("id:"))
            let types = stream.types
            #expect(types.first == "agent.session.created")
            #expect(Array(types.suffix(2)) == ["agent.session.turn.completed", "agent.session.idle"])
            for (frame, event) in zip(frames, stream.events) {
                #expect(frame.hasPrefix("event: \(event["type"]?.stringValue ?? "?")\n"))
            }
            // Deltas carry obfuscation padding by default; other events do not.
            for event in stream.events {
                let isDelta = event["type"]?.stringValue?.hasSuffix(".delta") == true
                #expect((event["obfuscation"] != nil) == isDelta)
            }
            let final = stream.events.first { $0["type"] == "agent.session.turn.item.done" && $0["item"]?["type"] == "message" }
            #expect(final?["item"]?["content"]?.arrayValue?.first?["text"] == "streamed answer")
        }
    }

    @Test func obfuscationCanBeTurnedOff() async throws {
        try await withServer { s in
            var body = Self.createBody.objectValue!
            body["stream_options"] = ["include_obfuscation": false]
            let stream = try await s.openStream(.POST, "/v1/agents/sessions", json: .object(body))
            try await stream.wait("the stream to end") { $0.ended }
            #expect(stream.types.contains("agent.session.turn.output_text.delta"))
            #expect(stream.events.allSatisfy { $0["obfuscation"] == nil })
        }
    }

    @Test func aLiveSubscriptionSeesTurnsStartedAfterItOpens() async throws {
        try await withServer(heartbeat: .milliseconds(50)) { s in
            let session = try await s.createSession(input: "first")
            let id = try #require(session["id"]?.stringValue)
            try await s.waitForStatus(id, "idle")

            let stream = try await s.openStream(.GET, "/v1/agents/sessions/\(id)/events?include_obfuscation=false")
            #expect(stream.status == 200)
            // Headers arrive only after the subscription is registered, so input posted now is seen.
            let post = try await s.request(
                .POST, "/v1/agents/sessions/\(id)/events",
                json: ["events": [["type": "agent.session.input.message", "input": [["role": "user", "content": [["type": "input_text", "text": "second"]]]]]]])
            #expect(post.status == 202)
            try await stream.wait("idle after the second turn") { $0.types.contains("agent.session.idle") }
            let types = stream.types
            #expect(types.first == "agent.session.turn.created")
            #expect(types.last == "agent.session.idle")
            #expect(!types.contains("agent.session.created"))
            // Keep-alive comments flow while idle.
            try await stream.wait("a heartbeat") { $0.frames.contains(": ping") }
            #expect(!stream.ended)

            // The subscriber is removed when the client goes away.
            stream.close()
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(5)
            while s.runtime.broadcaster.subscriberCount(sessionID: id) > 0, clock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(s.runtime.broadcaster.subscriberCount(sessionID: id) == 0)
        }
    }

    @Test func deletingASessionEndsItsStreams() async throws {
        try await withServer { s in
            let session = try await s.createSession()
            let id = try #require(session["id"]?.stringValue)
            try await s.waitForStatus(id, "idle")
            let stream = try await s.openStream(.GET, "/v1/agents/sessions/\(id)/events")
            #expect(try await s.request(.DELETE, "/v1/agents/sessions/\(id)").status == 200)
            try await stream.wait("the stream to end") { $0.ended }
            let missing = try await s.request(.GET, "/v1/agents/sessions/\(id)/events")
            #expect(missing.status == 404)
        }
    }

    @Test func aShutdownLetsTheTurnFinishRefusesInputWith503AndEndsStreamsWithAnErrorEvent() async throws {
        try await withServer(shutdownGrace: .seconds(20)) { s in
            // About a second and a half of streaming.
            s.model.enqueue(.response(outputs: [.message(text: String(repeating: "z", count: 150))], options: StepOptions(chunkSize: 5, delayBetweenEvents: .milliseconds(50))))
            let stream = try await s.openStream(.POST, "/v1/agents/sessions", json: ["agent": ["model": "gpt-test"], "environment": ["type": "none"], "input": "slow", "stream": true])
            try await stream.wait("the answer to start streaming") { $0.types.contains("agent.session.turn.output_text.delta") }
            let id = try #require(stream.events.first?["session"]?["id"]?.stringValue)
            let live = try await s.openStream(.GET, "/v1/agents/sessions/\(id)/events")
            s.beginShutdown()
            try await Task.sleep(for: .milliseconds(100))
            // While the turn finishes, input is refused (and changes nothing)...
            let refused = try await s.request(.POST, "/v1/agents/sessions/\(id)/events", json: ["events": [["type": "agent.session.input.cancel"]]])
            HTTPTests.expectEnvelope(refused, status: 503, code: "server_shutting_down")
            #expect(refused.header("retry-after") == "5")
            // ...the turn completes, and the live stream ends with an error event saying why.
            try await live.wait(timeout: .seconds(20), "the live stream to end") { $0.ended }
            #expect(live.types.contains("agent.session.turn.completed"))
            let last = try #require(live.events.last)
            #expect(last["type"] == "error" && last["error"]?["code"] == "server_shutting_down")
        }
    }
}
