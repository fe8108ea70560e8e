import AgentsAPI
import Storage
import Testing

@Suite("SQLiteStore: cursor pagination")
struct PaginationTests {
    static let count = 7

    /// Every limit from 1 to N+1, both orders: the walk visits every ID once, in order.
    func checkAllWalks(ids: [String], sourceLocation: SourceLocation = #_sourceLocation, _ list: (ListQuery) async throws -> Page<StoredObject>) async throws {
        #expect(ids == ids.sorted(), "fixture IDs must be created in order", sourceLocation: sourceLocation)
        for order in [ListOrder.asc, .desc] {
            let expected = order == .asc ? ids : ids.reversed()
            for limit in 1...(ids.count + 1) {
                let seen = try await walkPages(limit: limit, order: order, sourceLocation: sourceLocation, list)
                #expect(seen == expected, "limit \(limit), \(order)", sourceLocation: sourceLocation)
            }
        }
        // `hasMore` is false exactly on the last page.
        let firstPage = try await list(ListQuery(limit: ids.count - 1, order: .asc))
        #expect(firstPage.hasMore, sourceLocation: sourceLocation)
        let exact = try await list(ListQuery(limit: ids.count, order: .asc))
        #expect(!exact.hasMore && exact.rows.count == ids.count, sourceLocation: sourceLocation)
        let lastPage = try await list(ListQuery(after: ids[ids.count - 2], limit: 1, order: .asc))
        #expect(lastPage.rows.map(\.id) == [ids.last!] && !lastPage.hasMore, sourceLocation: sourceLocation)
        let beyond = try await list(ListQuery(after: ids.last!, limit: 5, order: .asc))
        #expect(beyond.rows.isEmpty && !beyond.hasMore, sourceLocation: sourceLocation)
        let beforeFirst = try await list(ListQuery(after: ids.first!, limit: 5, order: .desc))
        #expect(beforeFirst.rows.isEmpty && !beforeFirst.hasMore, sourceLocation: sourceLocation)
    }

    /// A cursor that names no stored object still bounds the listing.
    func checkMissingCursor(ids: [String], sourceLocation: SourceLocation = #_sourceLocation, _ list: (ListQuery) async throws -> Page<StoredObject>) async throws {
        // Sorts strictly between ids[2] and ids[3].
        let between = ids[2] + "0"
        #expect(between > ids[2] && between < ids[3], sourceLocation: sourceLocation)
        let asc = try await list(ListQuery(after: between, limit: 100, order: .asc))
        #expect(asc.rows.map(\.id) == Array(ids[3...]), sourceLocation: sourceLocation)
        let desc = try await list(ListQuery(after: between, limit: 100, order: .desc))
        #expect(desc.rows.map(\.id) == Array(ids[...2].reversed()), sourceLocation: sourceLocation)
        let page = try await list(ListQuery(after: between, limit: 2, order: .asc))
        #expect(page.rows.map(\.id) == [ids[3], ids[4]] && page.hasMore, sourceLocation: sourceLocation)
    }

    @Test func agents() async throws {
        try await withStore { (store) async throws in
            let project = try await store.createProject(name: "p")
            let other = try await store.createProject(name: "other")
            var ids: [String] = []
            for i in 0..<Self.count {
                let agent = Make.agent(name: "a\(i)")
                try await store.insertAgent(projectID: project, agent: agent)
                try await store.insertAgent(projectID: other, agent: Make.agent())
                ids.append(agent.id)
            }
            let list = { (query: ListQuery) in try await store.listAgents(projectID: project, query: query) }
            try await checkAllWalks(ids: ids, list)
            try await checkMissingCursor(ids: ids, list)

            // Rows are the stored wire JSON of the object with that ID.
            let page = try await list(ListQuery(limit: 100, order: .asc))
            for row in page.rows {
                #expect(row.value["id"] == .string(row.id))
                #expect(row.value["object"] == "agent")
            }

            // A deleted agent's ID still works as a cursor.
            #expect(try await store.deleteAgent(projectID: project, id: ids[3]))
            let afterDeleted = try await list(ListQuery(after: ids[3], limit: 100, order: .asc))
            #expect(afterDeleted.rows.map(\.id) == Array(ids[4...]))
            let remaining = try await walkPages(limit: 2, order: .desc, list)
            #expect(remaining == ids.filter { $0 != ids[3] }.reversed())
        }
    }

    @Test func emptyListings() async throws {
        try await withStore { (store) async throws in
            let project = try await store.createProject(name: "p")
            for order in [ListOrder.asc, .desc] {
                let query = ListQuery(limit: 1, order: order)
                for page in [
                    try await store.listAgents(projectID: project, query: query),
                    try await store.listSessions(projectID: project, query: query, filter: SessionFilter()),
                    try await store.listTurns(projectID: project, sessionID: "sess_x", query: query),
                    try await store.listItems(projectID: project, sessionID: "sess_x", turnID: nil, query: query),
                ] {
                    #expect(page.rows.isEmpty)
                    #expect(!page.hasMore)
                }
            }
        }
    }

    @Test func sessions() async throws {
        try await withStore { (store) async throws in
            let project = try await store.createProject(name: "p")
            let other = try await store.createProject(name: "other")
            var ids: [String] = []
            for _ in 0..<Self.count {
                let session = Make.session()
                _ = try await store.commit([Make.sessionWrite(projectID: project, session), Make.sessionWrite(projectID: other, Make.session())])
                ids.append(session.id)
            }
            let list = { (query: ListQuery) in try await store.listSessions(projectID: project, query: query, filter: SessionFilter()) }
            try await checkAllWalks(ids: ids, list)
            try await checkMissingCursor(ids: ids, list)
            let page = try await list(ListQuery(limit: 100, order: .desc))
            #expect(page.rows.allSatisfy { $0.value["object"] == "agent.session" && $0.value["id"] == .string($0.id) })
        }
    }

    @Test func turns() async throws {
        try await withStore { (store) async throws in
            let project = try await store.createProject(name: "p")
            let session = Make.session()
            let otherSession = Make.session()
            try await store.seedSession(project: project, session.id)
            try await store.seedSession(project: project, otherSession.id)
            var ids: [String] = []
            for _ in 0..<Self.count {
                let turn = Make.turn(sessionID: session.id)
                _ = try await store.commit([
                    SessionWrite(projectID: project, sessionID: session.id, turns: [TurnRecord(turn: turn)]),
                    SessionWrite(projectID: project, sessionID: otherSession.id, turns: [TurnRecord(turn: Make.turn(sessionID: otherSession.id))]),
                ])
                ids.append(turn.id)
            }
            let list = { (query: ListQuery) in try await store.listTurns(projectID: project, sessionID: session.id, query: query) }
            try await checkAllWalks(ids: ids, list)
            try await checkMissingCursor(ids: ids, list)
            let page = try await list(ListQuery(limit: 100, order: .asc))
            #expect(page.rows.allSatisfy { $0.value["object"] == "agent.session.turn" && $0.value["session_id"] == .string(session.id) })
        }
    }

    @Test func items() async throws {
        try await withStore { (store) async throws in
            let project = try await store.createProject(name: "p")
            let session = Make.session()
            let turnA = Make.turn(sessionID: session.id)
            let turnB = Make.turn(sessionID: session.id)
            // Items of two turns, interleaved, in one session; plus another session's items.
            var records: [ItemRecord] = []
            for i in 0..<(2 * Self.count) {
                records.append(ItemRecord(item: Make.userMessage(turnID: i.isMultiple(of: 2) ? turnA.id : turnB.id, text: "m\(i)")))
            }
            let otherSession = Make.session()
            try await store.seedSession(project: project, session.id)
            try await store.seedSession(project: project, otherSession.id)
            _ = try await store.commit([
                SessionWrite(projectID: project, sessionID: session.id, turns: [TurnRecord(turn: turnA), TurnRecord(turn: turnB)], items: records),
                SessionWrite(projectID: project, sessionID: otherSession.id, items: [ItemRecord(item: Make.userMessage(turnID: "turn_other"))]),
            ])
            let ids = records.compactMap(\.item.id)
            let all = { (query: ListQuery) in try await store.listItems(projectID: project, sessionID: session.id, turnID: nil, query: query) }
            try await checkAllWalks(ids: ids, all)
            try await checkMissingCursor(ids: ids, all)

            let idsA = records.filter { $0.item.turnID == turnA.id }.compactMap(\.item.id)
            let byTurn = { (query: ListQuery) in try await store.listItems(projectID: project, sessionID: session.id, turnID: turnA.id, query: query) }
            try await checkAllWalks(ids: idsA, byTurn)
            try await checkMissingCursor(ids: idsA, byTurn)

            #expect(try await store.items(sessionID: session.id) == records)
        }
    }
}
