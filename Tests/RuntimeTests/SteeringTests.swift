import AgentsAPI
import ModelProviders
import Runtime
import Storage
import TestSupport
import Testing

@Suite("Steering, queueing and cancel")
struct SteeringTests {
    /// A slow response: `text` streamed one character per event with a pause between events.
    static func slow(_ text: String, delay: Duration = .milliseconds(20)) -> ScriptStep {
        .response(outputs: [.message(text: text)], options: StepOptions(chunkSize: 1, delayBetweenEvents: delay))
    }

    @Test func aMessageDuringToolWaitSteersTheSameTurn() async throws {
        try await withRuntime { h in
            h.model.enqueue(.response(outputs: [.functionCall(name: "f", arguments: "{}", callID: "c1")]), .message("answered both"))
            let (session, recorder) = try await h.createSession(input: "first", tools: [functionTool("f")])
            try await recorder.wait(for: "agent.session.requires_action")
            try await h.message(session.id, "also consider this")
            // Nothing reaches the model until the tool result arrives.
            #expect(h.model.requests().count == 1)
            let turnID = try #require(try await h.turns(session.id).first?.id)
            try await h.send(session.id, [.toolResult(turnID: turnID, callID: "c1", success: true, output: .text("ok"), error: nil)])
            try await recorder.wait(for: "agent.session.idle")

            let turns = try await h.turns(session.id)
            #expect(turns.count == 1)
            let items = try await h.items(session.id)
            #expect(items.map(\.type) == ["message", "function_call", "function_call_output", "message", "message"])
            guard case .message(let steer) = items[3] else { return }
            #expect(steer.role == .user && steer.text == "also consider this" && steer.turnID == turnID)
            // The steer reached the second model call, after the tool output.
            let input = JSONValue.inputItems(try #require(h.model.requests().last))
            #expect(input.suffix(2).map { $0["type"] } == ["function_call_output", "message"])
            #expect(input.last?["role"] == "user")
        }
    }

    @Test func aMessageDuringTheFinalResponseIsAnsweredInTheSameTurn() async throws {
        try await withRuntime { h in
            h.model.enqueue(Self.slow("a slow final answer"), .message("and the follow-up", match: .contains("follow-up question")))
            let (session, recorder) = try await h.createSession(input: "question")
            try await recorder.wait(for: "agent.session.turn.output_text.delta")
            try await h.message(session.id, "follow-up question")
            try await recorder.wait(for: "agent.session.idle")

            let turns = try await h.turns(session.id)
            #expect(turns.map(\.status) == [.completed])
            #expect(h.model.requests().count == 2)
            let items = try await h.items(session.id)
            #expect(items.map(\.type) == ["message", "message", "message", "message"])
            #expect(items.compactMap(\.turnID).allSatisfy { $0 == turns[0].id })
            // Both assistant messages were final answers of the one turn.
            let finals = recorder.all.compactMap { e -> MessageItem? in
                if case .itemDone(_, .message(let m), _) = e.body { return m }
                return nil
            }
            #expect(finals.map(\.text) == ["a slow final answer", "and the follow-up"])
        }
    }

    @Test func cancelStopsTheModelRequestPromptly() async throws {
        try await withRuntime { h in
            h.model.enqueue(Self.slow(String(repeating: "x", count: 2000), delay: .milliseconds(10)))
            let (session, recorder) = try await h.createSession(input: "long task")
            try await recorder.wait(for: "agent.session.turn.output_text.delta", count: 3)
            try await h.send(session.id, [.cancel])
            // Well under the 20 s the scripted response would take.
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(5))
            try await h.model.waitForClientDisconnects(count: 1, timeout: .seconds(5))

            #expect(recorder.types.suffix(3) == ["agent.session.turn.item.done", "agent.session.turn.cancelled", "agent.session.idle"])
            let items = try await h.items(session.id)
            guard case .message(let partial) = try #require(items.last) else { return }
            #expect(partial.status == .incomplete && !partial.text.isEmpty && partial.text.count < 2000)
            let turns = try await h.turns(session.id)
            #expect(turns.map(\.status) == [.cancelled])

            // The session takes a new turn, and the cancelled partial answer is not sent back.
            h.model.enqueue(.message("fresh"))
            try await h.message(session.id, "again")
            try await recorder.wait(for: "agent.session.idle", count: 2)
            let input = JSONValue.inputItems(try #require(h.model.requests().last))
            #expect(input.map { $0["role"] } == ["user", "user"])
        }
    }

    @Test func cancelWhileWaitingForToolResultsClosesTheCalls() async throws {
        try await withRuntime { h in
            h.model.enqueue(.response(outputs: [.functionCall(name: "f", arguments: "{}", callID: "c1"), .functionCall(name: "f", arguments: "{}", callID: "c2")]))
            let (session, recorder) = try await h.createSession(input: "go", tools: [functionTool("f")])
            try await recorder.wait(for: "agent.session.requires_action")
            let turnID = try #require(try await h.turns(session.id).first?.id)
            try await h.send(session.id, [.toolResult(turnID: turnID, callID: "c1", success: true, output: .text("one"), error: nil)])
            try await h.send(session.id, [.cancel])
            try await recorder.wait(for: "agent.session.idle")

            #expect(try await h.turns(session.id).map(\.status) == [.cancelled])
            let outputs = try await h.items(session.id).compactMap { item -> FunctionCallOutputItem? in
                if case .functionCallOutput(let o) = item { return o }
                return nil
            }
            #expect(outputs.map(\.callID) == ["c1", "c2"])
            #expect(outputs.map(\.status) == [.completed, .incomplete])
            let session2 = try await h.session(session.id)
            #expect(session2.status == .idle && session2.requiredActions.isEmpty)
            // Cancel on an idle session is accepted and changes nothing.
            try await h.send(session.id, [.cancel])
            #expect(try await h.turns(session.id).count == 1)
        }
    }

    @Test func messagesAfterCancelQueueInOrder() async throws {
        try await withRuntime { h in
            h.model.enqueue(
                Self.slow(String(repeating: "y", count: 1000), delay: .milliseconds(10)),
                .message("answer A", match: .contains("task A")),
                .message("answer B", match: .contains("task B")))
            let (session, recorder) = try await h.createSession(input: "first")
            try await recorder.wait(for: "agent.session.turn.output_text.delta")
            // Cancel the running turn; the two messages become two queued turns, run in order.
            try await h.send(session.id, [.cancel, .message([InputMessage(text: "task A")]), .message([InputMessage(text: "task B")])])
            try await recorder.wait(timeout: .seconds(10), "three turns to end") { events in
                events.filter { $0.type == "agent.session.turn.completed" }.count == 2
            }
            try await recorder.wait(for: "agent.session.idle", count: 3)

            let turns = try await h.turns(session.id)
            #expect(turns.map(\.status) == [.cancelled, .completed, .completed])
            let created = recorder.all.compactMap { e -> Turn? in
                if case .turnCreated(let t) = e.body { return t }
                return nil
            }
            #expect(created.map(\.status) == [.queued, .queued, .queued])
            #expect(created.map(\.id) == turns.map(\.id))
            // FIFO: A's turn ran before B's, and each saw its own message.
            let finals = recorder.all.compactMap { e -> MessageItem? in
                if case .itemDone(_, .message(let m), _) = e.body, m.status == .completed { return m }
                return nil
            }
            #expect(finals.map(\.text) == ["answer A", "answer B"])
            #expect(finals.map(\.turnID) == [turns[1].id, turns[2].id])
        }
    }

    /// A cancel that lands while the turn is starting still ends with the session idle in storage.
    /// (The HTTP-timed version of this race is `conformance/test_cancel.py`.)
    @Test func anEarlyCancelAlwaysLeavesTheSessionIdle() async throws {
        try await withRuntime { h in
            h.model.setFallback(.echo)
            let (session, recorder) = try await h.createSession(input: "start")
            try await recorder.wait(for: "agent.session.idle")
            for attempt in 1...40 {
                h.model.enqueue(Self.slow("abcdefghij", delay: .milliseconds(5)))
                try await h.message(session.id, "attempt \(attempt)")
                // Vary the gap so the cancel lands at different points of the turn's start.
                try await Task.sleep(for: .microseconds(attempt % 10 * 300))
                try await h.send(session.id, [.cancel])
                try await recorder.wait(for: "agent.session.idle", count: attempt + 1)
                let turns = try await h.turns(session.id)
                #expect(turns.last?.status.isTerminal == true)
                let stored = try await h.session(session.id)
                #expect(stored.status == .idle, "attempt \(attempt)")
                if stored.status != .idle { break }
            }
        }
    }

    @Test func idempotencyKeysReplayWithoutDuplicatingInput() async throws {
        try await withRuntime { h in
            h.model.setFallback(.echo)
            let (session, recorder) = try await h.createSession(input: "one")
            try await recorder.wait(for: "agent.session.idle")
            let message = SessionInput.message([InputMessage(text: "two")])
            try await h.send(session.id, [message], key: "key-1")
            try await h.send(session.id, [message], key: "key-1")
            try await recorder.wait(for: "agent.session.idle", count: 2)
            // Same key, different body: rejected, nothing applied.
            await #expect(throws: RuntimeError.self) {
                try await h.send(session.id, [.message([InputMessage(text: "three")])], key: "key-1")
            }
            #expect(try await h.turns(session.id).count == 2)
            let userTexts = try await h.items(session.id).compactMap { item -> String? in
                if case .message(let m) = item, m.role == .user { return m.text }
                return nil
            }
            #expect(userTexts == ["one", "two"])
        }
    }
}
