import AgentsAPI
import Testing

/// value → `.json` → bytes → parse → `init(json:)` gives the value back.
@Suite("Wire types round-trip")
struct WireRoundTripTests {
    @Test(arguments: [Named("minimal", Fixtures.minimalAgent), Named("full", Fixtures.fullAgent)])
    func agent(_ c: Named<Agent>) throws {
        #expect(try roundTrip(c.value) == c.value)
    }

    @Test(arguments: [Named("minimal", Fixtures.minimalSession), Named("full", Fixtures.fullSession)])
    func agentSession(_ c: Named<AgentSession>) throws {
        #expect(try roundTrip(c.value) == c.value)
    }

    @Test func sessionAgent() throws {
        let value = SessionAgent(id: "agent_02", name: "Weather bot", config: Fixtures.fullConfig)
        #expect(try roundTrip(value) == value)
        let unnamed = SessionAgent(id: "agent_x", name: nil, config: AgentConfig(model: "m"))
        #expect(try roundTrip(unnamed) == unnamed)
    }

    @Test(arguments: [
        Named("function", AgentTool.function(Fixtures.weatherTool)),
        Named("function, async false", .function(FunctionTool(name: "f", description: "d", parameters: [:], isAsync: false))),
        Named("function, deferred, async", .function(FunctionTool(name: "f", description: "d", parameters: ["type": "object"], deferLoading: true, isAsync: true))),
        Named("tool_search", .other(["type": "tool_search"])),
        Named("web_search", .webSearch(WebSearchTool(allowedDomains: nil, mode: .live))),
        Named("web_search, restricted", .webSearch(WebSearchTool(allowedDomains: ["example.com"], contextSize: .high, location: ["country": "FR"], mode: .cached))),
        Named("mcp http", .mcp(MCPTool(serverLabel: "docs", transport: .http(serverURL: "https://mcp.example.com/mcp"), allowedTools: ["a"], required: true, secrets: MCPSecrets(headers: [("X-Team", "t")])))),
        Named("mcp stdio", .mcp(MCPTool(serverLabel: "local", transport: .stdio(command: "srv", cwd: "/workspace", args: ["-v"], envVars: ["TOKEN"]), connectionOrigin: .environment, requestMetadata: ["k": "v"]))),
    ])
    func agentTool(_ c: Named<AgentTool>) throws {
        #expect(try roundTrip(c.value) == c.value)
    }

    @Test func reasoningConfig() throws {
        let efforts: [ReasoningEffort?] = [nil] + ReasoningEffort.allCases.map { $0 }
        let summaries: [ReasoningSummary?] = [nil] + ReasoningSummary.allCases.map { $0 }
        for effort in efforts {
            for summary in summaries {
                let value = ReasoningConfig(effort: effort, summary: summary)
                #expect(try roundTrip(value) == value)
            }
        }
    }

    @Test func textConfig() throws {
        for verbosity in Verbosity.allCases {
            for format in [TextFormat.text, .jsonSchema([:]), .jsonSchema(Fixtures.weatherSchema)] {
                let value = TextConfig(format: format, verbosity: verbosity)
                #expect(try roundTrip(value) == value)
            }
        }
    }

    @Test func multiAgentConfig() throws {
        for value in [MultiAgentConfig(), MultiAgentConfig(enabled: true), MultiAgentConfig(enabled: true, maxConcurrentSubagents: 2)] {
            #expect(try roundTrip(value) == value)
        }
        #expect(MultiAgentConfig(enabled: true).maxConcurrentSubagents == 6)
        #expect(MultiAgentConfig(enabled: false, maxConcurrentSubagents: 4).maxConcurrentSubagents == nil)
    }

    @Test func sessionEnvironment() throws {
        #expect(try roundTrip(SessionEnvironment.none) == .none)
        let other = SessionEnvironment.other(["type": "self_hosted", "workspace_directory": "/w"])
        #expect(try roundTrip(other) == other)
        let hosted = SessionEnvironment.hosted(
            HostedEnvironment(id: "env_1", containerSize: .large, files: [HostedFile(id: "file_1", path: "/workspace/a.txt", sizeBytes: 3)]))
        #expect(try roundTrip(hosted) == hosted)
    }

    @Test func requiredAction() throws {
        for arguments: JSONValue in [.string(#"{"a":1}"#), ["a": 1], nil] {
            let value = RequiredAction.functionCall(callID: "call_1", name: "f", arguments: arguments, turnID: "turn_1")
            #expect(try roundTrip(value) == value)
        }
    }

    @Test(arguments: [
        Named("queued", Fixtures.queuedTurn), Named("failed", Fixtures.failedTurn), Named("completed", Fixtures.completedTurn),
    ])
    func turn(_ c: Named<Turn>) throws {
        #expect(try roundTrip(c.value) == c.value)
    }

    @Test(arguments: TurnErrorCode.allCases)
    func turnError(_ code: TurnErrorCode) throws {
        let value = TurnError(code: code, message: "Something about \(code.rawValue).")
        #expect(try roundTrip(value) == value)
        #expect(value.json["code"] == .string(code.rawValue))
    }

    @Test func tokenUsage() throws {
        #expect(try roundTrip(Fixtures.usage) == Fixtures.usage)
        #expect(try roundTrip(TokenUsage.zero) == .zero)
        let big = TokenUsage(inputTokens: .max / 4, cachedTokens: 1, outputTokens: 2, reasoningTokens: 3, totalTokens: .max / 2)
        #expect(try roundTrip(big) == big)
    }

    @Test func metadata() throws {
        #expect(try roundTrip(Fixtures.metadata) == Fixtures.metadata)
        #expect(try roundTrip(Metadata()) == Metadata())
        // Order is part of equality, and kept by the round-trip.
        let reversed = try Metadata(validating: Fixtures.metadata.pairs.reversed().map { ($0.key, $0.value) }, param: "metadata")
        #expect(reversed != Fixtures.metadata)
        #expect(try roundTrip(reversed) == reversed)
    }

    @Test(arguments: Fixtures.items)
    func sessionItem(_ c: Named<SessionItem>) throws {
        #expect(try roundTrip(c.value) == c.value)
    }

    @Test(arguments: [ContentPart.inputText("a\nb"), .inputImage(url: "https://x/y.png"), .outputText("é😀")])
    func contentPart(_ part: ContentPart) throws {
        #expect(try roundTrip(part) == part)
    }

    @Test func functionOutput() throws {
        for value in [FunctionOutput.text(""), .text("{\"ok\":true}"), .content([.inputText("a"), .inputImage(url: "data:image/png;base64,AA")])] {
            #expect(try FunctionOutput(json: JSONParser.parse(JSONWriter.bytes(value.json))) == value)
        }
        #expect(throws: ValidationError.self) { try FunctionOutput(json: 5) }
    }

    @Test(arguments: Fixtures.events)
    func sessionEvent(_ c: Named<SessionEvent>) throws {
        let back = try roundTrip(c.value)
        #expect(back == c.value)
        #expect(back.type == c.value.type)
        #expect(back.sessionID == c.value.sessionID)
        #expect(back.turnID == c.value.turnID)
    }

    @Test func sessionError() throws {
        let full = SessionError(type: "invalid_request_error", message: "Bad", code: "invalid_value", param: "input")
        let bare = SessionError(type: "server_error", message: "Boom")
        #expect(try roundTrip(full) == full)
        #expect(try roundTrip(bare) == bare)
    }

    @Test func apiErrorBody() throws {
        let full = APIErrorBody(message: "No such agent.", type: "invalid_request_error", param: "agent_id", code: "not_found")
        let bare = APIErrorBody(message: "Server error.", type: "server_error")
        #expect(try roundTrip(full) == full)
        #expect(try roundTrip(bare) == bare)
    }

    @Test func deletedObject() throws {
        for object in ["agent.deleted", "agent.session.deleted"] {
            let value = DeletedObject(id: "x_1", object: object)
            #expect(try roundTrip(value) == value)
        }
    }

    @Test func jsonStringConveniencesMatchTheWriter() throws {
        let agent = Fixtures.fullAgent
        #expect(agent.jsonString == JSONWriter.string(agent.json))
        #expect(agent.jsonBytes == JSONWriter.bytes(agent.json))
        #expect(try Agent(jsonString: agent.jsonString) == agent)
        #expect(try Agent(jsonBytes: agent.jsonBytes) == agent)
    }

    @Test func decodingNamesTheMissingField() {
        var object = Fixtures.minimalAgent.json.objectValue!
        object["model"] = nil
        let error = validationError(.object(object), Agent.init(json:))
        #expect(error?.param == "model")

        var turn = Fixtures.queuedTurn.json.objectValue!
        turn["status"] = "sleeping"
        #expect(validationError(.object(turn), Turn.init(json:))?.param == "status")
    }
}
