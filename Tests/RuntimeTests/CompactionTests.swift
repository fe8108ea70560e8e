import AgentsAPI
import Foundation
import ModelProviders
import Runtime
import Storage
import TestSupport
import Testing

@Suite("Compaction")
struct CompactionTests {
    /// A model with a small window: compaction at 5,000 input tokens.
    static let catalog = try! ModelCatalog.builtIn.adding(json: #"{"models": {"tiny-model": {"context_window": 8000, "auto_compact_token_limit": 5000}}}"#)
    static let marker = "Write a hand-off summary"

    static func summary(_ text: String) -> ScriptStep { ScriptStep.message(text).matching(.contains(marker)) }

    static func inputTexts(_ request: RecordedRequest) -> [String] {
        (request.body["input"]?.arrayValue ?? []).map { item in
            (item["content"]?.arrayValue ?? []).compactMap { $0["text"]?.stringValue }.joined()
        }
    }

    @Test func crossingTheThresholdCompactsBeforeTheNextModelCall() async throws {
        try await withRuntime(modelCatalog: Self.catalog) { h in
            h.model.enqueue(
                Self.summary("SUMMARY: the user wants a report; step one is done."),
                .response(outputs: [.functionCall(name: "missing_tool", arguments: "{}", callID: "call_big")], usage: ModelUsage(inputTokens: 6_000, outputTokens: 10)),
                .message("Finished after compaction."))
            let (session, recorder) = try await h.createSession(input: "Write the report", agent: ["model": "tiny-model"])
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(20))

            let requests = h.model.requests()
            #expect(requests.count == 3)
            guard requests.count == 3 else { return }
            // The summary request: the whole history, then the instruction; same tools, no calls.
            let compaction = requests[1]
            #expect(compaction.body["tool_choice"]?.stringValue == "none")
            #expect(JSONWriter.string(compaction.body["tools"] ?? .null) == JSONWriter.string(requests[0].body["tools"] ?? .null))
            #expect(Self.inputTexts(compaction).last?.hasPrefix(Self.marker) == true)
            #expect(compaction.body["input"]?.arrayValue?.contains { $0["call_id"]?.stringValue == "call_big" } == true)
            // The next request starts over from the recent user messages and the summary.
            let next = Self.inputTexts(requests[2])
            #expect(next.count == 2)
            #expect(next.first == "Write the report")
            #expect(next.last?.contains("SUMMARY: the user wants a report; step one is done.") == true)
            #expect(requests[2].body["input"]?.arrayValue?.allSatisfy { $0["role"]?.stringValue == "user" } == true)

            // The items list keeps everything, with a compaction item where the switch happened.
            let items = try await h.items(session.id)
            let types = items.map { item -> String in
                if case .other(let o) = item { return o["type"]?.stringValue ?? "?" }
                return item.type
            }
            #expect(types == ["message", "function_call", "function_call_output", "compaction", "message"])
            #expect(recorder.all.contains { e in
                if case .itemDone(_, .other(let o), _) = e.body { return o["type"]?.stringValue == "compaction" }
                return false
            })
            // The summary request's tokens count toward the turn.
            #expect(try await h.turns(session.id).first?.usage?.inputTokens ?? 0 > 6_000)
        }
    }

    @Test func aContextOverflowCompactsAndRetriesOnce() async throws {
        try await withRuntime(modelCatalog: Self.catalog) { h in
            let overflow: JSONValue = ["error": ["message": "too long", "type": "invalid_request_error", "param": .null, "code": "context_length_exceeded"]]
            h.model.enqueue(
                Self.summary("SUMMARY one"),
                .httpError(status: 400, body: overflow),
                .message("Recovered."))
            let (session, recorder) = try await h.createSession(input: "Huge task", agent: ["model": "tiny-model"])
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(20))
            #expect(try await h.turns(session.id).first?.status == .completed)
            #expect(h.model.requests().count == 3)

            // A second overflow in the same turn is not retried again: the turn fails with it.
            h.model.enqueue(Self.summary("SUMMARY two"), .httpError(status: 400, body: overflow), .httpError(status: 400, body: overflow))
            try await h.message(session.id, "Another huge task")
            try await recorder.wait(for: "agent.session.idle", count: 2, timeout: .seconds(20))
            let second = try #require(try await h.turns(session.id).last)
            #expect(second.status == .failed && second.error?.code == .contextLengthExceeded)
        }
    }

    @Test(arguments: [false, true])
    func aThreeHundredStepSessionOnATinyWindowCompletes(background: Bool) async throws {
        // Usage is synthesised from the request size (about 4 bytes per token), so the history
        // crosses the threshold again and again.
        let tiny = try ModelCatalog.builtIn.adding(json: #"{"models": {"tiny-model": {"context_window": 3000, "auto_compact_token_limit": 2500}}}"#)
        try await withRuntime(modelCatalog: tiny) { h in
            for i in 0..<40 { h.model.enqueue(Self.summary("SUMMARY \(i): steps so far went fine.")) }
            for i in 0..<299 {
                h.model.enqueue(
                    .response(outputs: [
                        .message(text: "Step \(i): " + String(repeating: "working ", count: 20)),
                        .functionCall(name: "step_tool", arguments: #"{"step":\#(i)}"#, callID: "call_\(i)"),
                    ]))
            }
            h.model.enqueue(.message("All 300 steps done."))
            let (session, recorder) = try await h.createSession(input: "Do 300 steps", agent: ["model": "tiny-model", "compaction": ["async": .bool(background)]])
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(120))
            let turn = try #require(try await h.turns(session.id).first)
            #expect(turn.status == .completed)
            let compactions = try await h.items(session.id).filter { item in
                if case .other(let o) = item { return o["type"]?.stringValue == "compaction" }
                return false
            }
            #expect(compactions.count >= 5)
            // Blocking: no request ever got near the window. (In the background, calls go on
            // with the full history until the summary is ready, so how far they get depends on
            // the machine's speed; a real provider's overflow then waits for the summary.)
            if !background {
                let largest = h.model.requests().map { JSONWriter.bytes($0.body["input"] ?? .null).count }.max() ?? 0
                #expect(largest < 3000 * 4)
            }
        }
    }

    static func types(_ items: [SessionItem]) -> [String] {
        items.map { item in
            if case .other(let o) = item { return o["type"]?.stringValue ?? "?" }
            return item.type
        }
    }

    static func callIDs(_ request: RecordedRequest) -> [String] {
        (request.body["input"]?.arrayValue ?? []).compactMap { $0["type"]?.stringValue == "function_call" ? $0["call_id"]?.stringValue : nil }
    }

    @Test func backgroundCompactionLetsTheTurnGoOnAndSwitchesAtTheNextModelCall() async throws {
        try await withRuntime(modelCatalog: Self.catalog) { h in
            h.model.enqueue(
                Self.summary("SUMMARY written in the background"),
                .response(outputs: [.functionCall(name: "missing_tool", arguments: "{}", callID: "call_big")], usage: ModelUsage(inputTokens: 6_000, outputTokens: 10)),
                // Slow enough that the summary is ready before this response is.
                .response(
                    outputs: [.functionCall(name: "missing_tool", arguments: "{}", callID: "call_during")], usage: ModelUsage(inputTokens: 6_100, outputTokens: 10),
                    options: StepOptions(delayBeforeHeaders: .seconds(2))),
                .message("Finished after the switch."))
            let agent: JSONObject = ["model": "tiny-model", "compaction": ["async": true]]
            let (session, recorder) = try await h.createSession(input: "Write the report", agent: agent)
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(20))
            #expect(try await h.turns(session.id).first?.status == .completed)

            let requests = h.model.requests()
            try #require(requests.count == 4)
            let summaryRequests = requests.filter { Self.inputTexts($0).last?.hasPrefix(Self.marker) == true }
            let calls = requests.filter { Self.inputTexts($0).last?.hasPrefix(Self.marker) != true }
            try #require(summaryRequests.count == 1 && calls.count == 3)
            // The summary covers the history up to the threshold, with the same tools and no calls.
            #expect(summaryRequests[0].body["tool_choice"]?.stringValue == "none")
            #expect(Self.callIDs(summaryRequests[0]) == ["call_big"])
            // The turn went on without waiting: the next call had the whole history...
            #expect(Self.callIDs(calls[1]) == ["call_big"])
            #expect(!Self.inputTexts(calls[1]).contains { $0.contains("SUMMARY") })
            // ...and the call after it switched: recent user messages, the summary, then what was
            // added while the summary was written.
            let texts = Self.inputTexts(calls[2])
            #expect(texts.first == "Write the report")
            #expect(texts.contains { $0.contains("SUMMARY written in the background") })
            #expect(Self.callIDs(calls[2]) == ["call_during"])
            let input = calls[2].body["input"]?.arrayValue ?? []
            #expect(input.contains { $0["type"]?.stringValue == "function_call_output" && $0["call_id"]?.stringValue == "call_during" })
            #expect(!input.contains { $0["call_id"]?.stringValue == "call_big" })

            let items = try await h.items(session.id)
            #expect(Self.types(items) == ["message", "function_call", "function_call_output", "function_call", "function_call_output", "compaction", "message"])
            let compactions = items.compactMap { item -> JSONObject? in
                if case .other(let o) = item, o["type"]?.stringValue == "compaction" { return o }
                return nil
            }
            let compaction = try #require(compactions.first)
            #expect(compaction["mode"]?.stringValue == "async")
            #expect(compaction["input_tokens_before"]?.intValue == 6_000)
            // The background summary's tokens count toward the session.
            let usage = try #require(try await h.session(session.id).usage)
            #expect(usage.inputTokens > 6_000 + 6_100)
        }
    }

    @Test func anOverflowWhileTheBackgroundSummaryIsWrittenWaitsForIt() async throws {
        try await withRuntime(modelCatalog: Self.catalog) { h in
            let overflow: JSONValue = ["error": ["message": "too long", "type": "invalid_request_error", "param": .null, "code": "context_length_exceeded"]]
            h.model.enqueue(
                ScriptStep.response(outputs: [.message(text: "SUMMARY after a wait")], options: StepOptions(delayBeforeHeaders: .milliseconds(800)))
                    .matching(.contains(Self.marker)),
                .response(outputs: [.functionCall(name: "missing_tool", arguments: "{}", callID: "call_big")], usage: ModelUsage(inputTokens: 6_000, outputTokens: 10)),
                .httpError(status: 400, body: overflow),
                .message("Recovered with the background summary."))
            let agent: JSONObject = ["model": "tiny-model", "compaction": ["async": true]]
            let (session, recorder) = try await h.createSession(input: "Huge task", agent: agent)
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(20))
            #expect(try await h.turns(session.id).first?.status == .completed)
            let requests = h.model.requests()
            // One summary only: the overflow waited for the one being written.
            #expect(requests.filter { Self.inputTexts($0).last?.hasPrefix(Self.marker) == true }.count == 1)
            #expect(requests.count == 4)
            let last = try #require(requests.last)
            #expect(Self.inputTexts(last).contains { $0.contains("SUMMARY after a wait") })
            #expect(Self.callIDs(last).isEmpty)
        }
    }

    @Test func aFailedBackgroundSummaryFallsBackToABlockingCompaction() async throws {
        try await withRuntime(modelCatalog: Self.catalog) { h in
            let invalid: JSONValue = ["error": ["message": "bad summary request", "type": "invalid_request_error", "param": .null, "code": .null]]
            h.model.enqueue(
                ScriptStep.httpError(status: 400, body: invalid).matching(.contains(Self.marker)),
                .response(outputs: [.functionCall(name: "missing_tool", arguments: "{}", callID: "call_big")], usage: ModelUsage(inputTokens: 6_000, outputTokens: 10)),
                .response(
                    outputs: [.functionCall(name: "missing_tool", arguments: "{}", callID: "call_during")], usage: ModelUsage(inputTokens: 6_100, outputTokens: 10),
                    options: StepOptions(delayBeforeHeaders: .seconds(1))))
            h.model.enqueue(Self.summary("SUMMARY written blocking"), .message("Done."))
            let (session, recorder) = try await h.createSession(input: "Task", agent: ["model": "tiny-model", "compaction": ["async": true]])
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(20))
            #expect(try await h.turns(session.id).first?.status == .completed)
            let requests = h.model.requests()
            try #require(requests.count == 5)
            #expect(requests.filter { Self.inputTexts($0).last?.hasPrefix(Self.marker) == true }.count == 2)
            // The blocking summary came right before the last call, which starts from it.
            #expect(Self.inputTexts(requests[3]).last?.hasPrefix(Self.marker) == true)
            #expect(Self.inputTexts(requests[4]).contains { $0.contains("SUMMARY written blocking") })
        }
    }

    @Test func aRestartContinuesFromTheCompactedHistory() async throws {
        let model = try await ScriptedModelServer.start()
        let directory = try RuntimeHarness.makeDirectory()
        var harness = try await RuntimeHarness.start(model: model, directory: directory, modelCatalog: Self.catalog)
        model.enqueue(
            Self.summary("SUMMARY kept across restarts"),
            .response(outputs: [.functionCall(name: "missing_tool", arguments: "{}", callID: "call_1")], usage: ModelUsage(inputTokens: 6_000)),
            .message("first done"))
        let (session, recorder) = try await harness.createSession(input: "First", agent: ["model": "tiny-model"])
        try await recorder.wait(for: "agent.session.idle", timeout: .seconds(20))
        await harness.stop()

        harness = try await RuntimeHarness.start(model: model, directory: directory, modelCatalog: Self.catalog)
        model.enqueue(.message("second done"))
        try await harness.message(session.id, "Second")
        try await poll(timeout: .seconds(20), "the second turn") { model.requests().count == 4 }
        let texts = Self.inputTexts(model.requests()[3])
        #expect(texts.first == "First")
        #expect(texts.contains { $0.contains("SUMMARY kept across restarts") })
        #expect(!(model.requests()[3].body["input"]?.arrayValue?.contains { $0["call_id"]?.stringValue == "call_1" } ?? true))
        #expect(texts.last == "Second")
        await harness.stop()
        await model.shutdown()
    }
}
