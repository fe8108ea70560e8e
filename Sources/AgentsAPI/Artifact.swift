/// `object: "agent.session.artifact"`: an immutable file published by a completed hosted turn
/// (what the agent wrote under `/workspace/outputs/`).
public struct SessionArtifact: Sendable, Equatable, JSONCodable {
    public var id: String
    public var createdAt: Int64
    public var environmentID: String
    public var path: String
    public var sessionID: String
    public var sizeBytes: Int64
    public var turnID: String

    public init(id: String, createdAt: Int64, environmentID: String, path: String, sessionID: String, sizeBytes: Int64, turnID: String) {
        self.id = id
        self.createdAt = createdAt
        self.environmentID = environmentID
        self.path = path
        self.sessionID = sessionID
        self.sizeBytes = sizeBytes
        self.turnID = turnID
    }

    public var json: JSONValue {
        [
            "id": .string(id), "object": "agent.session.artifact", "created_at": .int(createdAt), "environment_id": .string(environmentID),
            "path": .string(path), "session_id": .string(sessionID), "size_bytes": .int(sizeBytes), "turn_id": .string(turnID),
        ]
    }

    public init(json: JSONValue) throws(ValidationError) {
        let r = try JSONReader(json)
        id = try r.string("id")
        createdAt = try r.int("created_at")
        environmentID = try r.string("environment_id")
        path = try r.string("path")
        sessionID = try r.string("session_id")
        sizeBytes = try r.int("size_bytes")
        turnID = try r.string("turn_id")
    }
}
