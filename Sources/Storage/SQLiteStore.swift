public import AgentsAPI
import Foundation
import GRDB

/// The embedded store: one SQLite file in WAL mode behind a GRDB `DatabasePool`.
///
/// Writes are serialised by GRDB's single writer connection; reads run concurrently on reader
/// connections. `synchronous = FULL`, so a committed transaction survives power loss, not only a
/// process crash; callers batch writes (group commit) so that this costs one fsync per batch.
public final class SQLiteStore: Store {
    public let path: String
    let pool: DatabasePool

    /// Opens (creating if needed) the database at `path` and migrates it.
    public init(path: String) throws {
        self.path = path
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.maximumReaderCount = 8
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        pool = try DatabasePool(path: path, configuration: config)
        // Only now: the pool turns WAL on for its writer after `prepareDatabase` has run, and
        // sets `synchronous = NORMAL` with it, under which a commit reaches the WAL without an
        // fsync (lost on power failure). The writer is the one connection that commits.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        try Self.migrator.migrate(pool)
    }

    /// What the connection that commits runs with: `journal_mode` and `synchronous` (`wal` and
    /// 2, FULL: every commit is fsynced before it returns).
    public func durability() throws -> (journalMode: String, synchronous: Int) {
        try pool.writeWithoutTransaction { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "", try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1)
        }
    }

    public func close() throws {
        try pool.close()
    }

    // MARK: Schema

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE projects (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL,
                        created_at INTEGER NOT NULL
                    );
                    CREATE TABLE api_keys (
                        id TEXT PRIMARY KEY NOT NULL,
                        project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                        key_hash TEXT NOT NULL UNIQUE,
                        prefix TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        revoked_at INTEGER
                    );
                    CREATE TABLE agents (
                        id TEXT PRIMARY KEY NOT NULL,
                        project_id TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL,
                        body TEXT NOT NULL
                    );
                    CREATE INDEX agents_by_project ON agents(project_id, id);
                    CREATE TABLE sessions (
                        id TEXT PRIMARY KEY NOT NULL,
                        project_id TEXT NOT NULL,
                        root_agent_id TEXT,
                        status TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        body TEXT NOT NULL,
                        runtime TEXT NOT NULL
                    );
                    CREATE INDEX sessions_by_project ON sessions(project_id, id);
                    CREATE INDEX sessions_by_agent ON sessions(project_id, root_agent_id, id);
                    CREATE INDEX sessions_by_status ON sessions(status);
                    CREATE TABLE turns (
                        id TEXT PRIMARY KEY NOT NULL,
                        session_id TEXT NOT NULL,
                        project_id TEXT NOT NULL,
                        status TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        body TEXT NOT NULL,
                        input TEXT NOT NULL,
                        runtime TEXT NOT NULL
                    );
                    CREATE INDEX turns_by_session ON turns(session_id, id);
                    CREATE TABLE items (
                        id TEXT PRIMARY KEY NOT NULL,
                        session_id TEXT NOT NULL,
                        project_id TEXT NOT NULL,
                        turn_id TEXT,
                        body TEXT NOT NULL,
                        model_item TEXT
                    );
                    CREATE INDEX items_by_session ON items(session_id, id);
                    CREATE INDEX items_by_turn ON items(turn_id, id);
                    CREATE TABLE events (
                        session_id TEXT NOT NULL,
                        project_id TEXT NOT NULL,
                        seq INTEGER NOT NULL,
                        event_id TEXT NOT NULL,
                        type TEXT NOT NULL,
                        turn_id TEXT,
                        created_at INTEGER NOT NULL,
                        body TEXT NOT NULL,
                        PRIMARY KEY (session_id, seq)
                    ) WITHOUT ROWID;
                    CREATE INDEX events_by_id ON events(event_id);
                    CREATE TABLE idempotency_keys (
                        project_id TEXT NOT NULL,
                        scope TEXT NOT NULL,
                        key TEXT NOT NULL,
                        request_hash TEXT NOT NULL,
                        status INTEGER NOT NULL,
                        response TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        PRIMARY KEY (project_id, scope, key)
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v2-sandbox-slots") { db in
            try db.execute(
                sql: """
                    CREATE TABLE sandbox_slots (
                        slot INTEGER PRIMARY KEY AUTOINCREMENT,
                        session_id TEXT NOT NULL UNIQUE
                    );
                    """)
        }
        migrator.registerMigration("v3-artifacts") { db in
            try db.execute(
                sql: """
                    CREATE TABLE artifacts (
                        id TEXT PRIMARY KEY NOT NULL,
                        project_id TEXT NOT NULL,
                        session_id TEXT NOT NULL,
                        environment_id TEXT NOT NULL,
                        sha256 TEXT NOT NULL,
                        body TEXT NOT NULL,
                        content BLOB NOT NULL
                    );
                    CREATE INDEX artifacts_by_session ON artifacts(session_id, id);
                    """)
        }
        migrator.registerMigration("v4-environments") { db in
            try db.execute(
                sql: """
                    CREATE TABLE files (
                        id TEXT PRIMARY KEY NOT NULL,
                        project_id TEXT NOT NULL,
                        body TEXT NOT NULL,
                        content BLOB NOT NULL
                    );
                    CREATE INDEX files_by_project ON files(project_id, id);
                    CREATE TABLE environment_templates (
                        id TEXT PRIMARY KEY NOT NULL,
                        project_id TEXT NOT NULL,
                        body TEXT NOT NULL,
                        stored TEXT NOT NULL,
                        secrets TEXT NOT NULL
                    );
                    CREATE INDEX templates_by_project ON environment_templates(project_id, id);
                    CREATE TABLE environments (
                        id TEXT PRIMARY KEY NOT NULL,
                        project_id TEXT NOT NULL,
                        session_id TEXT,
                        status TEXT NOT NULL,
                        body TEXT NOT NULL,
                        config TEXT NOT NULL,
                        secrets TEXT NOT NULL,
                        runtime TEXT NOT NULL
                    );
                    CREATE INDEX environments_by_project ON environments(project_id, id);
                    CREATE INDEX environments_by_session ON environments(session_id);
                    """)
        }
        return migrator
    }

    // MARK: Projects and keys

    public func createProject(name: String) async throws -> String {
        let id = IDGenerator.make(.project)
        try await pool.write { db in
            try db.execute(sql: "INSERT INTO projects (id, name, created_at) VALUES (?, ?, ?)", arguments: [id, name, currentUnixSeconds()])
        }
        return id
    }

    public func anyProjectID() async throws -> String? {
        try await pool.read { db in
            try String.fetchOne(db, sql: "SELECT id FROM projects ORDER BY id LIMIT 1")
        }
    }

    public func addAPIKey(projectID: String, keyHash: String, prefix: String) async throws -> String {
        let id = IDGenerator.make(.apiKey)
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO api_keys (id, project_id, key_hash, prefix, created_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [id, projectID, keyHash, prefix, currentUnixSeconds()])
        }
        return id
    }

    public func projectID(forKeyHash hash: String) async throws -> String? {
        try await pool.read { db in
            try String.fetchOne(db, sql: "SELECT project_id FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL", arguments: [hash])
        }
    }

    // MARK: Agents

    public func insertAgent(projectID: String, agent: Agent) async throws {
        let body = agent.jsonString
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO agents (id, project_id, created_at, updated_at, body) VALUES (?, ?, ?, ?, ?)",
                arguments: [agent.id, projectID, agent.createdAt, agent.updatedAt, body])
        }
    }

    public func agent(projectID: String, id: String) async throws -> Agent? {
        let body = try await pool.read { db in
            try String.fetchOne(db, sql: "SELECT body FROM agents WHERE id = ? AND project_id = ?", arguments: [id, projectID])
        }
        return try body.map { try Agent(jsonString: $0) }
    }

    public func updateAgent(projectID: String, id: String, _ update: @Sendable (inout Agent) throws -> Void) async throws -> Agent? {
        try await pool.write { db in
            guard let body = try String.fetchOne(db, sql: "SELECT body FROM agents WHERE id = ? AND project_id = ?", arguments: [id, projectID]) else {
                return nil
            }
            var agent = try Agent(jsonString: body)
            try update(&agent)
            try db.execute(
                sql: "UPDATE agents SET body = ?, updated_at = ? WHERE id = ? AND project_id = ?",
                arguments: [agent.jsonString, agent.updatedAt, id, projectID])
            return agent
        }
    }

    public func listAgents(projectID: String, query: ListQuery) async throws -> Page<StoredObject> {
        try await page(table: "agents", where: "project_id = ?", arguments: [projectID], query: query)
    }

    public func deleteAgent(projectID: String, id: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM agents WHERE id = ? AND project_id = ?", arguments: [id, projectID])
            return db.changesCount > 0
        }
    }

    // MARK: Sessions

    public func session(projectID: String, id: String) async throws -> SessionRecord? {
        // Rows are decoded on the reader's queue: `Row` is not Sendable, and the async read
        // needs a Sendable result (otherwise the blocking overload would be chosen).
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT body, runtime, root_agent_id FROM sessions WHERE id = ? AND project_id = ?", arguments: [id, projectID])
                .map { try Self.sessionRecord(projectID: projectID, row: $0) }
        }
    }

    private static func sessionRecord(projectID: String, row: Row) throws -> SessionRecord {
        var session = try AgentSession(jsonString: row["body"])
        session.rootAgentID = row["root_agent_id"]
        let runtime = try JSONParser.parse(row["runtime"] as String)
        return SessionRecord(projectID: projectID, session: session, runtime: runtime)
    }

    public func sessionJSON(projectID: String, id: String) async throws -> StoredObject? {
        try await pool.read { db in
            try String.fetchOne(db, sql: "SELECT body FROM sessions WHERE id = ? AND project_id = ?", arguments: [id, projectID])
                .map { StoredObject(id: id, json: $0) }
        }
    }

    public func listSessions(projectID: String, query: ListQuery, filter: SessionFilter) async throws -> Page<StoredObject> {
        var clause = "project_id = ?"
        var arguments: [(any DatabaseValueConvertible)?] = [projectID]
        if let agentID = filter.agentID {
            clause += " AND root_agent_id = ?"
            arguments.append(agentID)
        }
        for (key, value) in filter.metadata {
            clause += " AND EXISTS (SELECT 1 FROM json_each(sessions.body, '$.metadata') AS m WHERE m.key = ? AND m.value = ? AND m.type = 'text')"
            arguments.append(key)
            arguments.append(value)
        }
        return try await page(table: "sessions", where: clause, arguments: arguments, query: query)
    }

    public func deleteSession(projectID: String, id: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM sessions WHERE id = ? AND project_id = ?", arguments: [id, projectID])
            guard db.changesCount > 0 else { return false }
            try db.execute(sql: "DELETE FROM turns WHERE session_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM items WHERE session_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM events WHERE session_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM artifacts WHERE session_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM environments WHERE session_id = ? AND project_id = ?", arguments: [id, projectID])
            try db.execute(sql: "DELETE FROM idempotency_keys WHERE project_id = ? AND scope = ?", arguments: [projectID, "events:\(id)"])
            return true
        }
    }

    public func activeSessions() async throws -> [SessionRecord] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT project_id, body, runtime, root_agent_id FROM sessions WHERE status IN ('in_progress', 'requires_action') ORDER BY id"
            ).map { try Self.sessionRecord(projectID: $0["project_id"], row: $0) }
        }
    }

    // MARK: Turns and items

    public func turn(projectID: String, sessionID: String, id: String) async throws -> TurnRecord? {
        try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT body, input, runtime FROM turns WHERE id = ? AND session_id = ? AND project_id = ?",
                arguments: [id, sessionID, projectID]
            ).map(Self.turnRecord)
        }
    }

    private static func turnRecord(_ row: Row) throws -> TurnRecord {
        let turn = try Turn(jsonString: row["body"])
        var input: [InputMessage] = []
        if case .array(let values) = try JSONParser.parse(row["input"] as String) {
            for v in values { input.append(try InputMessage(json: v)) }
        }
        return TurnRecord(turn: turn, input: input, runtime: try JSONParser.parse(row["runtime"] as String))
    }

    public func turns(sessionID: String, statuses: [TurnStatus]) async throws -> [TurnRecord] {
        let placeholders = statuses.map { _ in "?" }.joined(separator: ", ")
        var arguments: [(any DatabaseValueConvertible)?] = [sessionID]
        arguments.append(contentsOf: statuses.map(\.rawValue))
        let statementArguments = StatementArguments(arguments)
        return try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT body, input, runtime FROM turns WHERE session_id = ? AND status IN (\(placeholders)) ORDER BY id",
                arguments: statementArguments
            ).map(Self.turnRecord)
        }
    }

    public func turnJSON(projectID: String, sessionID: String, id: String) async throws -> StoredObject? {
        try await pool.read { db in
            try String.fetchOne(db, sql: "SELECT body FROM turns WHERE id = ? AND session_id = ? AND project_id = ?", arguments: [id, sessionID, projectID])
                .map { StoredObject(id: id, json: $0) }
        }
    }

    public func listTurns(projectID: String, sessionID: String, query: ListQuery) async throws -> Page<StoredObject> {
        try await page(table: "turns", where: "session_id = ? AND project_id = ?", arguments: [sessionID, projectID], query: query)
    }

    public func listItems(projectID: String, sessionID: String, turnID: String?, query: ListQuery) async throws -> Page<StoredObject> {
        if let turnID {
            return try await page(
                table: "items", where: "turn_id = ? AND session_id = ? AND project_id = ?", arguments: [turnID, sessionID, projectID], query: query)
        }
        return try await page(table: "items", where: "session_id = ? AND project_id = ?", arguments: [sessionID, projectID], query: query)
    }

    /// All of a session's items, oldest first. Without `modelItems`, each record's `modelItem`
    /// (the provider form, often as large as the item) is neither read nor parsed.
    public func items(sessionID: String, modelItems: Bool) async throws -> [ItemRecord] {
        try await pool.read { db in
            let columns = modelItems ? "body, model_item" : "body"
            return try Row.fetchAll(db, sql: "SELECT \(columns) FROM items WHERE session_id = ? ORDER BY id", arguments: [sessionID]).map { row in
                let item = try SessionItem(jsonString: row["body"])
                guard modelItems else { return ItemRecord(item: item) }
                let model: String? = row["model_item"]
                return ItemRecord(item: item, modelItem: try model.map { try JSONParser.parse($0) })
            }
        }
    }

    // MARK: Event log

    private struct PreparedWrite: Sendable {
        var projectID: String
        var sessionID: String
        var session: (body: String, runtime: String, rootAgentID: String?, status: String, createdAt: Int64)?
        var turns: [(id: String, status: String, createdAt: Int64, body: String, input: String, runtime: String)]
        var items: [(id: String, turnID: String?, body: String, modelItem: String?)]
        var events: [(eventID: String, type: String, turnID: String?, body: [UInt8])]
        var idempotency: IdempotencyRecord?
    }

    public func commit(_ writes: [SessionWrite]) async throws -> [[StoredEvent]] {
        // Encode outside the writer's critical section.
        let prepared = writes.map { w in
            PreparedWrite(
                projectID: w.projectID,
                sessionID: w.sessionID,
                session: w.session.map {
                    ($0.session.jsonString, JSONWriter.string($0.runtime), $0.session.rootAgentID, $0.session.status.rawValue, $0.session.createdAt)
                },
                turns: w.turns.map {
                    ($0.turn.id, $0.turn.status.rawValue, $0.turn.createdAt, $0.turn.jsonString, JSONWriter.string(.array($0.input.map(\.json))),
                        JSONWriter.string($0.runtime))
                },
                items: w.items.map { ($0.item.id ?? IDGenerator.make(.item), $0.item.turnID, $0.item.jsonString, $0.modelItem.map(JSONWriter.string)) },
                events: w.events.map { ($0.eventID, $0.type, $0.turnID, $0.jsonBytes) },
                idempotency: w.idempotency)
        }
        let now = currentTimeMillis()
        return try await pool.write { db in
            var results: [[StoredEvent]] = []
            results.reserveCapacity(prepared.count)
            for w in prepared {
                // A write may only touch a session of its own project (defence in depth: the
                // runtime checks ownership before it writes).
                let owner = try String.fetchOne(db.cachedStatement(sql: "SELECT project_id FROM sessions WHERE id = ?"), arguments: [w.sessionID])
                if let owner, owner != w.projectID {
                    throw StoreError.conflict("session \(w.sessionID) belongs to another project")
                }
                if owner == nil && w.session == nil {
                    throw StoreError.notFound("session \(w.sessionID)")
                }
                if let s = w.session {
                    try db.cachedStatement(
                        sql: """
                            INSERT INTO sessions (id, project_id, root_agent_id, status, created_at, body, runtime) VALUES (?, ?, ?, ?, ?, ?, ?)
                            ON CONFLICT(id) DO UPDATE SET status = excluded.status, body = excluded.body, runtime = excluded.runtime
                            """
                    ).execute(arguments: [w.sessionID, w.projectID, s.rootAgentID, s.status, s.createdAt, s.body, s.runtime])
                }
                for t in w.turns {
                    try db.cachedStatement(
                        sql: """
                            INSERT INTO turns (id, session_id, project_id, status, created_at, body, input, runtime) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                            ON CONFLICT(id) DO UPDATE SET status = excluded.status, body = excluded.body, input = excluded.input, runtime = excluded.runtime
                            WHERE turns.session_id = excluded.session_id
                            """
                    ).execute(arguments: [t.id, w.sessionID, w.projectID, t.status, t.createdAt, t.body, t.input, t.runtime])
                }
                for i in w.items {
                    try db.cachedStatement(
                        sql: """
                            INSERT INTO items (id, session_id, project_id, turn_id, body, model_item) VALUES (?, ?, ?, ?, ?, ?)
                            ON CONFLICT(id) DO UPDATE SET body = excluded.body, model_item = excluded.model_item
                            WHERE items.session_id = excluded.session_id
                            """
                    ).execute(arguments: [i.id, w.sessionID, w.projectID, i.turnID, i.body, i.modelItem])
                }
                var stored: [StoredEvent] = []
                if !w.events.isEmpty {
                    var seq = try Int64.fetchOne(db.cachedStatement(sql: "SELECT MAX(seq) FROM events WHERE session_id = ?"), arguments: [w.sessionID]) ?? 0
                    let insert = try db.cachedStatement(
                        sql: "INSERT INTO events (session_id, project_id, seq, event_id, type, turn_id, created_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
                    stored.reserveCapacity(w.events.count)
                    for e in w.events {
                        seq += 1
                        try insert.execute(arguments: [w.sessionID, w.projectID, seq, e.eventID, e.type, e.turnID, now, String(decoding: e.body, as: UTF8.self)])
                        stored.append(StoredEvent(sessionID: w.sessionID, sequence: seq, eventID: e.eventID, type: e.type, turnID: e.turnID, json: e.body))
                    }
                }
                if let record = w.idempotency {
                    try Self.saveIdempotency(db, projectID: w.projectID, record: record)
                }
                results.append(stored)
            }
            return results
        }
    }

    public func events(sessionID: String, afterSequence: Int64, limit: Int) async throws -> [StoredEvent] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT seq, event_id, type, turn_id, body FROM events WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                arguments: [sessionID, afterSequence, limit]
            ).map { row in
                StoredEvent(
                    sessionID: sessionID, sequence: row["seq"], eventID: row["event_id"], type: row["type"], turnID: row["turn_id"],
                    json: Array((row["body"] as String).utf8))
            }
        }
    }

    public func eventSequence(sessionID: String, eventID: String) async throws -> Int64? {
        try await pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT seq FROM events WHERE event_id = ? AND session_id = ?", arguments: [eventID, sessionID])
        }
    }

    public func lastEventSequence(sessionID: String) async throws -> Int64 {
        try await pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM events WHERE session_id = ?", arguments: [sessionID]) ?? 0
        }
    }

    // MARK: Artifacts

    public func insertArtifact(projectID: String, artifact: SessionArtifact, sha256: String, content: [UInt8]) async throws {
        let body = artifact.jsonString
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO artifacts (id, project_id, session_id, environment_id, sha256, body, content) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [artifact.id, projectID, artifact.sessionID, artifact.environmentID, sha256, body, Data(content)])
        }
    }

    public func listArtifacts(projectID: String, sessionID: String, environmentID: String?, query: ListQuery) async throws -> Page<StoredObject> {
        if let environmentID {
            return try await page(
                table: "artifacts", where: "session_id = ? AND project_id = ? AND environment_id = ?", arguments: [sessionID, projectID, environmentID], query: query)
        }
        return try await page(table: "artifacts", where: "session_id = ? AND project_id = ?", arguments: [sessionID, projectID], query: query)
    }

    public func artifact(projectID: String, sessionID: String, id: String) async throws -> StoredObject? {
        try await pool.read { db in
            try String.fetchOne(db, sql: "SELECT body FROM artifacts WHERE id = ? AND session_id = ? AND project_id = ?", arguments: [id, sessionID, projectID])
                .map { StoredObject(id: id, json: $0) }
        }
    }

    public func artifactContent(projectID: String, sessionID: String, id: String) async throws -> [UInt8]? {
        try await pool.read { db in
            try Data.fetchOne(db, sql: "SELECT content FROM artifacts WHERE id = ? AND session_id = ? AND project_id = ?", arguments: [id, sessionID, projectID])
                .map { Array($0) }
        }
    }

    public func deleteArtifact(projectID: String, sessionID: String, id: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM artifacts WHERE id = ? AND session_id = ? AND project_id = ?", arguments: [id, sessionID, projectID])
            return db.changesCount > 0
        }
    }

    // MARK: Sandboxes

    public func sandboxSlot(sessionID: String) async throws -> Int64 {
        try await pool.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO sandbox_slots (session_id) VALUES (?)", arguments: [sessionID])
            return try Int64.fetchOne(db, sql: "SELECT slot FROM sandbox_slots WHERE session_id = ?", arguments: [sessionID]) ?? 0
        }
    }

    // MARK: Idempotency

    public func idempotencyRecord(projectID: String, scope: String, key: String) async throws -> IdempotencyRecord? {
        try await pool.read { db in
            try Self.liveIdempotencyRecord(db, projectID: projectID, scope: scope, key: key)
        }
    }

    private static func liveIdempotencyRecord(_ db: Database, projectID: String, scope: String, key: String) throws -> IdempotencyRecord? {
        try Row.fetchOne(
            db, sql: "SELECT request_hash, status, response FROM idempotency_keys WHERE project_id = ? AND scope = ? AND key = ? AND created_at >= ?",
            arguments: [projectID, scope, key, IdempotencyKeys.oldestLive]
        ).map { row in
            IdempotencyRecord(scope: scope, key: key, requestHash: row["request_hash"], status: row["status"], response: row["response"])
        }
    }

    public func reserveIdempotencyKey(projectID: String, record: IdempotencyRecord) async throws -> IdempotencyRecord? {
        try await pool.write { db in
            if let live = try Self.liveIdempotencyRecord(db, projectID: projectID, scope: record.scope, key: record.key) { return live }
            try Self.saveIdempotency(db, projectID: projectID, record: record)
            return nil
        }
    }

    public func completeIdempotencyKey(projectID: String, scope: String, key: String, status: Int, response: String) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE idempotency_keys SET status = ?, response = ? WHERE project_id = ? AND scope = ? AND key = ?",
                arguments: [status, response, projectID, scope, key])
        }
    }

    public func deleteIdempotencyKey(projectID: String, scope: String, key: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM idempotency_keys WHERE project_id = ? AND scope = ? AND key = ?", arguments: [projectID, scope, key])
        }
    }

    public func purgeIdempotencyKeys(createdBefore unixSeconds: Int64) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM idempotency_keys WHERE created_at < ?", arguments: [unixSeconds])
            return db.changesCount
        }
    }

    public func saveIdempotencyRecord(projectID: String, record: IdempotencyRecord) async throws {
        try await pool.write { db in
            try Self.saveIdempotency(db, projectID: projectID, record: record)
        }
    }

    private static func saveIdempotency(_ db: Database, projectID: String, record: IdempotencyRecord) throws {
        try db.execute(
            sql: """
                INSERT INTO idempotency_keys (project_id, scope, key, request_hash, status, response, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(project_id, scope, key) DO UPDATE SET
                    request_hash = excluded.request_hash, status = excluded.status, response = excluded.response, created_at = excluded.created_at
                WHERE idempotency_keys.created_at < ?
                """,
            arguments: [projectID, record.scope, record.key, record.requestHash, record.status, record.response, currentUnixSeconds(), IdempotencyKeys.oldestLive])
    }

    // MARK: Pagination

    func page(table: String, where clause: String, arguments: [(any DatabaseValueConvertible)?], query: ListQuery) async throws -> Page<StoredObject> {
        var sql = "SELECT id, body FROM \(table) WHERE \(clause)"
        var args = arguments
        if let after = query.after {
            sql += query.order == .asc ? " AND id > ?" : " AND id < ?"
            args.append(after)
        }
        sql += query.order == .asc ? " ORDER BY id ASC" : " ORDER BY id DESC"
        sql += " LIMIT ?"
        args.append(query.limit + 1)
        let finalSQL = sql
        let finalArgs = StatementArguments(args)
        let rows = try await pool.read { db in
            try Row.fetchAll(db, sql: finalSQL, arguments: finalArgs).map { StoredObject(id: $0["id"], json: $0["body"]) }
        }
        let hasMore = rows.count > query.limit
        return Page(rows: hasMore ? Array(rows.prefix(query.limit)) : rows, hasMore: hasMore)
    }
}
