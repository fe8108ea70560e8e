import AgentsAPI
import Foundation
import ModelProviders
import Runtime
import Storage
import TestSupport
import Testing

/// Requests are built so that the provider's prompt cache hits on everything but the newest items:
/// within a session, each request's `input` is a byte-for-byte prefix of the next one's.
@Suite("Prompt-cache-stable requests")
struct PromptCacheTests {
    /// The serialized `input` of each recorded request, exactly as sent.
    static func inputs(_ requests: [RecordedRequest]) -> [[UInt8]] {
        requests.map { request -> [UInt8] in
            // The raw body is what went over the wire; `input` is re-encoded by our writer, which
            // keeps key order, so equal bytes here mean equal bytes there.
            JSONWriter.bytes(request.body["input"] ?? .null)
        }
    }

    static func expectEachInputIsAPrefixOfTheNext(_ inputs: [[UInt8]], sourceLocation: SourceLocation = #_sourceLocation) {
        for (i, pair) in zip(inputs, inputs.dropFirst()).enumerated() {
            // "[a,b" must start "[a,b,c…": compare without the closing bracket.
            let previous = pair.0.dropLast()
            let isPrefix = pair.1.count > pair.0.count && pair.1.starts(with: previous) && pair.1[previous.count] == UInt8(ascii: ",")
            #expect(isPrefix, "request \(i + 1)'s input is not a prefix of request \(i + 2)'s", sourceLocation: sourceLocation)
        }
    }

    @Test func aFiftyStepSessionOnlyAppendsToItsInput() async throws {
        try await withRuntime { h in
            let weather: JSONValue = [
                "type": "function", "name": "get_weather", "description": "Weather",
                "parameters": ["type": "object", "properties": ["city": ["type": "string"]]],
            ]
            // 49 steps that call a tool the agent does not have (the runtime answers with an
            // error and calls the model again), with reasoning carried along, then an answer.
            for i in 0..<49 {
                h.model.enqueue(
                    .response(outputs: [
                        .reasoning(summary: ["step \(i)"], encryptedContent: "enc-\(i)"),
                        .message(text: "Working on step \(i)."),
                        .functionCall(name: "lookup_\(i % 3)", arguments: #"{"n":\#(i)}"#, callID: "call_\(i)"),
                    ]))
            }
            h.model.enqueue(.message("All fifty steps done."))
            let (session, recorder) = try await h.createSession(input: "Go", tools: [weather])
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(60))
            let requests = h.model.requests()
            #expect(requests.count == 50)
            Self.expectEachInputIsAPrefixOfTheNext(Self.inputs(requests))
            // Same instructions, tools and cache key on every step.
            #expect(Set(requests.map { JSONWriter.string($0.body["instructions"] ?? .null) }).count == 1)
            #expect(Set(requests.map { JSONWriter.string($0.body["tools"] ?? .null) }).count == 1)
            #expect(Set(requests.compactMap(\.promptCacheKey)) == [session.id])

            // A second turn continues the same prefix.
            h.model.enqueue(.message("Again."))
            try await h.message(session.id, "One more")
            try await recorder.wait(for: "agent.session.idle", count: 2, timeout: .seconds(20))
            Self.expectEachInputIsAPrefixOfTheNext(Self.inputs(Array(h.model.requests().suffix(2))))
        }
    }

    @Test func theRequestRebuiltAfterARestartIsTheSameBytes() async throws {
        let model = try await ScriptedModelServer.start()
        let directory = try RuntimeHarness.makeDirectory()
        var harness = try await RuntimeHarness.start(model: model, directory: directory)
        for i in 0..<3 {
            model.enqueue(.response(outputs: [.reasoning(summary: ["r\(i)"], encryptedContent: "e\(i)"), .functionCall(name: "missing", arguments: "{}", callID: "c\(i)")]))
        }
        model.enqueue(.message("first done"))
        let (session, recorder) = try await harness.createSession(input: "Start")
        try await recorder.wait(for: "agent.session.idle", timeout: .seconds(20))
        await harness.stop()

        // A new runtime on the same database rebuilds the history from storage.
        harness = try await RuntimeHarness.start(model: model, directory: directory)
        model.enqueue(.message("second done"))
        try await harness.message(session.id, "Continue")
        try await poll(timeout: .seconds(20), "the second turn") { model.requests().count == 5 }
        let inputs = Self.inputs(model.requests())
        Self.expectEachInputIsAPrefixOfTheNext(Array(inputs.suffix(2)))
        await harness.stop()
        await model.shutdown()
    }

    @Test func theSessionsCacheLifetimeMapsToTheProvidersRetention() async throws {
        try await withRuntime { h in
            h.model.enqueue(.message("one"), .message("two"))
            let request = try SessionCreateRequest(
                json: ["agent": ["model": "gpt-test"], "environment": ["type": "none"], "input": "Hi", "prompt_cache_options": ["ttl": "12h"]])
            let sessionID = IDGenerator.make(.session)
            let recorder = EventRecorder(h.runtime.subscribe(sessionID: sessionID))
            _ = try await h.runtime.createSession(projectID: h.projectID, sessionID: sessionID, request: request)
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(20))
            // Cleared: the next turn uses the provider's default retention.
            _ = try await h.runtime.updateSession(
                projectID: h.projectID, sessionID: sessionID, request: try SessionUpdateRequest(json: ["prompt_cache_options": .null]))
            try await h.message(sessionID, "Again")
            try await recorder.wait(for: "agent.session.idle", count: 2, timeout: .seconds(20))

            let requests = h.model.requests()
            try #require(requests.count == 2)
            #expect(requests[0].body["prompt_cache_retention"]?.stringValue == "24h")
            #expect(requests[1].body["prompt_cache_retention"] == nil)
            let turns = try await h.turns(sessionID)
            #expect(turns.map(\.promptCacheTTL) == [.twelveHours, nil])
            // Cached tokens are counted per turn and per session.
            let session = try await h.session(sessionID)
            #expect(turns[1].usage?.cachedTokens ?? 0 > 0)
            #expect(session.usage?.cachedTokens == turns.reduce(0) { $0 + ($1.usage?.cachedTokens ?? 0) })
        }
    }
}

@Suite("Tool output budget")
struct ToolOutputBudgetTests {
    @Test func aLargeClientToolResultIsCappedForTheModelButKeptWhole() async throws {
        try await withRuntime { h in
            let tool: JSONValue = ["type": "function", "name": "dump", "description": "Dumps", "parameters": ["type": "object", "properties": [:]]]
            h.model.enqueue(.response(outputs: [.functionCall(name: "dump", arguments: "{}", callID: "call_dump")]), .message("read it"))
            let (session, recorder) = try await h.createSession(input: "dump", tools: [tool])
            try await recorder.wait(for: "agent.session.requires_action", timeout: .seconds(20))
            let big = (0..<3000).map { "line \($0) " + String(repeating: "x", count: 40) }.joined(separator: "\n")
            let turnID = try #require(try await h.turns(session.id).first?.id)
            try await h.send(session.id, [.toolResult(turnID: turnID, callID: "call_dump", success: true, output: .text(big), error: nil)])
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(20))

            let sent = h.model.requests().last?.body["input"]?.arrayValue?.first { $0["type"]?.stringValue == "function_call_output" }?["output"]?.stringValue ?? ""
            #expect(sent.utf8.count < 11 * 1024)
            #expect(sent.hasPrefix("line 0 ") && sent.contains("line 2999 "))
            #expect(sent.contains("bytes omitted") && sent.contains("The full result (\(big.utf8.count) bytes) is kept in this session's history"))
            // The stored item keeps all of it.
            let stored = try await h.items(session.id).compactMap { item -> FunctionOutput? in
                if case .functionCallOutput(let o) = item { return o.output }
                return nil
            }
            #expect(stored == [.text(big)])
        }
    }
}
