public import AgentsAPI
public import ModelProviders

/// One scripted reaction of the ``ScriptedModelServer`` to one `POST /v1/responses`.
///
/// A request takes the first queued step whose ``match`` is nil or matches it, so steps for
/// concurrent sessions can be queued independently.
///
/// Steps convert to and from JSON (the control API's format, `POST /__scripted/steps` with
/// `{"steps":[…]}`):
///
/// ```json
/// {"type":"response",
///  "match":{"contains":"weather"},
///  "outputs":[{"type":"reasoning","summary":["Thinking…"],"encrypted_content":"gAAA…"},
///             {"type":"message","text":"Hi","phase":"final_answer"},
///             {"type":"function_call","name":"get_weather","arguments":"{\"city\":\"Paris\"}","call_id":"call_1"}],
///  "usage":{"input_tokens":10,"cached_tokens":0,"output_tokens":5,"reasoning_tokens":0},
///  "options":{"chunk_size":4,"delay_ms":0,"delay_before_headers_ms":0,"disconnect_after_events":3,
///             "stall_after_events":null,"fail":{"code":"server_error","message":"boom"},"incomplete":"max_output_tokens"}}
/// {"type":"http_error","status":429,"headers":{"retry-after":"0"},"body":{"error":{…}}}
/// {"type":"stream_error","code":"server_error","message":"boom"}
/// ```
///
/// `match` is `{"contains":"text"}` (a substring of the last user message in the request's
/// `input`) or `{"prompt_cache_key":"key"}`. Everything but `type` (and `status`, `code`,
/// `message`, `text`, `name`, `arguments` where shown) is optional. An `http_error` body that is
/// a JSON string is sent verbatim as `text/plain` (a non-JSON error body); without a body an
/// OpenAI error envelope fitting the status is sent.
public struct ScriptStep: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        /// A 200 event stream with these outputs, ending in `response.completed` (or `failed` /
        /// `incomplete` as the options say). Nil usage is synthesised (see ``ScriptedModelServer``).
        case response(outputs: [ScriptOutput], usage: ModelUsage?, options: StepOptions)
        /// A non-2xx response.
        case httpError(status: Int, body: JSONValue?, headers: [String: String])
        /// A 200 event stream consisting of one top-level `{"type":"error"}` event.
        case streamError(code: String, message: String)
    }

    /// Which requests this step may answer.
    public enum Match: Sendable, Equatable {
        /// The text of the last user message in `input` contains this string.
        case contains(String)
        /// The request's `prompt_cache_key` equals this string.
        case promptCacheKey(String)
    }

    public var action: Action
    public var match: Match?

    public init(_ action: Action, match: Match? = nil) {
        self.action = action
        self.match = match
    }

    public static func response(
        outputs: [ScriptOutput], usage: ModelUsage? = nil, options: StepOptions = .init(), match: Match? = nil
    ) -> ScriptStep {
        ScriptStep(.response(outputs: outputs, usage: usage, options: options), match: match)
    }

    /// A response with a single assistant message.
    public static func message(_ text: String, phase: String? = nil, match: Match? = nil) -> ScriptStep {
        .response(outputs: [.message(text: text, phase: phase)], match: match)
    }

    public static func httpError(
        status: Int, body: JSONValue? = nil, headers: [String: String] = [:], match: Match? = nil
    ) -> ScriptStep {
        ScriptStep(.httpError(status: status, body: body, headers: headers), match: match)
    }

    public static func streamError(code: String, message: String, match: Match? = nil) -> ScriptStep {
        ScriptStep(.streamError(code: code, message: message), match: match)
    }

    /// The same step, restricted to requests that match.
    public func matching(_ match: Match) -> ScriptStep {
        var copy = self
        copy.match = match
        return copy
    }
}

/// One output item of a scripted response.
public enum ScriptOutput: Sendable, Equatable {
    /// An assistant message; `phase` is `"commentary"` or `"final_answer"` when set.
    case message(text: String, phase: String? = nil)
    /// A reasoning item with summary parts and, optionally, opaque encrypted content.
    case reasoning(summary: [String], encryptedContent: String? = nil)
    /// A function tool call; a `call_…` ID is generated when `callID` is nil.
    case functionCall(name: String, arguments: String, callID: String? = nil)
    /// A custom (freeform) tool call whose input is plain text.
    case customToolCall(name: String, input: String, callID: String? = nil)
}

/// How a scripted response is delivered.
public struct StepOptions: Sendable, Equatable {
    public struct Failure: Sendable, Equatable {
        public var code: String
        public var message: String
        public init(code: String, message: String) {
            self.code = code
            self.message = message
        }
    }

    /// Characters per text/arguments delta (whole text in one delta when ≤ 0).
    public var chunkSize: Int
    /// Pause after every event (before the next one, or before a scripted disconnect or stall).
    public var delayBetweenEvents: Duration
    /// Pause before the response head is sent.
    public var delayBeforeHeaders: Duration
    /// Close the TCP connection abruptly after this many SSE events.
    public var disconnectAfterEvents: Int?
    /// Stop sending after this many SSE events, keeping the connection open until the client
    /// goes away (or the server shuts down).
    public var stallAfterEvents: Int?
    /// End with `response.failed` carrying this error (after the outputs).
    public var fail: Failure?
    /// End with `response.incomplete` with this reason (e.g. `max_output_tokens`).
    public var incomplete: String?

    public init(
        chunkSize: Int = 8,
        delayBetweenEvents: Duration = .zero,
        delayBeforeHeaders: Duration = .zero,
        disconnectAfterEvents: Int? = nil,
        stallAfterEvents: Int? = nil,
        fail: (code: String, message: String)? = nil,
        incomplete: String? = nil
    ) {
        self.chunkSize = chunkSize
        self.delayBetweenEvents = delayBetweenEvents
        self.delayBeforeHeaders = delayBeforeHeaders
        self.disconnectAfterEvents = disconnectAfterEvents
        self.stallAfterEvents = stallAfterEvents
        self.fail = fail.map { Failure(code: $0.code, message: $0.message) }
        self.incomplete = incomplete
    }
}

/// Why a step's JSON could not be read.
public struct ScriptFormatError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

// MARK: - JSON

extension ScriptStep {
    /// The step in the control API's JSON format.
    public var json: JSONValue {
        var o = JSONObject()
        switch action {
        case .response(let outputs, let usage, let options):
            o["type"] = "response"
            if let match { o["match"] = match.json }
            o["outputs"] = .array(outputs.map(\.json))
            if let usage {
                o["usage"] = [
                    "input_tokens": .int(usage.inputTokens),
                    "cached_tokens": .int(usage.cachedTokens),
                    "output_tokens": .int(usage.outputTokens),
                    "reasoning_tokens": .int(usage.reasoningTokens),
                    "total_tokens": .int(usage.totalTokens),
                ]
            }
            o["options"] = options.json
        case .httpError(let status, let body, let headers):
            o["type"] = "http_error"
            if let match { o["match"] = match.json }
            o["status"] = .int(Int64(status))
            if let body { o["body"] = body }
            if !headers.isEmpty {
                o["headers"] = .object(JSONObject(headers.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) }))
            }
        case .streamError(let code, let message):
            o["type"] = "stream_error"
            if let match { o["match"] = match.json }
            o["code"] = .string(code)
            o["message"] = .string(message)
        }
        return .object(o)
    }

    /// Reads a step in the control API's JSON format.
    public init(json: JSONValue) throws(ScriptFormatError) {
        let o = try json.requireObject("step")
        let match = try o["match"].flatMap { value throws(ScriptFormatError) -> Match? in
            if value.isNull { return nil }
            return try Match(json: value)
        }
        switch try o.requireString("type", in: "step") {
        case "response":
            let outputs = try (o["outputs"]?.arrayValue ?? []).map { value throws(ScriptFormatError) in try ScriptOutput(json: value) }
            var usage: ModelUsage?
            if let u = o["usage"], !u.isNull {
                let uo = try u.requireObject("usage")
                let input = uo["input_tokens"]?.intValue ?? 0
                let output = uo["output_tokens"]?.intValue ?? 0
                usage = ModelUsage(
                    inputTokens: input, cachedTokens: uo["cached_tokens"]?.intValue ?? 0, outputTokens: output,
                    reasoningTokens: uo["reasoning_tokens"]?.intValue ?? 0, totalTokens: uo["total_tokens"]?.intValue)
            }
            let options = try o["options"].map { value throws(ScriptFormatError) in try StepOptions(json: value) } ?? StepOptions()
            self.init(.response(outputs: outputs, usage: usage, options: options), match: match)
        case "http_error":
            guard let status = o["status"]?.intValue, (100...599).contains(status) else {
                throw ScriptFormatError("http_error needs a \"status\" between 100 and 599")
            }
            var headers: [String: String] = [:]
            if let h = o["headers"]?.objectValue {
                for (name, value) in h {
                    switch value {
                    case .string(let s): headers[name] = s
                    case .int(let i): headers[name] = String(i)
                    case .double(let d): headers[name] = String(d)
                    default: throw ScriptFormatError("header \(name) must be a string")
                    }
                }
            }
            let body = o["body"].flatMap { $0.isNull ? nil : $0 }
            self.init(.httpError(status: Int(status), body: body, headers: headers), match: match)
        case "stream_error":
            self.init(
                .streamError(
                    code: try o.requireString("code", in: "stream_error"),
                    message: o["message"]?.stringValue ?? "scripted stream error"),
                match: match)
        case let other:
            throw ScriptFormatError("unknown step type \"\(other)\" (expected response, http_error or stream_error)")
        }
    }
}

extension ScriptStep.Match {
    public var json: JSONValue {
        switch self {
        case .contains(let text): return ["contains": .string(text)]
        case .promptCacheKey(let key): return ["prompt_cache_key": .string(key)]
        }
    }

    public init(json: JSONValue) throws(ScriptFormatError) {
        let o = try json.requireObject("match")
        if let text = o["contains"]?.stringValue {
            self = .contains(text)
        } else if let key = o["prompt_cache_key"]?.stringValue {
            self = .promptCacheKey(key)
        } else {
            throw ScriptFormatError("match needs \"contains\" or \"prompt_cache_key\"")
        }
    }
}

extension ScriptOutput {
    public var json: JSONValue {
        var o = JSONObject()
        switch self {
        case .message(let text, let phase):
            o["type"] = "message"
            o["text"] = .string(text)
            if let phase { o["phase"] = .string(phase) }
        case .reasoning(let summary, let encryptedContent):
            o["type"] = "reasoning"
            o["summary"] = .array(summary.map { .string($0) })
            if let encryptedContent { o["encrypted_content"] = .string(encryptedContent) }
        case .functionCall(let name, let arguments, let callID):
            o["type"] = "function_call"
            o["name"] = .string(name)
            o["arguments"] = .string(arguments)
            if let callID { o["call_id"] = .string(callID) }
        case .customToolCall(let name, let input, let callID):
            o["type"] = "custom_tool_call"
            o["name"] = .string(name)
            o["input"] = .string(input)
            if let callID { o["call_id"] = .string(callID) }
        }
        return .object(o)
    }

    public init(json: JSONValue) throws(ScriptFormatError) {
        let o = try json.requireObject("output")
        switch try o.requireString("type", in: "output") {
        case "message":
            self = .message(text: try o.requireString("text", in: "message"), phase: o["phase"]?.stringValue)
        case "reasoning":
            let summary = (o["summary"]?.arrayValue ?? []).compactMap(\.stringValue)
            self = .reasoning(summary: summary, encryptedContent: o["encrypted_content"]?.stringValue)
        case "function_call":
            let arguments: String
            switch o["arguments"] {
            case .string(let s): arguments = s
            case .some(let value) where !value.isNull: arguments = JSONWriter.string(value)  // an object, for convenience
            default: arguments = "{}"
            }
            self = .functionCall(
                name: try o.requireString("name", in: "function_call"), arguments: arguments, callID: o["call_id"]?.stringValue)
        case "custom_tool_call":
            self = .customToolCall(
                name: try o.requireString("name", in: "custom_tool_call"), input: try o.requireString("input", in: "custom_tool_call"),
                callID: o["call_id"]?.stringValue)
        case let other:
            throw ScriptFormatError("unknown output type \"\(other)\" (expected message, reasoning, function_call or custom_tool_call)")
        }
    }
}

extension StepOptions {
    public var json: JSONValue {
        var o = JSONObject()
        o["chunk_size"] = .int(Int64(chunkSize))
        o["delay_ms"] = .int(delayBetweenEvents.wholeMilliseconds)
        o["delay_before_headers_ms"] = .int(delayBeforeHeaders.wholeMilliseconds)
        if let disconnectAfterEvents { o["disconnect_after_events"] = .int(Int64(disconnectAfterEvents)) }
        if let stallAfterEvents { o["stall_after_events"] = .int(Int64(stallAfterEvents)) }
        if let fail { o["fail"] = ["code": .string(fail.code), "message": .string(fail.message)] }
        if let incomplete { o["incomplete"] = .string(incomplete) }
        return .object(o)
    }

    public init(json: JSONValue) throws(ScriptFormatError) {
        let o = try json.requireObject("options")
        func int(_ key: String) -> Int? { o[key]?.intValue.map { Int(clamping: $0) } }
        var failure: (code: String, message: String)?
        if let f = o["fail"], !f.isNull {
            let fo = try f.requireObject("fail")
            failure = (try fo.requireString("code", in: "fail"), fo["message"]?.stringValue ?? "scripted failure")
        }
        self.init(
            chunkSize: int("chunk_size") ?? 8,
            delayBetweenEvents: .milliseconds(int("delay_ms") ?? 0),
            delayBeforeHeaders: .milliseconds(int("delay_before_headers_ms") ?? 0),
            disconnectAfterEvents: int("disconnect_after_events"),
            stallAfterEvents: int("stall_after_events"),
            fail: failure,
            incomplete: o["incomplete"]?.stringValue)
    }
}

extension JSONValue {
    fileprivate func requireObject(_ what: String) throws(ScriptFormatError) -> JSONObject {
        guard let o = objectValue else { throw ScriptFormatError("\(what) must be a JSON object") }
        return o
    }
}

extension JSONObject {
    fileprivate func requireString(_ key: String, in what: String) throws(ScriptFormatError) -> String {
        guard let s = self[key]?.stringValue else { throw ScriptFormatError("\(what) needs a string \"\(key)\"") }
        return s
    }
}

extension Duration {
    var wholeMilliseconds: Int64 {
        let c = components
        return c.seconds * 1000 + c.attoseconds / 1_000_000_000_000_000
    }
}
