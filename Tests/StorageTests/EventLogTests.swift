import AgentsAPI
import Storage
import Testing

@Suite("SQLiteStore: event log")
struct EventLogTests {
    static func deltas(_ sessionID: String, _ count: Int, _ label: String) -> [SessionEvent] {
        (0..<count).map { Make.delta(sessionID: sessionID, turnID: "turn_x", "\(label)\($0)") }
    }

    @Test func sequencesAreContiguousPerSession() async throws {
        try await withStore { (store) async throws in
            let project = try await store.createProject(name: "p")
            let s1 = IDGenerator.make(.session)
            let s2 = IDGenerator.make(.session)
            try await store.seedSession(project: project, s1)
            try await store.seedSession(project: project, s2)

            let first = try await store.commit([SessionWrite(projectID: project, sessionID: s1, events: Self.deltas(s1, 3, "a"))])
            #expect(first.map { $0.map(\.sequence) } == [[1, 2, 3]])

            let second = try await store.commit([SessionWrite(projectID: project, sessionID: s1, events: Self.deltas(s1, 2, "b"))])
            #expect(second.map { $0.map(\.sequence) } == [[4, 5]])

            // Interleaved sessions in one batch: each session's numbering continues independently,
            // and results come back in the order of the writes.
            let batch = try await store.commit([
                SessionWrite(projectID: project, sessionID: s2, events: Self.deltas(s2, 2, "c")),
                SessionWrite(projectID: project, sessionID: s1, events: Self.deltas(s1, 1, "d")),
                SessionWrite(projectID: project, sessionID: s2, events: []),
                SessionWrite(projectID: project, sessionID: s2, events: Self.deltas(s2, 1, "e")),
                SessionWrite(projectID: project, sessionID: s1, events: Self.deltas(s1, 2, "f")),
            ])
            #expect(batch.map { $0.map(\.sequence) } == [[1, 2], [6], [], [3], [7, 8]])
            #expect(batch.allSatisfy { write in write.allSatisfy { !$0.json.isEmpty } })
            #expect(batch[0].allSatisfy { $0.sessionID == s2 })
            #expect(batch[1].allSatisfy { $0.sessionID == s1 })

            #expect(try await store.lastEventSequence(sessionID: s1) == 8)
            #expect(try await store.lastEventSequence(sessionID: s2) == 3)
            #expect(try await store.lastEventSequence(sessionID: "sess_none") == 0)

            // The log reads back in order with the committed content.
            let log1 = try await store.events(sessionID: s1, afterSequence: 0, limit: 100)
            #expect(log1.map(\.sequence) == Array(1...8))
            #expect(log1 == first[0] + second[0] + batch[1] + batch[4])
            let texts = try log1.map { try SessionEvent(jsonBytes: $0.json) }.compactMap { event -> String? in
                if case .outputTextDelta(_, let delta) = event.body { return delta }
                return nil
            }
            #expect(texts == ["a0", "a1", "a2", "b0", "b1", "d0", "f0", "f1"])

            let log2 = try await store.events(sessionID: s2, afterSequence: 0, limit: 100)
            #expect(log2 == batch[0] + batch[3])
        }
    }

    @Test func eventsPageBySequence() async throws {
        try await withStore { (store) async throws in
            let project = try await store.createProject(name: "p")
            let session = IDGenerator.make(.session)
            let other = IDGenerator.make(.session)
            try await store.seedSession(project: project, session)
            try await store.seedSession(project: project, other)
            let committed = try await store.commit([
                SessionWrite(projectID: project, sessionID: session, events: Self.deltas(session, 7, "x")),
                SessionWrite(projectID: project, sessionID: other, events: Self.deltas(other, 4, "y")),
            ])[0]

            #expect(try await store.events(sessionID: session, afterSequence: 2, limit: 2) == Array(committed[2..<4]))
            #expect(try await store.events(sessionID: session, afterSequence: 6, limit: 10) == [committed[6]])
            #expect(try await store.events(sessionID: session, afterSequence: 7, limit: 10).isEmpty)
            #expect(try await store.events(sessionID: session, afterSequence: 100, limit: 10).isEmpty)
            #expect(try await store.events(sessionID: session, afterSequence: 0, limit: 0).isEmpty)
            #expect(try await store.events(sessionID: "sess_unknown", afterSequence: 0, limit: 10).isEmpty)

            for limit in 1...8 {
                var after: Int64 = 0
                var seen: [StoredEvent] = []
                while true {
                    let page = try await store.events(sessionID: session, afterSequence: after, limit: limit)
                    #expect(page.count <= limit)
                    if page.isEmpty { break }
                    seen += page
                    after = page.last!.sequence
                }
                #expect(seen == committed, "limit \(limit)")
            }
        }
    }

    @Test func eventJSONIsStoredByteForByte() async throws {
        try await withStore { (store) async throws in
            let project = try await store.createProject(name: "p")
            let session = Make.session(metadata: [("quote", "say \"hi\""), ("unicode", "é 😀 \u{2028}")])
            let event = SessionEvent(.sessionCreated(session))
            try await store.seedSession(project: project, session.id)
            let committed = try await store.commit([SessionWrite(projectID: project, sessionID: session.id, events: [event])])
            let stored = try await store.events(sessionID: session.id, afterSequence: 0, limit: 1)
            #expect(stored.first?.json == event.jsonBytes)
            #expect(committed.first?.first?.json == event.jsonBytes)
            #expect(stored.first?.eventID == event.eventID)
            #expect(stored.first?.type == "agent.session.created")
            #expect(stored.first?.turnID == nil)
            #expect(try SessionEvent(jsonBytes: stored.first!.json) == event)
        }
    }

    @Test func concurrentCommitsToOneSessionNeverShareASequenceNumber() async throws {
        try await withStore { (store) async throws in
            let project = try await store.createProject(name: "p")
            let session = IDGenerator.make(.session)
            try await store.seedSession(project: project, session)
            let results = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for i in 0..<10 {
                    group.addTask {
                        try await store.commit([SessionWrite(projectID: project, sessionID: session, events: Self.deltas(session, 3, "t\(i)-"))])[0].map(\.sequence)
                    }
                }
                var all: [[Int64]] = []
                for try await sequences in group { all.append(sequences) }
                return all
            }
            // Each commit got three consecutive numbers; together they cover 1…30 exactly once.
            for sequences in results {
                #expect(sequences.count == 3 && sequences[1] == sequences[0] + 1 && sequences[2] == sequences[1] + 1)
            }
            #expect(results.flatMap { $0 }.sorted() == Array(1...30))
            #expect(try await store.lastEventSequence(sessionID: session) == 30)
        }
    }
}
