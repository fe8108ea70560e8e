import AgentsAPI
import Foundation
import Storage
import Testing

/// A fresh directory for one test, removed afterwards.
func withTemporaryDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("storage-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try await body(directory)
}

/// A fresh store in its own directory, closed and removed afterwards.
func withStore<T>(_ body: (SQLiteStore) async throws -> T) async throws -> T {
    try await withTemporaryDirectory { directory in
        let store = try SQLiteStore(path: directory.appendingPathComponent("cma.sqlite").path)
        do {
            let result = try await body(store)
            try store.close()
            return result
        } catch {
            try? store.close()
            throw error
        }
    }
}

/// Builders for stored objects. IDs come from `IDGenerator`, so creation order is ID order.
enum Make {
    static func agent(name: String? = nil, model: String = "gpt-test") -> Agent {
        let now = currentUnixSeconds()
        return Agent(id: IDGenerator.make(.agent), name: name, createdAt: now, updatedAt: now, metadata: Metadata(), config: AgentConfig(model: model))
    }

    static func session(
        id: String = IDGenerator.make(.session), agentID: String? = nil, metadata: [(String, String)] = [], status: SessionStatus = .idle
    ) -> AgentSession {
        AgentSession(
            id: id, agent: SessionAgent(id: agentID ?? IDGenerator.make(.agent), name: nil, config: AgentConfig(model: "gpt-test")),
            rootAgentID: agentID, createdAt: 1_700_000_000, lastActiveAt: 1_700_000_000,
            metadata: try! Metadata(validating: metadata, param: "metadata"), status: status)
    }

    static func turn(sessionID: String, id: String = IDGenerator.make(.turn), status: TurnStatus = .queued, usage: TokenUsage? = nil) -> Turn {
        Turn(id: id, sessionID: sessionID, agentID: "agent_x", status: status, createdAt: 1_700_000_001, usage: usage)
    }

    static func userMessage(turnID: String, text: String = "Hi", id: String = IDGenerator.make(.item)) -> SessionItem {
        .message(MessageItem(id: id, turnID: turnID, role: .user, content: [.inputText(text)], status: .completed))
    }

    static func assistantMessage(turnID: String, text: String, status: OutputItemStatus = .completed, id: String = IDGenerator.make(.item)) -> SessionItem {
        .message(MessageItem(id: id, turnID: turnID, role: .assistant, content: [.outputText(text)], phase: .finalAnswer, status: status))
    }

    static func delta(sessionID: String, turnID: String, _ text: String) -> SessionEvent {
        SessionEvent(.outputTextDelta(PartLocation(sessionID: sessionID, turnID: turnID, itemID: "item_x", outputIndex: 0, index: 0), delta: text))
    }

    /// A session row write with one event announcing it.
    static func sessionWrite(projectID: String, _ session: AgentSession, runtime: JSONValue = [:]) -> SessionWrite {
        SessionWrite(
            projectID: projectID, sessionID: session.id, session: SessionRecord(projectID: projectID, session: session, runtime: runtime),
            events: [SessionEvent(.sessionCreated(session))])
    }
}

/// Walks every page of a listing with `after = last id`, checking `hasMore` on the way.
func walkPages(
    limit: Int, order: ListOrder, sourceLocation: SourceLocation = #_sourceLocation,
    _ list: (ListQuery) async throws -> Page<StoredObject>
) async throws -> [String] {
    var seen: [String] = []
    var after: String?
    var pages = 0
    while true {
        let page = try await list(ListQuery(after: after, limit: limit, order: order))
        pages += 1
        #expect(page.rows.count <= limit, sourceLocation: sourceLocation)
        seen += page.rows.map(\.id)
        if !page.hasMore { break }
        #expect(page.rows.count == limit, "a page with more after it must be full", sourceLocation: sourceLocation)
        guard let last = page.rows.last?.id, pages < 1_000 else {
            Issue.record("hasMore on an empty page", sourceLocation: sourceLocation)
            break
        }
        after = last
    }
    return seen
}

extension StoredObject {
    /// The stored JSON, parsed.
    var value: JSONValue { try! JSONParser.parse(json) }
}

extension SQLiteStore {
    /// Writes a bare session row, so that the store accepts other writes for `id`.
    func seedSession(project: String, _ id: String) async throws {
        _ = try await commit([SessionWrite(projectID: project, sessionID: id, session: SessionRecord(projectID: project, session: Make.session(id: id)))])
    }
}
