public import AgentsAPI

/// Errors from the storage layer.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    case notFound(String)
    case conflict(String)
    case corrupt(String)

    public var description: String {
        switch self {
        case .notFound(let s): return "not found: \(s)"
        case .conflict(let s): return "conflict: \(s)"
        case .corrupt(let s): return "corrupt record: \(s)"
        }
    }
}

/// A stored object as its wire JSON text, ready to be sent without re-encoding.
public struct StoredObject: Sendable, Equatable {
    public var id: String
    public var json: String

    public init(id: String, json: String) {
        self.id = id
        self.json = json
    }
}

/// A page of a cursor-paginated listing.
public struct Page<Row: Sendable>: Sendable {
    public var rows: [Row]
    public var hasMore: Bool

    public init(rows: [Row], hasMore: Bool) {
        self.rows = rows
        self.hasMore = hasMore
    }
}

/// A turn row: the public turn plus what the runtime needs to run it.
public struct TurnRecord: Sendable, Equatable {
    public var turn: Turn
    /// The user messages that start this turn (kept until the turn starts).
    public var input: [InputMessage]
    /// Runtime bookkeeping (opaque to storage).
    public var runtime: JSONValue

    public init(turn: Turn, input: [InputMessage] = [], runtime: JSONValue = .object([:])) {
        self.turn = turn
        self.input = input
        self.runtime = runtime
    }
}

/// An item row: the public item plus the model-provider item it came from, which is sent back
/// verbatim in later requests.
public struct ItemRecord: Sendable, Equatable {
    public var item: SessionItem
    public var modelItem: JSONValue?

    public init(item: SessionItem, modelItem: JSONValue? = nil) {
        self.item = item
        self.modelItem = modelItem
    }
}

/// A session row: the public session plus runtime bookkeeping.
public struct SessionRecord: Sendable, Equatable {
    public var projectID: String
    public var session: AgentSession
    public var runtime: JSONValue

    public init(projectID: String, session: AgentSession, runtime: JSONValue = .object([:])) {
        self.projectID = projectID
        self.session = session
        self.runtime = runtime
    }
}

/// An environment row: its public metadata plus what the runtime needs to provision it. A
/// prewarmed environment keeps its confidential inputs here until a session takes it over.
public struct EnvironmentRecord: Sendable, Equatable {
    public var projectID: String
    public var hosted: HostedEnvironment
    public var secrets: HostedEnvironmentSecrets
    public var status: EnvironmentStatus
    /// The session using the environment, if any.
    public var sessionID: String?
    /// Runtime bookkeeping (opaque to storage).
    public var runtime: JSONValue

    public init(projectID: String, hosted: HostedEnvironment, secrets: HostedEnvironmentSecrets, status: EnvironmentStatus, sessionID: String? = nil, runtime: JSONValue = .object([:])) {
        self.projectID = projectID
        self.hosted = hosted
        self.secrets = secrets
        self.status = status
        self.sessionID = sessionID
        self.runtime = runtime
    }

    public var id: String { hosted.id }
    public var info: EnvironmentInfo { EnvironmentInfo(id: hosted.id, status: status, files: hosted.files, skills: hosted.skills) }
}

/// An idempotent request's remembered outcome.
public struct IdempotencyRecord: Sendable, Equatable {
    public var scope: String
    public var key: String
    public var requestHash: String
    public var status: Int
    public var response: String

    public init(scope: String, key: String, requestHash: String, status: Int, response: String) {
        self.scope = scope
        self.key = key
        self.requestHash = requestHash
        self.status = status
        self.response = response
    }
}

/// Everything one step of a session changes, written in one transaction: row upserts and the
/// events that announce them. Events get the session's next sequence numbers in order.
public struct SessionWrite: Sendable {
    public var projectID: String
    public var sessionID: String
    public var session: SessionRecord?
    public var turns: [TurnRecord]
    public var items: [ItemRecord]
    public var events: [SessionEvent]
    public var idempotency: IdempotencyRecord?

    public init(
        projectID: String, sessionID: String, session: SessionRecord? = nil, turns: [TurnRecord] = [],
        items: [ItemRecord] = [], events: [SessionEvent] = [], idempotency: IdempotencyRecord? = nil
    ) {
        self.projectID = projectID
        self.sessionID = sessionID
        self.session = session
        self.turns = turns
        self.items = items
        self.events = events
        self.idempotency = idempotency
    }
}

/// An event as committed to a session's log.
public struct StoredEvent: Sendable, Equatable {
    public var sessionID: String
    public var sequence: Int64
    public var eventID: String
    public var type: String
    public var turnID: String?
    /// The event's JSON, exactly as sent to clients (without per-connection padding).
    public var json: [UInt8]

    public init(sessionID: String, sequence: Int64, eventID: String, type: String, turnID: String?, json: [UInt8]) {
        self.sessionID = sessionID
        self.sequence = sequence
        self.eventID = eventID
        self.type = type
        self.turnID = turnID
        self.json = json
    }
}

/// Filters for the session listing.
public struct SessionFilter: Sendable, Equatable {
    public var agentID: String?
    public var metadata: [(String, String)]

    public init(agentID: String? = nil, metadata: [(String, String)] = []) {
        self.agentID = agentID
        self.metadata = metadata
    }

    public static func == (lhs: SessionFilter, rhs: SessionFilter) -> Bool {
        lhs.agentID == rhs.agentID && lhs.metadata.elementsEqual(rhs.metadata, by: { $0 == $1 })
    }
}

/// The persistence boundary. Every row belongs to a project; every read names the project, so
/// one project can never see another's objects.
public protocol Store: Sendable {
    // Projects and API keys
    func createProject(name: String) async throws -> String
    func anyProjectID() async throws -> String?
    /// Stores the SHA-256 of a new key. Returns the key's record ID.
    func addAPIKey(projectID: String, keyHash: String, prefix: String) async throws -> String
    func projectID(forKeyHash hash: String) async throws -> String?

    // Agents
    func insertAgent(projectID: String, agent: Agent) async throws
    func agent(projectID: String, id: String) async throws -> Agent?
    /// Applies `update` to the stored agent in one transaction; nil if there is none.
    func updateAgent(projectID: String, id: String, _ update: @Sendable (inout Agent) throws -> Void) async throws -> Agent?
    func listAgents(projectID: String, query: ListQuery) async throws -> Page<StoredObject>
    func deleteAgent(projectID: String, id: String) async throws -> Bool

    // Sessions (writes go through `commit`)
    func session(projectID: String, id: String) async throws -> SessionRecord?
    func sessionJSON(projectID: String, id: String) async throws -> StoredObject?
    func listSessions(projectID: String, query: ListQuery, filter: SessionFilter) async throws -> Page<StoredObject>
    func deleteSession(projectID: String, id: String) async throws -> Bool
    /// Sessions whose status is not idle/failed, for recovery after a restart.
    func activeSessions() async throws -> [SessionRecord]

    // Turns and items
    func turn(projectID: String, sessionID: String, id: String) async throws -> TurnRecord?
    func turns(sessionID: String, statuses: [TurnStatus]) async throws -> [TurnRecord]
    func turnJSON(projectID: String, sessionID: String, id: String) async throws -> StoredObject?
    func listTurns(projectID: String, sessionID: String, query: ListQuery) async throws -> Page<StoredObject>
    func listItems(projectID: String, sessionID: String, turnID: String?, query: ListQuery) async throws -> Page<StoredObject>
    /// Every item of a session in order, for building model input. Without `modelItems`, the
    /// records' provider forms are left out (for reading the items themselves).
    func items(sessionID: String, modelItems: Bool) async throws -> [ItemRecord]

    // Event log
    /// Writes all `writes` in one transaction and returns each write's committed events.
    func commit(_ writes: [SessionWrite]) async throws -> [[StoredEvent]]
    func events(sessionID: String, afterSequence: Int64, limit: Int) async throws -> [StoredEvent]
    func lastEventSequence(sessionID: String) async throws -> Int64
    /// The position of an event in its session's log, or nil when the session has no such event.
    func eventSequence(sessionID: String, eventID: String) async throws -> Int64?

    // Sandboxes
    /// A number unique to this session among all sessions ever created here, stable across
    /// calls (the session's sandbox uid is derived from it).
    func sandboxSlot(sessionID: String) async throws -> Int64

    // Artifacts
    func insertArtifact(projectID: String, artifact: SessionArtifact, sha256: String, content: [UInt8]) async throws
    func listArtifacts(projectID: String, sessionID: String, environmentID: String?, query: ListQuery) async throws -> Page<StoredObject>
    func artifact(projectID: String, sessionID: String, id: String) async throws -> StoredObject?
    func artifactContent(projectID: String, sessionID: String, id: String) async throws -> [UInt8]?
    func deleteArtifact(projectID: String, sessionID: String, id: String) async throws -> Bool

    // Files API
    func insertFile(projectID: String, file: FileObject, content: [UInt8]) async throws
    func file(projectID: String, id: String) async throws -> FileObject?
    func fileContent(projectID: String, id: String) async throws -> [UInt8]?
    func listFiles(projectID: String, query: ListQuery) async throws -> Page<StoredObject>
    func deleteFile(projectID: String, id: String) async throws -> Bool

    // Environment templates
    func insertTemplate(projectID: String, record: EnvironmentTemplateRecord) async throws
    func template(projectID: String, id: String) async throws -> EnvironmentTemplateRecord?
    /// Applies `update` in one transaction; nil if there is no such template.
    func updateTemplate(projectID: String, id: String, _ update: @Sendable (inout EnvironmentTemplateRecord) throws -> Void) async throws
        -> EnvironmentTemplateRecord?
    func listTemplates(projectID: String, query: ListQuery) async throws -> Page<StoredObject>
    func deleteTemplate(projectID: String, id: String) async throws -> Bool

    // Environments (prewarmed ones, and those of hosted sessions)
    func insertEnvironment(_ record: EnvironmentRecord) async throws
    func environment(projectID: String, id: String) async throws -> EnvironmentRecord?
    /// Applies `update` in one transaction; nil if there is no such environment.
    func updateEnvironment(projectID: String, id: String, _ update: @Sendable (inout EnvironmentRecord) throws -> Void) async throws -> EnvironmentRecord?
    func listEnvironments(projectID: String, query: ListQuery) async throws -> Page<StoredObject>
    func deleteEnvironment(projectID: String, id: String) async throws -> Bool

    // Idempotency (keys are kept 24 hours: older ones are ignored and purged)
    func idempotencyRecord(projectID: String, scope: String, key: String) async throws -> IdempotencyRecord?
    func saveIdempotencyRecord(projectID: String, record: IdempotencyRecord) async throws
    /// Inserts `record` unless a live record has the key; returns that record, or nil when
    /// `record` was inserted.
    func reserveIdempotencyKey(projectID: String, record: IdempotencyRecord) async throws -> IdempotencyRecord?
    /// Replaces the outcome of a reserved key.
    func completeIdempotencyKey(projectID: String, scope: String, key: String, status: Int, response: String) async throws
    /// Forgets a key (a reserved request that changed nothing).
    func deleteIdempotencyKey(projectID: String, scope: String, key: String) async throws
    /// Deletes keys created before `unixSeconds`; returns how many.
    func purgeIdempotencyKeys(createdBefore unixSeconds: Int64) async throws -> Int
}

public enum IdempotencyKeys {
    /// How long a key is remembered.
    public static let lifetimeSeconds: Int64 = 24 * 3600
    public static var oldestLive: Int64 { currentUnixSeconds() - lifetimeSeconds }
}

extension Store {
    /// Every item of a session in order, with the records' provider forms.
    public func items(sessionID: String) async throws -> [ItemRecord] {
        try await items(sessionID: sessionID, modelItems: true)
    }
}
