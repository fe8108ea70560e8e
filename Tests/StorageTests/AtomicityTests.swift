import AgentsAPI
import Foundation
import Storage
import Testing

/// The sqlite3 command-line shell, used to install a failing trigger: the store's public API
/// offers no constraint a `commit` can violate (rows are upserts, sequence numbers are internal).
let sqlite3Path = ["/usr/bin/sqlite3", "/usr/local/bin/sqlite3", "/bin/sqlite3"].first { FileManager.default.isExecutableFile(atPath: $0) }

func runSQLite(_ path: String, _ sql: String) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: sqlite3Path!)
    process.arguments = [path, sql]
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw StoreError.corrupt("sqlite3 exited with \(process.terminationStatus)")
    }
}

@Suite("SQLiteStore: failed writes")
struct AtomicityTests {
    @Test(.enabled(if: sqlite3Path != nil, "needs the sqlite3 shell to install a failing trigger"))
    func aFailedBatchWritesNothing() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("cma.sqlite").path
            let setup = try SQLiteStore(path: path)
            let project = try await setup.createProject(name: "p")
            try setup.close()
            try runSQLite(path, "CREATE TRIGGER poison BEFORE INSERT ON items WHEN NEW.id = 'item_poison' BEGIN SELECT RAISE(ABORT, 'poisoned item'); END;")

            let store = try SQLiteStore(path: path)
            let good = Make.session(agentID: "agent_1")
            let goodTurn = Make.turn(sessionID: good.id)
            let goodWrite = SessionWrite(
                projectID: project, sessionID: good.id, session: SessionRecord(projectID: project, session: good), turns: [TurnRecord(turn: goodTurn)],
                items: [ItemRecord(item: Make.userMessage(turnID: goodTurn.id))],
                events: [SessionEvent(.sessionCreated(good)), SessionEvent(.turnCreated(goodTurn))],
                idempotency: IdempotencyRecord(scope: "events:\(good.id)", key: "k", requestHash: "h", status: 202, response: ""))
            let bad = Make.session()
            let badTurn = Make.turn(sessionID: bad.id)
            let badWrite = SessionWrite(
                projectID: project, sessionID: bad.id, session: SessionRecord(projectID: project, session: bad), turns: [TurnRecord(turn: badTurn)],
                items: [ItemRecord(item: Make.userMessage(turnID: badTurn.id)), ItemRecord(item: Make.userMessage(turnID: badTurn.id, id: "item_poison"))],
                events: [SessionEvent(.sessionCreated(bad))])

            // An earlier session's events, which must keep their numbering.
            let before = Make.session()
            try await store.seedSession(project: project, before.id)
            _ = try await store.commit([SessionWrite(projectID: project, sessionID: before.id, events: [SessionEvent(.sessionCreated(before))])])

            await #expect(throws: (any Error).self) {
                try await store.commit([goodWrite, SessionWrite(projectID: project, sessionID: before.id, events: [SessionEvent(.sessionIdle(before))]), badWrite])
            }

            // Nothing of the batch is visible: not the first write, not the second, not the failing one.
            #expect(try await store.session(projectID: project, id: good.id) == nil)
            #expect(try await store.turn(projectID: project, sessionID: good.id, id: goodTurn.id) == nil)
            #expect(try await store.items(sessionID: good.id).isEmpty)
            #expect(try await store.events(sessionID: good.id, afterSequence: 0, limit: 10).isEmpty)
            #expect(try await store.lastEventSequence(sessionID: good.id) == 0)
            #expect(try await store.idempotencyRecord(projectID: project, scope: "events:\(good.id)", key: "k") == nil)
            #expect(try await store.lastEventSequence(sessionID: before.id) == 1)
            #expect(try await store.session(projectID: project, id: bad.id) == nil)
            #expect(try await store.items(sessionID: bad.id).isEmpty)
            // Only the session seeded before the batch is listed.
            #expect(try await store.listSessions(projectID: project, query: ListQuery(), filter: SessionFilter()).rows.map(\.id) == [before.id])

            // The same good write alone succeeds, with sequence numbers starting at 1.
            let committed = try await store.commit([goodWrite, SessionWrite(projectID: project, sessionID: before.id, events: [SessionEvent(.sessionIdle(before))])])
            #expect(committed.map { $0.map(\.sequence) } == [[1, 2], [2]])
            #expect(try await store.session(projectID: project, id: good.id)?.session == good)
            try store.close()
        }
    }

    @Test func aThrowingAgentUpdateChangesNothing() async throws {
        struct Refused: Error {}
        try await withStore { (store) async throws in
            let project = try await store.createProject(name: "p")
            let agent = Make.agent(name: "original")
            try await store.insertAgent(projectID: project, agent: agent)
            await #expect(throws: Refused.self) {
                _ = try await store.updateAgent(projectID: project, id: agent.id) { agent in
                    agent.name = "changed"
                    throw Refused()
                }
            }
            #expect(try await store.agent(projectID: project, id: agent.id) == agent)
        }
    }

    @Test func addingAnAPIKeyForAMissingProjectFails() async throws {
        try await withStore { (store) async throws in
            let hash = APIKeys.hash(APIKeys.generate())
            await #expect(throws: (any Error).self) { _ = try await store.addAPIKey(projectID: "proj_missing", keyHash: hash, prefix: "cma_sk_") }
            #expect(try await store.projectID(forKeyHash: hash) == nil)
        }
    }

    @Test func aKeyHashCanOnlyBelongToOneProject() async throws {
        try await withStore { (store) async throws in
            let a = try await store.createProject(name: "A")
            let b = try await store.createProject(name: "B")
            let hash = APIKeys.hash(APIKeys.generate())
            _ = try await store.addAPIKey(projectID: a, keyHash: hash, prefix: "cma_sk_")
            await #expect(throws: (any Error).self) { _ = try await store.addAPIKey(projectID: b, keyHash: hash, prefix: "cma_sk_") }
            #expect(try await store.projectID(forKeyHash: hash) == a)
        }
    }
}
