/// Request bodies, validated. Every parser reads a `JSONValue` (so omitted and `null` stay
/// distinct), rejects unknown fields where the schema is closed, and reports the offending
/// field's path in `ValidationError.param`.
public enum RequestLimits {
    /// Compact UTF-8 JSON size limit of a tool list.
    public static let maxToolsBytes = 3 * 1024 * 1024
    public static let maxModelNameLength = 256
    public static let maxFunctionNameLength = 64
    public static let maxInstructionsBytes = 1024 * 1024
    public static let maxEventsPerRequest = 100
    public static let maxMessagesPerInput = 100
    public static let maxContentPartsPerMessage = 100
    public static let maxNameLength = 256
    public static let maxIDLength = 128
}

extension ValidationError {
    /// A request for something this server does not do yet.
    public static func notAvailable(_ what: String, param: String?) -> ValidationError {
        ValidationError("\(what) not available yet on this server.", param: param, code: "feature_not_available")
    }

    public static func invalid(_ message: String, param: String?) -> ValidationError {
        ValidationError(message, param: param, code: "invalid_value")
    }
}

// MARK: - Shared pieces

enum ConfigParsing {
    static func model(_ r: JSONReader, _ key: String = "model") throws(ValidationError) -> String {
        let model = try r.string(key)
        guard !model.isEmpty, model.utf8.count <= RequestLimits.maxModelNameLength else {
            throw .invalid("'\(r.param(key))' must be a non-empty string of at most \(RequestLimits.maxModelNameLength) bytes.", param: r.param(key))
        }
        guard !model.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
            throw .invalid("'\(r.param(key))' must not contain control characters.", param: r.param(key))
        }
        return model
    }

    static func instructions(_ r: JSONReader) throws(ValidationError) -> Field<String> {
        let field = try r.stringField("instructions")
        if let s = field.value, s.utf8.count > RequestLimits.maxInstructionsBytes {
            throw .invalid("'\(r.param("instructions"))' is too long (limit \(RequestLimits.maxInstructionsBytes) bytes).", param: r.param("instructions"))
        }
        return field
    }

    static func reasoning(_ r: JSONReader, allowSummary: Bool = true) throws(ValidationError) -> Field<ReasoningConfig> {
        switch try r.objectField("reasoning") {
        case .absent: return .absent
        case .null: return .null
        case .value(let o):
            try o.rejectUnknown(allowSummary ? ["effort", "summary"] : ["effort"])
            return .value(ReasoningConfig(effort: try o.enumField("effort", ReasoningEffort.self).value, summary: try o.enumField("summary", ReasoningSummary.self).value))
        }
    }

    static func text(_ r: JSONReader) throws(ValidationError) -> Field<TextConfig> {
        switch try r.objectField("text") {
        case .absent: return .absent
        case .null: return .null
        case .value(let o):
            try o.rejectUnknown(["format", "verbosity"])
            var config = TextConfig()
            config.verbosity = try o.enumField("verbosity", Verbosity.self).value ?? .medium
            if let f = try o.objectField("format").value {
                switch try f.string("type") {
                case "text":
                    try f.rejectUnknown(["type"])
                    config.format = .text
                case "json_schema":
                    try f.rejectUnknown(["type", "schema"])
                    config.format = .jsonSchema(try f.object("schema").object)
                case let other:
                    throw .invalid("Invalid value for '\(f.param("type"))': '\(other.prefix(64))'. Supported values are: 'text', 'json_schema'.", param: f.param("type"))
                }
            }
            return .value(config)
        }
    }

    static func serviceTier(_ r: JSONReader) throws(ValidationError) -> Field<ServiceTier> {
        try r.enumField("service_tier", ServiceTier.self)
    }

    static func multiAgent(_ r: JSONReader) throws(ValidationError) -> Field<MultiAgentConfig> {
        switch try r.objectField("multi_agent") {
        case .absent: return .absent
        case .null: return .null
        case .value(let o):
            try o.rejectUnknown(["enabled", "max_concurrent_subagents"])
            guard let enabled = try o.boolField("enabled").value else {
                throw ValidationError("Missing required parameter: '\(o.param("enabled"))'.", param: o.param("enabled"), code: "missing_required_parameter")
            }
            if let max = try o.intField("max_concurrent_subagents").value, max < 1 {
                throw .invalid("'\(o.param("max_concurrent_subagents"))' must be at least 1.", param: o.param("max_concurrent_subagents"))
            }
            if enabled { throw .notAvailable("Subagents (multi_agent.enabled) are", param: o.param("enabled")) }
            return .value(MultiAgentConfig(enabled: false))
        }
    }

    /// `compaction`: `null` or `{}` means blocking compaction; `{"async": true}` background compaction.
    static func compaction(_ r: JSONReader) throws(ValidationError) -> Field<Bool> {
        switch try r.objectField("compaction") {
        case .absent: return .absent
        case .null: return .value(false)
        case .value(let o):
            try o.rejectUnknown(["async"])
            return .value(try o.boolField("async").value ?? false)
        }
    }

    /// `experimental`: merged by key.
    static func experimental(_ r: JSONReader) throws(ValidationError) -> Bool? {
        guard let o = try r.objectField("experimental").value else {
            if case .null = r.field("experimental") {
                throw ValidationError("'\(r.param("experimental"))' must be an object.", param: r.param("experimental"), code: "invalid_type")
            }
            return nil
        }
        try o.rejectUnknown(["time_awareness"])
        return try o.boolField("time_awareness").value
    }

    static func name(_ r: JSONReader) throws(ValidationError) -> Field<String> {
        let field = try r.stringField("name")
        if let s = field.value, s.utf8.count > RequestLimits.maxNameLength {
            throw .invalid("'\(r.param("name"))' can be at most \(RequestLimits.maxNameLength) bytes long.", param: r.param("name"))
        }
        return field
    }

    private static let functionNameCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-".unicodeScalars)

    /// A tool list. `persisted` selects the reusable-agent schema (no credentials).
    static func tools(_ r: JSONReader, persisted: Bool) throws(ValidationError) -> Field<[AgentTool]> {
        switch try r.arrayField("tools") {
        case .absent: return .absent
        case .null: return .null
        case .value(let values):
            if JSONWriter.bytes(.array(values)).count > RequestLimits.maxToolsBytes {
                throw .invalid("'\(r.param("tools"))' must fit in \(RequestLimits.maxToolsBytes) bytes of compact JSON.", param: r.param("tools"))
            }
            var tools: [AgentTool] = []
            var names = Set<String>()
            var labels = Set<String>()
            for t in try r.objectArray(values, key: "tools") {
                let type = try t.string("type")
                switch type {
                case "function":
                    try t.rejectUnknown(["type", "name", "description", "parameters", "defer_loading", "async"])
                    let name = try t.string("name")
                    guard !name.isEmpty, name.unicodeScalars.count <= RequestLimits.maxFunctionNameLength,
                        name.unicodeScalars.allSatisfy({ functionNameCharacters.contains($0) })
                    else {
                        throw .invalid("Invalid '\(t.param("name"))': function names must be 1 to 64 characters of a-z, A-Z, 0-9, '_' or '-'.", param: t.param("name"))
                    }
                    guard names.insert(name).inserted else {
                        throw .invalid("Duplicate function name '\(name)': tool names must be unique.", param: t.param("name"))
                    }
                    let description = try t.string("description")
                    let parameters = try t.object("parameters").object
                    let deferLoading = try t.boolField("defer_loading").value ?? false
                    if deferLoading { throw .notAvailable("Deferred tool loading (defer_loading) is", param: t.param("defer_loading")) }
                    let isAsync = try t.boolField("async").value
                    if isAsync == true { throw .notAvailable("Asynchronous function tools (async) are", param: t.param("async")) }
                    tools.append(.function(FunctionTool(name: name, description: description, parameters: parameters, deferLoading: false, isAsync: isAsync)))
                case "mcp":
                    let tool = try MCPTool.parse(t, persisted: persisted)
                    guard labels.insert(tool.serverLabel).inserted else {
                        throw .invalid("Duplicate MCP server label '\(tool.serverLabel)': labels must be unique.", param: t.param("server_label"))
                    }
                    tools.append(.mcp(tool))
                case "web_search":
                    guard !tools.contains(where: { $0.type == "web_search" }) else {
                        throw .invalid("At most one 'web_search' tool can be given.", param: t.param("type"))
                    }
                    tools.append(.webSearch(try WebSearchTool.parse(t)))
                case "computer_use":
                    throw .notAvailable("Computer use tools are", param: t.param("type"))
                case "automations":
                    throw .notAvailable("Automation tools are", param: t.param("type"))
                case "tool_search":
                    throw .notAvailable("Tool search is", param: t.param("type"))
                case "programmatic_tool_calling":
                    throw .notAvailable("Programmatic tool calling is", param: t.param("type"))
                default:
                    throw .invalid(
                        "Invalid value for '\(t.param("type"))': '\(type.prefix(64))'. Supported values are: 'function', 'tool_search', 'programmatic_tool_calling', 'mcp', 'web_search', 'computer_use', 'automations'.",
                        param: t.param("type"))
                }
            }
            return .value(tools)
        }
    }

    static func promptCacheOptions(_ r: JSONReader) throws(ValidationError) -> Field<PromptCacheTTL> {
        switch try r.objectField("prompt_cache_options") {
        case .absent: return .absent
        case .null: return .null
        case .value(let o):
            try o.rejectUnknown(["ttl"])
            guard let ttl = try o.enumField("ttl", PromptCacheTTL.self).value else { return .null }
            return .value(ttl)
        }
    }
}

// MARK: - Agents

/// `POST /agents`.
public struct AgentCreateRequest: Sendable {
    public var name: String?
    public var metadata: Metadata
    public var config: AgentConfig

    public init(json: JSONValue) throws(ValidationError) {
        let r = try JSONReader(json)
        try r.rejectUnknown(["model", "compaction", "experimental", "instructions", "metadata", "multi_agent", "name", "reasoning", "service_tier", "text", "tools"])
        config = AgentConfig(model: try ConfigParsing.model(r))
        config.instructions = try ConfigParsing.instructions(r).value
        config.asyncCompaction = try ConfigParsing.compaction(r).value ?? false
        config.timeAwareness = try ConfigParsing.experimental(r) ?? false
        config.multiAgent = try ConfigParsing.multiAgent(r).value ?? .init()
        config.reasoning = try ConfigParsing.reasoning(r).value ?? .init()
        config.serviceTier = try ConfigParsing.serviceTier(r).value ?? .auto
        config.text = try ConfigParsing.text(r).value ?? .init()
        config.tools = try ConfigParsing.tools(r, persisted: true).value ?? []
        name = try ConfigParsing.name(r).value
        metadata = try Metadata.field(r, "metadata").value ?? Metadata()
    }
}

/// `POST /agents/{id}`: omitted fields stay unchanged.
public struct AgentUpdateRequest: Sendable {
    public var model: String?
    public var name: Field<String>
    public var instructions: Field<String>
    public var metadata: Field<Metadata>
    public var reasoning: Field<ReasoningConfig>
    public var serviceTier: Field<ServiceTier>
    public var text: Field<TextConfig>
    public var tools: Field<[AgentTool]>
    public var multiAgent: Field<MultiAgentConfig>
    public var compaction: Field<Bool>
    public var timeAwareness: Bool?

    public init(json: JSONValue) throws(ValidationError) {
        let r = try JSONReader(json)
        try r.rejectUnknown(["model", "compaction", "experimental", "instructions", "metadata", "multi_agent", "name", "reasoning", "service_tier", "text", "tools"])
        model = r.has("model") ? try ConfigParsing.model(r) : nil
        name = try ConfigParsing.name(r)
        instructions = try ConfigParsing.instructions(r)
        metadata = try Metadata.field(r, "metadata")
        reasoning = try ConfigParsing.reasoning(r)
        serviceTier = try ConfigParsing.serviceTier(r)
        text = try ConfigParsing.text(r)
        tools = try ConfigParsing.tools(r, persisted: true)
        multiAgent = try ConfigParsing.multiAgent(r)
        compaction = try ConfigParsing.compaction(r)
        timeAwareness = try ConfigParsing.experimental(r)
    }

    public func apply(to agent: inout Agent) {
        if let model { agent.config.model = model }
        switch name {
        case .absent: break
        case .null: agent.name = nil
        case .value(let v): agent.name = v
        }
        switch instructions {
        case .absent: break
        case .null: agent.config.instructions = nil
        case .value(let v): agent.config.instructions = v
        }
        switch metadata {
        case .absent: break
        case .null: agent.metadata = Metadata()
        case .value(let v): agent.metadata = v
        }
        switch reasoning {
        case .absent: break
        case .null: agent.config.reasoning = .init()
        case .value(let v): agent.config.reasoning = v
        }
        switch serviceTier {
        case .absent: break
        case .null: agent.config.serviceTier = .auto
        case .value(let v): agent.config.serviceTier = v
        }
        switch text {
        case .absent: break
        case .null: agent.config.text = .init()
        case .value(let v): agent.config.text = v
        }
        switch tools {
        case .absent: break
        case .null: agent.config.tools = []
        case .value(let v): agent.config.tools = v
        }
        switch multiAgent {
        case .absent: break
        case .null: agent.config.multiAgent = .init()
        case .value(let v): agent.config.multiAgent = v
        }
        if let v = compaction.value { agent.config.asyncCompaction = v }
        if let v = timeAwareness { agent.config.timeAwareness = v }
    }
}

// MARK: - Session input messages

/// One `AgentSessionInputMessage`: a user message with text and image parts.
public struct InputMessage: Sendable, Equatable {
    public var content: [ContentPart]

    public init(content: [ContentPart]) {
        self.content = content
    }

    public init(text: String) {
        self.content = [.inputText(text)]
    }

    static func parse(_ r: JSONReader) throws(ValidationError) -> InputMessage {
        try r.rejectUnknown(["type", "role", "content"])
        if let type = try r.stringField("type").value, type != "message" {
            throw .invalid("Invalid value for '\(r.param("type"))': '\(type.prefix(64))'. Supported values are: 'message'.", param: r.param("type"))
        }
        let role = try r.string("role")
        guard role == "user" else {
            throw .invalid("Invalid value for '\(r.param("role"))': '\(role.prefix(64))'. Supported values are: 'user'.", param: r.param("role"))
        }
        let values = try r.array("content")
        guard !values.isEmpty else { throw .invalid("'\(r.param("content"))' must not be empty.", param: r.param("content")) }
        guard values.count <= RequestLimits.maxContentPartsPerMessage else {
            throw .invalid("'\(r.param("content"))' can have at most \(RequestLimits.maxContentPartsPerMessage) parts.", param: r.param("content"))
        }
        var content: [ContentPart] = []
        for part in try r.objectArray(values, key: "content") {
            content.append(try parseInputContent(part))
        }
        return InputMessage(content: content)
    }

    static func parseInputContent(_ part: JSONReader) throws(ValidationError) -> ContentPart {
        switch try part.string("type") {
        case "input_text":
            try part.rejectUnknown(["type", "text"])
            return .inputText(try part.string("text"))
        case "input_image":
            try part.rejectUnknown(["type", "image_url"])
            let url = try part.string("image_url")
            let lower = url.prefix(16).lowercased()
            guard lower.hasPrefix("https://") || lower.hasPrefix("http://") || lower.hasPrefix("data:image/") else {
                throw .invalid("'\(part.param("image_url"))' must be an http(s) URL or a data:image/… URL.", param: part.param("image_url"))
            }
            return .inputImage(url: url)
        case let other:
            throw .invalid("Invalid value for '\(part.param("type"))': '\(other.prefix(64))'. Supported values are: 'input_text', 'input_image'.", param: part.param("type"))
        }
    }

    /// A list of messages (`input` of a message event or session create).
    static func parseList(_ values: [JSONValue], reader: JSONReader, key: String) throws(ValidationError) -> [InputMessage] {
        guard !values.isEmpty else { throw .invalid("'\(reader.param(key))' must not be empty.", param: reader.param(key)) }
        guard values.count <= RequestLimits.maxMessagesPerInput else {
            throw .invalid("'\(reader.param(key))' can have at most \(RequestLimits.maxMessagesPerInput) messages.", param: reader.param(key))
        }
        var messages: [InputMessage] = []
        for m in try reader.objectArray(values, key: key) { messages.append(try parse(m)) }
        return messages
    }

    public var json: JSONValue {
        ["type": "message", "role": "user", "content": .array(content.map(\.json))]
    }

    public init(json: JSONValue) throws(ValidationError) {
        let r = try JSONReader(json)
        var content: [ContentPart] = []
        for c in try r.array("content") { content.append(try ContentPart(json: c)) }
        self.content = content
    }
}

// MARK: - Sessions

/// The `agent` field of session create: overrides applied to a saved agent, or an inline agent.
public struct SessionAgentOverrides: Sendable {
    public var model: String?
    public var instructions: Field<String>
    public var reasoning: Field<ReasoningConfig>
    public var serviceTier: Field<ServiceTier>
    public var text: Field<TextConfig>
    public var tools: Field<[AgentTool]>
    public var multiAgent: Field<MultiAgentConfig>
    public var compaction: Field<Bool>
    public var timeAwareness: Bool?

    public static let empty = SessionAgentOverrides()

    init() {
        model = nil
        instructions = .absent
        reasoning = .absent
        serviceTier = .absent
        text = .absent
        tools = .absent
        multiAgent = .absent
        compaction = .absent
        timeAwareness = nil
    }

    init(_ r: JSONReader) throws(ValidationError) {
        try r.rejectUnknown(["compaction", "experimental", "instructions", "model", "multi_agent", "reasoning", "service_tier", "text", "tools"])
        model = r.has("model") ? try ConfigParsing.model(r) : nil
        instructions = try ConfigParsing.instructions(r)
        reasoning = try ConfigParsing.reasoning(r)
        serviceTier = try ConfigParsing.serviceTier(r)
        text = try ConfigParsing.text(r)
        tools = try ConfigParsing.tools(r, persisted: false)
        multiAgent = try ConfigParsing.multiAgent(r)
        compaction = try ConfigParsing.compaction(r)
        timeAwareness = try ConfigParsing.experimental(r)
    }

    /// Applies the overrides to a base configuration (a saved agent's, or a fresh one).
    public func apply(to config: inout AgentConfig) {
        if let model { config.model = model }
        switch instructions {
        case .absent: break
        case .null: config.instructions = nil
        case .value(let v): config.instructions = v
        }
        switch reasoning {
        case .absent: break
        case .null: config.reasoning = .init()
        case .value(let v): config.reasoning = v
        }
        switch serviceTier {
        case .absent: break
        case .null: config.serviceTier = .auto
        case .value(let v): config.serviceTier = v
        }
        switch text {
        case .absent: break
        case .null: config.text = .init()
        case .value(let v): config.text = v
        }
        switch tools {
        case .absent: break
        case .null: config.tools = []
        case .value(let v): config.tools = v
        }
        switch multiAgent {
        case .absent: break
        case .null: config.multiAgent = .init()
        case .value(let v): config.multiAgent = v
        }
        if let v = compaction.value { config.asyncCompaction = v }
        if let v = timeAwareness { config.timeAwareness = v }
    }
}

/// `POST /agents/sessions`.
public struct SessionCreateRequest: Sendable {
    public var environment: SessionEnvironment
    /// Confidential inputs of a hosted environment (never echoed).
    public var environmentSecrets: HostedEnvironmentSecrets?
    /// The hosted environment as given. When it names a template, a prewarmed environment or
    /// Files API files, the runtime resolves it (`environment` is then provisional).
    public var hostedParams: HostedEnvironmentParams?
    public var agentID: String?
    public var agent: SessionAgentOverrides?
    public var input: [InputMessage]?
    public var metadata: Metadata
    public var promptCacheTTL: PromptCacheTTL?
    public var review: ReviewMode
    public var stream: Bool
    public var includeObfuscation: Bool
    public var vaultIDs: [String]

    public init(json: JSONValue) throws(ValidationError) {
        let r = try JSONReader(json)
        try r.rejectUnknown(["environment", "agent", "agent_id", "input", "metadata", "prompt_cache_options", "review", "stream", "stream_options", "vault_ids"])

        let env = try r.object("environment")
        environmentSecrets = nil
        hostedParams = nil
        switch try env.string("type") {
        case "none":
            try env.rejectUnknown(["type"])
            environment = .none
        case "openai_hosted":
            let params = try HostedEnvironmentParams.parse(env, context: .session)
            hostedParams = params
            if params.environmentID == nil, params.templateID == nil, params.referencedFileIDs.isEmpty {
                let (hosted, secrets) = try params.resolve(template: nil, fileSizes: [:])
                environment = .hosted(hosted)
                environmentSecrets = secrets
            } else {
                environment = .hosted(HostedEnvironment(id: IDGenerator.make(.environment)))
            }
        case "self_hosted":
            throw .notAvailable("Self-hosted environments (environment.type 'self_hosted') are", param: env.param("type"))
        case let other:
            throw .invalid("Invalid value for '\(env.param("type"))': '\(other.prefix(64))'. Supported values are: 'none', 'openai_hosted', 'self_hosted'.", param: env.param("type"))
        }

        agentID = try r.optionalString("agent_id")
        if let agentID, agentID.isEmpty || agentID.utf8.count > RequestLimits.maxIDLength {
            throw .invalid("'agent_id' is not a valid agent ID.", param: "agent_id")
        }
        if let a = try r.objectField("agent").value {
            agent = try SessionAgentOverrides(a)
        } else {
            agent = nil
        }
        if agentID == nil {
            guard let agent else {
                throw ValidationError("Provide 'agent' (with a 'model') or 'agent_id'.", param: "agent", code: "missing_required_parameter")
            }
            guard agent.model != nil else {
                throw ValidationError("Missing required parameter: 'agent.model' (required when 'agent_id' is not given).", param: "agent.model", code: "missing_required_parameter")
            }
        }

        switch r.field("input") {
        case .absent, .null:
            input = nil
        case .value(.string(let s)):
            guard !s.isEmpty else { throw .invalid("'input' must not be empty.", param: "input") }
            input = [InputMessage(text: s)]
        case .value(.array(let values)):
            input = try InputMessage.parseList(values, reader: r, key: "input")
        case .value(let v):
            throw ValidationError("Invalid type for 'input': expected a string or an array of messages, but got \(v.typeName) instead.", param: "input", code: "invalid_type")
        }
        if input == nil, case .none = environment {
            throw ValidationError("Missing required parameter: 'input' (required when environment.type is 'none').", param: "input", code: "missing_required_parameter")
        }

        metadata = try Metadata.field(r, "metadata").value ?? Metadata()
        promptCacheTTL = try ConfigParsing.promptCacheOptions(r).value
        review = try r.enumField("review", ReviewMode.self).value ?? .none
        if case .null = r.field("review") {
            throw ValidationError("'review' must not be null.", param: "review", code: "invalid_type")
        }
        stream = try r.boolField("stream").value ?? false
        if stream, input == nil {
            throw ValidationError("Missing required parameter: 'input' (required when 'stream' is true).", param: "input", code: "missing_required_parameter")
        }
        if let options = try r.objectField("stream_options").value {
            guard stream else {
                throw .invalid("'stream_options' is only allowed when 'stream' is true.", param: "stream_options")
            }
            try options.rejectUnknown(["include_obfuscation"])
            includeObfuscation = try options.boolField("include_obfuscation").value ?? true
        } else {
            includeObfuscation = true
        }
        vaultIDs = try r.stringArrayField("vault_ids").value ?? []
        if !vaultIDs.isEmpty { throw .notAvailable("Vaults are", param: "vault_ids") }
    }
}

/// `POST /agents/sessions/{id}`.
public struct SessionUpdateRequest: Sendable {
    public var model: String?
    /// `agent.reasoning.effort`: absent keeps, null resets to the model default.
    public var reasoningEffort: Field<ReasoningEffort>
    public var serviceTier: Field<ServiceTier>
    public var tools: Field<[AgentTool]>
    public var metadata: Field<Metadata>
    public var promptCacheTTL: Field<PromptCacheTTL>
    public var review: ReviewMode?

    public init(json: JSONValue) throws(ValidationError) {
        let r = try JSONReader(json)
        try r.rejectUnknown(["agent", "metadata", "prompt_cache_options", "review"])
        model = nil
        reasoningEffort = .absent
        serviceTier = .absent
        tools = .absent
        if let a = try r.objectField("agent").value {
            try a.rejectUnknown(["model", "reasoning", "service_tier", "tools"])
            model = a.has("model") ? try ConfigParsing.model(a) : nil
            if let reasoning = try a.objectField("reasoning").value {
                try reasoning.rejectUnknown(["effort"])
                reasoningEffort = try reasoning.enumField("effort", ReasoningEffort.self)
            } else if case .null = a.field("reasoning") {
                throw ValidationError("'agent.reasoning' must be an object.", param: "agent.reasoning", code: "invalid_type")
            }
            serviceTier = try ConfigParsing.serviceTier(a)
            tools = try ConfigParsing.tools(a, persisted: false)
        } else if case .null = r.field("agent") {
            throw ValidationError("'agent' must be an object.", param: "agent", code: "invalid_type")
        }
        metadata = try Metadata.field(r, "metadata")
        promptCacheTTL = try ConfigParsing.promptCacheOptions(r)
        review = try r.enumField("review", ReviewMode.self).value
        if case .null = r.field("review") {
            throw ValidationError("'review' must not be null.", param: "review", code: "invalid_type")
        }
    }

    public func apply(to session: inout AgentSession) {
        if let model { session.agent.config.model = model }
        switch reasoningEffort {
        case .absent: break
        case .null: session.agent.config.reasoning.effort = nil
        case .value(let v): session.agent.config.reasoning.effort = v
        }
        switch serviceTier {
        case .absent: break
        case .null: session.agent.config.serviceTier = .auto
        case .value(let v): session.agent.config.serviceTier = v
        }
        switch tools {
        case .absent: break
        case .null: session.agent.config.tools = []
        case .value(let v): session.agent.config.tools = v
        }
        switch metadata {
        case .absent: break
        case .null: session.metadata = Metadata()
        case .value(let v): session.metadata = v
        }
        switch promptCacheTTL {
        case .absent: break
        case .null: session.promptCacheTTL = nil
        case .value(let v): session.promptCacheTTL = v
        }
        if let review { session.review = review }
    }
}

// MARK: - Input events

/// One entry of `POST /agents/sessions/{id}/events`.
public enum SessionInput: Sendable, Equatable {
    case message([InputMessage])
    case cancel
    case toolResult(turnID: String, callID: String, success: Bool, output: FunctionOutput?, error: String?)
    case mcpApprovalResult(requestID: String, decision: String)
    case computerUseApprovalResult(requestID: String)

    /// Parses `{"events": [...]}`.
    public static func parseRequest(_ json: JSONValue) throws(ValidationError) -> [SessionInput] {
        let r = try JSONReader(json)
        try r.rejectUnknown(["events"])
        let values = try r.array("events")
        guard !values.isEmpty else { throw .invalid("'events' must not be empty.", param: "events") }
        guard values.count <= RequestLimits.maxEventsPerRequest else {
            throw .invalid("'events' can have at most \(RequestLimits.maxEventsPerRequest) entries.", param: "events")
        }
        var inputs: [SessionInput] = []
        for e in try r.objectArray(values, key: "events") {
            inputs.append(try parse(e))
        }
        return inputs
    }

    static func parse(_ e: JSONReader) throws(ValidationError) -> SessionInput {
        let type = try e.string("type")
        switch type {
        case "agent.session.input.message":
            try e.rejectUnknown(["type", "input"])
            return .message(try InputMessage.parseList(e.array("input"), reader: e, key: "input"))
        case "agent.session.input.cancel":
            try e.rejectUnknown(["type"])
            return .cancel
        case "agent.session.input.tool_result":
            try e.rejectUnknown(["type", "turn_id", "call_id", "success", "output", "error"])
            let turnID = try e.string("turn_id")
            let callID = try e.string("call_id")
            guard !callID.isEmpty, callID.utf8.count <= 256 else { throw .invalid("'\(e.param("call_id"))' is not a valid call ID.", param: e.param("call_id")) }
            guard let success = try e.boolField("success").value else {
                throw ValidationError("Missing required parameter: '\(e.param("success"))'.", param: e.param("success"), code: "missing_required_parameter")
            }
            var output: FunctionOutput?
            switch e.field("output") {
            case .absent, .null: output = nil
            case .value(.string(let s)): output = .text(s)
            case .value(.array(let parts)):
                var content: [ContentPart] = []
                for p in try e.objectArray(parts, key: "output") { content.append(try InputMessage.parseInputContent(p)) }
                output = .content(content)
            case .value(let v):
                throw ValidationError("Invalid type for '\(e.param("output"))': expected a string or a content list, but got \(v.typeName) instead.", param: e.param("output"), code: "invalid_type")
            }
            let error = try e.optionalString("error")
            return .toolResult(turnID: turnID, callID: callID, success: success, output: output, error: error)
        case "agent.session.input.mcp_approval_request_result":
            try e.rejectUnknown(["type", "request_id", "response"])
            let requestID = try e.string("request_id")
            let response = try e.object("response")
            try response.rejectUnknown(["type", "decision"])
            guard try response.string("type") == "mcp_tool_call" else {
                throw .invalid("Invalid value for '\(response.param("type"))'. Supported values are: 'mcp_tool_call'.", param: response.param("type"))
            }
            let decision = try response.string("decision")
            guard ["approve", "deny", "cancel"].contains(decision) else {
                throw .invalid("Invalid value for '\(response.param("decision"))': '\(decision.prefix(64))'. Supported values are: 'approve', 'deny', 'cancel'.", param: response.param("decision"))
            }
            return .mcpApprovalResult(requestID: requestID, decision: decision)
        case "agent.session.input.computer_use_approval_request_result":
            try e.rejectUnknown(["type", "request_id", "response"])
            let requestID = try e.string("request_id")
            _ = try e.object("response")
            return .computerUseApprovalResult(requestID: requestID)
        default:
            throw .invalid(
                "Invalid value for '\(e.param("type"))': '\(type.prefix(64))'. Supported values are: 'agent.session.input.message', 'agent.session.input.cancel', 'agent.session.input.tool_result', 'agent.session.input.mcp_approval_request_result', 'agent.session.input.computer_use_approval_request_result'.",
                param: e.param("type"))
        }
    }
}

// MARK: - List queries

/// `after`, `limit` (1–100, default 20) and `order` (default `desc`).
public struct ListQuery: Sendable, Equatable {
    public var after: String?
    public var limit: Int
    public var order: ListOrder

    public init(after: String? = nil, limit: Int = 20, order: ListOrder = .desc) {
        self.after = after
        self.limit = limit
        self.order = order
    }

    /// Validates raw query values.
    public init(after: String?, limit: String?, order: String?) throws(ValidationError) {
        if let after, after.isEmpty || after.utf8.count > RequestLimits.maxIDLength {
            throw .invalid("'after' is not a valid cursor.", param: "after")
        }
        self.after = after
        if let limit {
            guard limit.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }), let value = Int(limit), (1...100).contains(value) else {
                throw .invalid("Invalid 'limit': '\(limit.prefix(32))'. It must be an integer between 1 and 100.", param: "limit")
            }
            self.limit = value
        } else {
            self.limit = 20
        }
        if let order {
            guard let value = ListOrder(rawValue: order) else {
                throw .invalid("Invalid 'order': '\(order.prefix(32))'. Supported values are: 'asc', 'desc'.", param: "order")
            }
            self.order = value
        } else {
            self.order = .desc
        }
    }
}
