/// Content of a message: user input (`input_text`, `input_image`) or model output (`output_text`).
public enum ContentPart: Sendable, Equatable, JSONCodable {
    case inputText(String)
    case inputImage(url: String)
    case outputText(String)

    public var json: JSONValue {
        switch self {
        case .inputText(let t): return ["type": "input_text", "text": .string(t)]
        case .inputImage(let url): return ["type": "input_image", "image_url": .string(url)]
        case .outputText(let t): return ["type": "output_text", "text": .string(t)]
        }
    }

    public init(json: JSONValue) throws(ValidationError) {
        let r = try JSONReader(json)
        switch try r.string("type") {
        case "input_text": self = .inputText(try r.string("text"))
        case "input_image": self = .inputImage(url: try r.string("image_url"))
        case "output_text": self = .outputText(try r.string("text"))
        case let t: throw ValidationError("Unknown content type '\(t)'.", param: r.param("type"))
        }
    }

    public var text: String? {
        switch self {
        case .inputText(let t), .outputText(let t): return t
        case .inputImage: return nil
        }
    }
}

/// Output-item status (messages, reasoning, web search).
public enum OutputItemStatus: String, Sendable, CaseIterable {
    case inProgress = "in_progress"
    case completed
    case incomplete
}

/// Function-call status (function calls and their outputs, commands, MCP calls…).
public enum FunctionCallStatus: String, Sendable, CaseIterable {
    case inProgress = "in_progress"
    case completed
    case failed
    case incomplete
}

public enum MessagePhase: String, Sendable, CaseIterable {
    case commentary
    case finalAnswer = "final_answer"
}

public enum MessageRole: String, Sendable, CaseIterable {
    case user, assistant
}

public struct MessageItem: Sendable, Equatable {
    public var id: String
    public var turnID: String
    public var role: MessageRole
    public var content: [ContentPart]
    public var phase: MessagePhase?
    public var status: OutputItemStatus

    public init(id: String, turnID: String, role: MessageRole, content: [ContentPart], phase: MessagePhase? = nil, status: OutputItemStatus) {
        self.id = id
        self.turnID = turnID
        self.role = role
        self.content = content
        self.phase = phase
        self.status = status
    }

    /// The concatenated text parts.
    public var text: String {
        content.compactMap(\.text).joined()
    }
}

public struct ReasoningItem: Sendable, Equatable {
    public var id: String
    public var turnID: String
    public var summary: [String]
    public var status: OutputItemStatus?

    public init(id: String, turnID: String, summary: [String], status: OutputItemStatus?) {
        self.id = id
        self.turnID = turnID
        self.summary = summary
        self.status = status
    }
}

public struct FunctionCallItem: Sendable, Equatable {
    public var id: String
    public var turnID: String
    public var callID: String
    public var name: String
    /// As the model produced it: usually a JSON string encoding an object.
    public var arguments: JSONValue
    public var status: FunctionCallStatus

    public init(id: String, turnID: String, callID: String, name: String, arguments: JSONValue, status: FunctionCallStatus) {
        self.id = id
        self.turnID = turnID
        self.callID = callID
        self.name = name
        self.arguments = arguments
        self.status = status
    }
}

/// The result of a function call: a string or a list of `input_text` / `input_image` parts.
public enum FunctionOutput: Sendable, Equatable {
    case text(String)
    case content([ContentPart])

    public var json: JSONValue {
        switch self {
        case .text(let s): return .string(s)
        case .content(let parts): return .array(parts.map(\.json))
        }
    }

    public init(json: JSONValue) throws(ValidationError) {
        switch json {
        case .string(let s): self = .text(s)
        case .array(let a):
            var parts: [ContentPart] = []
            for p in a { parts.append(try ContentPart(json: p)) }
            self = .content(parts)
        default: throw ValidationError("Expected a string or a content list.", param: nil)
        }
    }
}

public struct FunctionCallOutputItem: Sendable, Equatable {
    public var id: String
    public var turnID: String
    public var callID: String
    public var output: FunctionOutput?
    public var error: String?
    public var status: FunctionCallStatus

    public init(id: String, turnID: String, callID: String, output: FunctionOutput?, error: String?, status: FunctionCallStatus) {
        self.id = id
        self.turnID = turnID
        self.callID = callID
        self.output = output
        self.error = error
        self.status = status
    }
}

/// A shell command the agent ran in its sandbox.
public struct CommandExecutionItem: Sendable, Equatable {
    public var id: String
    public var turnID: String
    public var command: String
    public var cwd: String?
    public var status: FunctionCallStatus
    public var exitCode: Int64?
    public var output: String?
    public var durationMs: Int64?

    public init(id: String, turnID: String, command: String, cwd: String?, status: FunctionCallStatus, exitCode: Int64? = nil, output: String? = nil, durationMs: Int64? = nil) {
        self.id = id
        self.turnID = turnID
        self.command = command
        self.cwd = cwd
        self.status = status
        self.exitCode = exitCode
        self.output = output
        self.durationMs = durationMs
    }
}

/// `AgentSessionItem`: the union of items in a session's history.
public enum SessionItem: Sendable, Equatable, JSONCodable {
    case message(MessageItem)
    case reasoning(ReasoningItem)
    case functionCall(FunctionCallItem)
    case functionCallOutput(FunctionCallOutputItem)
    case commandExecution(CommandExecutionItem)
    /// An item type this version does not model; kept as stored.
    case other(JSONObject)

    public var id: String? {
        switch self {
        case .message(let m): return m.id
        case .reasoning(let r): return r.id
        case .functionCall(let f): return f.id
        case .functionCallOutput(let o): return o.id
        case .commandExecution(let c): return c.id
        case .other(let o): return o["id"]?.stringValue
        }
    }

    public var turnID: String? {
        switch self {
        case .message(let m): return m.turnID
        case .reasoning(let r): return r.turnID
        case .functionCall(let f): return f.turnID
        case .functionCallOutput(let o): return o.turnID
        case .commandExecution(let c): return c.turnID
        case .other(let o): return o["turn_id"]?.stringValue
        }
    }

    public var type: String {
        switch self {
        case .message: return "message"
        case .reasoning: return "reasoning"
        case .functionCall: return "function_call"
        case .functionCallOutput: return "function_call_output"
        case .commandExecution: return "command_execution"
        case .other(let o): return o["type"]?.stringValue ?? "unknown"
        }
    }

    public var json: JSONValue {
        switch self {
        case .message(let m):
            var o = JSONObject()
            o["id"] = .string(m.id)
            o["type"] = "message"
            o["role"] = .string(m.role.rawValue)
            o["content"] = .array(m.content.map(\.json))
            o["phase"] = m.phase.map { .string($0.rawValue) } ?? .null
            o["status"] = .string(m.status.rawValue)
            o["turn_id"] = .string(m.turnID)
            return .object(o)
        case .reasoning(let r):
            var o = JSONObject()
            o["id"] = .string(r.id)
            o["type"] = "reasoning"
            o["summary"] = .array(r.summary.map { ["type": "summary_text", "text": .string($0)] })
            o["status"] = r.status.map { .string($0.rawValue) } ?? .null
            o["turn_id"] = .string(r.turnID)
            return .object(o)
        case .functionCall(let f):
            var o = JSONObject()
            o["id"] = .string(f.id)
            o["type"] = "function_call"
            o["call_id"] = .string(f.callID)
            o["name"] = .string(f.name)
            o["arguments"] = f.arguments
            o["status"] = .string(f.status.rawValue)
            o["turn_id"] = .string(f.turnID)
            return .object(o)
        case .functionCallOutput(let out):
            var o = JSONObject()
            o["id"] = .string(out.id)
            o["type"] = "function_call_output"
            o["call_id"] = .string(out.callID)
            o["output"] = out.output?.json ?? .null
            o["error"] = out.error.jsonOrNull
            o["status"] = .string(out.status.rawValue)
            o["turn_id"] = .string(out.turnID)
            return .object(o)
        case .commandExecution(let c):
            var o = JSONObject()
            o["id"] = .string(c.id)
            o["type"] = "command_execution"
            o["command"] = .string(c.command)
            o["cwd"] = c.cwd.jsonOrNull
            o["status"] = .string(c.status.rawValue)
            o["exit_code"] = c.exitCode.jsonOrNull
            o["output"] = c.output.jsonOrNull
            o["duration_ms"] = c.durationMs.jsonOrNull
            o["turn_id"] = .string(c.turnID)
            return .object(o)
        case .other(let o):
            return .object(o)
        }
    }

    public init(json: JSONValue) throws(ValidationError) {
        let r = try JSONReader(json)
        switch try r.string("type") {
        case "message":
            var content: [ContentPart] = []
            for c in try r.array("content") { content.append(try ContentPart(json: c)) }
            self = .message(
                MessageItem(
                    id: try r.string("id"), turnID: try r.string("turn_id"),
                    role: try r.requiredEnum("role", MessageRole.self), content: content,
                    phase: try r.enumField("phase", MessagePhase.self).value,
                    status: try r.enumField("status", OutputItemStatus.self).value ?? .completed))
        case "reasoning":
            var summary: [String] = []
            for s in try r.arrayField("summary").value ?? [] {
                summary.append(try JSONReader(s).string("text"))
            }
            self = .reasoning(
                ReasoningItem(
                    id: try r.string("id"), turnID: try r.string("turn_id"), summary: summary,
                    status: try r.enumField("status", OutputItemStatus.self).value))
        case "function_call":
            self = .functionCall(
                FunctionCallItem(
                    id: try r.string("id"), turnID: try r.string("turn_id"), callID: try r.string("call_id"),
                    name: try r.string("name"), arguments: r["arguments"] ?? .null,
                    status: try r.enumField("status", FunctionCallStatus.self).value ?? .completed))
        case "function_call_output":
            self = .functionCallOutput(
                FunctionCallOutputItem(
                    id: try r.string("id"), turnID: try r.string("turn_id"), callID: try r.string("call_id"),
                    output: try r.field("output").value.map { (v: JSONValue) throws(ValidationError) in try FunctionOutput(json: v) },
                    error: try r.optionalString("error"),
                    status: try r.enumField("status", FunctionCallStatus.self).value ?? .completed))
        case "command_execution":
            self = .commandExecution(
                CommandExecutionItem(
                    id: try r.string("id"), turnID: try r.string("turn_id"), command: try r.string("command"), cwd: try r.optionalString("cwd"),
                    status: try r.enumField("status", FunctionCallStatus.self).value ?? .completed, exitCode: try r.intField("exit_code").value,
                    output: try r.optionalString("output"), durationMs: try r.intField("duration_ms").value))
        default:
            self = .other(r.object)
        }
    }
}
