import AgentsAPI
import Testing

/// Exact encodings required by the wire contract (AGENTS_API.md §1, §3, §9, §11, §13).
@Suite("Wire encodings")
struct WireEncodingTests {
    @Test func tokenUsageShape() {
        #expect(
            Fixtures.usage.jsonString
                == #"{"input_tokens":120,"input_tokens_details":{"cached_tokens":20},"output_tokens":30,"output_tokens_details":{"reasoning_tokens":7},"total_tokens":150}"#
        )
        #expect(TokenUsage(inputTokens: 3, outputTokens: 4).totalTokens == 7)
        #expect((Fixtures.usage + Fixtures.usage).json["total_tokens"] == 300)
    }

    @Test func agentShape() throws {
        let json = Fixtures.fullAgent.json
        #expect(json["object"] == "agent")
        #expect(json["id"] == "agent_02")
        #expect(json["created_at"] == .int(1_700_000_000))
        #expect(json["updated_at"] == .int(1_700_000_123))
        #expect(json["name"] == "Weather bot")
        #expect(json["instructions"] == "Be brief.")
        #expect(json["model"] == "gpt-test")
        #expect(json["metadata"] == ["team": "core", "env": "prod", "a.b": "c d"])
        #expect(json["metadata"]?.keys == ["team", "env", "a.b"])
        #expect(json["multi_agent"] == ["enabled": true, "max_concurrent_subagents": 3])
        #expect(json["reasoning"] == ["effort": "high", "summary": "detailed"])
        #expect(json["service_tier"] == "flex")
        #expect(json["text"] == ["format": ["type": "json_schema", "schema": ["type": "object", "properties": [:]]], "verbosity": "low"])
        #expect(json["compaction"] == ["async": true])
        #expect(json["experimental"] == ["time_awareness": true])
        #expect(
            json["tools"]?.arrayValue?.first
                == [
                    "type": "function", "name": "get_weather", "description": "Looks up the weather.",
                    "parameters": .object(Fixtures.weatherSchema), "defer_loading": false,
                ])
        #expect(json["tools"]?.arrayValue?.first?.objectValue?.contains("async") == false)
        #expect(json["tools"]?.arrayValue?.last == ["type": "tool_search"])
        #expect(
            Set(json.keys)
                == [
                    "id", "object", "created_at", "updated_at", "name", "metadata", "instructions", "model", "multi_agent", "reasoning",
                    "service_tier", "text", "tools", "compaction", "experimental",
                ])
    }

    @Test func minimalAgentDefaults() {
        let json = Fixtures.minimalAgent.json
        #expect(json["name"] == .null)
        #expect(json.objectValue?.contains("name") == true)
        #expect(json.objectValue?.contains("instructions") == false)
        #expect(json["metadata"] == [:])
        #expect(json["tools"] == [])
        #expect(json["service_tier"] == "auto")
        #expect(json["reasoning"] == ["effort": nil, "summary": nil])
        #expect(json["text"] == ["format": ["type": "text"], "verbosity": "medium"])
        #expect(json["multi_agent"] == ["enabled": false, "max_concurrent_subagents": nil])
        #expect(json["compaction"] == ["async": false])
        #expect(json["experimental"] == ["time_awareness": false])
    }

    @Test func sessionShape() {
        let json = Fixtures.fullSession.json
        #expect(json["object"] == "agent.session")
        #expect(json["status"] == "requires_action")
        #expect(json["created_at"] == .int(1_700_000_000))
        #expect(json["last_active_at"] == .int(1_700_000_500))
        #expect(json["error"] == "The model failed.")
        #expect(json["usage"] == Fixtures.usage.json)
        #expect(json["vault_ids"] == ["vault_1"])
        #expect(json["prompt_cache_options"] == ["ttl": "12h"])
        #expect(json["review"] == "auto_review")
        #expect(json["environment"] == ["type": "self_hosted", "extra": [1, 2]])
        #expect(json["agent"]?["id"] == "agent_02")
        #expect(json["agent"]?["name"] == "Weather bot")
        #expect(json["agent"]?["model"] == "gpt-test")
        #expect(json["agent"]?["object"] == nil)
        #expect(json["required_actions"]?.arrayValue?.count == 2)
        #expect(json.objectValue?.contains("root_agent_id") == false)
    }

    @Test func minimalSessionOmitsOptionalFieldsAndNullsNullableOnes() {
        let json = Fixtures.minimalSession.json
        #expect(json["status"] == "idle")
        #expect(json["environment"] == ["type": "none"])
        #expect(json["required_actions"] == [])
        #expect(json["vault_ids"] == [])
        #expect(json["metadata"] == [:])
        #expect(json["error"] == .null)
        #expect(json.objectValue?.contains("prompt_cache_options") == false)
        #expect(json.objectValue?.contains("review") == false)
        #expect(json["agent"]?["name"] == .null)
        #expect(json["agent"]?.objectValue?.contains("instructions") == false)
    }

    @Test func rootAgentIDIsNotOnTheWire() throws {
        var session = Fixtures.minimalSession
        session.rootAgentID = "agent_saved"
        #expect(session.json == Fixtures.minimalSession.json)
        #expect(try roundTrip(session).rootAgentID == nil)
    }

    @Test func requiredActionFunctionCallShape() {
        let action = RequiredAction.functionCall(callID: "call_1", name: "get_weather", arguments: ["city": "Oslo"], turnID: "turn_1")
        #expect(action.json == ["type": "function_call", "arguments": ["city": "Oslo"], "call_id": "call_1", "name": "get_weather", "turn_id": "turn_1"])
        #expect(Set(action.json.keys) == ["type", "arguments", "call_id", "name", "turn_id"])
    }

    @Test func turnShape() {
        let queued = Fixtures.queuedTurn.json
        #expect(queued["object"] == "agent.session.turn")
        #expect(queued["id"] == "turn_1")
        #expect(queued["session_id"] == "sess_01")
        #expect(queued["agent_id"] == "agent_inline")
        #expect(queued["status"] == "queued")
        #expect(queued["created_at"] == .int(1_700_000_001))
        #expect(queued["error"] == .null)
        #expect(queued["usage"] == .null)
        #expect(queued["started_at"] == .null)
        #expect(queued["completed_at"] == .null)
        #expect(queued["subagent_id"] == .null)
        #expect(queued.objectValue?.contains("prompt_cache_options") == false)

        let failed = Fixtures.failedTurn.json
        #expect(failed["status"] == "failed")
        #expect(failed["error"] == ["code": "rate_limit_exceeded", "message": "Slow down."])
        #expect(failed["started_at"] == .int(1_700_000_002))
        #expect(failed["completed_at"] == .int(1_700_000_009))
        #expect(failed["usage"] == Fixtures.usage.json)
        #expect(failed["prompt_cache_options"] == ["ttl": "30m"])
    }

    @Test(arguments: TurnStatus.allCases)
    func turnStatusValues(_ status: TurnStatus) {
        let expected = ["queued", "in_progress", "waiting", "completed", "failed", "cancelled"]
        #expect(expected.contains(status.rawValue))
        #expect(status.isTerminal == ["completed", "failed", "cancelled"].contains(status.rawValue))
    }

    @Test func itemShapes() {
        #expect(
            Fixtures.userMessage.json
                == [
                    "id": "item_1", "type": "message", "role": "user",
                    "content": [["type": "input_text", "text": "Hi"], ["type": "input_image", "image_url": "https://example.com/a.png"]],
                    "phase": nil, "status": "completed", "turn_id": "turn_1",
                ])
        #expect(Fixtures.assistantMessage.json["phase"] == "final_answer")
        #expect(Fixtures.assistantMessage.json["content"] == [["type": "output_text", "text": "Hello!"]])
        #expect(
            Fixtures.reasoning.json
                == [
                    "id": "item_3", "type": "reasoning", "summary": [["type": "summary_text", "text": "Thinking"], ["type": "summary_text", "text": "More"]],
                    "status": "in_progress", "turn_id": "turn_1",
                ])
        #expect(
            Fixtures.functionCall.json
                == [
                    "id": "item_4", "type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": .string(#"{"city":"Oslo"}"#),
                    "status": "completed", "turn_id": "turn_1",
                ])
        #expect(
            Fixtures.functionCallOutput.json
                == ["id": "item_5", "type": "function_call_output", "call_id": "call_1", "output": "12°C", "error": nil, "status": "completed", "turn_id": "turn_1"])
    }

    @Test func listPageShape() {
        let page = ListPage(data: [Fixtures.queuedTurn, Fixtures.completedTurn], firstID: "turn_1", lastID: "turn_3", hasMore: true)
        #expect(page.json["object"] == "list")
        #expect(page.json["data"] == [Fixtures.queuedTurn.json, Fixtures.completedTurn.json])
        #expect(page.json["first_id"] == "turn_1")
        #expect(page.json["last_id"] == "turn_3")
        #expect(page.json["has_more"] == true)
        #expect(Set(page.json.keys) == ["object", "data", "first_id", "last_id", "has_more"])

        let empty = ListPage<Turn>(data: [], firstID: nil, lastID: nil, hasMore: false)
        #expect(empty.jsonString == #"{"object":"list","data":[],"first_id":null,"last_id":null,"has_more":false}"#)
    }

    @Test(arguments: ["agent.deleted", "agent.session.deleted"])
    func deletedObjectShape(_ object: String) {
        #expect(DeletedObject(id: "obj_1", object: object).jsonString == #"{"id":"obj_1","deleted":true,"object":"\#(object)"}"#)
    }

    @Test func apiErrorEnvelope() {
        #expect(
            APIErrorBody(message: "Bad value.", type: "invalid_request_error", param: "limit", code: "invalid_value").jsonString
                == #"{"error":{"message":"Bad value.","type":"invalid_request_error","param":"limit","code":"invalid_value"}}"#)
        #expect(
            APIErrorBody(message: "Oops.", type: "server_error").jsonString
                == #"{"error":{"message":"Oops.","type":"server_error","param":null,"code":null}}"#)
    }

    @Test func enumerationsUseTheContractSpellings() {
        #expect(ServiceTier.allCases.map(\.rawValue) == ["auto", "default", "flex", "priority", "fast", "ultrafast"])
        #expect(ReasoningEffort.allCases.map(\.rawValue) == ["none", "minimal", "low", "medium", "high", "xhigh", "max"])
        #expect(PromptCacheTTL.allCases.map(\.rawValue) == ["30m", "12h"])
        #expect(ReviewMode.allCases.map(\.rawValue) == ["none", "auto_review"])
        #expect(SessionStatus.allCases.map(\.rawValue) == ["idle", "in_progress", "requires_action", "failed"])
        #expect(TurnErrorCode.allCases.count == 23)
    }

    /// Every key the server writes is snake_case, outside user-supplied maps and schemas.
    @Test func keysAreSnakeCase() {
        func check(_ value: JSONValue, path: String) {
            switch value {
            case .object(let o):
                for (key, child) in o {
                    #expect(key.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "_" }, "\(path).\(key)")
                    if ["metadata", "parameters", "schema", "arguments"].contains(key) { continue }
                    check(child, path: "\(path).\(key)")
                }
            case .array(let a):
                for (i, child) in a.enumerated() { check(child, path: "\(path)[\(i)]") }
            default:
                break
            }
        }
        check(Fixtures.fullAgent.json, path: "agent")
        check(Fixtures.fullSession.json, path: "session")
        check(Fixtures.failedTurn.json, path: "turn")
        for c in Fixtures.events { check(c.value.json, path: c.name) }
    }
}

@Suite("Session event encodings")
struct SessionEventEncodingTests {
    @Test(arguments: Fixtures.events)
    func typeAndEventIDArePresent(_ c: Named<SessionEvent>) {
        let json = c.value.json
        #expect(json["type"] == .string(c.value.type))
        #expect(json["event_id"] == .string(c.value.eventID))
        #expect(json.keys.prefix(2) == ["type", "event_id"])
    }

    @Test func typeNamesMatchTheContract() {
        let expected = [
            "agent.session.created", "agent.session.in_progress", "agent.session.requires_action", "agent.session.idle",
            "agent.session.failed", "error", "agent.session.turn.created", "agent.session.turn.in_progress",
            "agent.session.turn.completed", "agent.session.turn.failed", "agent.session.turn.cancelled",
            "agent.session.turn.item.added", "agent.session.turn.item.added", "agent.session.turn.item.done",
            "agent.session.turn.content_part.added", "agent.session.turn.content_part.done", "agent.session.turn.output_text.delta",
            "agent.session.turn.output_text.done", "agent.session.turn.reasoning_summary_part.added",
            "agent.session.turn.reasoning_summary_part.done", "agent.session.turn.reasoning_summary_part.done",
            "agent.session.turn.reasoning_summary_text.delta", "agent.session.turn.reasoning_summary_text.done",
            "agent.session.budget_reached", "agent.session.environment.ready", "agent.session.environment.failed",
            "agent.session.environment.reset", "agent.output.command_execution_output.delta",
        ]
        #expect(Fixtures.events.map(\.value.type) == expected)
    }

    @Test func sessionSnapshotEventsCarryTheSessionNotASessionID() {
        for c in Fixtures.events.prefix(5) {
            let json = c.value.json
            #expect(json["session"] != nil, "\(c.name)")
            #expect(json.objectValue?.contains("session_id") == false, "\(c.name)")
            #expect(Set(json.keys) == ["type", "event_id", "session"], "\(c.name)")
        }
        let requiresAction = SessionEvent(eventID: "e", .sessionRequiresAction(Fixtures.fullSession)).json
        #expect(requiresAction["session"]?["status"] == "requires_action")
        #expect(requiresAction["session"]?["required_actions"]?.arrayValue?.count == 2)
    }

    @Test func errorEvent() {
        let json = SessionEvent(eventID: "evt_e", .error(sessionID: "sess_01", error: SessionError(type: "server_error", message: "Boom"))).json
        #expect(json == ["type": "error", "event_id": "evt_e", "session_id": "sess_01", "error": ["type": "server_error", "message": "Boom", "code": nil, "param": nil]])
    }

    @Test func turnEventsCarrySessionTurnIDAndTurn() {
        let lifecycle: [(SessionEvent.Body, Bool)] = [
            (.turnCreated(Fixtures.queuedTurn), false),
            (.turnInProgress(Fixtures.queuedTurn), false),
            (.turnCompleted(Fixtures.completedTurn), true),
            (.turnFailed(Fixtures.failedTurn), true),
            (.turnCancelled(Fixtures.queuedTurn), true),
        ]
        for (body, terminal) in lifecycle {
            let event = SessionEvent(eventID: "e", body)
            let json = event.json
            guard let turn = json["turn"] else {
                Issue.record("\(event.type) has no turn")
                continue
            }
            #expect(json["session_id"] == turn["session_id"], "\(event.type)")
            #expect(json["turn_id"] == turn["id"], "\(event.type)")
            #expect(turn["object"] == "agent.session.turn")
            #expect(json.objectValue?.contains("usage") == terminal, "\(event.type): usage present only on terminal turn events")
            if terminal { #expect(json["usage"] == (turn["usage"] ?? .null)) }
        }
        // A terminal turn without usage still carries the key, as null.
        let cancelled = SessionEvent(eventID: "e", .turnCancelled(Fixtures.queuedTurn)).json
        #expect(cancelled["usage"] == .null)
        let completed = SessionEvent(eventID: "e", .turnCompleted(Fixtures.completedTurn)).json
        #expect(completed["usage"] == Fixtures.usage.json)
    }

    @Test func itemAddedForAUserMessageHasExplicitNullOutputIndex() {
        let json = SessionEvent(eventID: "e", .itemAdded(sessionID: "sess_01", item: Fixtures.userMessage, outputIndex: nil)).json
        #expect(json.objectValue?.contains("output_index") == true)
        #expect(json["output_index"] == .null)
        #expect(json["session_id"] == "sess_01")
        #expect(json["turn_id"] == "turn_1")
        #expect(json["item"] == Fixtures.userMessage.json)
        #expect(json["item"]?["role"] == "user")
    }

    @Test func itemAddedAndDoneForOutputCarryTheIndex() {
        let added = SessionEvent(eventID: "e", .itemAdded(sessionID: "sess_01", item: Fixtures.functionCall, outputIndex: 2)).json
        #expect(added["output_index"] == 2)
        #expect(added["item"]?["name"] == "get_weather")
        #expect(added["item"]?["call_id"] == "call_1")
        #expect(added["item"]?["turn_id"] == "turn_1")
        let done = SessionEvent(eventID: "e", .itemDone(sessionID: "sess_01", item: Fixtures.assistantMessage, outputIndex: 0)).json
        #expect(done["output_index"] == 0)
        #expect(done["item"]?["status"] == "completed")
    }

    @Test func textDeltaEventsCarryItemOutputAndContentIndexes() {
        let location = Fixtures.textLocation
        let bodies: [SessionEvent.Body] = [
            .contentPartAdded(location, text: ""), .contentPartDone(location, text: "Hi"), .outputTextDelta(location, delta: "H"),
            .outputTextDone(location, text: "Hi"),
        ]
        for body in bodies {
            let json = SessionEvent(eventID: "e", body).json
            #expect(json["session_id"] == "sess_01")
            #expect(json["turn_id"] == "turn_1")
            #expect(json["item_id"] == "item_2")
            #expect(json["output_index"] == 1)
            #expect(json["content_index"] == 0)
            #expect(json["summary_index"] == nil)
        }
        #expect(SessionEvent(eventID: "e", .contentPartAdded(location, text: "")).json["part"] == ["type": "output_text", "text": ""])
        #expect(SessionEvent(eventID: "e", .outputTextDelta(location, delta: "H")).json["delta"] == "H")
        #expect(SessionEvent(eventID: "e", .outputTextDone(location, text: "Hi")).json["text"] == "Hi")
    }

    @Test func reasoningSummaryEventsCarrySummaryIndex() {
        let location = Fixtures.summaryLocation
        let bodies: [SessionEvent.Body] = [
            .reasoningSummaryPartAdded(location, text: ""), .reasoningSummaryPartDone(location, text: "T", incomplete: false),
            .reasoningSummaryTextDelta(location, delta: "T"), .reasoningSummaryTextDone(location, text: "T"),
        ]
        for body in bodies {
            let json = SessionEvent(eventID: "e", body).json
            #expect(json["item_id"] == "item_3")
            #expect(json["output_index"] == 0)
            #expect(json["summary_index"] == 2)
            #expect(json["content_index"] == nil)
        }
        #expect(SessionEvent(eventID: "e", .reasoningSummaryPartAdded(location, text: "")).json["part"] == ["type": "summary_text", "text": ""])
        #expect(SessionEvent(eventID: "e", .reasoningSummaryPartDone(location, text: "T", incomplete: false)).json["status"] == nil)
        #expect(SessionEvent(eventID: "e", .reasoningSummaryPartDone(location, text: "T", incomplete: true)).json["status"] == "incomplete")
    }

    @Test func nullTurnIDIsWrittenAsNull() {
        let location = PartLocation(sessionID: "sess_01", turnID: nil, itemID: "item_1", outputIndex: 0, index: 0)
        let json = SessionEvent(eventID: "e", .outputTextDelta(location, delta: "x")).json
        #expect(json.objectValue?.contains("turn_id") == true)
        #expect(json["turn_id"] == .null)
    }

    @Test func deltasAreFlagged() {
        let deltas = Fixtures.events.filter(\.value.isDelta).map(\.value.type)
        #expect(deltas == ["agent.session.turn.output_text.delta", "agent.session.turn.reasoning_summary_text.delta", "agent.output.command_execution_output.delta"])
    }

    @Test func defaultEventIDsAreUniqueEventIDs() {
        let a = SessionEvent(.sessionIdle(Fixtures.minimalSession))
        let b = SessionEvent(.sessionIdle(Fixtures.minimalSession))
        #expect(a.eventID != b.eventID)
        #expect(IDGenerator.isWellFormed(a.eventID, prefix: .event))
    }

    @Test func unknownEventTypesAreKept() throws {
        let text = #"{"type":"agent.session.subagent.created","event_id":"evt_9","subagent":{"id":"sa_1"},"session":{"id":"sess_7"}}"#
        let event = try SessionEvent(jsonString: text)
        #expect(event.type == "agent.session.subagent.created")
        #expect(event.sessionID == "sess_7")
        #expect(event.jsonString == text)
    }
}

@Suite("Hosted environment encodings")
struct HostedEnvironmentEncodingTests {
    @Test func environmentEventsAndCommandItemsMatchTheContract() throws {
        let state = EnvironmentState(id: "env_1", status: .failed, error: ("sandbox_error", "could not start"))
        let event = SessionEvent(eventID: "e1", .environment(sessionID: "sess_1", turnID: nil, state: state)).json
        #expect(event["type"] == "agent.session.environment.failed")
        #expect(event["environment"] == ["id": "env_1", "type": "openai_hosted", "status": "failed", "error": ["code": "sandbox_error", "message": "could not start", "type": "sandbox_error"]])
        let reset = SessionEvent(eventID: "e2", .environmentReset(sessionID: "sess_1", turnID: "turn_1", environmentID: "env_1", resetCount: 3)).json
        #expect(reset["environment_id"] == "env_1" && reset["reset_count"] == 3 && reset["environment"] == nil)
        let delta = SessionEvent(eventID: "e3", .commandOutputDelta(PartLocation(sessionID: "s", turnID: "t", itemID: "i", outputIndex: 2, index: 0), delta: "x")).json
        #expect(delta.objectValue.map { Set($0.keys) } == ["type", "event_id", "session_id", "turn_id", "item_id", "output_index", "delta"])
        let item = SessionItem.commandExecution(CommandExecutionItem(id: "i", turnID: "t", command: "ls", cwd: "/workspace", status: .completed, exitCode: 0, output: "a", durationMs: 5)).json
        #expect(item["type"] == "command_execution" && item["exit_code"] == 0 && item["duration_ms"] == 5 && item["output"] == "a")
        let hosted = SessionEnvironment.hosted(HostedEnvironment(id: "env_1")).json
        #expect(hosted["type"] == "openai_hosted" && hosted["container_size"] == "medium")
        #expect(hosted["network"] == ["access": "disabled", "allowed_domains": []])
        #expect(hosted["packages"] == ["npm": [], "python": [], "system": []])
        #expect(hosted["env"] == nil && hosted["setup_commands"] == nil)
    }

    @Test func hostedSessionCreateKeepsSecretsApart() throws {
        let body: JSONValue = [
            "agent": ["model": "m"], "input": "x",
            "environment": [
                "type": "openai_hosted", "container_size": "large", "env": ["API_TOKEN": "t0ken"],
                "setup_commands": [["command": "make setup", "cwd": "/workspace/app"]],
                "files": [["type": "inline", "path": "/workspace/app/config.json", "data": "e30="]],
            ],
        ]
        let request = try SessionCreateRequest(json: body)
        let hosted = try #require(request.environment.hosted)
        #expect(hosted.containerSize == .large && hosted.files.map(\.path) == ["/workspace/app/config.json"] && hosted.files.first?.sizeBytes == 2)
        let secrets = try #require(request.environmentSecrets)
        #expect(secrets.env.map(\.name) == ["API_TOKEN"] && secrets.setupCommands == [.init(command: "make setup", cwd: "/workspace/app")])
        #expect(!JSONWriter.string(request.environment.json).contains("t0ken"))
        #expect(!JSONWriter.string(request.environment.json).contains("make setup"))
        #expect(HostedEnvironmentSecrets(json: secrets.json) == secrets)
    }
}
