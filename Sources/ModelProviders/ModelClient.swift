public import AgentsAPI

/// One request to a model, in the shape of the OpenAI Responses API (`POST /v1/responses`).
///
/// The runtime always streams and never asks the provider to store anything: the whole history
/// is sent as `input` every time (`store: false`), which is what Codex does.
public struct ModelRequest: Sendable, Equatable {
    public var model: String
    public var instructions: String?
    /// Responses API input items (messages, reasoning items, function calls and their outputs).
    public var input: [JSONValue]
    /// Responses API tool definitions (`{"type":"function","name":…,"parameters":…}`).
    public var tools: [JSONValue]
    public var toolChoice: String
    public var parallelToolCalls: Bool
    /// `{"effort": …, "summary": …}` or nil to leave reasoning to the model's default.
    public var reasoning: JSONValue?
    /// e.g. `["reasoning.encrypted_content"]`.
    public var include: [String]
    /// `{"format": …, "verbosity": …}` or nil.
    public var text: JSONValue?
    public var serviceTier: String?
    public var promptCacheKey: String?
    /// Provider retention setting for the prompt cache (`"in-memory"`, `"24h"`), or nil.
    public var promptCacheRetention: String?
    /// Encodings of `input`'s items kept from one request of a turn to the next, so that only
    /// new items are encoded (``encodedBody()``); nil encodes everything.
    public var inputEncoding: JSONArrayEncodingCache?

    public init(
        model: String,
        instructions: String? = nil,
        input: [JSONValue],
        tools: [JSONValue] = [],
        toolChoice: String = "auto",
        parallelToolCalls: Bool = false,
        reasoning: JSONValue? = nil,
        include: [String] = [],
        text: JSONValue? = nil,
        serviceTier: String? = nil,
        promptCacheKey: String? = nil,
        promptCacheRetention: String? = nil
    ) {
        self.model = model
        self.instructions = instructions
        self.input = input
        self.tools = tools
        self.toolChoice = toolChoice
        self.parallelToolCalls = parallelToolCalls
        self.reasoning = reasoning
        self.include = include
        self.text = text
        self.serviceTier = serviceTier
        self.promptCacheKey = promptCacheKey
        self.promptCacheRetention = promptCacheRetention
    }

    /// The JSON body sent to `POST {base}/responses`. Key order is fixed so that the same
    /// request always serialises to the same bytes.
    public var body: JSONValue {
        .object(object(input: .array(input)))
    }

    /// ``body``, encoded: the same bytes as `JSONWriter.bytes(body)`, with `input` written
    /// through ``inputEncoding`` when there is one.
    public func encodedBody() -> [UInt8] {
        guard let cache = inputEncoding else { return JSONWriter.bytes(body) }
        var out: [UInt8] = []
        out.reserveCapacity(64 * 1024)
        out.append(UInt8(ascii: "{"))
        for (i, (key, value)) in object(input: .null).enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONWriter.writeString(key, into: &out)
            out.append(UInt8(ascii: ":"))
            if key == "input" {
                cache.write(input, into: &out)
            } else {
                JSONWriter.write(value, into: &out)
            }
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    private func object(input: JSONValue) -> JSONObject {
        var o = JSONObject()
        o["model"] = .string(model)
        o.set("instructions", instructions.map { .string($0) })
        o["input"] = input
        o["tools"] = .array(tools)
        o["tool_choice"] = .string(toolChoice)
        o["parallel_tool_calls"] = .bool(parallelToolCalls)
        o.set("reasoning", reasoning)
        o["store"] = false
        o["stream"] = true
        o["include"] = .array(include.map { .string($0) })
        o.set("text", text)
        o.set("service_tier", serviceTier.map { .string($0) })
        o.set("prompt_cache_key", promptCacheKey.map { .string($0) })
        o.set("prompt_cache_retention", promptCacheRetention.map { .string($0) })
        return o
    }
}

/// Token usage of one model response, as the Responses API reports it.
public struct ModelUsage: Sendable, Equatable {
    public var inputTokens: Int64
    public var cachedTokens: Int64
    public var outputTokens: Int64
    public var reasoningTokens: Int64
    public var totalTokens: Int64

    public init(inputTokens: Int64 = 0, cachedTokens: Int64 = 0, outputTokens: Int64 = 0, reasoningTokens: Int64 = 0, totalTokens: Int64? = nil) {
        self.inputTokens = inputTokens
        self.cachedTokens = cachedTokens
        self.outputTokens = outputTokens
        self.reasoningTokens = reasoningTokens
        self.totalTokens = totalTokens ?? (inputTokens + outputTokens)
    }

    public static let zero = ModelUsage()

    public static func + (lhs: ModelUsage, rhs: ModelUsage) -> ModelUsage {
        ModelUsage(
            inputTokens: lhs.inputTokens + rhs.inputTokens,
            cachedTokens: lhs.cachedTokens + rhs.cachedTokens,
            outputTokens: lhs.outputTokens + rhs.outputTokens,
            reasoningTokens: lhs.reasoningTokens + rhs.reasoningTokens,
            totalTokens: lhs.totalTokens + rhs.totalTokens)
    }
}

/// One server-sent event of a streamed Responses API response, decoded.
///
/// Indices are the provider's (`output_index` restarts at 0 for every response). Items are the
/// provider's JSON, unchanged, so that they can be sent back verbatim in the next request.
public enum ModelStreamEvent: Sendable, Equatable {
    case created(responseID: String)
    case outputItemAdded(outputIndex: Int, item: JSONValue)
    case contentPartAdded(itemID: String, outputIndex: Int, contentIndex: Int, part: JSONValue)
    case outputTextDelta(itemID: String, outputIndex: Int, contentIndex: Int, delta: String)
    case outputTextDone(itemID: String, outputIndex: Int, contentIndex: Int, text: String)
    case contentPartDone(itemID: String, outputIndex: Int, contentIndex: Int, part: JSONValue)
    case reasoningSummaryPartAdded(itemID: String, outputIndex: Int, summaryIndex: Int, part: JSONValue)
    case reasoningSummaryTextDelta(itemID: String, outputIndex: Int, summaryIndex: Int, delta: String)
    case reasoningSummaryTextDone(itemID: String, outputIndex: Int, summaryIndex: Int, text: String)
    case reasoningSummaryPartDone(itemID: String, outputIndex: Int, summaryIndex: Int, part: JSONValue)
    case functionCallArgumentsDelta(itemID: String, outputIndex: Int, delta: String)
    case outputItemDone(outputIndex: Int, item: JSONValue)
    /// `response.completed`: the response finished normally.
    case completed(responseID: String, usage: ModelUsage?)
    /// `response.incomplete`: the response stopped early (e.g. `max_output_tokens`).
    case incomplete(responseID: String, reason: String?, usage: ModelUsage?)
    /// Any other event type, passed through for logging.
    case other(type: String, payload: JSONValue)
}

/// Why a model call failed, classified so the runtime can map it to a `SessionTurnError` code.
public struct ModelError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// 401/403 from the provider.
        case authentication
        /// 429 that persisted through the retry budget, or a `rate_limit_exceeded` stream error.
        case rateLimited
        /// 5xx that persisted through the retry budget, or a `server_error` stream error.
        case server
        /// 503 / `server_is_overloaded`.
        case overloaded
        /// The input does not fit the model's context window.
        case contextLengthExceeded
        /// `max_output_tokens` reached (`response.incomplete`).
        case maxOutputTokens
        /// Any other 4xx: the request was rejected.
        case invalidRequest
        /// 404 model or resource not found.
        case notFound
        /// Could not connect, or the connection broke mid-stream.
        case connection
        /// No data within the read timeout.
        case timeout
        /// A stream that ended without `response.completed`, or could not be parsed.
        case protocolViolation
    }

    public var kind: Kind
    public var message: String
    /// HTTP status from the provider, when there was one.
    public var statusCode: Int?
    /// The provider's error `code`, when it sent one.
    public var code: String?

    public init(kind: Kind, message: String, statusCode: Int? = nil, code: String? = nil) {
        self.kind = kind
        self.message = message
        self.statusCode = statusCode
        self.code = code
    }

    public var description: String {
        "ModelError(\(kind.rawValue)\(statusCode.map { ", status \($0)" } ?? "")\(code.map { ", code \($0)" } ?? ""): \(message)"
    }
}

/// A source of model responses. The production implementation speaks the OpenAI Responses API
/// over HTTP; tests use the same implementation against the scripted model server.
public protocol ModelClient: Sendable {
    /// Starts a streamed response. Throws `ModelError` if the request fails before the stream
    /// starts (after the client's retries); the returned sequence throws `ModelError` if the
    /// stream fails midway. Cancelling the consuming task cancels the HTTP request.
    func stream(_ request: ModelRequest) async throws -> ModelResponseStream
}

/// The events of one streamed response.
public struct ModelResponseStream: AsyncSequence, Sendable {
    public typealias Element = ModelStreamEvent
    private let base: AsyncThrowingStream<ModelStreamEvent, any Error>

    public init(_ base: AsyncThrowingStream<ModelStreamEvent, any Error>) {
        self.base = base
    }

    public func makeAsyncIterator() -> AsyncThrowingStream<ModelStreamEvent, any Error>.AsyncIterator {
        base.makeAsyncIterator()
    }
}
