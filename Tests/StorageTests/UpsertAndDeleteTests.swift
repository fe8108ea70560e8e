import AgentsAPI
import Storage
import Testing

@Suite("SQLiteStore: upserts and deletes")
struct UpsertAndDeleteTests {
    @Test func laterWritesReplaceRows() async throws {
        try await withStore { (store) async throws in
            let project = try await store.createProject(name: "p")
            var session = Make.session(agentID: "agent_root", status: .idle)
            var turn = Make.turn(sessionID: session.id, status: .queued)
            let itemID = IDGenerator.make(.item)
            _ = try await store.commit([
                SessionWrite(
                    projectID: project, sessionID: session.id, session: SessionRecord(projectID: project, session: session, runtime: ["step": 1]),
                    turns: [TurnRecord(turn: turn, input: [InputMessage(text: "go")], runtime: ["step": 1])],
                    items: [ItemRecord(item: Make.assistantMessage(turnID: turn.id, text: "", status: .inProgress, id: itemID))],
                    events: [SessionEvent(.turnCreated(turn))])
            ])
            #expect(try await store.activeSessions().isEmpty)

            // The same rows, later.
            session.status = .inProgress
            session.lastActiveAt += 5
            turn.status = .completed
            turn.completedAt = 1_700_000_009
            turn.usage = TokenUsage(inputTokens: 1, outputTokens: 2)
            let finalItem = Make.assistantMessage(turnID: turn.id, text: "Done.", status: .completed, id: itemID)
            _ = try await store.commit([
                SessionWrite(
                    projectID: project, sessionID: session.id, session: SessionRecord(projectID: project, session: session, runtime: ["step": 2]),
                    turns: [TurnRecord(turn: turn, input: [], runtime: ["step": 2])],
                    items: [ItemRecord(item: finalItem, modelItem: ["id": "msg_1"])],
                    events: [SessionEvent(.turnCompleted(turn))])
            ])

            let storedSession = try #require(try await store.session(projectID: project, id: session.id))
            #expect(storedSession.session == session)
            #expect(storedSession.runtime == ["step": 2])
            let sessions = try await store.listSessions(projectID: project, query: ListQuery(), filter: SessionFilter())
            #expect(sessions.rows.count == 1)
            #expect(sessions.rows.first?.value["status"] == "in_progress")
            #expect(try await store.activeSessions().map(\.session.id) == [session.id])

            #expect(try await store.turn(projectID: project, sessionID: session.id, id: turn.id) == TurnRecord(turn: turn, input: [], runtime: ["step": 2]))
            let turns = try await store.listTurns(projectID: project, sessionID: session.id, query: ListQuery())
            #expect(turns.rows.count == 1)
            #expect(turns.rows.first?.value["status"] == "completed")
            #expect(turns.rows.first?.value["usage"]?["total_tokens"] == 3)
            #expect(try await store.turns(sessionID: session.id, statuses: [.queued]).isEmpty)
            #expect(try await store.turns(sessionID: session.id, statuses: []).isEmpty)
            #expect(try await store.turns(sessionID: session.id, statuses: [.completed]).map(\.turn) == [turn])

            #expect(try await store.items(sessionID: session.id) == [ItemRecord(item: finalItem, modelItem: ["id": "msg_1"])])
            // The items alone (for a history search): the provider form is not read.
            #expect(try await store.items(sessionID: session.id, modelItems: false) == [ItemRecord(item: finalItem)])
            let items = try await store.listItems(projectID: project, sessionID: session.id, turnID: turn.id, query: ListQuery())
            #expect(items.rows.map(\.json) == [finalItem.jsonString])

            // The session's agent filter still works after the update (the root agent is kept).
            #expect(try await store.listSessions(projectID: project, query: ListQuery(), filter: SessionFilter(agentID: "agent_root")).rows.count == 1)
            #expect(try await store.lastEventSequence(sessionID: session.id) == 2)

            // Back to idle: no longer active.
            session.status = .idle
            _ = try await store.commit([SessionWrite(projectID: project, sessionID: session.id, session: SessionRecord(projectID: project, session: session))])
            #expect(try await store.activeSessions().isEmpty)
        }
    }

    @Test func anItemWithoutAnIDGetsOne() async throws {
        try await withStore { (store) async throws in
            let project = try await store.createProject(name: "p")
            let session = Make.session()
            let item = SessionItem.other(["type": "command_execution", "turn_id": "turn_1", "command": "ls"])
            try await store.seedSession(project: project, session.id)
            _ = try await store.commit([SessionWrite(projectID: project, sessionID: session.id, items: [ItemRecord(item: item), ItemRecord(item: item)])])
            let page = try await store.listItems(projectID: project, sessionID: session.id, turnID: "turn_1", query: ListQuery())
            #expect(page.rows.count == 2)
            #expect(page.rows.allSatisfy { IDGenerator.isWellFormed($0.id, prefix: .item) })
            #expect(Set(page.rows.map(\.id)).count == 2)
        }
    }

    @Test func deleteSessionRemovesOnlyThatSessionsData() async throws {
        try await withStore { (store) async throws in
            let project = try await store.createProject(name: "p")
            func populate(_ session: AgentSession) async throws -> Turn {
                let turn = Make.turn(sessionID: session.id, status: .completed)
                _ = try await store.commit([
                    SessionWrite(
                        projectID: project, sessionID: session.id, session: SessionRecord(projectID: project, session: session),
                        turns: [TurnRecord(turn: turn)], items: [ItemRecord(item: Make.userMessage(turnID: turn.id))],
                        events: [SessionEvent(.sessionCreated(session)), SessionEvent(.turnCompleted(turn))],
                        idempotency: IdempotencyRecord(scope: "events:\(session.id)", key: "k", requestHash: "h", status: 202, response: ""))
                ])
                return turn
            }
            let doomed = Make.session(agentID: "agent_1", metadata: [("env", "prod")])
            let kept = Make.session(agentID: "agent_1", metadata: [("env", "prod")])
            let doomedTurn = try await populate(doomed)
            let keptTurn = try await populate(kept)

            #expect(try await store.deleteSession(projectID: project, id: doomed.id))

            #expect(try await store.session(projectID: project, id: doomed.id) == nil)
            #expect(try await store.sessionJSON(projectID: project, id: doomed.id) == nil)
            #expect(try await store.turn(projectID: project, sessionID: doomed.id, id: doomedTurn.id) == nil)
            #expect(try await store.listTurns(projectID: project, sessionID: doomed.id, query: ListQuery()).rows.isEmpty)
            #expect(try await store.turns(sessionID: doomed.id, statuses: TurnStatus.allCases).isEmpty)
            #expect(try await store.listItems(projectID: project, sessionID: doomed.id, turnID: nil, query: ListQuery()).rows.isEmpty)
            #expect(try await store.items(sessionID: doomed.id).isEmpty)
            #expect(try await store.events(sessionID: doomed.id, afterSequence: 0, limit: 100).isEmpty)
            #expect(try await store.lastEventSequence(sessionID: doomed.id) == 0)
            #expect(try await store.idempotencyRecord(projectID: project, scope: "events:\(doomed.id)", key: "k") == nil)

            let remaining = try await store.listSessions(projectID: project, query: ListQuery(), filter: SessionFilter(agentID: "agent_1", metadata: [("env", "prod")]))
            #expect(remaining.rows.map(\.id) == [kept.id])
            #expect(try await store.session(projectID: project, id: kept.id)?.session == kept)
            #expect(try await store.turn(projectID: project, sessionID: kept.id, id: keptTurn.id)?.turn == keptTurn)
            #expect(try await store.items(sessionID: kept.id).count == 1)
            #expect(try await store.events(sessionID: kept.id, afterSequence: 0, limit: 100).map(\.sequence) == [1, 2])
            #expect(try await store.idempotencyRecord(projectID: project, scope: "events:\(kept.id)", key: "k") != nil)

            // A second delete finds nothing.
            #expect(try await store.deleteSession(projectID: project, id: doomed.id) == false)
            #expect(try await store.deleteSession(projectID: project, id: "sess_unknown") == false)
        }
    }

    @Test func agentUpdateAndDelete() async throws {
        try await withStore { (store) async throws in
            let project = try await store.createProject(name: "p")
            let agent = Make.agent(name: "before")
            let other = Make.agent(name: "other")
            try await store.insertAgent(projectID: project, agent: agent)
            try await store.insertAgent(projectID: project, agent: other)

            let updated = try await store.updateAgent(projectID: project, id: agent.id) {
                $0.name = "after"
                $0.updatedAt += 10
                $0.config.model = "gpt-2"
            }
            #expect(updated?.name == "after")
            let stored = try await store.agent(projectID: project, id: agent.id)
            #expect(stored == updated)
            #expect(stored?.config.model == "gpt-2")
            #expect(stored?.createdAt == agent.createdAt)
            #expect(try await store.listAgents(projectID: project, query: ListQuery(order: .asc)).rows.first?.value["name"] == "after")
            let missing = try await store.updateAgent(projectID: project, id: "agent_missing") { $0.name = "x" }
            #expect(missing == nil)

            #expect(try await store.deleteAgent(projectID: project, id: agent.id))
            #expect(try await store.agent(projectID: project, id: agent.id) == nil)
            #expect(try await store.deleteAgent(projectID: project, id: agent.id) == false)
            #expect(try await store.agent(projectID: project, id: other.id) == other)
            #expect(try await store.listAgents(projectID: project, query: ListQuery()).rows.map(\.id) == [other.id])
        }
    }

    @Test func insertingAnAgentTwiceFails() async throws {
        try await withStore { (store) async throws in
            let project = try await store.createProject(name: "p")
            let agent = Make.agent(name: "once")
            try await store.insertAgent(projectID: project, agent: agent)
            var changed = agent
            changed.name = "twice"
            await #expect(throws: (any Error).self) { try await store.insertAgent(projectID: project, agent: changed) }
            #expect(try await store.agent(projectID: project, id: agent.id) == agent)
        }
    }

    @Test func idempotencyRecordsAreWrittenOnce() async throws {
        try await withStore { (store) async throws in
            let project = try await store.createProject(name: "p")
            let first = IdempotencyRecord(scope: "events:sess_1", key: "k", requestHash: "h1", status: 202, response: "")
            try await store.seedSession(project: project, "sess_1")
            try await store.saveIdempotencyRecord(projectID: project, record: first)
            try await store.saveIdempotencyRecord(projectID: project, record: IdempotencyRecord(scope: "events:sess_1", key: "k", requestHash: "h2", status: 400, response: "x"))
            _ = try await store.commit([
                SessionWrite(
                    projectID: project, sessionID: "sess_1",
                    idempotency: IdempotencyRecord(scope: "events:sess_1", key: "k", requestHash: "h3", status: 500, response: "y"))
            ])
            #expect(try await store.idempotencyRecord(projectID: project, scope: "events:sess_1", key: "k") == first)
            #expect(try await store.idempotencyRecord(projectID: project, scope: "events:sess_2", key: "k") == nil)
            #expect(try await store.idempotencyRecord(projectID: project, scope: "events:sess_1", key: "K") == nil)
        }
    }
}
