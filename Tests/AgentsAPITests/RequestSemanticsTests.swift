import AgentsAPI
import Testing

@Suite("Request validation: accepted requests")
struct RequestSemanticsTests {
    // MARK: POST /agents

    @Test func agentCreateDefaults() throws {
        let request = try AgentCreateRequest(json: ["model": "gpt-test"])
        #expect(request.name == nil)
        #expect(request.metadata == Metadata())
        #expect(request.config == AgentConfig(model: "gpt-test"))
    }

    @Test func mcpToolsEchoHeadersOnAgentsAndNoSecretsOnSessions() throws {
        let agent = try AgentCreateRequest(
            json: JSONParser.parse(
                #"{"model":"m","tools":[{"type":"mcp","server_label":"docs","transport":{"type":"http","server_url":"https://x/mcp","headers":{"X-Team":"t1"}},"allowed_tools":["search"]}]}"#))
        let tool = try #require(agent.config.mcpTools.first)
        #expect(tool.secrets.headers.map(\.0) == ["X-Team"])
        #expect(tool.allowedTools == ["search"])
        #expect(tool.connectionOrigin == .service)
        #expect(tool.required == false)
        #expect(tool.json["transport"] == ["type": "http", "server_url": "https://x/mcp", "headers": ["X-Team": "t1"]])

        let session = try SessionCreateRequest(
            json: JSONParser.parse(
                #"{"agent":{"model":"m","tools":[{"type":"mcp","server_label":"local","connection_origin":"environment","required":true,"transport":{"type":"stdio","command":"srv","cwd":"/workspace","env":{"TOKEN":"hunter2"},"env_vars":["HOME_DIR"]}},{"type":"mcp","server_label":"docs","transport":{"type":"http","server_url":"https://x/mcp","authorization":"hunter3","headers":{"X-Team":"t1"}}}]},"environment":{"type":"none"},"input":"hi"}"#))
        var config = AgentConfig(model: "m")
        session.agent?.apply(to: &config)
        let tools = config.mcpTools
        try #require(tools.count == 2)
        #expect(tools[0].secrets.env.map(\.1) == ["hunter2"])
        #expect(tools[1].secrets.authorization == "hunter3")
        let echoed = JSONWriter.string(SessionAgent(id: "agent_1", name: nil, config: config).json)
        for secret in ["hunter2", "hunter3", "X-Team", "\"env\"", "authorization", "headers"] { #expect(!echoed.contains(secret)) }
        #expect(echoed.contains("\"env_vars\":[\"HOME_DIR\"]"))
        #expect(echoed.contains("\"connection_origin\":\"environment\""))
    }

    @Test func agentCreateReadsEveryField() throws {
        let request = try AgentCreateRequest(
            json: JSONParser.parse(
                #"""
                {"model":"gpt-test","name":"Bot","instructions":"Be brief.","metadata":{"z":"1","a":"2"},
                 "reasoning":{"effort":"low","summary":"concise"},"service_tier":"priority",
                 "text":{"format":{"type":"json_schema","schema":{"type":"object"}},"verbosity":"high"},
                 "tools":[{"type":"function","name":"get_weather","description":"d","parameters":{"type":"object"},"async":false}],
                 "multi_agent":{"enabled":false,"max_concurrent_subagents":2},"compaction":{"async":false},"experimental":{"time_awareness":false}}
                """#))
        #expect(request.name == "Bot")
        #expect(request.metadata.pairs.map(\.key) == ["z", "a"])
        #expect(request.config.model == "gpt-test")
        #expect(request.config.instructions == "Be brief.")
        #expect(request.config.reasoning == ReasoningConfig(effort: .low, summary: .concise))
        #expect(request.config.serviceTier == .priority)
        #expect(request.config.text == TextConfig(format: .jsonSchema(["type": "object"]), verbosity: .high))
        #expect(request.config.tools == [.function(FunctionTool(name: "get_weather", description: "d", parameters: ["type": "object"], isAsync: false))])
        #expect(request.config.multiAgent == MultiAgentConfig(enabled: false))
        #expect(request.config.asyncCompaction == false)
        #expect(request.config.timeAwareness == false)
    }

    @Test func agentCreateNullsMeanDefaults() throws {
        let request = try AgentCreateRequest(
            json: JSONParser.parse(
                #"{"model":"m","name":null,"instructions":null,"metadata":null,"reasoning":null,"service_tier":null,"text":null,"tools":null,"multi_agent":null,"compaction":null}"#
            ))
        #expect(request.name == nil)
        #expect(request.metadata.isEmpty)
        #expect(request.config == AgentConfig(model: "m"))
    }

    @Test func metadataLimitsAreInclusive() throws {
        let sixteen = JSONObject((0..<16).map { ("k\($0)", JSONValue.string("v")) })
        #expect(try AgentCreateRequest(json: ["model": "m", "metadata": .object(sixteen)]).metadata.pairs.count == 16)

        let key = String(repeating: "k", count: 64)
        let value = String(repeating: "v", count: 512)
        #expect(try AgentCreateRequest(json: ["model": "m", "metadata": [key: .string(value)]]).metadata[key] == value)

        // Lengths count characters, not bytes.
        let wideKey = String(repeating: "é", count: 64)
        let wideValue = String(repeating: "😀", count: 512)
        #expect(try AgentCreateRequest(json: ["model": "m", "metadata": [wideKey: .string(wideValue)]]).metadata[wideKey] == wideValue)
    }

    @Test func toolListOfExactly3MiBIsAccepted() throws {
        let tools = Bodies.tools(ofSize: RequestLimits.maxToolsBytes)
        #expect(try AgentCreateRequest(json: ["model": "m", "tools": tools]).config.tools.count == 1)
        #expect(throws: ValidationError.self) { try AgentCreateRequest(json: ["model": "m", "tools": Bodies.tools(ofSize: RequestLimits.maxToolsBytes + 1)]) }
    }

    @Test func functionNamesMayUseDigitsUnderscoresAndHyphens() throws {
        let name = "Get_Weather-2" + String(repeating: "x", count: 51)
        #expect(name.count == 64)
        let request = try AgentCreateRequest(json: ["model": "m", "tools": [Bodies.function(name), Bodies.function("other")]])
        #expect(request.config.functionTools.map(\.name) == [name, "other"])
    }

    // MARK: POST /agents/{id}

    static let savedAgent = Agent(
        id: "agent_1", name: "Bot", createdAt: 10, updatedAt: 10,
        metadata: try! Metadata(validating: [("team", "core")], param: "metadata"),
        config: AgentConfig(
            model: "gpt-test", instructions: "Be brief.", reasoning: ReasoningConfig(effort: .high, summary: .auto), serviceTier: .flex,
            text: TextConfig(format: .jsonSchema(["type": "object"]), verbosity: .low), tools: [.function(Fixtures.weatherTool)]))

    func updated(_ json: String) throws -> Agent {
        var agent = Self.savedAgent
        try AgentUpdateRequest(json: JSONParser.parse(json)).apply(to: &agent)
        return agent
    }

    @Test func agentUpdateWithNothingChangesNothing() throws {
        let request = try AgentUpdateRequest(json: [:])
        #expect(request.model == nil)
        #expect(request.name == .absent)
        #expect(request.metadata == .absent)
        #expect(request.tools == .absent)
        #expect(try updated("{}") == Self.savedAgent)
    }

    @Test func agentUpdateNameAbsentKeepsNullClears() throws {
        #expect(try updated(#"{"model":"other"}"#).name == "Bot")
        #expect(try AgentUpdateRequest(json: ["name": nil]).name == .null)
        #expect(try updated(#"{"name":null}"#).name == nil)
        #expect(try updated(#"{"name":"New"}"#).name == "New")
        // Nothing else moves.
        var expected = Self.savedAgent
        expected.name = nil
        #expect(try updated(#"{"name":null}"#) == expected)
    }

    @Test func agentUpdateMetadataReplacesOrClears() throws {
        #expect(try updated(#"{"metadata":null}"#).metadata.isEmpty)
        #expect(try updated(#"{"metadata":{}}"#).metadata.isEmpty)
        let replaced = try updated(#"{"metadata":{"env":"prod"}}"#).metadata
        #expect(replaced.pairs.map(\.key) == ["env"])
        #expect(replaced["team"] == nil)
        #expect(try updated(#"{"name":"x"}"#).metadata == Self.savedAgent.metadata)
    }

    @Test func agentUpdateToolsReplacesOrClears() throws {
        #expect(try updated(#"{"tools":null}"#).config.tools.isEmpty)
        #expect(try updated(#"{"tools":[]}"#).config.tools.isEmpty)
        let replaced = try updated(#"{"tools":[{"type":"function","name":"f","description":"d","parameters":{}}]}"#).config.functionTools.map(\.name)
        #expect(replaced == ["f"])
        #expect(try updated(#"{"model":"m2"}"#).config.tools == Self.savedAgent.config.tools)
    }

    @Test func agentUpdateNullsResetToDefaults() throws {
        let agent = try updated(#"{"instructions":null,"reasoning":null,"service_tier":null,"text":null,"multi_agent":null,"compaction":null}"#)
        #expect(agent.config.instructions == nil)
        #expect(agent.config.reasoning == ReasoningConfig())
        #expect(agent.config.serviceTier == .auto)
        #expect(agent.config.text == TextConfig())
        #expect(agent.config.multiAgent == MultiAgentConfig())
        #expect(agent.config.asyncCompaction == false)
        #expect(agent.config.model == "gpt-test")
        #expect(agent.name == "Bot")
    }

    @Test func agentUpdateSetsValues() throws {
        let agent = try updated(#"{"model":"gpt-2","instructions":"Long.","reasoning":{"effort":"minimal"},"service_tier":"default","text":{"verbosity":"high"}}"#)
        #expect(agent.config.model == "gpt-2")
        #expect(agent.config.instructions == "Long.")
        #expect(agent.config.reasoning == ReasoningConfig(effort: .minimal, summary: nil))
        #expect(agent.config.serviceTier == .default)
        #expect(agent.config.text == TextConfig(format: .text, verbosity: .high))
    }

    // MARK: POST /agents/sessions

    @Test func sessionCreateInputStringIsOneUserMessage() throws {
        let request = try SessionCreateRequest(json: Bodies.session)
        #expect(request.input == [InputMessage(text: "Hi")])
        #expect(request.input?.first?.content == [.inputText("Hi")])
        #expect(request.environment == .none)
        #expect(request.agentID == nil)
        #expect(request.agent?.model == "gpt-test")
        #expect(request.metadata.isEmpty)
        #expect(request.promptCacheTTL == nil)
        #expect(request.review == ReviewMode.none)
        #expect(request.stream == false)
        #expect(request.includeObfuscation == true)
        #expect(request.vaultIDs.isEmpty)
    }

    @Test func sessionCreateWithAgentIDAndNoAgent() throws {
        let request = try SessionCreateRequest(json: Bodies.session(("agent", nil), ("agent_id", "agent_123")))
        #expect(request.agentID == "agent_123")
        #expect(request.agent == nil)
        // `agent: null` with an agent_id is the same.
        let withNull = try SessionCreateRequest(json: Bodies.session(("agent", .null), ("agent_id", "agent_123")))
        #expect(withNull.agent == nil)
    }

    @Test func sessionCreateWithAgentIDAppliesOverrides() throws {
        let request = try SessionCreateRequest(
            json: Bodies.session(("agent_id", "agent_1"), ("agent", ["instructions": nil, "tools": nil, "reasoning": ["effort": "low"]])))
        #expect(request.agent?.model == nil)
        var config = Self.savedAgent.config
        request.agent?.apply(to: &config)
        #expect(config.model == "gpt-test")
        #expect(config.instructions == nil)
        #expect(config.tools.isEmpty)
        #expect(config.reasoning == ReasoningConfig(effort: .low))
        #expect(config.serviceTier == .flex)
        #expect(config.text == Self.savedAgent.config.text)
    }

    @Test func sessionCreateWithInlineAgentAppliesToAFreshConfig() throws {
        let request = try SessionCreateRequest(
            json: Bodies.session(("agent", ["model": "gpt-x", "service_tier": "flex", "tools": [Bodies.function("lookup")]])))
        var config = AgentConfig(model: "")
        request.agent?.apply(to: &config)
        #expect(config.model == "gpt-x")
        #expect(config.serviceTier == .flex)
        #expect(config.functionTools.map(\.name) == ["lookup"])
    }

    @Test func sessionCreateInputMessages() throws {
        let request = try SessionCreateRequest(
            json: Bodies.sessionInput([
                ["role": "user", "content": [["type": "input_text", "text": "a"], ["type": "input_image", "image_url": "HTTPS://example.com/x.png"]]],
                ["type": "message", "role": "user", "content": [["type": "input_image", "image_url": "data:image/png;base64,iVBOR"]]],
                ["type": "message", "role": "user", "content": [["type": "input_image", "image_url": "http://example.com/y.jpg"]]],
            ]))
        #expect(
            request.input == [
                InputMessage(content: [.inputText("a"), .inputImage(url: "HTTPS://example.com/x.png")]),
                InputMessage(content: [.inputImage(url: "data:image/png;base64,iVBOR")]),
                InputMessage(content: [.inputImage(url: "http://example.com/y.jpg")]),
            ])
    }

    @Test func sessionCreateOptions() throws {
        let request = try SessionCreateRequest(
            json: Bodies.session(
                ("stream", true), ("stream_options", ["include_obfuscation": false]), ("metadata", ["k": "v"]),
                ("prompt_cache_options", ["ttl": "12h"]), ("review", "auto_review"), ("vault_ids", [])))
        #expect(request.stream)
        #expect(request.includeObfuscation == false)
        #expect(request.metadata["k"] == "v")
        #expect(request.promptCacheTTL == .twelveHours)
        #expect(request.review == .autoReview)
        #expect(request.vaultIDs.isEmpty)

        let nulls = try SessionCreateRequest(json: Bodies.session(("metadata", .null), ("prompt_cache_options", .null), ("vault_ids", .null)))
        #expect(nulls.metadata.isEmpty)
        #expect(nulls.promptCacheTTL == nil)
        #expect(nulls.vaultIDs.isEmpty)
    }

    // MARK: POST /agents/sessions/{id}

    static let session = AgentSession(
        id: "sess_1",
        agent: SessionAgent(
            id: "agent_1", name: "Bot",
            config: AgentConfig(model: "gpt-test", reasoning: ReasoningConfig(effort: .high, summary: .detailed), serviceTier: .flex, tools: [.function(Fixtures.weatherTool)])),
        rootAgentID: "agent_1", createdAt: 1, lastActiveAt: 2, metadata: try! Metadata(validating: [("a", "1")], param: "metadata"),
        promptCacheTTL: .thirtyMinutes, review: .autoReview)

    func updatedSession(_ json: String) throws -> AgentSession {
        var session = Self.session
        try SessionUpdateRequest(json: JSONParser.parse(json)).apply(to: &session)
        return session
    }

    @Test func sessionUpdateWithNothingChangesNothing() throws {
        #expect(try updatedSession("{}") == Self.session)
        #expect(try updatedSession(#"{"agent":{}}"#) == Self.session)
        #expect(try updatedSession(#"{"agent":{"reasoning":{}}}"#) == Self.session)
    }

    @Test func sessionUpdateEffortNullResetsToModelDefault() throws {
        #expect(try SessionUpdateRequest(json: JSONParser.parse(#"{"agent":{"reasoning":{"effort":null}}}"#)).reasoningEffort == .null)
        let session = try updatedSession(#"{"agent":{"reasoning":{"effort":null}}}"#)
        #expect(session.agent.config.reasoning.effort == nil)
        #expect(session.agent.config.reasoning.summary == .detailed)
        #expect(try updatedSession(#"{"agent":{"reasoning":{"effort":"low"}}}"#).agent.config.reasoning.effort == .low)
    }

    @Test func sessionUpdatePromptCacheOptions() throws {
        #expect(try SessionUpdateRequest(json: ["prompt_cache_options": nil]).promptCacheTTL == .null)
        #expect(try updatedSession(#"{"prompt_cache_options":null}"#).promptCacheTTL == nil)
        #expect(try updatedSession(#"{"prompt_cache_options":{"ttl":"12h"}}"#).promptCacheTTL == .twelveHours)
        #expect(try updatedSession(#"{"metadata":{}}"#).promptCacheTTL == .thirtyMinutes)
    }

    @Test func sessionUpdateOtherFields() throws {
        #expect(try updatedSession(#"{"metadata":null}"#).metadata.isEmpty)
        #expect(try updatedSession(#"{"metadata":{"b":"2"}}"#).metadata.pairs.map(\.key) == ["b"])
        #expect(try updatedSession(#"{"agent":{"tools":null}}"#).agent.config.tools.isEmpty)
        #expect(try updatedSession(#"{"agent":{"tools":[]}}"#).agent.config.tools.isEmpty)
        #expect(try updatedSession(#"{"agent":{"service_tier":null}}"#).agent.config.serviceTier == .auto)
        #expect(try updatedSession(#"{"agent":{"model":"gpt-2"}}"#).agent.config.model == "gpt-2")
        #expect(try updatedSession(#"{"review":"none"}"#).review == ReviewMode.none)
        let unchanged = try updatedSession(#"{"agent":{"model":"gpt-2"}}"#)
        #expect(unchanged.agent.config.tools == Self.session.agent.config.tools)
        #expect(unchanged.metadata == Self.session.metadata)
        #expect(unchanged.review == .autoReview)
    }

    // MARK: POST /agents/sessions/{id}/events

    @Test func sessionInputEvents() throws {
        let inputs = try SessionInput.parseRequest(
            JSONParser.parse(
                #"""
                {"events":[
                  {"type":"agent.session.input.message","input":[{"role":"user","content":[{"type":"input_text","text":"Hi"}]}]},
                  {"type":"agent.session.input.cancel"},
                  {"type":"agent.session.input.tool_result","turn_id":"turn_1","call_id":"call_1","success":true,"output":"12°C"},
                  {"type":"agent.session.input.tool_result","turn_id":"turn_1","call_id":"call_2","success":true,"output":[{"type":"input_text","text":"a"},{"type":"input_image","image_url":"https://x/y.png"}]},
                  {"type":"agent.session.input.tool_result","turn_id":"turn_1","call_id":"call_3","success":false,"output":null,"error":"Tool handler failed."},
                  {"type":"agent.session.input.mcp_approval_request_result","request_id":"req_1","response":{"type":"mcp_tool_call","decision":"deny"}},
                  {"type":"agent.session.input.computer_use_approval_request_result","request_id":"req_2","response":{"type":"browser_origin_access","decision":"approve"}}
                ]}
                """#))
        #expect(
            inputs == [
                .message([InputMessage(text: "Hi")]),
                .cancel,
                .toolResult(turnID: "turn_1", callID: "call_1", success: true, output: .text("12°C"), error: nil),
                .toolResult(turnID: "turn_1", callID: "call_2", success: true, output: .content([.inputText("a"), .inputImage(url: "https://x/y.png")]), error: nil),
                .toolResult(turnID: "turn_1", callID: "call_3", success: false, output: nil, error: "Tool handler failed."),
                .mcpApprovalResult(requestID: "req_1", decision: "deny"),
                .computerUseApprovalResult(requestID: "req_2"),
            ])
    }

    @Test func oneHundredEventsAreAccepted() throws {
        let events = JSONValue.array(Array(repeating: ["type": "agent.session.input.cancel"], count: 100))
        #expect(try SessionInput.parseRequest(["events": events]).count == 100)
    }

    // MARK: list queries

    @Test func listQueryDefaults() throws {
        #expect(try ListQuery(after: nil, limit: nil, order: nil) == ListQuery(after: nil, limit: 20, order: .desc))
        #expect(ListQuery() == ListQuery(after: nil, limit: 20, order: .desc))
    }

    @Test(arguments: [("1", 1), ("20", 20), ("100", 100)])
    func listQueryLimits(_ raw: String, _ expected: Int) throws {
        #expect(try ListQuery(after: nil, limit: raw, order: nil).limit == expected)
    }

    @Test func listQueryOrderAndCursor() throws {
        #expect(try ListQuery(after: "agent_x", limit: nil, order: "asc") == ListQuery(after: "agent_x", limit: 20, order: .asc))
        #expect(try ListQuery(after: nil, limit: nil, order: "desc").order == .desc)
        let longest = String(repeating: "a", count: 128)
        #expect(try ListQuery(after: longest, limit: nil, order: nil).after == longest)
    }
}
