import AgentsAPI
import Testing

/// A request body that must be rejected, with the `param` (and `code`, when the server sets one)
/// the error must name.
struct Rejected: Sendable, CustomTestStringConvertible {
    var name: String
    var body: JSONValue
    var param: String?
    var code: String?

    init(_ name: String, _ body: JSONValue, param: String?, code: String?) {
        self.name = name
        self.body = body
        self.param = param
        self.code = code
    }

    init(_ name: String, json: String, param: String?, code: String?) {
        self.init(name, try! JSONParser.parse(json), param: param, code: code)
    }

    var testDescription: String { name }

    func check<T>(_ parse: (JSONValue) throws(ValidationError) -> T, sourceLocation: SourceLocation = #_sourceLocation) {
        let error = validationError(body, parse)
        #expect(error != nil, "accepted: \(body)", sourceLocation: sourceLocation)
        #expect(error?.param == param, "\(error.map(String.init(describing:)) ?? "")", sourceLocation: sourceLocation)
        if let code {
            #expect(error?.code == code, "\(error.map(String.init(describing:)) ?? "")", sourceLocation: sourceLocation)
        }
        #expect(error?.message.isEmpty == false, sourceLocation: sourceLocation)
    }
}

enum Bodies {
    static func metadata(pairs count: Int) -> JSONValue {
        .object(JSONObject((0..<count).map { ("key\($0)", JSONValue.string("v")) }))
    }

    static let longKey = String(repeating: "k", count: 65)
    static let longValue = String(repeating: "v", count: 513)

    static func function(_ name: String, parameters: JSONValue? = ["type": "object"]) -> JSONValue {
        var o: JSONObject = ["type": "function", "name": .string(name), "description": "d"]
        o.set("parameters", parameters)
        return .object(o)
    }

    /// A tool list whose compact JSON is exactly `bytes` long.
    static func tools(ofSize bytes: Int) -> JSONValue {
        func list(_ description: String) -> JSONValue {
            [["type": "function", "name": "f", "description": .string(description), "parameters": [:]]]
        }
        let overhead = JSONWriter.bytes(list("")).count
        let value = list(String(repeating: "x", count: bytes - overhead))
        precondition(JSONWriter.bytes(value).count == bytes)
        return value
    }

    static func with(_ base: JSONValue, _ changes: [(String, JSONValue?)]) -> JSONValue {
        var o = base.objectValue!
        for (key, value) in changes { o[key] = value }
        return .object(o)
    }

    static let agent: JSONValue = ["model": "gpt-test"]
    static let session: JSONValue = ["environment": ["type": "none"], "agent": ["model": "gpt-test"], "input": "Hi"]
    static func session(_ changes: (String, JSONValue?)...) -> JSONValue { with(session, changes) }
    static func agent(_ changes: (String, JSONValue?)...) -> JSONValue { with(agent, changes) }
    static func sessionInput(_ input: JSONValue) -> JSONValue { session(("input", input)) }
    static func events(_ events: JSONValue...) -> JSONValue { ["events": .array(events)] }
    static func message(role: String = "user", content: JSONValue = [["type": "input_text", "text": "Hi"]]) -> JSONValue {
        ["type": "message", "role": .string(role), "content": content]
    }
    static func image(_ url: String) -> JSONValue { [message(content: [["type": "input_image", "image_url": .string(url)]])] }
}

@Suite("Request validation: rejections")
struct RequestRejectionTests {
    static let agentCreateCases: [Rejected] = [
        Rejected("body is not an object", [], param: nil, code: "invalid_type"),
        Rejected("missing model", [:], param: "model", code: "missing_required_parameter"),
        Rejected("empty model", json: #"{"model":""}"#, param: "model", code: "invalid_value"),
        Rejected("null model", json: #"{"model":null}"#, param: "model", code: nil),
        Rejected("model is a number", json: #"{"model":4}"#, param: "model", code: "invalid_type"),
        Rejected("model with a control character", json: #"{"model":"gpt\n"}"#, param: "model", code: "invalid_value"),
        Rejected("model longer than 256 bytes", Bodies.agent(("model", .string(String(repeating: "m", count: 257)))), param: "model", code: "invalid_value"),
        Rejected("unknown top-level field", Bodies.agent(("temperature", 1)), param: "temperature", code: "unknown_parameter"),
        Rejected("name is a number", Bodies.agent(("name", 1)), param: "name", code: "invalid_type"),
        Rejected("instructions is an array", Bodies.agent(("instructions", ["a"])), param: "instructions", code: "invalid_type"),
        Rejected("metadata is a string", Bodies.agent(("metadata", "x")), param: "metadata", code: "invalid_type"),
        Rejected("metadata value is a number", Bodies.agent(("metadata", ["k": 1])), param: "metadata.k", code: "invalid_type"),
        Rejected("metadata with 17 pairs", Bodies.agent(("metadata", Bodies.metadata(pairs: 17))), param: "metadata", code: "invalid_value"),
        Rejected("metadata key of 65 characters", Bodies.agent(("metadata", [Bodies.longKey: "v"])), param: "metadata.\(Bodies.longKey)", code: "invalid_value"),
        Rejected("empty metadata key", Bodies.agent(("metadata", ["": "v"])), param: "metadata.", code: "invalid_value"),
        Rejected("metadata value of 513 characters", Bodies.agent(("metadata", ["k": .string(Bodies.longValue)])), param: "metadata.k", code: "invalid_value"),
        Rejected("tools is an object", Bodies.agent(("tools", [:])), param: "tools", code: "invalid_type"),
        Rejected("tool is not an object", Bodies.agent(("tools", [1])), param: "tools[0]", code: "invalid_type"),
        Rejected("tool without type", Bodies.agent(("tools", [["name": "f"]])), param: "tools[0].type", code: "missing_required_parameter"),
        Rejected("function name with a space", Bodies.agent(("tools", [Bodies.function("get weather")])), param: "tools[0].name", code: "invalid_value"),
        Rejected("function name with a dot", Bodies.agent(("tools", [Bodies.function("a.b")])), param: "tools[0].name", code: "invalid_value"),
        Rejected("empty function name", Bodies.agent(("tools", [Bodies.function("")])), param: "tools[0].name", code: "invalid_value"),
        Rejected("function name of 65 characters", Bodies.agent(("tools", [Bodies.function(String(repeating: "f", count: 65))])), param: "tools[0].name", code: "invalid_value"),
        Rejected("duplicate function names", Bodies.agent(("tools", [Bodies.function("f"), Bodies.function("g"), Bodies.function("f")])), param: "tools[2].name", code: "invalid_value"),
        Rejected("function without parameters", Bodies.agent(("tools", [Bodies.function("f", parameters: nil)])), param: "tools[0].parameters", code: "missing_required_parameter"),
        Rejected("function parameters is a string", Bodies.agent(("tools", [Bodies.function("f", parameters: "{}")])), param: "tools[0].parameters", code: "invalid_type"),
        Rejected("function without description", Bodies.agent(("tools", [["type": "function", "name": "f", "parameters": [:]]])), param: "tools[0].description", code: "missing_required_parameter"),
        Rejected("function with an unknown field", Bodies.agent(("tools", [["type": "function", "name": "f", "description": "d", "parameters": [:], "strict": true]])), param: "tools[0].strict", code: "unknown_parameter"),
        Rejected("deferred function", Bodies.agent(("tools", [["type": "function", "name": "f", "description": "d", "parameters": [:], "defer_loading": true]])), param: "tools[0].defer_loading", code: "feature_not_available"),
        Rejected("mcp tool with authorization (reusable agents carry no secrets)", Bodies.agent(("tools", [["type": "mcp", "server_label": "s", "transport": ["type": "http", "server_url": "https://x", "authorization": "t"]]])), param: "tools[0].transport.authorization", code: "unknown_parameter"),
        Rejected("mcp stdio tool with env (reusable agents carry no secrets)", Bodies.agent(("tools", [["type": "mcp", "server_label": "s", "transport": ["type": "stdio", "command": "x", "cwd": "/", "env": ["A": "b"]]]])), param: "tools[0].transport.env", code: "unknown_parameter"),
        Rejected("mcp tool without transport", Bodies.agent(("tools", [["type": "mcp", "server_label": "s"]])), param: "tools[0].transport", code: "missing_required_parameter"),
        Rejected("mcp label with a space", Bodies.agent(("tools", [["type": "mcp", "server_label": "my docs", "transport": ["type": "http", "server_url": "https://x"]]])), param: "tools[0].server_label", code: "invalid_value"),
        Rejected("duplicate mcp labels", Bodies.agent(("tools", [["type": "mcp", "server_label": "s", "transport": ["type": "http", "server_url": "https://x"]], ["type": "mcp", "server_label": "s", "transport": ["type": "http", "server_url": "https://y"]]])), param: "tools[1].server_label", code: "invalid_value"),
        Rejected("mcp url that is not http", Bodies.agent(("tools", [["type": "mcp", "server_label": "s", "transport": ["type": "http", "server_url": "file:///etc/passwd"]]])), param: "tools[0].transport.server_url", code: "invalid_value"),
        Rejected("mcp header the runtime sets", Bodies.agent(("tools", [["type": "mcp", "server_label": "s", "transport": ["type": "http", "server_url": "https://x", "headers": ["Mcp-Session-Id": "x"]]]])), param: "tools[0].transport.headers", code: "invalid_value"),
        Rejected("mcp stdio with a relative cwd", Bodies.agent(("tools", [["type": "mcp", "server_label": "s", "transport": ["type": "stdio", "command": "x", "cwd": "work"]]])), param: "tools[0].transport.cwd", code: "invalid_value"),
        Rejected("mcp stdio with a bad env_vars name", Bodies.agent(("tools", [["type": "mcp", "server_label": "s", "transport": ["type": "stdio", "command": "x", "cwd": "/", "env_vars": ["A=B"]]]])), param: "tools[0].transport.env_vars", code: "invalid_value"),
        Rejected("mcp unknown transport", Bodies.agent(("tools", [["type": "mcp", "server_label": "s", "transport": ["type": "websocket"]]])), param: "tools[0].transport.type", code: "invalid_value"),
        Rejected("mcp vault credential", Bodies.agent(("tools", [["type": "mcp", "server_label": "s", "credential_id": "cred_1", "transport": ["type": "http", "server_url": "https://x"]]])), param: "tools[0].credential_id", code: "feature_not_available"),
        Rejected("mcp unknown connection origin", Bodies.agent(("tools", [["type": "mcp", "server_label": "s", "connection_origin": "moon", "transport": ["type": "http", "server_url": "https://x"]]])), param: "tools[0].connection_origin", code: "invalid_value"),
        Rejected("web_search with a wildcard domain", Bodies.agent(("tools", [Bodies.function("f"), ["type": "web_search", "allowed_domains": ["*.example.com"]]])), param: "tools[1].allowed_domains", code: "invalid_value"),
        Rejected("web_search with a URL as a domain", Bodies.agent(("tools", [["type": "web_search", "allowed_domains": ["https://example.com/"]]])), param: "tools[0].allowed_domains", code: "invalid_value"),
        Rejected("two web_search tools", Bodies.agent(("tools", [["type": "web_search"], ["type": "web_search"]])), param: "tools[1].type", code: "invalid_value"),
        Rejected("web_search with an unknown context size", Bodies.agent(("tools", [["type": "web_search", "context_size": "huge"]])), param: "tools[0].context_size", code: "invalid_value"),
        Rejected("web_search with an unknown field", Bodies.agent(("tools", [["type": "web_search", "engine": "x"]])), param: "tools[0].engine", code: "unknown_parameter"),
        Rejected("computer_use tool", Bodies.agent(("tools", [["type": "computer_use"]])), param: "tools[0].type", code: "feature_not_available"),
        Rejected("tool_search tool", Bodies.agent(("tools", [["type": "tool_search"]])), param: "tools[0].type", code: "feature_not_available"),
        Rejected("unknown tool type", Bodies.agent(("tools", [["type": "shell"]])), param: "tools[0].type", code: "invalid_value"),
        Rejected("tool list one byte over 3 MiB", Bodies.agent(("tools", Bodies.tools(ofSize: 3 * 1024 * 1024 + 1))), param: "tools", code: "invalid_value"),
        Rejected("unknown reasoning effort", Bodies.agent(("reasoning", ["effort": "extreme"])), param: "reasoning.effort", code: "invalid_value"),
        Rejected("unknown reasoning field", Bodies.agent(("reasoning", ["depth": 1])), param: "reasoning.depth", code: "unknown_parameter"),
        Rejected("unknown service tier", Bodies.agent(("service_tier", "cheap")), param: "service_tier", code: "invalid_value"),
        Rejected("unknown text format", Bodies.agent(("text", ["format": ["type": "xml"]])), param: "text.format.type", code: "invalid_value"),
        Rejected("json_schema without schema", Bodies.agent(("text", ["format": ["type": "json_schema"]])), param: "text.format.schema", code: "missing_required_parameter"),
        Rejected("unknown verbosity", Bodies.agent(("text", ["verbosity": "loud"])), param: "text.verbosity", code: "invalid_value"),
        Rejected("multi_agent without enabled", Bodies.agent(("multi_agent", [:])), param: "multi_agent.enabled", code: "missing_required_parameter"),
        Rejected("multi_agent enabled", Bodies.agent(("multi_agent", ["enabled": true])), param: "multi_agent.enabled", code: "feature_not_available"),
        Rejected("multi_agent max below 1", Bodies.agent(("multi_agent", ["enabled": false, "max_concurrent_subagents": 0])), param: "multi_agent.max_concurrent_subagents", code: "invalid_value"),
        Rejected("async compaction not a bool", Bodies.agent(("compaction", ["async": "yes"])), param: "compaction.async", code: "invalid_type"),
        Rejected("unknown compaction key", Bodies.agent(("compaction", ["mode": "async"])), param: "compaction.mode", code: "unknown_parameter"),
        Rejected("experimental null", Bodies.agent(("experimental", nil as JSONValue)), param: "experimental", code: "invalid_type"),
        Rejected("time awareness not a bool", Bodies.agent(("experimental", ["time_awareness": 1])), param: "experimental.time_awareness", code: "invalid_type"),
    ]

    @Test(arguments: agentCreateCases)
    func agentCreate(_ c: Rejected) {
        c.check(AgentCreateRequest.init(json:))
    }

    static let agentUpdateCases: [Rejected] = [
        Rejected("empty model", json: #"{"model":""}"#, param: "model", code: "invalid_value"),
        Rejected("unknown field", json: #"{"nickname":"x"}"#, param: "nickname", code: "unknown_parameter"),
        Rejected("name is a number", json: #"{"name":1}"#, param: "name", code: "invalid_type"),
        Rejected("name longer than 256 bytes", ["name": .string(String(repeating: "n", count: 257))], param: "name", code: "invalid_value"),
        Rejected("metadata with 17 pairs", ["metadata": Bodies.metadata(pairs: 17)], param: "metadata", code: "invalid_value"),
        Rejected("tools is a string", json: #"{"tools":"none"}"#, param: "tools", code: "invalid_type"),
        Rejected("mcp tool without a label", json: #"{"tools":[{"type":"mcp"}]}"#, param: "tools[0].server_label", code: "missing_required_parameter"),
        Rejected("tool list over 3 MiB", ["tools": Bodies.tools(ofSize: 3 * 1024 * 1024 + 100)], param: "tools", code: "invalid_value"),
        Rejected("service tier", json: #"{"service_tier":"slow"}"#, param: "service_tier", code: "invalid_value"),
    ]

    @Test(arguments: agentUpdateCases)
    func agentUpdate(_ c: Rejected) {
        c.check(AgentUpdateRequest.init(json:))
    }

    static let sessionCreateCases: [Rejected] = [
        Rejected("body is not an object", "x", param: nil, code: "invalid_type"),
        Rejected("missing environment", Bodies.session(("environment", nil)), param: "environment", code: "missing_required_parameter"),
        Rejected("environment is a string", Bodies.session(("environment", "none")), param: "environment", code: "invalid_type"),
        Rejected("environment without type", Bodies.session(("environment", [:])), param: "environment.type", code: "missing_required_parameter"),
        Rejected("hosted environment_id with config", Bodies.session(("environment", ["type": "openai_hosted", "environment_id": "env_1", "container_size": "small"])), param: "environment.environment_id", code: "invalid_value"),
        Rejected("hosted wildcard domain", Bodies.session(("environment", ["type": "openai_hosted", "network": ["access": "restricted", "allowed_domains": ["*.example.com"]]])), param: "environment.network.allowed_domains[0]", code: "invalid_value"),
        Rejected("hosted bad domain", Bodies.session(("environment", ["type": "openai_hosted", "network": ["access": "restricted", "allowed_domains": ["ok.com", "bad domain"]]])), param: "environment.network.allowed_domains[1]", code: "invalid_value"),
        Rejected("hosted blocked needs restricted", Bodies.session(("environment", ["type": "openai_hosted", "network": ["access": "enabled", "blocked_domains": ["x.com"]]])), param: "environment.network.blocked_domains", code: "invalid_value"),
        Rejected("hosted blocked and allowed", Bodies.session(("environment", ["type": "openai_hosted", "network": ["access": "restricted", "allowed_domains": ["a.com"], "blocked_domains": ["x.com"]]])), param: "environment.network.blocked_domains", code: "invalid_value"),
        Rejected("hosted network access", Bodies.session(("environment", ["type": "openai_hosted", "network": ["access": "everything"]])), param: "environment.network.access", code: "invalid_value"),
        Rejected("hosted system package option", Bodies.session(("environment", ["type": "openai_hosted", "packages": ["system": ["jq", "--allow-unauthenticated"]]])), param: "environment.packages.system[1]", code: "invalid_value"),
        Rejected("hosted python package url", Bodies.session(("environment", ["type": "openai_hosted", "packages": ["python": ["git+https://example.com/x"]]])), param: "environment.packages.python[0]", code: "invalid_value"),
        Rejected("hosted npm package path", Bodies.session(("environment", ["type": "openai_hosted", "packages": ["npm": ["../../etc"]]])), param: "environment.packages.npm[0]", code: "invalid_value"),
        Rejected("hosted file_id without id", Bodies.session(("environment", ["type": "openai_hosted", "files": [["type": "file_id", "path": "/workspace/a"]]])), param: "environment.files[0].file_id", code: "missing_required_parameter"),
        Rejected("hosted file outside the workspace", Bodies.session(("environment", ["type": "openai_hosted", "files": [["type": "inline", "path": "/etc/passwd", "data": "eA=="]]])), param: "environment.files[0].path", code: "invalid_value"),
        Rejected("hosted file with ..", Bodies.session(("environment", ["type": "openai_hosted", "files": [["type": "inline", "path": "/workspace/a/../../etc/x", "data": "eA=="]]])), param: "environment.files[0].path", code: "invalid_value"),
        Rejected("hosted file reserved", Bodies.session(("environment", ["type": "openai_hosted", "files": [["type": "inline", "path": "/workspace/.codex/x", "data": "eA=="]]])), param: "environment.files[0].path", code: "invalid_value"),
        Rejected("hosted file bad base64", Bodies.session(("environment", ["type": "openai_hosted", "files": [["type": "inline", "path": "/workspace/x", "data": "%%%"]]])), param: "environment.files[0].data", code: "invalid_value"),
        Rejected("hosted env bad name", Bodies.session(("environment", ["type": "openai_hosted", "env": ["1BAD": "x"]])), param: "environment.env.1BAD", code: "invalid_value"),
        Rejected("hosted unknown field", Bodies.session(("environment", ["type": "openai_hosted", "gpu": true])), param: "environment.gpu", code: "unknown_parameter"),
        Rejected("self_hosted environment", Bodies.session(("environment", ["type": "self_hosted"])), param: "environment.type", code: "feature_not_available"),
        Rejected("unknown environment type", Bodies.session(("environment", ["type": "cloud"])), param: "environment.type", code: "invalid_value"),
        Rejected("none environment with extra fields", Bodies.session(("environment", ["type": "none", "image": "x"])), param: "environment.image", code: "unknown_parameter"),
        Rejected("unknown top-level field", Bodies.session(("model", "gpt-test")), param: "model", code: "unknown_parameter"),
        Rejected("neither agent nor agent_id", Bodies.session(("agent", nil)), param: "agent", code: "missing_required_parameter"),
        Rejected("null agent and no agent_id", Bodies.session(("agent", .null)), param: "agent", code: "missing_required_parameter"),
        Rejected("inline agent without model", Bodies.session(("agent", ["instructions": "x"])), param: "agent.model", code: "missing_required_parameter"),
        Rejected("inline agent with empty model", Bodies.session(("agent", ["model": ""])), param: "agent.model", code: "invalid_value"),
        Rejected("inline agent with an unknown field", Bodies.session(("agent", ["model": "m", "name": "n"])), param: "agent.name", code: "unknown_parameter"),
        Rejected("inline agent with an mcp tool without a label", Bodies.session(("agent", ["model": "m", "tools": [["type": "mcp"]]])), param: "agent.tools[0].server_label", code: "missing_required_parameter"),
        Rejected("mcp authorization with a newline", Bodies.session(("agent", ["model": "m", "tools": [["type": "mcp", "server_label": "s", "transport": ["type": "http", "server_url": "https://x", "authorization": "a\nb"]]]])), param: "agent.tools[0].transport.authorization", code: "invalid_value"),
        Rejected("inline agent with a bad function name", Bodies.session(("agent", ["model": "m", "tools": [Bodies.function("no spaces")]])), param: "agent.tools[0].name", code: "invalid_value"),
        Rejected("inline agent with a bad effort", Bodies.session(("agent", ["model": "m", "reasoning": ["effort": "huge"]])), param: "agent.reasoning.effort", code: "invalid_value"),
        Rejected("empty agent_id", Bodies.session(("agent", nil), ("agent_id", "")), param: "agent_id", code: "invalid_value"),
        Rejected("agent_id is a number", Bodies.session(("agent", nil), ("agent_id", 7)), param: "agent_id", code: "invalid_type"),
        Rejected("input missing (environment none)", Bodies.session(("input", nil)), param: "input", code: "missing_required_parameter"),
        Rejected("input null (environment none)", Bodies.session(("input", .null)), param: "input", code: "missing_required_parameter"),
        Rejected("empty input string", Bodies.sessionInput(""), param: "input", code: "invalid_value"),
        Rejected("input is a number", Bodies.sessionInput(3), param: "input", code: "invalid_type"),
        Rejected("empty input list", Bodies.sessionInput([]), param: "input", code: "invalid_value"),
        Rejected("input message is a string", Bodies.sessionInput(["hi"]), param: "input[0]", code: "invalid_type"),
        Rejected("assistant message", Bodies.sessionInput([Bodies.message(role: "assistant")]), param: "input[0].role", code: "invalid_value"),
        Rejected("system message", Bodies.sessionInput([Bodies.message(), Bodies.message(role: "system")]), param: "input[1].role", code: "invalid_value"),
        Rejected("message without role", Bodies.sessionInput([["content": [["type": "input_text", "text": "x"]]]]), param: "input[0].role", code: "missing_required_parameter"),
        Rejected("message of another type", Bodies.sessionInput([["type": "item", "role": "user", "content": [["type": "input_text", "text": "x"]]]]), param: "input[0].type", code: "invalid_value"),
        Rejected("message without content", Bodies.sessionInput([["role": "user"]]), param: "input[0].content", code: "missing_required_parameter"),
        Rejected("message with empty content", Bodies.sessionInput([Bodies.message(content: [])]), param: "input[0].content", code: "invalid_value"),
        Rejected("output_text content from a user", Bodies.sessionInput([Bodies.message(content: [["type": "output_text", "text": "x"]])]), param: "input[0].content[0].type", code: "invalid_value"),
        Rejected("input_text without text", Bodies.sessionInput([Bodies.message(content: [["type": "input_text"]])]), param: "input[0].content[0].text", code: "missing_required_parameter"),
        Rejected("image_url with ftp scheme", Bodies.sessionInput(Bodies.image("ftp://example.com/a.png")), param: "input[0].content[0].image_url", code: "invalid_value"),
        Rejected("image_url with file scheme", Bodies.sessionInput(Bodies.image("file:///etc/passwd")), param: "input[0].content[0].image_url", code: "invalid_value"),
        Rejected("image_url with javascript scheme", Bodies.sessionInput(Bodies.image("javascript:alert(1)")), param: "input[0].content[0].image_url", code: "invalid_value"),
        Rejected("image_url with a non-image data URL", Bodies.sessionInput(Bodies.image("data:text/html,<b>x</b>")), param: "input[0].content[0].image_url", code: "invalid_value"),
        Rejected("image_url without a scheme", Bodies.sessionInput(Bodies.image("example.com/a.png")), param: "input[0].content[0].image_url", code: "invalid_value"),
        Rejected("stream_options without stream", Bodies.session(("stream_options", ["include_obfuscation": false])), param: "stream_options", code: "invalid_value"),
        Rejected("stream_options with stream false", Bodies.session(("stream", false), ("stream_options", [:])), param: "stream_options", code: "invalid_value"),
        Rejected("unknown stream option", Bodies.session(("stream", true), ("stream_options", ["compress": true])), param: "stream_options.compress", code: "unknown_parameter"),
        Rejected("stream is a string", Bodies.session(("stream", "true")), param: "stream", code: "invalid_type"),
        Rejected("non-empty vault_ids", Bodies.session(("vault_ids", ["vault_1"])), param: "vault_ids", code: "feature_not_available"),
        Rejected("vault_ids with a number", Bodies.session(("vault_ids", [1])), param: "vault_ids[0]", code: "invalid_type"),
        Rejected("unknown review mode", Bodies.session(("review", "manual")), param: "review", code: "invalid_value"),
        Rejected("null review", Bodies.session(("review", .null)), param: "review", code: "invalid_type"),
        Rejected("unknown prompt cache ttl", Bodies.session(("prompt_cache_options", ["ttl": "1h"])), param: "prompt_cache_options.ttl", code: "invalid_value"),
        Rejected("unknown prompt cache option", Bodies.session(("prompt_cache_options", ["ttl": "30m", "scope": "x"])), param: "prompt_cache_options.scope", code: "unknown_parameter"),
        Rejected("metadata with 17 pairs", Bodies.session(("metadata", Bodies.metadata(pairs: 17))), param: "metadata", code: "invalid_value"),
        Rejected("metadata key of 65 characters", Bodies.session(("metadata", [Bodies.longKey: "v"])), param: "metadata.\(Bodies.longKey)", code: "invalid_value"),
        Rejected("metadata value of 513 characters", Bodies.session(("metadata", ["k": .string(Bodies.longValue)])), param: "metadata.k", code: "invalid_value"),
    ]

    @Test(arguments: sessionCreateCases)
    func sessionCreate(_ c: Rejected) {
        c.check(SessionCreateRequest.init(json:))
    }

    static let sessionUpdateCases: [Rejected] = [
        Rejected("body is an array", [], param: nil, code: "invalid_type"),
        Rejected("model at top level", json: #"{"model":"m"}"#, param: "model", code: "unknown_parameter"),
        Rejected("agent null", json: #"{"agent":null}"#, param: "agent", code: "invalid_type"),
        Rejected("agent is a string", json: #"{"agent":"m"}"#, param: "agent", code: "invalid_type"),
        Rejected("agent instructions are not updatable", json: #"{"agent":{"instructions":"x"}}"#, param: "agent.instructions", code: "unknown_parameter"),
        Rejected("empty model", json: #"{"agent":{"model":""}}"#, param: "agent.model", code: "invalid_value"),
        Rejected("reasoning null", json: #"{"agent":{"reasoning":null}}"#, param: "agent.reasoning", code: "invalid_type"),
        Rejected("reasoning summary is not updatable", json: #"{"agent":{"reasoning":{"summary":"auto"}}}"#, param: "agent.reasoning.summary", code: "unknown_parameter"),
        Rejected("unknown effort", json: #"{"agent":{"reasoning":{"effort":"extreme"}}}"#, param: "agent.reasoning.effort", code: "invalid_value"),
        Rejected("unknown service tier", json: #"{"agent":{"service_tier":"slow"}}"#, param: "agent.service_tier", code: "invalid_value"),
        Rejected("web_search with an unknown mode", json: #"{"agent":{"tools":[{"type":"web_search","mode":"sometimes"}]}}"#, param: "agent.tools[0].mode", code: "invalid_value"),
        Rejected("duplicate function names", ["agent": ["tools": [Bodies.function("f"), Bodies.function("f")]]], param: "agent.tools[1].name", code: "invalid_value"),
        Rejected("metadata with 17 pairs", ["metadata": Bodies.metadata(pairs: 17)], param: "metadata", code: "invalid_value"),
        Rejected("metadata value of 513 characters", ["metadata": ["k": .string(Bodies.longValue)]], param: "metadata.k", code: "invalid_value"),
        Rejected("unknown review mode", json: #"{"review":"sometimes"}"#, param: "review", code: "invalid_value"),
        Rejected("unknown prompt cache ttl", json: #"{"prompt_cache_options":{"ttl":"1d"}}"#, param: "prompt_cache_options.ttl", code: "invalid_value"),
    ]

    @Test(arguments: sessionUpdateCases)
    func sessionUpdate(_ c: Rejected) {
        c.check(SessionUpdateRequest.init(json:))
    }

    static let sessionInputCases: [Rejected] = [
        Rejected("missing events", [:], param: "events", code: "missing_required_parameter"),
        Rejected("events is an object", json: #"{"events":{}}"#, param: "events", code: "invalid_type"),
        Rejected("events: []", json: #"{"events":[]}"#, param: "events", code: "invalid_value"),
        Rejected("101 events", ["events": .array(Array(repeating: ["type": "agent.session.input.cancel"], count: 101))], param: "events", code: "invalid_value"),
        Rejected("unknown top-level field", json: #"{"events":[{"type":"agent.session.input.cancel"}],"turn_id":"t"}"#, param: "turn_id", code: "unknown_parameter"),
        Rejected("event is a string", json: #"{"events":["cancel"]}"#, param: "events[0]", code: "invalid_type"),
        Rejected("event without type", json: #"{"events":[{}]}"#, param: "events[0].type", code: "missing_required_parameter"),
        Rejected("unknown event type", json: #"{"events":[{"type":"agent.session.input.interrupt"}]}"#, param: "events[0].type", code: "invalid_value"),
        Rejected("second event has an unknown type", json: #"{"events":[{"type":"agent.session.input.cancel"},{"type":"cancel"}]}"#, param: "events[1].type", code: "invalid_value"),
        Rejected("cancel with an extra field", json: #"{"events":[{"type":"agent.session.input.cancel","turn_id":"t"}]}"#, param: "events[0].turn_id", code: "unknown_parameter"),
        Rejected("message without input", json: #"{"events":[{"type":"agent.session.input.message"}]}"#, param: "events[0].input", code: "missing_required_parameter"),
        Rejected("message with a string input", json: #"{"events":[{"type":"agent.session.input.message","input":"hi"}]}"#, param: "events[0].input", code: "invalid_type"),
        Rejected("message with empty input", json: #"{"events":[{"type":"agent.session.input.message","input":[]}]}"#, param: "events[0].input", code: "invalid_value"),
        Rejected("assistant message", Bodies.events(["type": "agent.session.input.message", "input": [Bodies.message(role: "assistant")]]), param: "events[0].input[0].role", code: "invalid_value"),
        Rejected("image with a non-http scheme", Bodies.events(["type": "agent.session.input.message", "input": Bodies.image("ftp://x/y.png")]), param: "events[0].input[0].content[0].image_url", code: "invalid_value"),
        Rejected("tool_result without success", json: #"{"events":[{"type":"agent.session.input.tool_result","turn_id":"t","call_id":"c","output":"x"}]}"#, param: "events[0].success", code: "missing_required_parameter"),
        Rejected("tool_result with null success", json: #"{"events":[{"type":"agent.session.input.tool_result","turn_id":"t","call_id":"c","success":null}]}"#, param: "events[0].success", code: "missing_required_parameter"),
        Rejected("tool_result with string success", json: #"{"events":[{"type":"agent.session.input.tool_result","turn_id":"t","call_id":"c","success":"yes"}]}"#, param: "events[0].success", code: "invalid_type"),
        Rejected("tool_result without turn_id", json: #"{"events":[{"type":"agent.session.input.tool_result","call_id":"c","success":true}]}"#, param: "events[0].turn_id", code: "missing_required_parameter"),
        Rejected("tool_result without call_id", json: #"{"events":[{"type":"agent.session.input.tool_result","turn_id":"t","success":true}]}"#, param: "events[0].call_id", code: "missing_required_parameter"),
        Rejected("tool_result with empty call_id", json: #"{"events":[{"type":"agent.session.input.tool_result","turn_id":"t","call_id":"","success":true}]}"#, param: "events[0].call_id", code: "invalid_value"),
        Rejected("tool_result with numeric output", json: #"{"events":[{"type":"agent.session.input.tool_result","turn_id":"t","call_id":"c","success":true,"output":5}]}"#, param: "events[0].output", code: "invalid_type"),
        Rejected("tool_result with output_text content", json: #"{"events":[{"type":"agent.session.input.tool_result","turn_id":"t","call_id":"c","success":true,"output":[{"type":"output_text","text":"x"}]}]}"#, param: "events[0].output[0].type", code: "invalid_value"),
        Rejected("tool_result with an unknown field", json: #"{"events":[{"type":"agent.session.input.tool_result","turn_id":"t","call_id":"c","success":true,"result":"x"}]}"#, param: "events[0].result", code: "unknown_parameter"),
        Rejected("mcp approval with an unknown decision", json: #"{"events":[{"type":"agent.session.input.mcp_approval_request_result","request_id":"r","response":{"type":"mcp_tool_call","decision":"maybe"}}]}"#, param: "events[0].response.decision", code: "invalid_value"),
        Rejected("mcp approval with the wrong response type", json: #"{"events":[{"type":"agent.session.input.mcp_approval_request_result","request_id":"r","response":{"type":"other","decision":"approve"}}]}"#, param: "events[0].response.type", code: "invalid_value"),
    ]

    @Test(arguments: sessionInputCases)
    func sessionInput(_ c: Rejected) {
        c.check(SessionInput.parseRequest)
    }

    /// Every other wrong-type error carries `code: "invalid_type"`; a non-object where an object
    /// is expected should too.
    static let nonObjects: [Rejected] = [
        Rejected("metadata is a string", Bodies.agent(("metadata", "x")), param: "metadata", code: "invalid_type"),
        Rejected("tool is a number", Bodies.agent(("tools", [1])), param: "tools[0]", code: "invalid_type"),
        Rejected("parameters is a string", Bodies.agent(("tools", [Bodies.function("f", parameters: "{}")])), param: "tools[0].parameters", code: "invalid_type"),
        Rejected("reasoning is a string", Bodies.agent(("reasoning", "high")), param: "reasoning", code: "invalid_type"),
    ]

    @Test(arguments: nonObjects)
    func nonObjectWhereAnObjectIsExpectedIsAnInvalidType(_ c: Rejected) {
        let error = validationError(c.body, AgentCreateRequest.init(json:))
        #expect(error?.param == c.param)
        #expect(error?.code == c.code)
    }

    struct Query: Sendable, CustomTestStringConvertible {
        var after: String?
        var limit: String?
        var order: String?
        var param: String
        var testDescription: String { "after=\(after ?? "-") limit=\(limit ?? "-") order=\(order ?? "-")" }
    }

    @Test(arguments: [
        Query(limit: "0", param: "limit"), Query(limit: "101", param: "limit"), Query(limit: "abc", param: "limit"),
        Query(limit: "-1", param: "limit"), Query(limit: "1.5", param: "limit"), Query(limit: "", param: "limit"),
        Query(limit: "99999999999999999999999", param: "limit"),
        Query(order: "up", param: "order"), Query(order: "ASC", param: "order"), Query(order: "", param: "order"),
        Query(after: "", param: "after"), Query(after: String(repeating: "a", count: 129), param: "after"),
    ])
    func listQuery(_ q: Query) {
        do {
            let query = try ListQuery(after: q.after, limit: q.limit, order: q.order)
            Issue.record("accepted: \(query)")
        } catch {
            #expect(error.param == q.param)
            #expect(error.code == "invalid_value")
        }
    }
}
