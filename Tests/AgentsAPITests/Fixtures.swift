import AgentsAPI

/// Values of every wire type, minimal and fully populated.
enum Fixtures {
    static let weatherSchema: JSONObject = [
        "type": "object",
        "properties": ["city": ["type": "string"], "days": ["type": "integer", "minimum": 1]],
        "required": ["city"],
        "additionalProperties": false,
    ]

    static let weatherTool = FunctionTool(name: "get_weather", description: "Looks up the weather.", parameters: weatherSchema)

    static let fullConfig = AgentConfig(
        model: "gpt-test",
        instructions: "Be brief.",
        reasoning: ReasoningConfig(effort: .high, summary: .detailed),
        serviceTier: .flex,
        text: TextConfig(format: .jsonSchema(["type": "object", "properties": [:]]), verbosity: .low),
        tools: [
            .function(weatherTool),
            .function(FunctionTool(name: "noop", description: "", parameters: [:], deferLoading: false, isAsync: false)),
            .other(["type": "tool_search"]),
        ],
        multiAgent: MultiAgentConfig(enabled: true, maxConcurrentSubagents: 3),
        asyncCompaction: true,
        timeAwareness: true)

    static let metadata = try! Metadata(validating: [("team", "core"), ("env", "prod"), ("a.b", "c d")], param: "metadata")

    static let minimalAgent = Agent(
        id: "agent_01", name: nil, createdAt: 1_700_000_000, updatedAt: 1_700_000_000, metadata: Metadata(),
        config: AgentConfig(model: "gpt-test"))

    static let fullAgent = Agent(
        id: "agent_02", name: "Weather bot", createdAt: 1_700_000_000, updatedAt: 1_700_000_123, metadata: metadata, config: fullConfig)

    static let usage = TokenUsage(inputTokens: 120, cachedTokens: 20, outputTokens: 30, reasoningTokens: 7, totalTokens: 150)

    static let minimalSession = AgentSession(
        id: "sess_01", agent: SessionAgent(id: "agent_inline", name: nil, config: AgentConfig(model: "gpt-test")), rootAgentID: nil,
        createdAt: 1_700_000_000, lastActiveAt: 1_700_000_000)

    static let fullSession = AgentSession(
        id: "sess_02", agent: SessionAgent(id: "agent_02", name: "Weather bot", config: fullConfig), rootAgentID: nil,
        createdAt: 1_700_000_000, lastActiveAt: 1_700_000_500,
        environment: .other(["type": "self_hosted", "extra": [1, 2]]), error: "The model failed.", metadata: metadata,
        requiredActions: [
            .functionCall(callID: "call_1", name: "get_weather", arguments: .string(#"{"city":"Oslo"}"#), turnID: "turn_1"),
            .functionCall(callID: "call_2", name: "noop", arguments: ["x": [1, nil]], turnID: "turn_1"),
        ],
        status: .requiresAction, usage: usage, vaultIDs: ["vault_1"], promptCacheTTL: .twelveHours, review: .autoReview)

    static let queuedTurn = Turn(id: "turn_1", sessionID: "sess_01", agentID: "agent_inline", status: .queued, createdAt: 1_700_000_001)

    static let failedTurn = Turn(
        id: "turn_2", sessionID: "sess_01", agentID: "agent_inline", status: .failed, createdAt: 1_700_000_001, startedAt: 1_700_000_002,
        completedAt: 1_700_000_009, error: TurnError(code: .rateLimitExceeded, message: "Slow down."), usage: usage,
        promptCacheTTL: .thirtyMinutes)

    static let completedTurn = Turn(
        id: "turn_3", sessionID: "sess_01", agentID: "agent_inline", status: .completed, createdAt: 1_700_000_001, startedAt: 1_700_000_002,
        completedAt: 1_700_000_003, usage: usage)

    static let userMessage = SessionItem.message(
        MessageItem(id: "item_1", turnID: "turn_1", role: .user, content: [.inputText("Hi"), .inputImage(url: "https://example.com/a.png")], status: .completed))

    static let assistantMessage = SessionItem.message(
        MessageItem(id: "item_2", turnID: "turn_1", role: .assistant, content: [.outputText("Hello!")], phase: .finalAnswer, status: .completed))

    static let reasoning = SessionItem.reasoning(ReasoningItem(id: "item_3", turnID: "turn_1", summary: ["Thinking", "More"], status: .inProgress))

    static let functionCall = SessionItem.functionCall(
        FunctionCallItem(id: "item_4", turnID: "turn_1", callID: "call_1", name: "get_weather", arguments: .string(#"{"city":"Oslo"}"#), status: .completed))

    static let functionCallOutput = SessionItem.functionCallOutput(
        FunctionCallOutputItem(id: "item_5", turnID: "turn_1", callID: "call_1", output: .text("12°C"), error: nil, status: .completed))

    static let items: [Named<SessionItem>] = [
        Named("user message", userMessage),
        Named("assistant message", assistantMessage),
        Named("commentary in progress", .message(MessageItem(id: "item_6", turnID: "turn_1", role: .assistant, content: [], phase: .commentary, status: .inProgress))),
        Named("reasoning", reasoning),
        Named("reasoning without status", .reasoning(ReasoningItem(id: "item_7", turnID: "turn_1", summary: [], status: nil))),
        Named("function call, string arguments", functionCall),
        Named("function call, object arguments", .functionCall(FunctionCallItem(id: "item_8", turnID: "turn_1", callID: "call_2", name: "noop", arguments: ["a": 1], status: .inProgress))),
        Named("function call output, text", functionCallOutput),
        Named("function call output, content", .functionCallOutput(FunctionCallOutputItem(id: "item_9", turnID: "turn_1", callID: "call_2", output: .content([.inputText("see"), .inputImage(url: "data:image/png;base64,AAAA")]), error: nil, status: .completed))),
        Named("function call output, failed", .functionCallOutput(FunctionCallOutputItem(id: "item_10", turnID: "turn_1", callID: "call_3", output: nil, error: "Tool handler failed.", status: .failed))),
        Named("other item type", .other(["id": "item_11", "type": "web_search_call", "status": "completed", "turn_id": "turn_1"])),
        Named(
            "command_execution",
            .commandExecution(CommandExecutionItem(id: "item_12", turnID: "turn_1", command: "ls -la", cwd: "/workspace", status: .completed, exitCode: 0, output: "a\nb\n", durationMs: 12))),
        Named("command_execution, running", .commandExecution(CommandExecutionItem(id: "item_13", turnID: "turn_1", command: "make", cwd: nil, status: .inProgress))),
    ]

    static let textLocation = PartLocation(sessionID: "sess_01", turnID: "turn_1", itemID: "item_2", outputIndex: 1, index: 0)
    static let summaryLocation = PartLocation(sessionID: "sess_01", turnID: "turn_1", itemID: "item_3", outputIndex: 0, index: 2)

    /// One event of every body type.
    static let events: [Named<SessionEvent>] = [
        Named("agent.session.created", SessionEvent(eventID: "evt_1", .sessionCreated(minimalSession))),
        Named("agent.session.in_progress", SessionEvent(eventID: "evt_2", .sessionInProgress(minimalSession))),
        Named("agent.session.requires_action", SessionEvent(eventID: "evt_3", .sessionRequiresAction(fullSession))),
        Named("agent.session.idle", SessionEvent(eventID: "evt_4", .sessionIdle(minimalSession))),
        Named("agent.session.failed", SessionEvent(eventID: "evt_5", .sessionFailed(fullSession))),
        Named("error", SessionEvent(eventID: "evt_6", .error(sessionID: "sess_01", error: SessionError(type: "server_error", message: "Boom", code: "internal_error", param: nil)))),
        Named("agent.session.turn.created", SessionEvent(eventID: "evt_7", .turnCreated(queuedTurn))),
        Named("agent.session.turn.in_progress", SessionEvent(eventID: "evt_8", .turnInProgress(queuedTurn))),
        Named("agent.session.turn.completed", SessionEvent(eventID: "evt_9", .turnCompleted(completedTurn))),
        Named("agent.session.turn.failed", SessionEvent(eventID: "evt_10", .turnFailed(failedTurn))),
        Named("agent.session.turn.cancelled", SessionEvent(eventID: "evt_11", .turnCancelled(Turn(id: "turn_4", sessionID: "sess_01", agentID: "agent_inline", status: .cancelled, createdAt: 1, completedAt: 2)))),
        Named("agent.session.turn.item.added (user message)", SessionEvent(eventID: "evt_12", .itemAdded(sessionID: "sess_01", item: userMessage, outputIndex: nil))),
        Named("agent.session.turn.item.added (output)", SessionEvent(eventID: "evt_13", .itemAdded(sessionID: "sess_01", item: functionCall, outputIndex: 2))),
        Named("agent.session.turn.item.done", SessionEvent(eventID: "evt_14", .itemDone(sessionID: "sess_01", item: assistantMessage, outputIndex: 1))),
        Named("agent.session.turn.content_part.added", SessionEvent(eventID: "evt_15", .contentPartAdded(textLocation, text: ""))),
        Named("agent.session.turn.content_part.done", SessionEvent(eventID: "evt_16", .contentPartDone(textLocation, text: "Hello!"))),
        Named("agent.session.turn.output_text.delta", SessionEvent(eventID: "evt_17", .outputTextDelta(textLocation, delta: "Hel"))),
        Named("agent.session.turn.output_text.done", SessionEvent(eventID: "evt_18", .outputTextDone(textLocation, text: "Hello!"))),
        Named("agent.session.turn.reasoning_summary_part.added", SessionEvent(eventID: "evt_19", .reasoningSummaryPartAdded(summaryLocation, text: ""))),
        Named("agent.session.turn.reasoning_summary_part.done", SessionEvent(eventID: "evt_20", .reasoningSummaryPartDone(summaryLocation, text: "Thinking", incomplete: false))),
        Named("agent.session.turn.reasoning_summary_part.done (incomplete)", SessionEvent(eventID: "evt_21", .reasoningSummaryPartDone(summaryLocation, text: "Thin", incomplete: true))),
        Named("agent.session.turn.reasoning_summary_text.delta", SessionEvent(eventID: "evt_22", .reasoningSummaryTextDelta(summaryLocation, delta: "Thi"))),
        Named("agent.session.turn.reasoning_summary_text.done", SessionEvent(eventID: "evt_23", .reasoningSummaryTextDone(summaryLocation, text: "Thinking"))),
        Named("agent.session.budget_reached (other)", SessionEvent(eventID: "evt_24", .other(type: "agent.session.budget_reached", sessionID: "sess_01", fields: ["session_id": "sess_01", "turn_id": nil]))),
        Named("agent.session.environment.ready", SessionEvent(eventID: "evt_25", .environment(sessionID: "sess_01", turnID: nil, state: EnvironmentState(id: "env_1", status: .ready)))),
        Named(
            "agent.session.environment.failed",
            SessionEvent(eventID: "evt_26", .environment(sessionID: "sess_01", turnID: "turn_1", state: EnvironmentState(id: "env_1", status: .failed, error: ("sandbox_error", "no"))))),
        Named("agent.session.environment.reset", SessionEvent(eventID: "evt_27", .environmentReset(sessionID: "sess_01", turnID: nil, environmentID: "env_1", resetCount: 2))),
        Named(
            "agent.output.command_execution_output.delta",
            SessionEvent(eventID: "evt_28", .commandOutputDelta(PartLocation(sessionID: "sess_01", turnID: "turn_1", itemID: "item_12", outputIndex: 3, index: 0), delta: "out"))),
    ]
}
