// MARK: - Tools

/// A client-side function tool: the model calls it, the application runs it and submits the
/// result with `agent.session.input.tool_result`.
public struct FunctionTool: Sendable, Equatable {
    public var name: String
    public var description: String
    public var parameters: JSONObject
    public var deferLoading: Bool
    public var isAsync: Bool?

    public init(name: String, description: String, parameters: JSONObject, deferLoading: Bool = false, isAsync: Bool? = nil) {
        self.name = name
        self.description = description
        self.parameters = parameters
        self.deferLoading = deferLoading
        self.isAsync = isAsync
    }

    public var json: JSONValue {
        var o = JSONObject()
        o["type"] = "function"
        o["name"] = .string(name)
        o["description"] = .string(description)
        o["parameters"] = .object(parameters)
        o["defer_loading"] = .bool(deferLoading)
        o.set("async", isAsync.map { .bool($0) })
        return .object(o)
    }
}

/// A tool in an agent definition. Types this version does not run are kept as given so stored
/// definitions survive upgrades.
public enum AgentTool: Sendable, Equatable, JSONCodable {
    case function(FunctionTool)
    case mcp(MCPTool)
    case webSearch(WebSearchTool)
    case other(JSONObject)

    public var type: String {
        switch self {
        case .function: return "function"
        case .mcp: return "mcp"
        case .webSearch: return "web_search"
        case .other(let o): return o["type"]?.stringValue ?? "unknown"
        }
    }

    /// The reusable-agent form (MCP headers included; authorization and env never).
    public var json: JSONValue {
        switch self {
        case .function(let f): return f.json
        case .mcp(let m): return m.json
        case .webSearch(let w): return w.json
        case .other(let o): return .object(o)
        }
    }

    /// The session form: no MCP headers either.
    public var sessionJSON: JSONValue {
        if case .mcp(let m) = self { return m.json(includingHeaders: false) }
        return json
    }

    public init(json: JSONValue) throws(ValidationError) {
        let r = try JSONReader(json)
        let type = try r.optionalString("type")
        if type == "mcp" {
            self = .mcp(try MCPTool(reading: r))
        } else if type == "web_search" {
            self = .webSearch(try WebSearchTool(reading: r))
        } else if type == "function" {
            self = .function(
                FunctionTool(
                    name: try r.string("name"),
                    description: try r.optionalString("description") ?? "",
                    parameters: try r.objectField("parameters").value?.object ?? [:],
                    deferLoading: try r.boolField("defer_loading").value ?? false,
                    isAsync: try r.boolField("async").value))
        } else {
            self = .other(r.object)
        }
    }
}

// MARK: - Agent configuration pieces

public struct ReasoningConfig: Sendable, Equatable, JSONCodable {
    public var effort: ReasoningEffort?
    public var summary: ReasoningSummary?

    public init(effort: ReasoningEffort? = nil, summary: ReasoningSummary? = nil) {
        self.effort = effort
        self.summary = summary
    }

    public var json: JSONValue {
        ["effort": effort.map { .string($0.rawValue) } ?? .null, "summary": summary.map { .string($0.rawValue) } ?? .null]
    }

    public init(json: JSONValue) throws(ValidationError) {
        let r = try JSONReader(json)
        effort = try r.enumField("effort", ReasoningEffort.self).value
        summary = try r.enumField("summary", ReasoningSummary.self).value
    }
}

public enum TextFormat: Sendable, Equatable {
    case text
    case jsonSchema(JSONObject)

    public var json: JSONValue {
        switch self {
        case .text: return ["type": "text"]
        case .jsonSchema(let schema): return ["type": "json_schema", "schema": .object(schema)]
        }
    }
}

public struct TextConfig: Sendable, Equatable, JSONCodable {
    public var format: TextFormat
    public var verbosity: Verbosity

    public init(format: TextFormat = .text, verbosity: Verbosity = .medium) {
        self.format = format
        self.verbosity = verbosity
    }

    public var json: JSONValue {
        ["format": format.json, "verbosity": .string(verbosity.rawValue)]
    }

    public init(json: JSONValue) throws(ValidationError) {
        let r = try JSONReader(json)
        verbosity = try r.enumField("verbosity", Verbosity.self).value ?? .medium
        if let f = try r.objectField("format").value, try f.optionalString("type") == "json_schema" {
            format = .jsonSchema(try f.objectField("schema").value?.object ?? [:])
        } else {
            format = .text
        }
    }
}

public struct MultiAgentConfig: Sendable, Equatable, JSONCodable {
    public var enabled: Bool
    public var maxConcurrentSubagents: Int64?

    public init(enabled: Bool = false, maxConcurrentSubagents: Int64? = nil) {
        self.enabled = enabled
        self.maxConcurrentSubagents = enabled ? (maxConcurrentSubagents ?? 6) : nil
    }

    public var json: JSONValue {
        ["enabled": .bool(enabled), "max_concurrent_subagents": maxConcurrentSubagents.jsonOrNull]
    }

    public init(json: JSONValue) throws(ValidationError) {
        let r = try JSONReader(json)
        enabled = try r.boolField("enabled").value ?? false
        maxConcurrentSubagents = try r.intField("max_concurrent_subagents").value
    }
}

/// The resolved definition of an agent: what a saved Agent stores and what a session runs with.
public struct AgentConfig: Sendable, Equatable {
    public var model: String
    public var instructions: String?
    public var reasoning: ReasoningConfig
    public var serviceTier: ServiceTier
    public var text: TextConfig
    public var tools: [AgentTool]
    public var multiAgent: MultiAgentConfig
    /// `compaction.async`.
    public var asyncCompaction: Bool
    /// `experimental.time_awareness`.
    public var timeAwareness: Bool

    public init(
        model: String,
        instructions: String? = nil,
        reasoning: ReasoningConfig = .init(),
        serviceTier: ServiceTier = .auto,
        text: TextConfig = .init(),
        tools: [AgentTool] = [],
        multiAgent: MultiAgentConfig = .init(),
        asyncCompaction: Bool = false,
        timeAwareness: Bool = false
    ) {
        self.model = model
        self.instructions = instructions
        self.reasoning = reasoning
        self.serviceTier = serviceTier
        self.text = text
        self.tools = tools
        self.multiAgent = multiAgent
        self.asyncCompaction = asyncCompaction
        self.timeAwareness = timeAwareness
    }

    public var functionTools: [FunctionTool] {
        tools.compactMap { if case .function(let f) = $0 { return f } else { return nil } }
    }

    public var mcpTools: [MCPTool] {
        tools.compactMap { if case .mcp(let m) = $0 { return m } else { return nil } }
    }

    public var webSearch: WebSearchTool? {
        for case .webSearch(let w) in tools { return w }
        return nil
    }

    /// Writes the configuration fields shared by `Agent` and `SessionAgent` into `o`.
    /// `session`: MCP tools without their headers.
    public func write(into o: inout JSONObject, session: Bool = false) {
        o.set("instructions", instructions.map { .string($0) })
        o["model"] = .string(model)
        o["multi_agent"] = multiAgent.json
        o["reasoning"] = reasoning.json
        o["service_tier"] = .string(serviceTier.rawValue)
        o["text"] = text.json
        o["tools"] = .array(tools.map { session ? $0.sessionJSON : $0.json })
        o["compaction"] = ["async": .bool(asyncCompaction)]
        o["experimental"] = ["time_awareness": .bool(timeAwareness)]
    }

    public init(reading r: JSONReader) throws(ValidationError) {
        model = try r.string("model")
        instructions = try r.optionalString("instructions")
        reasoning = try r.objectField("reasoning").value.map { (x: JSONReader) throws(ValidationError) in try ReasoningConfig(json: .object(x.object)) } ?? .init()
        serviceTier = try r.enumField("service_tier", ServiceTier.self).value ?? .auto
        text = try r.objectField("text").value.map { (x: JSONReader) throws(ValidationError) in try TextConfig(json: .object(x.object)) } ?? .init()
        var tools: [AgentTool] = []
        for t in try r.arrayField("tools").value ?? [] { tools.append(try AgentTool(json: t)) }
        self.tools = tools
        multiAgent = try r.objectField("multi_agent").value.map { (x: JSONReader) throws(ValidationError) in try MultiAgentConfig(json: .object(x.object)) } ?? .init()
        asyncCompaction = try r.objectField("compaction").value?.boolField("async").value ?? false
        timeAwareness = try r.objectField("experimental").value?.boolField("time_awareness").value ?? false
    }
}

// MARK: - Agent

/// A reusable agent (`object: "agent"`), scoped to a project.
public struct Agent: Sendable, Equatable, JSONCodable {
    public var id: String
    public var name: String?
    public var createdAt: Int64
    public var updatedAt: Int64
    public var metadata: Metadata
    public var config: AgentConfig

    public init(id: String, name: String?, createdAt: Int64, updatedAt: Int64, metadata: Metadata, config: AgentConfig) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.metadata = metadata
        self.config = config
    }

    public var json: JSONValue {
        var o = JSONObject()
        o["id"] = .string(id)
        o["object"] = "agent"
        o["created_at"] = .int(createdAt)
        o["updated_at"] = .int(updatedAt)
        o["name"] = name.jsonOrNull
        o["metadata"] = metadata.json
        config.write(into: &o)
        return .object(o)
    }

    public init(json: JSONValue) throws(ValidationError) {
        let r = try JSONReader(json)
        id = try r.string("id")
        name = try r.optionalString("name")
        createdAt = try r.int("created_at")
        updatedAt = try r.int("updated_at")
        metadata = try r.objectField("metadata").value.map { (x: JSONReader) throws(ValidationError) in try Metadata(json: .object(x.object)) } ?? Metadata()
        config = try AgentConfig(reading: r)
    }
}
