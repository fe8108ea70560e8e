import AgentsAPI
import Foundation
import Storage
import Testing

@Suite("SQLiteStore: restart")
struct PersistenceTests {
    @Test func everythingSurvivesCloseAndReopen() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("cma.sqlite").path

            // MARK: write
            let store = try SQLiteStore(path: path)
            let projectID = try await store.createProject(name: "main")
            let key = APIKeys.generate()
            _ = try await store.addAPIKey(projectID: projectID, keyHash: APIKeys.hash(key), prefix: APIKeys.displayPrefix(key))

            var agents: [Agent] = []
            for i in 0..<3 {
                var agent = Make.agent(name: "agent \(i)")
                agent.metadata = try Metadata(validating: [("n", "\(i)")], param: "metadata")
                agent.config.tools = [.function(FunctionTool(name: "f\(i)", description: "d", parameters: ["type": "object"]))]
                try await store.insertAgent(projectID: projectID, agent: agent)
                agents.append(agent)
            }

            let session = Make.session(agentID: agents[0].id, metadata: [("team", "core")], status: .idle)
            let runtime: JSONValue = ["previous_response_id": "resp_1", "counters": [1, 2.5, -3], "nested": ["é": "😀", "null": nil]]
            let sessionRecord = SessionRecord(projectID: projectID, session: session, runtime: runtime)

            let turn1 = Make.turn(sessionID: session.id, status: .completed, usage: TokenUsage(inputTokens: 5, outputTokens: 6))
            let turn2 = Make.turn(sessionID: session.id, status: .queued)
            let turnRecords = [
                TurnRecord(turn: turn1, input: [InputMessage(text: "first")], runtime: ["attempt": 1]),
                TurnRecord(
                    turn: turn2, input: [InputMessage(content: [.inputText("second"), .inputImage(url: "https://example.com/a.png")])],
                    runtime: ["attempt": 0, "tags": ["x"]]),
            ]

            let itemRecords = [
                ItemRecord(item: Make.userMessage(turnID: turn1.id, text: "first")),
                ItemRecord(
                    item: .reasoning(ReasoningItem(id: IDGenerator.make(.item), turnID: turn1.id, summary: ["Thinking"], status: .completed)),
                    modelItem: ["type": "reasoning", "encrypted_content": "abc", "summary": []]),
                ItemRecord(
                    item: .functionCall(
                        FunctionCallItem(
                            id: IDGenerator.make(.item), turnID: turn1.id, callID: "call_1", name: "f0", arguments: .string(#"{"a":1}"#), status: .completed)),
                    modelItem: ["type": "function_call", "call_id": "call_1", "name": "f0", "arguments": #"{"a":1}"#]),
                ItemRecord(
                    item: .functionCallOutput(
                        FunctionCallOutputItem(id: IDGenerator.make(.item), turnID: turn1.id, callID: "call_1", output: .text("ok"), error: nil, status: .completed))),
                ItemRecord(item: Make.assistantMessage(turnID: turn1.id, text: "Done."), modelItem: ["type": "message", "id": "msg_1"]),
                ItemRecord(item: Make.userMessage(turnID: turn2.id, text: "second")),
            ]

            let events1: [SessionEvent] = [
                SessionEvent(.sessionCreated(session)),
                SessionEvent(.turnCreated(turn1)),
                SessionEvent(.itemAdded(sessionID: session.id, item: itemRecords[0].item, outputIndex: nil)),
            ]
            let events2: [SessionEvent] = [
                Make.delta(sessionID: session.id, turnID: turn1.id, "Do"),
                Make.delta(sessionID: session.id, turnID: turn1.id, "ne."),
                SessionEvent(.itemDone(sessionID: session.id, item: itemRecords[4].item, outputIndex: 1)),
                SessionEvent(.turnCompleted(turn1)),
                SessionEvent(.sessionIdle(session)),
                SessionEvent(.turnCreated(turn2)),
            ]
            let idempotency = IdempotencyRecord(scope: "events:\(session.id)", key: "key-1", requestHash: "hash-1", status: 202, response: "")

            // A second session left in progress, which recovery must find after the restart.
            let active = Make.session(status: .inProgress)
            let activeTurn = Make.turn(sessionID: active.id, status: .inProgress)

            let committed = try await store.commit([
                SessionWrite(projectID: projectID, sessionID: session.id, session: sessionRecord, turns: turnRecords, events: events1),
                SessionWrite(projectID: projectID, sessionID: session.id, items: itemRecords, events: events2, idempotency: idempotency),
                SessionWrite(
                    projectID: projectID, sessionID: active.id, session: SessionRecord(projectID: projectID, session: active),
                    turns: [TurnRecord(turn: activeTurn)], events: [SessionEvent(.turnInProgress(activeTurn))]),
            ])
            #expect(committed.map(\.count) == [3, 6, 1])
            let allEvents = events1 + events2
            #expect((committed[0] + committed[1]).map(\.sequence) == Array(1...9))
            try store.close()

            // MARK: read back from a new store on the same file
            let reopened = try SQLiteStore(path: path)
            #expect(try await reopened.projectID(forKeyHash: APIKeys.hash(key)) == projectID)
            #expect(try await reopened.projectID(forKeyHash: APIKeys.hash("cma_sk_other")) == nil)
            #expect(try await reopened.anyProjectID() == projectID)

            for agent in agents {
                #expect(try await reopened.agent(projectID: projectID, id: agent.id) == agent)
            }
            let agentPage = try await reopened.listAgents(projectID: projectID, query: ListQuery(limit: 10, order: .asc))
            #expect(agentPage.rows.map(\.id) == agents.map(\.id))
            #expect(agentPage.rows.map(\.json) == agents.map(\.jsonString))

            var expectedSession = sessionRecord
            expectedSession.session.rootAgentID = agents[0].id
            #expect(try await reopened.session(projectID: projectID, id: session.id) == expectedSession)
            #expect(try await reopened.sessionJSON(projectID: projectID, id: session.id) == StoredObject(id: session.id, json: session.jsonString))

            for record in turnRecords {
                #expect(try await reopened.turn(projectID: projectID, sessionID: session.id, id: record.turn.id) == record)
                #expect(try await reopened.turnJSON(projectID: projectID, sessionID: session.id, id: record.turn.id)?.json == record.turn.jsonString)
            }
            #expect(try await reopened.turns(sessionID: session.id, statuses: [.queued]) == [turnRecords[1]])
            #expect(try await reopened.turns(sessionID: session.id, statuses: [.completed, .queued]) == turnRecords)

            #expect(try await reopened.items(sessionID: session.id) == itemRecords)
            let itemPage = try await reopened.listItems(projectID: projectID, sessionID: session.id, turnID: nil, query: ListQuery(limit: 100, order: .asc))
            #expect(itemPage.rows.map(\.json) == itemRecords.map(\.item.jsonString))

            let events = try await reopened.events(sessionID: session.id, afterSequence: 0, limit: 100)
            #expect(events.map(\.sequence) == Array(1...9))
            #expect(events.map(\.eventID) == allEvents.map(\.eventID))
            #expect(events.map(\.type) == allEvents.map(\.type))
            #expect(events.map(\.turnID) == allEvents.map(\.turnID))
            #expect(events.map(\.json) == allEvents.map(\.jsonBytes))
            #expect(events == committed[0] + committed[1])
            #expect(try await reopened.lastEventSequence(sessionID: session.id) == 9)
            #expect(try await reopened.lastEventSequence(sessionID: active.id) == 1)

            #expect(try await reopened.idempotencyRecord(projectID: projectID, scope: idempotency.scope, key: "key-1") == idempotency)

            let recovered = try await reopened.activeSessions()
            #expect(recovered.map(\.session.id) == [active.id])
            #expect(recovered.first?.projectID == projectID)
            #expect(try await reopened.turns(sessionID: active.id, statuses: [.inProgress, .queued]).map(\.turn) == [activeTurn])

            // New events continue the sequence after the restart.
            let more = try await reopened.commit([SessionWrite(projectID: projectID, sessionID: session.id, events: [SessionEvent(.sessionIdle(session))])])
            #expect(more.first?.map(\.sequence) == [10])
            try reopened.close()
        }
    }

    @Test func reopeningAnExistingDatabaseDoesNotRerunMigrations() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("cma.sqlite").path
            let first = try SQLiteStore(path: path)
            let project = try await first.createProject(name: "p")
            try first.close()
            for _ in 0..<3 {
                let store = try SQLiteStore(path: path)
                #expect(try await store.anyProjectID() == project)
                try store.close()
            }
        }
    }
}

@Suite("SQLiteStore: durability")
struct DurabilityTests {
    /// A commit must be fsynced before it returns (`synchronous = FULL` in WAL mode), on a new
    /// database and on a reopened one. GRDB's pool sets NORMAL when it turns WAL on, after the
    /// configuration's own statements, so this is checked on the writer itself.
    @Test func theWriterSyncsEveryCommit() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("cma.sqlite").path
            for _ in 0..<2 {
                let store = try SQLiteStore(path: path)
                let settings = try store.durability()
                #expect(settings.journalMode == "wal")
                #expect(settings.synchronous == 2)
                try store.close()
            }
        }
    }
}
