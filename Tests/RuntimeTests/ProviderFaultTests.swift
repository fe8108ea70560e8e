import AgentsAPI
import ModelProviders
import Runtime
import Storage
import TestSupport
import Testing

/// Model-provider faults at the turn level: bounded retries, then a turn failure with the right
/// code; a partially streamed response never reaches the model again and never completes twice.
@Suite("Model provider faults")
struct ProviderFaultTests {
    static func assistantMessages(_ items: [SessionItem]) -> [MessageItem] {
        items.compactMap { item in
            if case .message(let m) = item, m.role == .assistant { return m }
            return nil
        }
    }

    @Test func aConnectionResetMidStreamIsSentAgain() async throws {
        try await withRuntime { h in
            h.model.enqueue(
                .response(outputs: [.message(text: "a partial answer that breaks")], options: StepOptions(chunkSize: 3, disconnectAfterEvents: 7)),
                .message("the whole answer"))
            let (session, recorder) = try await h.createSession(input: "question")
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(20))
            #expect(try await h.turns(session.id).first?.status == .completed)
            let requests = h.model.requests()
            try #require(requests.count == 2)
            // The same request again: the partial output was not added to the history.
            #expect(JSONWriter.string(requests[0].body["input"] ?? .null) == JSONWriter.string(requests[1].body["input"] ?? .null))
            // The partial message (if it arrived before the reset) ends incomplete; one answer
            // completes.
            let messages = Self.assistantMessages(try await h.items(session.id))
            #expect(messages.dropLast().allSatisfy { $0.status == .incomplete } && messages.count <= 2)
            #expect(messages.last?.status == .completed && messages.last?.text == "the whole answer" && messages.last?.phase == .finalAnswer)
        }
    }

    @Test func aStalledStreamTimesOutAndIsSentAgain() async throws {
        try await withRuntime(readTimeout: .milliseconds(600)) { h in
            h.model.enqueue(.response(outputs: [.message(text: "stalls halfway")], options: StepOptions(chunkSize: 3, stallAfterEvents: 6)), .message("recovered"))
            let (session, recorder) = try await h.createSession(input: "question")
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(20))
            #expect(try await h.turns(session.id).first?.status == .completed)
            #expect(h.model.requests().count == 2)
            #expect(Self.assistantMessages(try await h.items(session.id)).map(\.status) == [.incomplete, .completed])
        }
    }

    @Test func aStreamThatKeepsBreakingFailsTheTurnAfterTwoRetries() async throws {
        try await withRuntime { h in
            for _ in 0..<3 {
                h.model.enqueue(.response(outputs: [.message(text: "breaks every time")], options: StepOptions(chunkSize: 3, disconnectAfterEvents: 6)))
            }
            h.model.enqueue(.message("never reached"))
            let (session, recorder) = try await h.createSession(input: "question")
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(20))
            let turn = try #require(try await h.turns(session.id).first)
            #expect(turn.status == .failed && turn.error?.code == .connectionFailed)
            #expect(h.model.requests().count == 3)
            #expect(Self.assistantMessages(try await h.items(session.id)).allSatisfy { $0.status == .incomplete })
        }
    }

    @Test func aStalledStreamThatNeverRecoversFailsWithRequestTimeout() async throws {
        try await withRuntime(readTimeout: .milliseconds(400)) { h in
            for _ in 0..<3 {
                h.model.enqueue(.response(outputs: [.message(text: "stalls")], options: StepOptions(chunkSize: 2, stallAfterEvents: 5)))
            }
            let (session, recorder) = try await h.createSession(input: "question")
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(30))
            let turn = try #require(try await h.turns(session.id).first)
            #expect(turn.status == .failed && turn.error?.code == .requestTimeout)
            #expect(h.model.requests().count == 3)
        }
    }

    @Test func aRefusedConnectionFailsTheTurnWithConnectionFailed() async throws {
        // Port 1 on loopback: nothing listens, every connection is refused.
        try await withRuntime(modelBaseURL: "http://127.0.0.1:1/v1") { h in
            let (session, recorder) = try await h.createSession(input: "question")
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(30))
            let turn = try #require(try await h.turns(session.id).first)
            #expect(turn.status == .failed && turn.error?.code == .connectionFailed)
            #expect(Self.assistantMessages(try await h.items(session.id)).isEmpty)
        }
    }

    @Test func aResponseThatBreaksAfterAToolCallIsNotSentAgain() async throws {
        // The call is complete and in the history: asking again would lose it, so the turn
        // fails instead (a restart waits for the call's result in the same situation).
        // A stall (not a reset, whose RST may discard data the client has not read yet) makes
        // sure the call arrived whole before the stream broke.
        try await withRuntime(readTimeout: .milliseconds(500)) { h in
            h.model.enqueue(
                .response(
                    outputs: [.functionCall(name: "lookup", arguments: "{}", callID: "call_1"), .message(text: "and then it breaks")],
                    options: StepOptions(chunkSize: 2, stallAfterEvents: 9)))
            let tool: JSONValue = ["type": "function", "name": "lookup", "description": "Looks up", "parameters": ["type": "object", "properties": [:]]]
            let (session, recorder) = try await h.createSession(input: "question", tools: [tool])
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(20))
            #expect(h.model.requests().count == 1)
            let turn = try #require(try await h.turns(session.id).first)
            #expect(turn.status == .failed && turn.error?.code == .requestTimeout)
        }
    }
}
