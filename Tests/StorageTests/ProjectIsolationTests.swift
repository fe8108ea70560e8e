import AgentsAPI
import Storage
import Testing

@Suite("SQLiteStore: project isolation")
struct ProjectIsolationTests {
    @Test func projectBSeesNothingOfProjectA() async throws {
        try await withStore { (store) async throws in
            let a = try await store.createProject(name: "A")
            let b = try await store.createProject(name: "B")
            #expect(a != b)

            var agent = Make.agent(name: "A's agent")
            agent.metadata = try Metadata(validating: [("owner", "a")], param: "metadata")
            try await store.insertAgent(projectID: a, agent: agent)
            let session = Make.session(agentID: agent.id, metadata: [("owner", "a")], status: .inProgress)
            let turn = Make.turn(sessionID: session.id, status: .inProgress)
            let item = Make.userMessage(turnID: turn.id)
            let idempotency = IdempotencyRecord(scope: "events:\(session.id)", key: "k", requestHash: "h", status: 202, response: "")
            _ = try await store.commit([
                SessionWrite(
                    projectID: a, sessionID: session.id, session: SessionRecord(projectID: a, session: session), turns: [TurnRecord(turn: turn)],
                    items: [ItemRecord(item: item)], events: [SessionEvent(.turnCreated(turn))], idempotency: idempotency)
            ])
            try await store.saveIdempotencyRecord(projectID: a, record: IdempotencyRecord(scope: "agents", key: "k2", requestHash: "h", status: 200, response: "{}"))

            // Agents
            #expect(try await store.agent(projectID: b, id: agent.id) == nil)
            #expect(try await store.listAgents(projectID: b, query: ListQuery()).rows.isEmpty)
            let updated = try await store.updateAgent(projectID: b, id: agent.id) { $0.name = "hijacked" }
            #expect(updated == nil)
            #expect(try await store.deleteAgent(projectID: b, id: agent.id) == false)

            // Sessions
            #expect(try await store.session(projectID: b, id: session.id) == nil)
            #expect(try await store.sessionJSON(projectID: b, id: session.id) == nil)
            #expect(try await store.listSessions(projectID: b, query: ListQuery(), filter: SessionFilter()).rows.isEmpty)
            #expect(try await store.listSessions(projectID: b, query: ListQuery(), filter: SessionFilter(agentID: agent.id)).rows.isEmpty)
            #expect(try await store.listSessions(projectID: b, query: ListQuery(), filter: SessionFilter(metadata: [("owner", "a")])).rows.isEmpty)
            #expect(try await store.deleteSession(projectID: b, id: session.id) == false)

            // Turns and items
            #expect(try await store.turn(projectID: b, sessionID: session.id, id: turn.id) == nil)
            #expect(try await store.turnJSON(projectID: b, sessionID: session.id, id: turn.id) == nil)
            #expect(try await store.listTurns(projectID: b, sessionID: session.id, query: ListQuery()).rows.isEmpty)
            #expect(try await store.listItems(projectID: b, sessionID: session.id, turnID: nil, query: ListQuery()).rows.isEmpty)
            #expect(try await store.listItems(projectID: b, sessionID: session.id, turnID: turn.id, query: ListQuery()).rows.isEmpty)

            // Idempotency records
            #expect(try await store.idempotencyRecord(projectID: b, scope: idempotency.scope, key: "k") == nil)
            #expect(try await store.idempotencyRecord(projectID: b, scope: "agents", key: "k2") == nil)
            // B using the same scope and key gets its own record, and A's is untouched.
            let bRecord = IdempotencyRecord(scope: idempotency.scope, key: "k", requestHash: "other", status: 400, response: "{\"error\":{}}")
            try await store.saveIdempotencyRecord(projectID: b, record: bRecord)
            #expect(try await store.idempotencyRecord(projectID: b, scope: idempotency.scope, key: "k") == bRecord)
            #expect(try await store.idempotencyRecord(projectID: a, scope: idempotency.scope, key: "k") == idempotency)

            // Nothing B tried changed A's data.
            #expect(try await store.agent(projectID: a, id: agent.id) == agent)
            #expect(try await store.listAgents(projectID: a, query: ListQuery()).rows.map(\.id) == [agent.id])
            #expect(try await store.session(projectID: a, id: session.id)?.session == session)
            #expect(try await store.listSessions(projectID: a, query: ListQuery(), filter: SessionFilter(agentID: agent.id)).rows.map(\.id) == [session.id])
            #expect(try await store.turn(projectID: a, sessionID: session.id, id: turn.id)?.turn == turn)
            #expect(try await store.listItems(projectID: a, sessionID: session.id, turnID: turn.id, query: ListQuery()).rows.map(\.id) == [item.id!])
            #expect(try await store.lastEventSequence(sessionID: session.id) == 1)
        }
    }

    @Test func turnsAreScopedToTheirSession() async throws {
        try await withStore { (store) async throws in
            let project = try await store.createProject(name: "p")
            let s1 = Make.session()
            let s2 = Make.session()
            let turn = Make.turn(sessionID: s1.id)
            _ = try await store.commit([
                SessionWrite(projectID: project, sessionID: s1.id, session: SessionRecord(projectID: project, session: s1), turns: [TurnRecord(turn: turn)]),
                SessionWrite(projectID: project, sessionID: s2.id, session: SessionRecord(projectID: project, session: s2)),
            ])
            // The contract: a turn of another session is a 404.
            #expect(try await store.turn(projectID: project, sessionID: s2.id, id: turn.id) == nil)
            #expect(try await store.turnJSON(projectID: project, sessionID: s2.id, id: turn.id) == nil)
            #expect(try await store.turn(projectID: project, sessionID: s1.id, id: turn.id)?.turn == turn)
        }
    }

    @Test func apiKeysResolveToTheirOwnProject() async throws {
        try await withStore { (store) async throws in
            let a = try await store.createProject(name: "A")
            let b = try await store.createProject(name: "B")
            let (keyA, projectA) = try await APIKeys.create(in: store, projectID: a)
            let (keyB, projectB) = try await APIKeys.create(in: store, projectID: b)
            #expect(projectA == a && projectB == b)
            #expect(try await store.projectID(forKeyHash: APIKeys.hash(keyA)) == a)
            #expect(try await store.projectID(forKeyHash: APIKeys.hash(keyB)) == b)
        }
    }
}

@Suite("SQLiteStore: write ownership")
struct WriteOwnershipTests {
    @Test func writesToAnotherProjectsOrAnUnknownSessionAreRefused() async throws {
        try await withStore { (store) async throws in
            let a = try await store.createProject(name: "a")
            let b = try await store.createProject(name: "b")
            let session = Make.session()
            _ = try await store.commit([Make.sessionWrite(projectID: a, session)])

            // Project B cannot overwrite A's session or append to its log.
            var hijacked = session
            hijacked.metadata = try Metadata(validating: [("owner", "b")], param: "metadata")
            await #expect(throws: StoreError.self) {
                _ = try await store.commit([Make.sessionWrite(projectID: b, hijacked)])
            }
            await #expect(throws: StoreError.self) {
                _ = try await store.commit([SessionWrite(projectID: b, sessionID: session.id, events: [SessionEvent(.sessionIdle(session))])])
            }
            // A write for a session that does not exist (e.g. a late write after deletion) is refused.
            await #expect(throws: StoreError.notFound("session sess_gone")) {
                _ = try await store.commit([SessionWrite(projectID: a, sessionID: "sess_gone", events: [SessionEvent(.sessionIdle(session))])])
            }
            #expect(try await store.session(projectID: a, id: session.id)?.session == session)
            #expect(try await store.events(sessionID: session.id, afterSequence: 0, limit: 10).count == 1)
            #expect(try await store.events(sessionID: "sess_gone", afterSequence: 0, limit: 10).isEmpty)
        }
    }
}
