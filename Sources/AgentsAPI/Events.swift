/// `SessionError`, carried by the `error` event.
public struct SessionError: Sendable, Equatable, JSONCodable {
    public var type: String
    public var message: String
    public var code: String?
    public var param: String?

    public init(type: String, message: String, code: String? = nil, param: String? = nil) {
        self.type = type
        self.message = message
        self.code = code
        self.param = param
    }

    public var json: JSONValue {
        ["type": .string(type), "message": .string(message), "code": code.jsonOrNull, "param": param.jsonOrNull]
    }

    public init(json: JSONValue) throws(ValidationError) {
        let r = try JSONReader(json)
        type = try r.string("type")
        message = try r.string("message")
        code = try r.optionalString("code")
        param = try r.optionalString("param")
    }
}

/// Where a streamed fragment belongs: an item's content part or reasoning-summary part.
public struct PartLocation: Sendable, Equatable {
    public var sessionID: String
    public var turnID: String?
    public var itemID: String
    public var outputIndex: Int
    /// `content_index` for text events, `summary_index` for reasoning-summary events.
    public var index: Int

    public init(sessionID: String, turnID: String?, itemID: String, outputIndex: Int, index: Int) {
        self.sessionID = sessionID
        self.turnID = turnID
        self.itemID = itemID
        self.outputIndex = outputIndex
        self.index = index
    }
}

/// One `AgentSessionEvent`: what the SSE streams carry and what the event log stores.
public struct SessionEvent: Sendable, Equatable, JSONCodable {
    public enum Body: Sendable, Equatable {
        case sessionCreated(AgentSession)
        case sessionInProgress(AgentSession)
        case sessionRequiresAction(AgentSession)
        case sessionIdle(AgentSession)
        case sessionFailed(AgentSession)
        case error(sessionID: String, error: SessionError)
        case turnCreated(Turn)
        case turnInProgress(Turn)
        case turnCompleted(Turn)
        case turnFailed(Turn)
        case turnCancelled(Turn)
        case itemAdded(sessionID: String, item: SessionItem, outputIndex: Int?)
        case itemDone(sessionID: String, item: SessionItem, outputIndex: Int)
        case contentPartAdded(PartLocation, text: String)
        case contentPartDone(PartLocation, text: String)
        case outputTextDelta(PartLocation, delta: String)
        case outputTextDone(PartLocation, text: String)
        case reasoningSummaryPartAdded(PartLocation, text: String)
        case reasoningSummaryPartDone(PartLocation, text: String, incomplete: Bool)
        case reasoningSummaryTextDelta(PartLocation, delta: String)
        case reasoningSummaryTextDone(PartLocation, text: String)
        /// `agent.output.command_execution_output.delta` (`index` of the location is unused).
        case commandOutputDelta(PartLocation, delta: String)
        /// `agent.session.environment.<status>`.
        case environment(sessionID: String, turnID: String?, state: EnvironmentState)
        /// `agent.session.environment.reset`: the sandbox was replaced.
        case environmentReset(sessionID: String, turnID: String?, environmentID: String, resetCount: Int64)
        /// An event type this version does not model; kept as stored.
        case other(type: String, sessionID: String, fields: JSONObject)
    }

    public var eventID: String
    public var body: Body

    public init(eventID: String = IDGenerator.make(.event), _ body: Body) {
        self.eventID = eventID
        self.body = body
    }

    public var type: String {
        switch body {
        case .sessionCreated: return "agent.session.created"
        case .sessionInProgress: return "agent.session.in_progress"
        case .sessionRequiresAction: return "agent.session.requires_action"
        case .sessionIdle: return "agent.session.idle"
        case .sessionFailed: return "agent.session.failed"
        case .error: return "error"
        case .turnCreated: return "agent.session.turn.created"
        case .turnInProgress: return "agent.session.turn.in_progress"
        case .turnCompleted: return "agent.session.turn.completed"
        case .turnFailed: return "agent.session.turn.failed"
        case .turnCancelled: return "agent.session.turn.cancelled"
        case .itemAdded: return "agent.session.turn.item.added"
        case .itemDone: return "agent.session.turn.item.done"
        case .contentPartAdded: return "agent.session.turn.content_part.added"
        case .contentPartDone: return "agent.session.turn.content_part.done"
        case .outputTextDelta: return "agent.session.turn.output_text.delta"
        case .outputTextDone: return "agent.session.turn.output_text.done"
        case .reasoningSummaryPartAdded: return "agent.session.turn.reasoning_summary_part.added"
        case .reasoningSummaryPartDone: return "agent.session.turn.reasoning_summary_part.done"
        case .reasoningSummaryTextDelta: return "agent.session.turn.reasoning_summary_text.delta"
        case .reasoningSummaryTextDone: return "agent.session.turn.reasoning_summary_text.done"
        case .commandOutputDelta: return "agent.output.command_execution_output.delta"
        case .environment(_, _, let state): return "agent.session.environment.\(state.status.rawValue)"
        case .environmentReset: return "agent.session.environment.reset"
        case .other(let type, _, _): return type
        }
    }

    public var sessionID: String {
        switch body {
        case .sessionCreated(let s), .sessionInProgress(let s), .sessionRequiresAction(let s), .sessionIdle(let s), .sessionFailed(let s):
            return s.id
        case .error(let id, _), .itemAdded(let id, _, _), .itemDone(let id, _, _), .other(_, let id, _), .environment(let id, _, _),
            .environmentReset(let id, _, _, _):
            return id
        case .turnCreated(let t), .turnInProgress(let t), .turnCompleted(let t), .turnFailed(let t), .turnCancelled(let t):
            return t.sessionID
        case .contentPartAdded(let p, _), .contentPartDone(let p, _), .outputTextDelta(let p, _), .outputTextDone(let p, _),
            .reasoningSummaryPartAdded(let p, _), .reasoningSummaryPartDone(let p, _, _), .reasoningSummaryTextDelta(let p, _),
            .reasoningSummaryTextDone(let p, _), .commandOutputDelta(let p, _):
            return p.sessionID
        }
    }

    public var turnID: String? {
        switch body {
        case .turnCreated(let t), .turnInProgress(let t), .turnCompleted(let t), .turnFailed(let t), .turnCancelled(let t):
            return t.id
        case .itemAdded(_, let item, _), .itemDone(_, let item, _):
            return item.turnID
        case .contentPartAdded(let p, _), .contentPartDone(let p, _), .outputTextDelta(let p, _), .outputTextDone(let p, _),
            .reasoningSummaryPartAdded(let p, _), .reasoningSummaryPartDone(let p, _, _), .reasoningSummaryTextDelta(let p, _),
            .reasoningSummaryTextDone(let p, _), .commandOutputDelta(let p, _):
            return p.turnID
        case .environment(_, let turnID, _), .environmentReset(_, let turnID, _, _):
            return turnID
        case .other(_, _, let fields):
            return fields["turn_id"]?.stringValue
        default:
            return nil
        }
    }

    /// Streamed fragments (deltas), which carry obfuscation padding when it is enabled.
    public var isDelta: Bool {
        switch body {
        case .outputTextDelta, .reasoningSummaryTextDelta, .commandOutputDelta: return true
        case .other(let type, _, _): return type.hasSuffix(".delta")
        default: return false
        }
    }

    public var json: JSONValue {
        var o = JSONObject()
        o["type"] = .string(type)
        o["event_id"] = .string(eventID)
        switch body {
        case .sessionCreated(let s), .sessionInProgress(let s), .sessionRequiresAction(let s), .sessionIdle(let s), .sessionFailed(let s):
            o["session"] = s.json
        case .error(let sessionID, let error):
            o["session_id"] = .string(sessionID)
            o["error"] = error.json
        case .turnCreated(let t), .turnInProgress(let t):
            o["session_id"] = .string(t.sessionID)
            o["turn_id"] = .string(t.id)
            o["turn"] = t.json
        case .turnCompleted(let t), .turnFailed(let t), .turnCancelled(let t):
            o["session_id"] = .string(t.sessionID)
            o["turn_id"] = .string(t.id)
            o["turn"] = t.json
            o["usage"] = t.usage?.json ?? .null
        case .itemAdded(let sessionID, let item, let outputIndex):
            o["session_id"] = .string(sessionID)
            o["turn_id"] = item.turnID.jsonOrNull
            o["item"] = item.json
            o["output_index"] = outputIndex.map { .int(Int64($0)) } ?? .null
        case .itemDone(let sessionID, let item, let outputIndex):
            o["session_id"] = .string(sessionID)
            o["turn_id"] = item.turnID.jsonOrNull
            o["item"] = item.json
            o["output_index"] = .int(Int64(outputIndex))
        case .contentPartAdded(let p, let text), .contentPartDone(let p, let text):
            Self.writeLocation(p, indexKey: "content_index", into: &o)
            o["part"] = ["type": "output_text", "text": .string(text)]
        case .outputTextDelta(let p, let delta):
            Self.writeLocation(p, indexKey: "content_index", into: &o)
            o["delta"] = .string(delta)
        case .outputTextDone(let p, let text):
            Self.writeLocation(p, indexKey: "content_index", into: &o)
            o["text"] = .string(text)
        case .reasoningSummaryPartAdded(let p, let text):
            Self.writeLocation(p, indexKey: "summary_index", into: &o)
            o["part"] = ["type": "summary_text", "text": .string(text)]
        case .reasoningSummaryPartDone(let p, let text, let incomplete):
            Self.writeLocation(p, indexKey: "summary_index", into: &o)
            o["part"] = ["type": "summary_text", "text": .string(text)]
            if incomplete { o["status"] = "incomplete" }
        case .reasoningSummaryTextDelta(let p, let delta):
            Self.writeLocation(p, indexKey: "summary_index", into: &o)
            o["delta"] = .string(delta)
        case .reasoningSummaryTextDone(let p, let text):
            Self.writeLocation(p, indexKey: "summary_index", into: &o)
            o["text"] = .string(text)
        case .commandOutputDelta(let p, let delta):
            o["session_id"] = .string(p.sessionID)
            o["turn_id"] = p.turnID.jsonOrNull
            o["item_id"] = .string(p.itemID)
            o["output_index"] = .int(Int64(p.outputIndex))
            o["delta"] = .string(delta)
        case .environment(let sessionID, let turnID, let state):
            o["session_id"] = .string(sessionID)
            o["turn_id"] = turnID.jsonOrNull
            o["environment"] = state.json
        case .environmentReset(let sessionID, let turnID, let environmentID, let resetCount):
            o["session_id"] = .string(sessionID)
            o["turn_id"] = turnID.jsonOrNull
            o["environment_id"] = .string(environmentID)
            o["reset_count"] = .int(resetCount)
        case .other(_, _, let fields):
            for (k, v) in fields where k != "type" && k != "event_id" { o[k] = v }
        }
        return .object(o)
    }

    private static func writeLocation(_ p: PartLocation, indexKey: String, into o: inout JSONObject) {
        o["session_id"] = .string(p.sessionID)
        o["turn_id"] = p.turnID.jsonOrNull
        o["item_id"] = .string(p.itemID)
        o["output_index"] = .int(Int64(p.outputIndex))
        o[indexKey] = .int(Int64(p.index))
    }

    public init(json: JSONValue) throws(ValidationError) {
        let r = try JSONReader(json)
        let type = try r.string("type")
        eventID = try r.string("event_id")

        func session() throws(ValidationError) -> AgentSession { try AgentSession(json: r.required("session")) }
        func turn() throws(ValidationError) -> Turn { try Turn(json: r.required("turn")) }
        func location(_ indexKey: String) throws(ValidationError) -> PartLocation {
            PartLocation(
                sessionID: try r.string("session_id"), turnID: try r.optionalString("turn_id"), itemID: try r.string("item_id"),
                outputIndex: Int(try r.int("output_index")), index: Int(try r.int(indexKey)))
        }
        func partText() throws(ValidationError) -> String { try r.object("part").string("text") }

        switch type {
        case "agent.session.created": body = .sessionCreated(try session())
        case "agent.session.in_progress": body = .sessionInProgress(try session())
        case "agent.session.requires_action": body = .sessionRequiresAction(try session())
        case "agent.session.idle": body = .sessionIdle(try session())
        case "agent.session.failed": body = .sessionFailed(try session())
        case "error": body = .error(sessionID: try r.string("session_id"), error: try SessionError(json: r.required("error")))
        case "agent.session.turn.created": body = .turnCreated(try turn())
        case "agent.session.turn.in_progress": body = .turnInProgress(try turn())
        case "agent.session.turn.completed": body = .turnCompleted(try turn())
        case "agent.session.turn.failed": body = .turnFailed(try turn())
        case "agent.session.turn.cancelled": body = .turnCancelled(try turn())
        case "agent.session.turn.item.added":
            body = .itemAdded(
                sessionID: try r.string("session_id"), item: try SessionItem(json: r.required("item")),
                outputIndex: try r.intField("output_index").value.map { Int($0) })
        case "agent.session.turn.item.done":
            body = .itemDone(sessionID: try r.string("session_id"), item: try SessionItem(json: r.required("item")), outputIndex: Int(try r.int("output_index")))
        case "agent.session.turn.content_part.added": body = .contentPartAdded(try location("content_index"), text: try partText())
        case "agent.session.turn.content_part.done": body = .contentPartDone(try location("content_index"), text: try partText())
        case "agent.session.turn.output_text.delta": body = .outputTextDelta(try location("content_index"), delta: try r.string("delta"))
        case "agent.session.turn.output_text.done": body = .outputTextDone(try location("content_index"), text: try r.string("text"))
        case "agent.session.turn.reasoning_summary_part.added": body = .reasoningSummaryPartAdded(try location("summary_index"), text: try partText())
        case "agent.session.turn.reasoning_summary_part.done":
            body = .reasoningSummaryPartDone(try location("summary_index"), text: try partText(), incomplete: try r.optionalString("status") == "incomplete")
        case "agent.session.turn.reasoning_summary_text.delta": body = .reasoningSummaryTextDelta(try location("summary_index"), delta: try r.string("delta"))
        case "agent.session.turn.reasoning_summary_text.done": body = .reasoningSummaryTextDone(try location("summary_index"), text: try r.string("text"))
        case "agent.output.command_execution_output.delta":
            body = .commandOutputDelta(
                PartLocation(
                    sessionID: try r.string("session_id"), turnID: try r.optionalString("turn_id"), itemID: try r.string("item_id"),
                    outputIndex: Int(try r.int("output_index")), index: 0),
                delta: try r.string("delta"))
        case "agent.session.environment.reset":
            body = .environmentReset(
                sessionID: try r.string("session_id"), turnID: try r.optionalString("turn_id"), environmentID: try r.string("environment_id"),
                resetCount: try r.int("reset_count"))
        case let t where t.hasPrefix("agent.session.environment."):
            body = .environment(sessionID: try r.string("session_id"), turnID: try r.optionalString("turn_id"), state: try EnvironmentState(json: r.required("environment")))
        default:
            var fields = r.object
            fields["type"] = nil
            fields["event_id"] = nil
            var sessionID = try r.optionalString("session_id")
            if sessionID == nil { sessionID = try r.objectField("session").value?.optionalString("id") }
            body = .other(type: type, sessionID: sessionID ?? "", fields: fields)
            return
        }
    }
}
