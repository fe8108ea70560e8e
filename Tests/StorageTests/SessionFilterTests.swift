import AgentsAPI
import Storage
import Testing

@Suite("SQLiteStore: session filters")
struct SessionFilterTests {
    struct Fixture {
        var store: SQLiteStore
        var project: String
        /// Session IDs by name.
        var ids: [String: String]

        func list(agentID: String? = nil, _ metadata: [(String, String)] = [], limit: Int = 100) async throws -> [String] {
            let filter = SessionFilter(agentID: agentID, metadata: metadata)
            var names: [String] = []
            for id in try await walkPages(limit: limit, order: .asc, { try await store.listSessions(projectID: project, query: $0, filter: filter) }) {
                names.append(ids.first { $0.value == id }?.key ?? id)
            }
            return names
        }
    }

    static let specialKeys: [(String, String)] = [
        ("a.b", "dot"), ("say \"hi\"", "quotes"), ("with space", "space"), ("x[y]", "brackets"), ("$.env", "path"), ("it's", "apostrophe"),
        ("back\\slash", "backslash"), ("%_", "wildcards"), ("ключ", "cyrillic"),
    ]

    func withFixture(_ body: (Fixture) async throws -> Void) async throws {
        try await withStore { (store) async throws in
            let project = try await store.createProject(name: "p")
            let a1 = "agent_one"
            let a2 = "agent_two"
            let sessions: [(String, String?, [(String, String)])] = [
                ("s1", a1, [("env", "prod"), ("team", "core")]),
                ("s2", a1, [("env", "dev")]),
                ("s3", a2, [("env", "prod")]),
                ("s4", nil, Self.specialKeys),
                ("s5", a2, [("env", "prod extra"), ("team", "core")]),
                ("s6", nil, [("env", "PROD"), ("percent", "50%")]),
                ("s7", a1, []),
            ]
            var ids: [String: String] = [:]
            for (name, agentID, metadata) in sessions {
                let session = Make.session(agentID: agentID, metadata: metadata)
                _ = try await store.commit([Make.sessionWrite(projectID: project, session)])
                ids[name] = session.id
            }
            try await body(Fixture(store: store, project: project, ids: ids))
        }
    }

    @Test func agentIDFilter() async throws {
        try await withFixture { (f) async throws in
            #expect(try await f.list(agentID: "agent_one") == ["s1", "s2", "s7"])
            #expect(try await f.list(agentID: "agent_two") == ["s3", "s5"])
            #expect(try await f.list(agentID: "agent_three") == [])
            #expect(try await f.list() == ["s1", "s2", "s3", "s4", "s5", "s6", "s7"])
        }
    }

    @Test func metadataFilterIsExactAndAllPairsMustMatch() async throws {
        try await withFixture { (f) async throws in
            #expect(try await f.list([("env", "prod")]) == ["s1", "s3"])
            #expect(try await f.list([("env", "PROD")]) == ["s6"])
            #expect(try await f.list([("env", "pro")]) == [])
            #expect(try await f.list([("ENV", "prod")]) == [])
            #expect(try await f.list([("env", "prod"), ("team", "core")]) == ["s1"])
            #expect(try await f.list([("team", "core"), ("env", "prod")]) == ["s1"])
            #expect(try await f.list([("team", "core")]) == ["s1", "s5"])
            #expect(try await f.list([("env", "prod"), ("team", "other")]) == [])
            #expect(try await f.list([("missing", "")]) == [])
            #expect(try await f.list([("percent", "50%")]) == ["s6"])
            #expect(try await f.list([("percent", "5%")]) == [])
            #expect(try await f.list([("percent", "50_")]) == [])
        }
    }

    @Test func agentAndMetadataFiltersCombine() async throws {
        try await withFixture { (f) async throws in
            #expect(try await f.list(agentID: "agent_one", [("env", "prod")]) == ["s1"])
            #expect(try await f.list(agentID: "agent_two", [("env", "prod")]) == ["s3"])
            #expect(try await f.list(agentID: "agent_two", [("team", "core")]) == ["s5"])
            #expect(try await f.list(agentID: "agent_one", [("env", "none")]) == [])
        }
    }

    @Test(arguments: specialKeys.map { Pair(key: $0.0, value: $0.1) })
    func keysWithSpecialCharacters(_ pair: Pair) async throws {
        try await withFixture { (f) async throws in
            #expect(try await f.list([(pair.key, pair.value)]) == ["s4"])
            #expect(try await f.list([(pair.key, pair.value + "x")]) == [])
        }
    }

    @Test func aJSONPathLikeKeyIsTakenLiterally() async throws {
        try await withFixture { (f) async throws in
            // "$.env" must not address the `env` key.
            #expect(try await f.list([("$.env", "prod")]) == [])
            #expect(try await f.list([("a", "dot")]) == [])
            #expect(try await f.list([("a.b", "dot"), ("x[y]", "brackets"), ("say \"hi\"", "quotes")]) == ["s4"])
        }
    }

    @Test func filteredListingsPaginate() async throws {
        try await withFixture { (f) async throws in
            for limit in 1...3 {
                #expect(try await f.list([("env", "prod")], limit: limit) == ["s1", "s3"])
                #expect(try await f.list(agentID: "agent_one", limit: limit) == ["s1", "s2", "s7"])
            }
        }
    }

    @Test func metadataUpdatesAreReflected() async throws {
        try await withFixture { (f) async throws in
            var session = try #require(try await f.store.session(projectID: f.project, id: f.ids["s2"]!)).session
            session.metadata = try Metadata(validating: [("env", "prod")], param: "metadata")
            _ = try await f.store.commit([SessionWrite(projectID: f.project, sessionID: session.id, session: SessionRecord(projectID: f.project, session: session))])
            #expect(try await f.list([("env", "prod")]) == ["s1", "s2", "s3"])
            #expect(try await f.list([("env", "dev")]) == [])
        }
    }

    struct Pair: Sendable, CustomTestStringConvertible {
        var key: String
        var value: String
        var testDescription: String { key }
    }
}
