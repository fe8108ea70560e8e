public enum SessionStatus: String, Sendable, CaseIterable {
    case idle
    case inProgress = "in_progress"
    case requiresAction = "requires_action"
    case failed
}

/// The environment a session runs in: `none`, or a hosted sandbox.
public enum SessionEnvironment: Sendable, Equatable, JSONCodable {
    case none
    case hosted(HostedEnvironment)
    case other(JSONObject)

    public var type: String {
        switch self {
        case .none: return "none"
        case .hosted: return "openai_hosted"
        case .other(let o): return o["type"]?.stringValue ?? "unknown"
        }
    }

    public var hosted: HostedEnvironment? {
        if case .hosted(let h) = self { return h }
        return nil
    }

    public var json: JSONValue {
        switch self {
        case .none: return ["type": "none"]
        case .hosted(let h): return h.json
        case .other(let o): return .object(o)
        }
    }

    public init(json: JSONValue) throws(ValidationError) {
        let r = try JSONReader(json)
        switch try r.optionalString("type") {
        case "none": self = .none
        case "openai_hosted": self = .hosted(try HostedEnvironment(reading: r))
        default: self = .other(r.object)
        }
    }
}

/// Something the session waits for before it can continue.
public enum RequiredAction: Sendable, Equatable, JSONCodable {
    case functionCall(callID: String, name: String, arguments: JSONValue, turnID: String)
    /// An MCP tool call that needs the user's approval.
    case mcpApproval(requestID: String, serverLabel: String, message: String, name: String?, arguments: JSONValue, turnID: String)

    public var json: JSONValue {
        switch self {
        case .functionCall(let callID, let name, let arguments, let turnID):
            return ["type": "function_call", "arguments": arguments, "call_id": .string(callID), "name": .string(name), "turn_id": .string(turnID)]
        case .mcpApproval(let requestID, let serverLabel, let message, let name, let arguments, let turnID):
            return [
                "type": "mcp_approval_request", "request_id": .string(requestID), "turn_id": .string(turnID),
                "request": [
                    "type": "mcp_tool_call", "server_label": .string(serverLabel), "message": .string(message), "name": name.map { .string($0) } ?? .null,
                    "arguments": arguments,
                ],
            ]
        }
    }

    public init(json: JSONValue) throws(ValidationError) {
        let r = try JSONReader(json)
        switch try r.string("type") {
        case "function_call":
            self = .functionCall(callID: try r.string("call_id"), name: try r.string("name"), arguments: r["arguments"] ?? .null, turnID: try r.string("turn_id"))
        case "mcp_approval_request":
            let q = try r.object("request")
            self = .mcpApproval(
                requestID: try r.string("request_id"), serverLabel: try q.string("server_label"), message: try q.string("message"),
                name: try q.optionalString("name"), arguments: q["arguments"] ?? .null, turnID: try r.string("turn_id"))
        case let other:
            throw ValidationError("Unknown required action type '\(other)'.", param: r.param("type"))
        }
    }
}

/// `AgentSession.agent`: the configuration the session runs with.
public struct SessionAgent: Sendable, Equatable, JSONCodable {
    /// The saved agent's ID, or a session-local identity for an inline agent.
    public var id: String
    /// The saved agent's name when the session was created.
    public var name: String?
    public var config: AgentConfig

    public init(id: String, name: String?, config: AgentConfig) {
        self.id = id
        self.name = name
        self.config = config
    }

    public var json: JSONValue {
        var o = JSONObject()
        o["id"] = .string(id)
        o["name"] = name.jsonOrNull
        config.write(into: &o, session: true)
        return .object(o)
    }

    public init(json: JSONValue) throws(ValidationError) {
        let r = try JSONReader(json)
        id = try r.string("id")
        name = try r.optionalString("name")
        config = try AgentConfig(reading: r)
    }
}

/// `object: "agent.session"`.
public struct AgentSession: Sendable, Equatable, JSONCodable {
    public var id: String
    public var agent: SessionAgent
    /// The saved agent the session was created from (for the `agent_id` list filter).
    public var rootAgentID: String?
    public var createdAt: Int64
    public var lastActiveAt: Int64
    public var environment: SessionEnvironment
    public var error: String?
    public var metadata: Metadata
    public var requiredActions: [RequiredAction]
    public var status: SessionStatus
    public var usage: TokenUsage?
    public var vaultIDs: [String]
    public var promptCacheTTL: PromptCacheTTL?
    public var review: ReviewMode

    public init(
        id: String, agent: SessionAgent, rootAgentID: String?, createdAt: Int64, lastActiveAt: Int64,
        environment: SessionEnvironment = .none, error: String? = nil, metadata: Metadata = .init(),
        requiredActions: [RequiredAction] = [], status: SessionStatus = .idle, usage: TokenUsage? = nil,
        vaultIDs: [String] = [], promptCacheTTL: PromptCacheTTL? = nil, review: ReviewMode = .none
    ) {
        self.id = id
        self.agent = agent
        self.rootAgentID = rootAgentID
        self.createdAt = createdAt
        self.lastActiveAt = lastActiveAt
        self.environment = environment
        self.error = error
        self.metadata = metadata
        self.requiredActions = requiredActions
        self.status = status
        self.usage = usage
        self.vaultIDs = vaultIDs
        self.promptCacheTTL = promptCacheTTL
        self.review = review
    }

    public var json: JSONValue {
        var o = JSONObject()
        o["id"] = .string(id)
        o["object"] = "agent.session"
        o["agent"] = agent.json
        o["created_at"] = .int(createdAt)
        o["last_active_at"] = .int(lastActiveAt)
        o["environment"] = environment.json
        o["error"] = error.jsonOrNull
        o["metadata"] = metadata.json
        o["required_actions"] = .array(requiredActions.map(\.json))
        o["status"] = .string(status.rawValue)
        o["usage"] = usage?.json ?? .null
        o["vault_ids"] = .array(vaultIDs.map { .string($0) })
        o.set("prompt_cache_options", promptCacheTTL.map { ["ttl": .string($0.rawValue)] })
        if review != .none { o["review"] = .string(review.rawValue) }
        return .object(o)
    }

    public init(json: JSONValue) throws(ValidationError) {
        let r = try JSONReader(json)
        id = try r.string("id")
        agent = try SessionAgent(json: r.required("agent"))
        rootAgentID = nil
        createdAt = try r.int("created_at")
        lastActiveAt = try r.int("last_active_at")
        environment = try SessionEnvironment(json: r.required("environment"))
        error = try r.optionalString("error")
        metadata = try r.objectField("metadata").value.map { (x: JSONReader) throws(ValidationError) in try Metadata(json: .object(x.object)) } ?? Metadata()
        var actions: [RequiredAction] = []
        for a in try r.arrayField("required_actions").value ?? [] { actions.append(try RequiredAction(json: a)) }
        requiredActions = actions
        status = try r.requiredEnum("status", SessionStatus.self)
        usage = try r.field("usage").value.map { (v: JSONValue) throws(ValidationError) in try TokenUsage(json: v) }
        vaultIDs = try r.stringArrayField("vault_ids").value ?? []
        promptCacheTTL = try r.objectField("prompt_cache_options").value?.enumField("ttl", PromptCacheTTL.self).value
        review = try r.enumField("review", ReviewMode.self).value ?? .none
    }
}

// MARK: - Turns

public enum TurnStatus: String, Sendable, CaseIterable {
    case queued
    case inProgress = "in_progress"
    case waiting
    case completed
    case failed
    case cancelled

    public var isTerminal: Bool {
        self == .completed || self == .failed || self == .cancelled
    }
}

/// `SessionTurnError.code`.
public enum TurnErrorCode: String, Sendable, CaseIterable {
    case contextLengthExceeded = "context_length_exceeded"
    case maxOutputTokens = "max_output_tokens"
    case usageLimitExceeded = "usage_limit_exceeded"
    case projectSpendLimitExceeded = "project_spend_limit_exceeded"
    case organizationSpendLimitExceeded = "organization_spend_limit_exceeded"
    case organizationUsageLimitExceeded = "organization_usage_limit_exceeded"
    case billingNotActive = "billing_not_active"
    case creditBalanceExhausted = "credit_balance_exhausted"
    case rateLimitExceeded = "rate_limit_exceeded"
    case flexUnavailable = "flex_unavailable"
    case serverOverloaded = "server_overloaded"
    case cyberPolicy = "cyber_policy"
    case misalignmentPolicyViolation = "misalignment_policy_violation"
    case connectionFailed = "connection_failed"
    case serverError = "server_error"
    case authenticationError = "authentication_error"
    case invalidRequest = "invalid_request"
    case resourceNotFound = "resource_not_found"
    case sandboxError = "sandbox_error"
    case executorVersionIncompatible = "executor_version_incompatible"
    case activeTurnNotSteerable = "active_turn_not_steerable"
    case requestTimeout = "request_timeout"
    case internalError = "internal_error"
}

public struct TurnError: Sendable, Equatable, JSONCodable {
    public var code: TurnErrorCode
    public var message: String

    public init(code: TurnErrorCode, message: String) {
        self.code = code
        self.message = message
    }

    public var json: JSONValue { ["code": .string(code.rawValue), "message": .string(message)] }

    public init(json: JSONValue) throws(ValidationError) {
        let r = try JSONReader(json)
        code = try r.enumField("code", TurnErrorCode.self).value ?? .internalError
        message = try r.optionalString("message") ?? ""
    }
}

/// `object: "agent.session.turn"`.
public struct Turn: Sendable, Equatable, JSONCodable {
    public var id: String
    public var sessionID: String
    public var agentID: String
    public var status: TurnStatus
    public var createdAt: Int64
    public var startedAt: Int64?
    public var completedAt: Int64?
    public var error: TurnError?
    public var usage: TokenUsage?
    public var promptCacheTTL: PromptCacheTTL?

    public init(
        id: String, sessionID: String, agentID: String, status: TurnStatus, createdAt: Int64,
        startedAt: Int64? = nil, completedAt: Int64? = nil, error: TurnError? = nil, usage: TokenUsage? = nil,
        promptCacheTTL: PromptCacheTTL? = nil
    ) {
        self.id = id
        self.sessionID = sessionID
        self.agentID = agentID
        self.status = status
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.completedAt = completedAt
        self.error = error
        self.usage = usage
        self.promptCacheTTL = promptCacheTTL
    }

    public var json: JSONValue {
        var o = JSONObject()
        o["id"] = .string(id)
        o["object"] = "agent.session.turn"
        o["session_id"] = .string(sessionID)
        o["agent_id"] = .string(agentID)
        o["status"] = .string(status.rawValue)
        o["created_at"] = .int(createdAt)
        o["started_at"] = startedAt.jsonOrNull
        o["completed_at"] = completedAt.jsonOrNull
        o["error"] = error?.json ?? .null
        o["subagent_id"] = .null
        o["usage"] = usage?.json ?? .null
        o.set("prompt_cache_options", promptCacheTTL.map { ["ttl": .string($0.rawValue)] })
        return .object(o)
    }

    public init(json: JSONValue) throws(ValidationError) {
        let r = try JSONReader(json)
        id = try r.string("id")
        sessionID = try r.string("session_id")
        agentID = try r.string("agent_id")
        status = try r.requiredEnum("status", TurnStatus.self)
        createdAt = try r.int("created_at")
        startedAt = try r.intField("started_at").value
        completedAt = try r.intField("completed_at").value
        error = try r.field("error").value.map { (v: JSONValue) throws(ValidationError) in try TurnError(json: v) }
        usage = try r.field("usage").value.map { (v: JSONValue) throws(ValidationError) in try TokenUsage(json: v) }
        promptCacheTTL = try r.objectField("prompt_cache_options").value?.enumField("ttl", PromptCacheTTL.self).value
    }
}
