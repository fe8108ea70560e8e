import AgentsAPI
import ModelProviders
import Runtime
import Storage
import TestSupport
import Testing

@Suite("Turn event order (contract §11.3)")
struct TurnTests {
    @Test func textTurnEmitsTheContractOrder() async throws {
        try await withRuntime { h in
            h.model.enqueue(.response(outputs: [.message(text: "Hello there, friend.")], options: StepOptions(chunkSize: 5)))
            let (session, recorder) = try await h.createSession(input: "Hi")
            try await recorder.wait(for: "agent.session.idle")

            #expect(
                collapsed(recorder.types) == [
                    "agent.session.created",
                    "agent.session.turn.created",
                    "agent.session.in_progress",
                    "agent.session.turn.in_progress",
                    "agent.session.turn.item.added",  // user message
                    "agent.session.turn.item.added",  // assistant message, in progress
                    "agent.session.turn.content_part.added",
                    "agent.session.turn.output_text.delta",
                    "agent.session.turn.output_text.done",
                    "agent.session.turn.content_part.done",
                    "agent.session.turn.item.done",
                    "agent.session.turn.completed",
                    "agent.session.idle",
                ])
            let events = recorder.all
            #expect(Set(events.map(\.eventID)).count == events.count)

            // Deltas concatenate to the final text; the final message is a completed final answer.
            let deltas = events.compactMap { e -> String? in
                if case .outputTextDelta(_, let d) = e.body { return d }
                return nil
            }
            #expect(deltas.count == 4)
            #expect(deltas.joined() == "Hello there, friend.")
            guard case .itemDone(_, .message(let message), let index) = try #require(events.first { $0.type == "agent.session.turn.item.done" }).body else {
                Issue.record("expected item.done for the assistant message")
                return
            }
            #expect(message.role == .assistant && message.status == .completed && message.phase == .finalAnswer)
            #expect(message.text == "Hello there, friend.")
            #expect(index == 0)

            // The user message carries no output index; the turn terminal event carries usage.
            guard case .itemAdded(_, .message(let user), nil) = events[4].body else {
                Issue.record("expected the user message item.added with a null output_index")
                return
            }
            #expect(user.role == .user && user.text == "Hi")
            guard case .turnCompleted(let turn) = try #require(events.first { $0.type == "agent.session.turn.completed" }).body else {
                Issue.record("expected turn.completed")
                return
            }
            #expect(turn.status == .completed && turn.usage != nil && turn.completedAt != nil)

            // Storage agrees with the stream.
            let stored = try await h.session(session.id)
            #expect(stored.status == .idle)
            #expect(stored.usage == turn.usage)
            let items = try await h.items(session.id)
            #expect(items.map(\.type) == ["message", "message"])
            #expect(items.compactMap(\.turnID) == [turn.id, turn.id])
            let turns = try await h.turns(session.id)
            #expect(turns.map(\.status) == [.completed])
        }
    }

    @Test func reasoningSummariesStreamAndAreSentBack() async throws {
        try await withRuntime { h in
            h.model.enqueue(
                .response(outputs: [
                    .reasoning(summary: ["Thinking about it.", "Second thought."], encryptedContent: "opaque-blob"),
                    .message(text: "Done."),
                ]))
            let (session, recorder) = try await h.createSession(input: "Reason please")
            try await recorder.wait(for: "agent.session.idle")
            #expect(
                collapsed(recorder.types).dropFirst(5).prefix(12) == [
                    "agent.session.turn.item.added",
                    "agent.session.turn.reasoning_summary_part.added",
                    "agent.session.turn.reasoning_summary_text.delta",
                    "agent.session.turn.reasoning_summary_text.done",
                    "agent.session.turn.reasoning_summary_part.done",
                    "agent.session.turn.reasoning_summary_part.added",
                    "agent.session.turn.reasoning_summary_text.delta",
                    "agent.session.turn.reasoning_summary_text.done",
                    "agent.session.turn.reasoning_summary_part.done",
                    "agent.session.turn.item.done",
                    "agent.session.turn.item.added",
                    "agent.session.turn.content_part.added",
                ])
            let done = recorder.all.compactMap { e -> ReasoningItem? in
                if case .itemDone(_, .reasoning(let r), _) = e.body { return r }
                return nil
            }
            #expect(done.first?.summary == ["Thinking about it.", "Second thought."])
            #expect(done.first?.status == .completed)

            // The next model request sends the reasoning item back with its encrypted content,
            // without the provider's item ID.
            h.model.enqueue(.message("Again."))
            try await h.message(session.id, "Next")
            try await recorder.wait(for: "agent.session.idle", count: 2)
            let second = try #require(h.model.requests().last)
            let reasoning = try #require(JSONValue.inputItems(second).first { $0["type"]?.stringValue == "reasoning" })
            #expect(reasoning["encrypted_content"] == "opaque-blob")
            #expect(reasoning["id"] == nil)
        }
    }

    @Test func clientFunctionCallRequiresActionThenResumes() async throws {
        try await withRuntime { h in
            h.model.enqueue(
                .response(outputs: [
                    .message(text: "Checking."),
                    .functionCall(name: "get_weather", arguments: #"{"city":"Paris"}"#, callID: "call_w1"),
                ]),
                .message("It is sunny."))
            let (session, recorder) = try await h.createSession(input: "Weather?", tools: [functionTool("get_weather")])
            try await recorder.wait(for: "agent.session.requires_action")

            let events = recorder.all
            // The call is complete when first announced (the SDK dispatches on item.added).
            let added = try #require(
                events.compactMap { e -> FunctionCallItem? in
                    if case .itemAdded(_, .functionCall(let f), _) = e.body { return f }
                    return nil
                }.first)
            #expect(added.name == "get_weather" && added.callID == "call_w1" && added.arguments == .string(#"{"city":"Paris"}"#))
            // The message before the call is commentary.
            let commentary = events.compactMap { e -> MessageItem? in
                if case .itemDone(_, .message(let m), _) = e.body { return m }
                return nil
            }
            #expect(commentary.map(\.phase) == [.commentary])
            guard case .sessionRequiresAction(let snapshot) = try #require(events.last).body else {
                Issue.record("expected requires_action last")
                return
            }
            #expect(snapshot.status == .requiresAction)
            #expect(snapshot.requiredActions == [.functionCall(callID: "call_w1", name: "get_weather", arguments: .string(#"{"city":"Paris"}"#), turnID: added.turnID)])
            let waiting = try await h.turns(session.id)
            #expect(waiting.map(\.status) == [.waiting])

            try await h.send(session.id, [.toolResult(turnID: added.turnID, callID: "call_w1", success: true, output: .text("sunny, 21C"), error: nil)])
            try await recorder.wait(for: "agent.session.idle")
            let after = Array(collapsed(recorder.types).drop { $0 != "agent.session.requires_action" })
            #expect(
                after == [
                    "agent.session.requires_action",
                    "agent.session.turn.item.added",  // function_call_output
                    "agent.session.in_progress",
                    "agent.session.turn.item.added",
                    "agent.session.turn.content_part.added",
                    "agent.session.turn.output_text.delta",
                    "agent.session.turn.output_text.done",
                    "agent.session.turn.content_part.done",
                    "agent.session.turn.item.done",
                    "agent.session.turn.completed",
                    "agent.session.idle",
                ])

            // The second model request carries the call and its output, paired.
            let requests = h.model.requests()
            #expect(requests.count == 2)
            let input = JSONValue.inputItems(requests[1])
            let call = try #require(input.first { $0["type"] == "function_call" })
            #expect(call["call_id"] == "call_w1" && call["id"] == nil)
            let output = try #require(input.first { $0["type"] == "function_call_output" })
            #expect(output["call_id"] == "call_w1" && output["output"] == "sunny, 21C")
            #expect(try await h.items(session.id).map(\.type) == ["message", "message", "function_call", "function_call_output", "message"])
            let final = try await h.session(session.id)
            #expect(final.status == .idle && final.requiredActions.isEmpty)
        }
    }

    @Test func unknownPendingToolCallsAreRejectedWithoutSideEffects() async throws {
        try await withRuntime { h in
            h.model.enqueue(.response(outputs: [.functionCall(name: "f", arguments: "{}", callID: "call_1")]), .message("ok"))
            let (session, recorder) = try await h.createSession(input: "go", tools: [functionTool("f")])
            try await recorder.wait(for: "agent.session.requires_action")
            let turnID = try #require(try await h.turns(session.id).first?.id)

            for (turn, call) in [(turnID, "call_nope"), ("turn_other", "call_1")] {
                await #expect(throws: RuntimeError.unknownPendingToolCall(callID: call)) {
                    try await h.send(session.id, [.toolResult(turnID: turn, callID: call, success: true, output: .text("x"), error: nil)])
                }
            }
            // A batch with one bad result applies nothing.
            await #expect(throws: RuntimeError.unknownPendingToolCall(callID: "call_bad")) {
                try await h.send(
                    session.id,
                    [
                        .toolResult(turnID: turnID, callID: "call_1", success: true, output: .text("x"), error: nil),
                        .toolResult(turnID: turnID, callID: "call_bad", success: true, output: .text("x"), error: nil),
                    ])
            }
            #expect(try await h.session(session.id).status == .requiresAction)
            #expect(try await h.items(session.id).map(\.type) == ["message", "function_call"])

            try await h.send(session.id, [.toolResult(turnID: turnID, callID: "call_1", success: false, output: nil, error: "boom")])
            try await recorder.wait(for: "agent.session.idle")
            // Answered once; a second answer is unknown.
            await #expect(throws: RuntimeError.unknownPendingToolCall(callID: "call_1")) {
                try await h.send(session.id, [.toolResult(turnID: turnID, callID: "call_1", success: true, output: .text("x"), error: nil)])
            }
            let output = try #require(h.model.requests().last.flatMap { JSONValue.inputItems($0).first { $0["type"] == "function_call_output" } })
            #expect(output["output"]?.stringValue?.contains("boom") == true)
        }
    }

    @Test func modelErrorsFailTheTurnWithTheContractCode() async throws {
        try await withRuntime { h in
            h.model.enqueue(.httpError(status: 401))
            let (session, recorder) = try await h.createSession(input: "x")
            try await recorder.wait(for: "agent.session.idle")
            #expect(
                recorder.types.suffix(3) == ["error", "agent.session.turn.failed", "agent.session.idle"])
            guard case .turnFailed(let turn) = recorder.all[recorder.all.count - 2].body else {
                Issue.record("expected turn.failed")
                return
            }
            #expect(turn.status == .failed && turn.error?.code == .authenticationError)
            #expect(h.model.requests().count == 1)  // 401 is not retried

            // A stream error after headers, and the session still takes later turns.
            h.model.enqueue(.streamError(code: "server_error", message: "boom"))
            try await h.message(session.id, "again")
            try await recorder.wait(for: "agent.session.idle", count: 2)
            let failed = try await h.turns(session.id).last
            #expect(failed?.error?.code == .serverError)

            h.model.enqueue(.response(outputs: [.message(text: "partial")], options: StepOptions(fail: (code: "context_length_exceeded", message: "too long"))))
            try await h.message(session.id, "third")
            try await recorder.wait(for: "agent.session.idle", count: 3)
            #expect(try await h.turns(session.id).last?.error?.code == .contextLengthExceeded)

            h.model.enqueue(.message("fine"))
            try await h.message(session.id, "fourth")
            try await recorder.wait(for: "agent.session.idle", count: 4)
            #expect(try await h.turns(session.id).map(\.status) == [.failed, .failed, .failed, .completed])
            #expect(try await h.session(session.id).status == .idle)
        }
    }

    @Test func transientErrorsAreRetriedWithinTheBudget() async throws {
        try await withRuntime { h in
            // maxRetries is 2 in the harness: 429 then 500 then success completes the turn.
            h.model.enqueue(.httpError(status: 429, headers: ["retry-after": "0"]), .httpError(status: 500), .message("made it"))
            let (session, recorder) = try await h.createSession(input: "x")
            try await recorder.wait(for: "agent.session.idle")
            #expect(h.model.requests().count == 3)
            #expect(try await h.turns(session.id).map(\.status) == [.completed])
            #expect(!recorder.types.contains("error"))

            // Three 500s exhaust it: the turn fails with server_error after exactly three attempts.
            h.model.enqueue(.httpError(status: 500), .httpError(status: 500), .httpError(status: 500), .message("unused"))
            try await h.message(session.id, "y")
            try await recorder.wait(for: "agent.session.idle", count: 2)
            #expect(h.model.requests().count == 6)
            #expect(try await h.turns(session.id).last?.error?.code == .serverError)

            // 429s that outlast the budget fail with rate_limit_exceeded.
            h.model.reset()
            h.model.enqueue(.httpError(status: 429), .httpError(status: 429), .httpError(status: 429))
            try await h.message(session.id, "z")
            try await recorder.wait(for: "agent.session.idle", count: 3)
            #expect(try await h.turns(session.id).last?.error?.code == .rateLimitExceeded)
        }
    }

    @Test func aCallToAnUnknownToolIsAnsweredAndTheLoopContinues() async throws {
        try await withRuntime { h in
            h.model.enqueue(.response(outputs: [.functionCall(name: "not_a_tool", arguments: "{}", callID: "call_x")]), .message("recovered"))
            let (session, recorder) = try await h.createSession(input: "x", tools: [functionTool("real_tool")])
            try await recorder.wait(for: "agent.session.idle")
            #expect(!recorder.types.contains("agent.session.requires_action"))
            let items = try await h.items(session.id)
            #expect(items.map(\.type) == ["message", "function_call", "function_call_output", "message"])
            guard case .functionCallOutput(let output) = items[2] else { return }
            #expect(output.status == .failed && output.error?.contains("not_a_tool") == true)
            #expect(try await h.turns(session.id).map(\.status) == [.completed])
        }
    }

    @Test func usageAddsUpPerTurnAndPerSession() async throws {
        try await withRuntime { h in
            h.model.enqueue(
                .response(
                    outputs: [.functionCall(name: "not_a_tool", arguments: "{}")],
                    usage: ModelUsage(inputTokens: 100, cachedTokens: 10, outputTokens: 5, reasoningTokens: 2)),
                .response(outputs: [.message(text: "a")], usage: ModelUsage(inputTokens: 120, cachedTokens: 100, outputTokens: 7, reasoningTokens: 0)),
                .response(outputs: [.message(text: "b")], usage: ModelUsage(inputTokens: 200, cachedTokens: 150, outputTokens: 3, reasoningTokens: 1)))
            let (session, recorder) = try await h.createSession(input: "x")
            try await recorder.wait(for: "agent.session.idle")
            try await h.message(session.id, "y")
            try await recorder.wait(for: "agent.session.idle", count: 2)
            let turns = try await h.turns(session.id)
            #expect(turns[0].usage == TokenUsage(inputTokens: 220, cachedTokens: 110, outputTokens: 12, reasoningTokens: 2))
            #expect(turns[1].usage == TokenUsage(inputTokens: 200, cachedTokens: 150, outputTokens: 3, reasoningTokens: 1))
            #expect(try await h.session(session.id).usage == TokenUsage(inputTokens: 420, cachedTokens: 260, outputTokens: 15, reasoningTokens: 3))
        }
    }

    @Test func requestsAreCacheFriendly() async throws {
        try await withRuntime { h in
            h.model.enqueue(
                .response(outputs: [.reasoning(summary: ["r"], encryptedContent: "enc"), .functionCall(name: "f", arguments: #"{"a":1}"#, callID: "c1")]),
                .message("one"),
                .message("two"))
            let (session, recorder) = try await h.createSession(
                input: "start", tools: [functionTool("f")], agent: ["instructions": "Be brief.", "reasoning": ["effort": "low"]])
            try await recorder.wait(for: "agent.session.requires_action")
            let turnID = try #require(try await h.turns(session.id).first?.id)
            try await h.send(session.id, [.toolResult(turnID: turnID, callID: "c1", success: true, output: .text("r1"), error: nil)])
            try await recorder.wait(for: "agent.session.idle")
            try await h.message(session.id, "more")
            try await recorder.wait(for: "agent.session.idle", count: 2)

            let requests = h.model.requests()
            #expect(requests.count == 3)
            for r in requests {
                #expect(r.body["prompt_cache_key"] == .string(session.id))
                #expect(r.body["store"] == false && r.body["stream"] == true)
                #expect(r.body["instructions"]?.stringValue?.hasSuffix("Be brief.") == true)
                // The client's function, then the runtime's history search.
                #expect(r.body["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["f", "search_session_history"])
                #expect(r.body["reasoning"]?["effort"] == "low")
                #expect(r.body["include"] == ["reasoning.encrypted_content"])
            }
            // Each request's input is a byte prefix of the next one's.
            for (a, b) in zip(requests, requests.dropFirst()) {
                let previous = JSONWriter.bytes(.array(JSONValue.inputItems(a)))
                let next = JSONWriter.bytes(.array(JSONValue.inputItems(b)))
                #expect(next.starts(with: previous.dropLast()))
                #expect(next.count > previous.count)
            }
        }
    }
}
