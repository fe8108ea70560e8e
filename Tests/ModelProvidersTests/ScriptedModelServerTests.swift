import AgentsAPI
import Foundation
import ModelProviders
import TestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("Scripted model server")
struct ScriptedModelServerTests {
    static let sampleSteps: [ScriptStep] = [
        .response(
            outputs: [
                .reasoning(summary: ["Looking up", "the weather"], encryptedContent: "gAAA=="),
                .message(text: "Hi", phase: "final_answer"),
                .functionCall(name: "get_weather", arguments: #"{"city":"Paris"}"#, callID: "call_1"),
                .functionCall(name: "noop", arguments: "{}"),
            ],
            usage: ModelUsage(inputTokens: 10, cachedTokens: 2, outputTokens: 5, reasoningTokens: 1),
            options: StepOptions(
                chunkSize: 4, delayBetweenEvents: .milliseconds(3), delayBeforeHeaders: .milliseconds(7),
                disconnectAfterEvents: 3, stallAfterEvents: 9, fail: (code: "server_error", message: "boom"),
                incomplete: "max_output_tokens"),
            match: .contains("weather")),
        .message("plain"),
        .message("keyed", phase: "commentary", match: .promptCacheKey("sess_1")),
        .httpError(status: 429, headers: ["retry-after": "0", "x-request-id": "req_1"]),
        .httpError(status: 400, body: ["error": ["message": "too long", "code": "context_length_exceeded"]]),
        .httpError(status: 502, body: "<html>bad gateway</html>"),
        .streamError(code: "server_error", message: "boom", match: .contains("x")),
    ]

    @Test func stepsRoundTripThroughJSON() throws {
        for step in Self.sampleSteps {
            let text = JSONWriter.string(step.json)
            let parsed = try ScriptStep(json: try JSONParser.parse(text))
            #expect(parsed == step, "\(text)")
        }
    }

    @Test func readsTheDocumentedFormat() throws {
        let documented = """
            {"steps":[
              {"type":"response","match":{"contains":"weather"},"outputs":[{"type":"reasoning","summary":["…"]},{"type":"message","text":"Hi","phase":"final_answer"},{"type":"function_call","name":"get_weather","arguments":"{\\"city\\":\\"Paris\\"}","call_id":"call_1"}],"usage":{"input_tokens":10,"cached_tokens":0,"output_tokens":5,"reasoning_tokens":0},"options":{"chunk_size":4,"delay_ms":0,"disconnect_after_events":3}},
              {"type":"http_error","status":429,"headers":{"retry-after":"0"}},
              {"type":"stream_error","code":"server_error","message":"boom"}
            ]}
            """
        let steps = try (try JSONParser.parse(documented))["steps"]!.arrayValue!.map { try ScriptStep(json: $0) }
        #expect(
            steps == [
                .response(
                    outputs: [
                        .reasoning(summary: ["…"]), .message(text: "Hi", phase: "final_answer"),
                        .functionCall(name: "get_weather", arguments: #"{"city":"Paris"}"#, callID: "call_1"),
                    ],
                    usage: ModelUsage(inputTokens: 10, cachedTokens: 0, outputTokens: 5, reasoningTokens: 0),
                    options: StepOptions(chunkSize: 4, disconnectAfterEvents: 3),
                    match: .contains("weather")),
                .httpError(status: 429, headers: ["retry-after": "0"]),
                .streamError(code: "server_error", message: "boom"),
            ])
    }

    @Test func rejectsMalformedSteps() {
        for bad in [#"{"type":"nope"}"#, #"{"type":"http_error"}"#, #"{"type":"response","outputs":[{"type":"image"}]}"#, #"[1]"#] {
            #expect(throws: ScriptFormatError.self, "\(bad)") { try ScriptStep(json: try JSONParser.parse(bad)) }
        }
    }

    @Test func controlAPIDrivesTheServer() async throws {
        try await withServerAndClient { server, client in
            let root = String(server.baseURL.dropLast("/v1".count))
            let steps: JSONValue = ["steps": [ScriptStep.httpError(status: 429, headers: ["retry-after": "0"]).json, ScriptStep.message("from the control API").json]]
            let queued = try await http("POST", root + "/__scripted/steps", body: steps)
            #expect(queued.status == 200)
            #expect(queued.body["queued"] == 2)

            let events = try await collect(client, userRequest("hello"))
            #expect(events.textDeltas == "from the control API")

            let log = try await http("GET", root + "/__scripted/requests")
            #expect(log.status == 200)
            let requests = try #require(log.body["requests"]?.arrayValue)
            #expect(requests.count == 2)
            #expect(requests.first?["body"] == userRequest("hello").body)
            #expect(requests.first?["headers"]?["authorization"] == "Bearer sk-scripted-test-key")

            let invalid = try await http("POST", root + "/__scripted/steps", body: ["steps": [["type": "bogus"]]])
            #expect(invalid.status == 400)
            #expect(invalid.body["error"]?["message"]?.stringValue?.contains("bogus") == true)

            #expect(try await http("POST", root + "/__scripted/reset").status == 200)
            #expect(try await http("GET", root + "/__scripted/requests").body["requests"] == [])

            #expect(try await http("POST", root + "/__scripted/fallback", body: ["mode": "echo"]).status == 200)
            #expect(try await collect(client, userRequest("anyone there?")).textDeltas == "Echo: anyone there?")
            #expect(try await http("POST", root + "/__scripted/fallback", body: ["mode": "loud"]).status == 400)
            #expect(try await http("POST", root + "/__scripted/fallback", body: ["mode": "error"]).status == 200)
            await #expect(throws: ModelError.self) { _ = try await collect(client, userRequest("unscripted")) }
        }
    }

    @Test func streamsTheOpenAIWireFormat() async throws {
        try await withScriptedModelServer { server in
            server.enqueue(.response(outputs: [.message(text: "Hi there")], options: StepOptions(chunkSize: 3)))
            let response = try await http("POST", server.baseURL + "/responses", body: userRequest("hello").body, decodeJSON: false)
            #expect(response.status == 200)
            #expect(response.contentType?.hasPrefix("text/event-stream") == true)
            let text = String(decoding: response.raw, as: UTF8.self)
            let frames = text.split(separator: "\n\n", omittingEmptySubsequences: true)
            var sequence: Int64 = 0
            for frame in frames {
                let lines = frame.split(separator: "\n")
                #expect(lines.count == 2)
                #expect(lines[0].hasPrefix("event: "))
                #expect(lines[1].hasPrefix("data: "))
                let json = try JSONParser.parse(String(lines[1].dropFirst("data: ".count)))
                #expect(json["type"]?.stringValue == String(lines[0].dropFirst("event: ".count)))
                #expect(json["sequence_number"]?.intValue == sequence)
                sequence += 1
            }
            let last = try JSONParser.parse(String(try #require(frames.last?.split(separator: "\n").last?.dropFirst("data: ".count))))
            #expect(last["type"] == "response.completed")
            #expect(last["response"]?["status"] == "completed")
            #expect(last["response"]?["model"] == "gpt-test")
            #expect(last["response"]?["output"]?.arrayValue?.count == 1)
            #expect(last["response"]?["usage"]?["input_tokens_details"]?["cached_tokens"] == 0)
        }
    }

    @Test func waitForRequestsTimesOut() async throws {
        try await withScriptedModelServer { server in
            await #expect(throws: ScriptedServerError.self) { _ = try await server.waitForRequests(count: 1, timeout: .milliseconds(50)) }
        }
    }
}

struct HTTPResult {
    var status: Int
    var body: JSONValue
    var raw: [UInt8]
    var contentType: String?
}

/// A plain HTTP call with Foundation's URLSession (the control API is for other processes).
func http(_ method: String, _ url: String, body: JSONValue? = nil, decodeJSON: Bool = true) async throws -> HTTPResult {
    var request = URLRequest(url: URL(string: url)!)
    request.httpMethod = method
    if let body {
        request.httpBody = Data(JSONWriter.bytes(body))
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    }
    let (data, response) = try await URLSession.shared.data(for: request)
    let http = response as? HTTPURLResponse
    let raw = [UInt8](data)
    return HTTPResult(
        status: http?.statusCode ?? 0,
        body: decodeJSON ? ((try? JSONParser.parse(raw)) ?? .null) : .null,
        raw: raw,
        contentType: http?.value(forHTTPHeaderField: "Content-Type"))
}
