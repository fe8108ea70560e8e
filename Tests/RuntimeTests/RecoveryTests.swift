import AgentsAPI
import Foundation
import ModelProviders
import Runtime
import Storage
import TestSupport
import Testing

@Suite("Restart and recovery")
struct RecoveryTests {
    @Test func aTurnInterruptedByShutdownResumesOnRestart() async throws {
        let model = try await ScriptedModelServer.start()
        defer { Task { await model.shutdown() } }
        // The first response stalls mid-stream; the runtime is stopped while it waits.
        model.enqueue(
            .response(outputs: [.message(text: "never finished")], options: StepOptions(chunkSize: 3, stallAfterEvents: 6)),
            .message("finished after restart"))
        let first = try await RuntimeHarness.start(model: model)
        let (session, recorder) = try await first.createSession(input: "long job")
        try await recorder.wait(for: "agent.session.turn.output_text.delta")
        await first.stop()
        #expect(try await model.waitForRequests(count: 1).count == 1)

        let second = try await RuntimeHarness.start(model: model, directory: first.directory)
        defer { second.removeFiles() }
        // The interrupted request is re-issued and the turn completes.
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(10)
        while try await second.turns(session.id).first?.status != .completed {
            guard clock.now < deadline else {
                Issue.record("the turn did not complete after restart")
                break
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(model.requests().count == 2)
        let items = try await second.items(session.id)
        let assistant = items.compactMap { item -> MessageItem? in
            if case .message(let m) = item, m.role == .assistant { return m }
            return nil
        }
        #expect(assistant.map(\.status) == [.incomplete, .completed])
        #expect(assistant.last?.text == "finished after restart")
        // The log closes the interrupted message for streams: an item.done saying incomplete.
        let log = try await second.store.events(sessionID: session.id, afterSequence: 0, limit: 1000)
        let done = log.filter { $0.type == "agent.session.turn.item.done" }.compactMap { try? JSONParser.parse($0.json) }
        let interruptedID = try #require(assistant.first?.id)
        #expect(done.contains { $0["item"]?["id"]?.stringValue == interruptedID && $0["item"]?["status"] == "incomplete" && $0["output_index"] == 0 })
        // The re-issued request did not include the partial answer.
        let input = JSONValue.inputItems(model.requests()[1])
        #expect(input.count == 1 && input[0]["role"] == "user")
        #expect(try await second.session(session.id).status == .idle)
        await second.stop()
    }

    @Test func aTurnInterruptedBeforeAnythingStreamedResumesOnRestart() async throws {
        // Nothing of the response had arrived, so nothing is marked incomplete at restart: the
        // resumed turn still has to call the model again.
        let model = try await ScriptedModelServer.start()
        defer { Task { await model.shutdown() } }
        model.enqueue(
            .response(outputs: [.message(text: "too late")], options: StepOptions(delayBeforeHeaders: .seconds(5))),
            .message("finished after restart"))
        let first = try await RuntimeHarness.start(model: model)
        let (session, recorder) = try await first.createSession(input: "long job")
        try await recorder.wait(for: "agent.session.turn.in_progress")
        _ = try await model.waitForRequests(count: 1)
        await first.stop()

        let second = try await RuntimeHarness.start(model: model, directory: first.directory)
        defer { second.removeFiles() }
        try await poll(timeout: .seconds(10), "the turn to complete after restart") {
            try await second.turns(session.id).first?.status == .completed
        }
        #expect(try await second.session(session.id).status == .idle)
        await second.stop()
    }

    @Test func aGracefulShutdownLetsTheRunningModelCallFinishAndRefusesNewInput() async throws {
        let model = try await ScriptedModelServer.start()
        defer { Task { await model.shutdown() } }
        // About a second of streaming: the shutdown starts in the middle of it.
        model.enqueue(.response(outputs: [.message(text: String(repeating: "slow ", count: 20))], options: StepOptions(chunkSize: 5, delayBetweenEvents: .milliseconds(40))))
        let h = try await RuntimeHarness.start(model: model, shutdownGrace: .seconds(20))
        let (session, recorder) = try await h.createSession(input: "slow job")
        try await recorder.wait(for: "agent.session.turn.output_text.delta")
        h.runtime.shutdown()
        // New input is refused while the running call finishes...
        await #expect(throws: RuntimeError.unavailable("The server is shutting down. Retry shortly; nothing was changed.")) {
            try await h.message(session.id, "more")
        }
        await h.stop()
        #expect(recorder.types.contains("agent.session.turn.completed"))
        // ...and it did finish: the answer is complete and the turn ended normally.
        let after = try await RuntimeHarness.start(model: model, directory: h.directory)
        defer { after.removeFiles() }
        let messages = try await after.items(session.id).compactMap { item -> MessageItem? in
            if case .message(let m) = item, m.role == .assistant { return m }
            return nil
        }
        #expect(messages.map(\.status) == [.completed])
        #expect(try await after.turns(session.id).first?.status == .completed)
        #expect(try await after.session(session.id).status == .idle)
        await after.stop()
    }

    @Test func aSessionWaitingForToolResultsKeepsWaitingAcrossRestart() async throws {
        let model = try await ScriptedModelServer.start()
        defer { Task { await model.shutdown() } }
        model.enqueue(.response(outputs: [.functionCall(name: "f", arguments: #"{"n":1}"#, callID: "c1")]), .message("done"))
        let first = try await RuntimeHarness.start(model: model)
        let (session, recorder) = try await first.createSession(input: "go", tools: [functionTool("f")])
        try await recorder.wait(for: "agent.session.requires_action")
        let before = try await first.session(session.id)
        await first.stop()

        let second = try await RuntimeHarness.start(model: model, directory: first.directory)
        defer { second.removeFiles() }
        let after = try await second.session(session.id)
        #expect(after == before)
        #expect(after.status == .requiresAction && after.requiredActions.count == 1)
        let turnID = try #require(try await second.turns(session.id).first?.id)
        let recorder2 = EventRecorder(second.runtime.subscribe(sessionID: session.id))
        try await second.send(session.id, [.toolResult(turnID: turnID, callID: "c1", success: true, output: .text("42"), error: nil)])
        try await recorder2.wait(for: "agent.session.idle")
        #expect(try await second.turns(session.id).map(\.status) == [.completed])
        #expect(model.requests().count == 2)
        await second.stop()
    }

    @Test func callsProducedBeforeAnInterruptionWaitForResultsAfterRestart() async throws {
        let model = try await ScriptedModelServer.start()
        defer { Task { await model.shutdown() } }
        // The response stalls right after its function call item is complete.
        model.enqueue(
            .response(outputs: [.functionCall(name: "f", arguments: "{}", callID: "c9")], options: StepOptions(stallAfterEvents: 6)),
            .message("used the result"))
        let first = try await RuntimeHarness.start(model: model)
        let (session, recorder) = try await first.createSession(input: "go", tools: [functionTool("f")])
        try await recorder.wait(for: "agent.session.turn.item.done")
        await first.stop()

        let second = try await RuntimeHarness.start(model: model, directory: first.directory)
        defer { second.removeFiles() }
        // Re-asking the model would send a call without its output: the turn waits instead.
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(10)
        while try await second.session(session.id).status != .requiresAction, clock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        let waiting = try await second.session(session.id)
        #expect(waiting.status == .requiresAction)
        #expect(waiting.requiredActions.count == 1)
        #expect(model.requests().count == 1)
        let turnID = try #require(try await second.turns(session.id).first?.id)
        let recorder2 = EventRecorder(second.runtime.subscribe(sessionID: session.id))
        try await second.send(session.id, [.toolResult(turnID: turnID, callID: "c9", success: true, output: .text("r"), error: nil)])
        try await recorder2.wait(for: "agent.session.idle")
        #expect(try await second.turns(session.id).map(\.status) == [.completed])
        let input = JSONValue.inputItems(try #require(model.requests().last))
        #expect(input.map { $0["type"] } == ["message", "function_call", "function_call_output"])
        await second.stop()
    }

    @Test func everythingSurvivesARestart() async throws {
        let model = try await ScriptedModelServer.start(fallback: .echo)
        defer { Task { await model.shutdown() } }
        let first = try await RuntimeHarness.start(model: model)
        let (session, recorder) = try await first.createSession(input: "remember me", metadata: ["k": "v"])
        try await recorder.wait(for: "agent.session.idle")
        let items = try await first.items(session.id)
        let turns = try await first.turns(session.id)
        let events = try await first.store.events(sessionID: session.id, afterSequence: 0, limit: 1000)
        let stored = try await first.session(session.id)
        await first.stop()

        let second = try await RuntimeHarness.start(model: model, directory: first.directory)
        defer { second.removeFiles() }
        #expect(try await second.session(session.id) == stored)
        #expect(try await second.items(session.id) == items)
        #expect(try await second.turns(session.id) == turns)
        #expect(try await second.store.events(sessionID: session.id, afterSequence: 0, limit: 1000) == events)
        #expect(events.map(\.sequence) == Array(1...Int64(events.count)))
        // And it keeps going.
        let recorder2 = EventRecorder(second.runtime.subscribe(sessionID: session.id))
        try await second.message(session.id, "still there?")
        try await recorder2.wait(for: "agent.session.idle")
        #expect(try await second.turns(session.id).count == 2)
        await second.stop()
    }
}
