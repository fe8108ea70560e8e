public import AgentsAPI
import Foundation
import GRDB

/// Files API uploads, environment templates and environments.
extension SQLiteStore {
    // MARK: Files

    public func insertFile(projectID: String, file: FileObject, content: [UInt8]) async throws {
        let body = file.jsonString
        try await pool.write { db in
            try db.execute(sql: "INSERT INTO files (id, project_id, body, content) VALUES (?, ?, ?, ?)", arguments: [file.id, projectID, body, Data(content)])
        }
    }

    public func file(projectID: String, id: String) async throws -> FileObject? {
        let body = try await pool.read { db in
            try String.fetchOne(db, sql: "SELECT body FROM files WHERE id = ? AND project_id = ?", arguments: [id, projectID])
        }
        return try body.map { try FileObject(jsonString: $0) }
    }

    public func fileContent(projectID: String, id: String) async throws -> [UInt8]? {
        try await pool.read { db in
            try Data.fetchOne(db, sql: "SELECT content FROM files WHERE id = ? AND project_id = ?", arguments: [id, projectID]).map { Array($0) }
        }
    }

    public func listFiles(projectID: String, query: ListQuery) async throws -> Page<StoredObject> {
        try await page(table: "files", where: "project_id = ?", arguments: [projectID], query: query)
    }

    public func deleteFile(projectID: String, id: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM files WHERE id = ? AND project_id = ?", arguments: [id, projectID])
            return db.changesCount > 0
        }
    }

    // MARK: Templates

    public func insertTemplate(projectID: String, record: EnvironmentTemplateRecord) async throws {
        let row = Self.templateColumns(record)
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO environment_templates (id, project_id, body, stored, secrets) VALUES (?, ?, ?, ?, ?)",
                arguments: [record.template.id, projectID, row.body, row.stored, row.secrets])
        }
    }

    private static func templateColumns(_ record: EnvironmentTemplateRecord) -> (body: String, stored: String, secrets: String) {
        (record.template.jsonString, JSONWriter.string(record.template.storedJSON), JSONWriter.string(record.secrets.json))
    }

    private static func templateRecord(stored: String, secrets: String) throws -> EnvironmentTemplateRecord {
        EnvironmentTemplateRecord(template: try EnvironmentTemplate(jsonString: stored), secrets: HostedEnvironmentSecrets(json: try JSONParser.parse(secrets)))
    }

    public func template(projectID: String, id: String) async throws -> EnvironmentTemplateRecord? {
        let row = try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT stored, secrets FROM environment_templates WHERE id = ? AND project_id = ?", arguments: [id, projectID])
        }
        guard let row else { return nil }
        return try Self.templateRecord(stored: row["stored"], secrets: row["secrets"])
    }

    public func updateTemplate(projectID: String, id: String, _ update: @Sendable (inout EnvironmentTemplateRecord) throws -> Void) async throws
        -> EnvironmentTemplateRecord?
    {
        try await pool.write { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT stored, secrets FROM environment_templates WHERE id = ? AND project_id = ?", arguments: [id, projectID])
            else { return nil }
            var record = try Self.templateRecord(stored: row["stored"], secrets: row["secrets"])
            try update(&record)
            let columns = Self.templateColumns(record)
            try db.execute(
                sql: "UPDATE environment_templates SET body = ?, stored = ?, secrets = ? WHERE id = ? AND project_id = ?",
                arguments: [columns.body, columns.stored, columns.secrets, id, projectID])
            return record
        }
    }

    public func listTemplates(projectID: String, query: ListQuery) async throws -> Page<StoredObject> {
        try await page(table: "environment_templates", where: "project_id = ?", arguments: [projectID], query: query)
    }

    public func deleteTemplate(projectID: String, id: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM environment_templates WHERE id = ? AND project_id = ?", arguments: [id, projectID])
            return db.changesCount > 0
        }
    }

    // MARK: Environments

    public func insertEnvironment(_ record: EnvironmentRecord) async throws {
        try await pool.write { db in
            try Self.writeEnvironment(db, record, insert: true)
        }
    }

    private static func writeEnvironment(_ db: Database, _ record: EnvironmentRecord, insert: Bool) throws {
        let arguments: StatementArguments = [
            record.sessionID, record.status.rawValue, record.info.jsonString, JSONWriter.string(record.hosted.json), JSONWriter.string(record.secrets.json),
            JSONWriter.string(record.runtime), record.id, record.projectID,
        ]
        if insert {
            try db.execute(
                sql: "INSERT INTO environments (session_id, status, body, config, secrets, runtime, id, project_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                arguments: arguments)
        } else {
            try db.execute(
                sql: "UPDATE environments SET session_id = ?, status = ?, body = ?, config = ?, secrets = ?, runtime = ? WHERE id = ? AND project_id = ?",
                arguments: arguments)
        }
    }

    private static func environmentRecord(projectID: String, _ row: Row) throws -> EnvironmentRecord {
        let config = try JSONParser.parse(row["config"] as String)
        let hosted = try SessionEnvironment(json: config).hosted ?? HostedEnvironment(id: row["id"])
        return EnvironmentRecord(
            projectID: projectID, hosted: hosted, secrets: HostedEnvironmentSecrets(json: try JSONParser.parse(row["secrets"] as String)),
            status: EnvironmentStatus(rawValue: row["status"]) ?? .failed, sessionID: row["session_id"], runtime: try JSONParser.parse(row["runtime"] as String))
    }

    public func environment(projectID: String, id: String) async throws -> EnvironmentRecord? {
        let row = try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM environments WHERE id = ? AND project_id = ?", arguments: [id, projectID])
        }
        return try row.map { try Self.environmentRecord(projectID: projectID, $0) }
    }

    public func updateEnvironment(projectID: String, id: String, _ update: @Sendable (inout EnvironmentRecord) throws -> Void) async throws -> EnvironmentRecord? {
        try await pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM environments WHERE id = ? AND project_id = ?", arguments: [id, projectID]) else {
                return nil
            }
            var record = try Self.environmentRecord(projectID: projectID, row)
            try update(&record)
            try Self.writeEnvironment(db, record, insert: false)
            return record
        }
    }

    public func listEnvironments(projectID: String, query: ListQuery) async throws -> Page<StoredObject> {
        try await page(table: "environments", where: "project_id = ?", arguments: [projectID], query: query)
    }

    public func deleteEnvironment(projectID: String, id: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM environments WHERE id = ? AND project_id = ?", arguments: [id, projectID])
            return db.changesCount > 0
        }
    }
}
