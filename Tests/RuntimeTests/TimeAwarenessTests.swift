import AgentsAPI
import Foundation
import ModelProviders
@testable import Runtime
import Storage
import TestSupport
import Testing

@Suite("Time awareness")
struct TimeAwarenessTests {
    static let tool: JSONValue = ["type": "function", "name": "lookup", "description": "Looks things up", "parameters": ["type": "object", "properties": [:]]]
    static func notes(in value: JSONValue?) -> Int {
        let pattern = #/<current_time>(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC</current_time>/#
        return JSONWriter.string(value ?? .null).matches(of: pattern).count
    }

    /// The input item answering `callID`, or the last user message.
    static func input(_ request: RecordedRequest, callID: String? = nil) -> JSONValue? {
        let input = request.body["input"]?.arrayValue ?? []
        if let callID { return input.first { $0["type"]?.stringValue == "function_call_output" && $0["call_id"]?.stringValue == callID } }
        return input.last { $0["role"]?.stringValue == "user" }
    }

    @Test func notesFormatTheUTCTime() {
        #expect(TimeReminder.note(unixSeconds: 0) == "<current_time>Thursday, 1970-01-01 00:00 UTC</current_time>")
        #expect(TimeReminder.note(unixSeconds: 1_795_588_800) == "<current_time>Wednesday, 2026-11-25 06:40 UTC</current_time>")
        #expect(TimeReminder.note(unixSeconds: 951_868_740) == "<current_time>Tuesday, 2000-02-29 23:59 UTC</current_time>")
        #expect(TimeReminder.note(unixSeconds: -43_200) == "<current_time>Wednesday, 1969-12-31 12:00 UTC</current_time>")
    }

    @Test func eachTurnStartsWithTheTimeAndTheCachedPrefixHolds() async throws {
        let model = try await ScriptedModelServer.start()
        let directory = try RuntimeHarness.makeDirectory()
        var h = try await RuntimeHarness.start(model: model, directory: directory)
        model.enqueue(.response(outputs: [.functionCall(name: "lookup", arguments: "{}", callID: "call_1")]), .message("first done"))
        let (session, recorder) = try await h.createSession(input: "First", tools: [Self.tool], agent: ["experimental": ["time_awareness": true]])
        try await recorder.wait(for: "agent.session.requires_action", timeout: .seconds(20))
        let turnID = try #require(try await h.turns(session.id).first?.id)
        try await h.send(session.id, [.toolResult(turnID: turnID, callID: "call_1", success: true, output: .text("result"), error: nil)])
        try await recorder.wait(for: "agent.session.idle", timeout: .seconds(20))
        model.enqueue(.message("second done"))
        try await h.message(session.id, "Second")
        try await recorder.wait(for: "agent.session.idle", count: 2, timeout: .seconds(20))

        var requests = model.requests()
        try #require(requests.count == 3)
        // The instructions explain the notes; the turn's first user message carries one, a tool
        // result within the interval does not, and the next turn starts with a fresh one.
        #expect(requests[0].body["instructions"]?.stringValue?.contains("`<current_time>` notes") == true)
        #expect(Self.notes(in: Self.input(requests[0])) == 1)
        #expect(Self.notes(in: Self.input(requests[1], callID: "call_1")) == 0)
        #expect(Self.notes(in: requests[1].body["input"]) == 1)
        #expect(Self.notes(in: Self.input(requests[2])) == 1)
        #expect(Self.notes(in: requests[2].body["input"]) == 2)
        PromptCacheTests.expectEachInputIsAPrefixOfTheNext(PromptCacheTests.inputs(requests))
        // The items list shows what the user sent, without the note.
        let userMessages = try await h.items(session.id).compactMap { item -> MessageItem? in
            if case .message(let m) = item, m.role == .user { return m }
            return nil
        }
        #expect(userMessages.map(\.content) == [[.inputText("First")], [.inputText("Second")]])

        // A restart rebuilds the same bytes, notes included.
        await h.stop()
        h = try await RuntimeHarness.start(model: model, directory: directory)
        model.enqueue(.message("third done"))
        try await h.message(session.id, "Third")
        try await poll(timeout: .seconds(20), "the third turn") { model.requests().count == 4 }
        requests = model.requests()
        PromptCacheTests.expectEachInputIsAPrefixOfTheNext(PromptCacheTests.inputs(Array(requests.suffix(2))))
        #expect(Self.notes(in: requests[3].body["input"]) == 3)
        await h.stop()
        await model.shutdown()
        h.removeFiles()
    }

    @Test func longTurnsAreRemindedPeriodically() async throws {
        // With a zero interval every result that joins the history carries the time.
        try await withRuntime(timeReminderInterval: .zero) { h in
            h.model.enqueue(
                .response(outputs: [.functionCall(name: "lookup", arguments: "{}", callID: "call_1")]),
                .response(outputs: [.functionCall(name: "search_session_history", arguments: #"{"query":"First"}"#, callID: "call_2")]),
                .message("done"))
            let (session, recorder) = try await h.createSession(input: "First", tools: [Self.tool], agent: ["experimental": ["time_awareness": true]])
            try await recorder.wait(for: "agent.session.requires_action", timeout: .seconds(20))
            let turnID = try #require(try await h.turns(session.id).first?.id)
            try await h.send(session.id, [.toolResult(turnID: turnID, callID: "call_1", success: true, output: .text("result"), error: nil)])
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(20))
            let last = try #require(h.model.requests().last)
            #expect(Self.notes(in: Self.input(last, callID: "call_1")) == 1)
            #expect(Self.notes(in: Self.input(last, callID: "call_2")) == 1)
            PromptCacheTests.expectEachInputIsAPrefixOfTheNext(PromptCacheTests.inputs(h.model.requests()))
        }
    }

    @Test func withoutTheSettingThereAreNoNotes() async throws {
        try await withRuntime(timeReminderInterval: .zero) { h in
            h.model.enqueue(.response(outputs: [.functionCall(name: "lookup", arguments: "{}", callID: "call_1")]), .message("done"))
            let (session, recorder) = try await h.createSession(input: "First", tools: [Self.tool])
            try await recorder.wait(for: "agent.session.requires_action", timeout: .seconds(20))
            let turnID = try #require(try await h.turns(session.id).first?.id)
            try await h.send(session.id, [.toolResult(turnID: turnID, callID: "call_1", success: true, output: .text("result"), error: nil)])
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(20))
            #expect(h.model.requests().allSatisfy { Self.notes(in: $0.body["input"]) == 0 && $0.body["instructions"]?.stringValue?.contains("current_time") == false })
        }
    }
}
