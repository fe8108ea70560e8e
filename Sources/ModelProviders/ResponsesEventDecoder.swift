public import AgentsAPI

/// Turns the JSON payloads of a Responses API event stream into `ModelStreamEvent`s.
///
/// `response.failed` and top-level `error` events are thrown as classified `ModelError`s.
/// After a terminal event (`response.completed`, `response.incomplete`, `response.failed`,
/// `error`) ``isFinished`` is true.
public struct ResponsesEventDecoder: Sendable {
    public private(set) var responseID: String?
    public private(set) var isFinished = false

    public init() {}

    /// The members of an event's `response` object that ``decode(_:)`` reads. The lifecycle
    /// events (`response.created`, `.in_progress`, `.completed`, …) repeat the whole request
    /// (instructions, tools) and output in that object; parse payloads with
    /// `JSONParser.parse(_:keepingOnly:under:)` and these members to skip building them.
    public static let responseMembers: Set<String> = ["id", "status", "usage", "incomplete_details", "error"]

    public mutating func decode(_ payload: JSONValue) throws(ModelError) -> ModelStreamEvent {
        guard case .object(let event) = payload, let type = event["type"]?.stringValue else {
            throw ModelError(kind: .protocolViolation, message: "the model provider sent an event without a type")
        }
        func int(_ key: String) -> Int { event[key]?.intValue.map { Int(clamping: $0) } ?? 0 }
        func string(_ key: String) -> String { event[key]?.stringValue ?? "" }

        switch type {
        case "response.created":
            let id = event["response"]?["id"]?.stringValue ?? ""
            responseID = id
            return .created(responseID: id)
        case "response.output_item.added":
            return .outputItemAdded(outputIndex: int("output_index"), item: event["item"] ?? .null)
        case "response.output_item.done":
            return .outputItemDone(outputIndex: int("output_index"), item: event["item"] ?? .null)
        case "response.content_part.added":
            return .contentPartAdded(
                itemID: string("item_id"), outputIndex: int("output_index"), contentIndex: int("content_index"),
                part: event["part"] ?? .null)
        case "response.content_part.done":
            return .contentPartDone(
                itemID: string("item_id"), outputIndex: int("output_index"), contentIndex: int("content_index"),
                part: event["part"] ?? .null)
        case "response.output_text.delta":
            return .outputTextDelta(
                itemID: string("item_id"), outputIndex: int("output_index"), contentIndex: int("content_index"),
                delta: string("delta"))
        case "response.output_text.done":
            return .outputTextDone(
                itemID: string("item_id"), outputIndex: int("output_index"), contentIndex: int("content_index"),
                text: string("text"))
        case "response.reasoning_summary_part.added":
            return .reasoningSummaryPartAdded(
                itemID: string("item_id"), outputIndex: int("output_index"), summaryIndex: int("summary_index"),
                part: event["part"] ?? .null)
        case "response.reasoning_summary_part.done":
            return .reasoningSummaryPartDone(
                itemID: string("item_id"), outputIndex: int("output_index"), summaryIndex: int("summary_index"),
                part: event["part"] ?? .null)
        case "response.reasoning_summary_text.delta":
            return .reasoningSummaryTextDelta(
                itemID: string("item_id"), outputIndex: int("output_index"), summaryIndex: int("summary_index"),
                delta: string("delta"))
        case "response.reasoning_summary_text.done":
            return .reasoningSummaryTextDone(
                itemID: string("item_id"), outputIndex: int("output_index"), summaryIndex: int("summary_index"),
                text: string("text"))
        case "response.function_call_arguments.delta":
            return .functionCallArgumentsDelta(itemID: string("item_id"), outputIndex: int("output_index"), delta: string("delta"))
        case "response.completed":
            isFinished = true
            let response = event["response"]
            let id = response?["id"]?.stringValue ?? responseID ?? ""
            return .completed(responseID: id, usage: Self.usage(response?["usage"]))
        case "response.incomplete":
            isFinished = true
            let response = event["response"]
            let id = response?["id"]?.stringValue ?? responseID ?? ""
            return .incomplete(
                responseID: id, reason: response?["incomplete_details"]?["reason"]?.stringValue,
                usage: Self.usage(response?["usage"]))
        case "response.failed":
            isFinished = true
            let error = event["response"]?["error"]
            throw ErrorClassification.fromStream(code: error?["code"]?.stringValue, message: error?["message"]?.stringValue)
        case "error":
            isFinished = true
            // OpenAI puts code/message at the top level; some compatible servers nest them.
            let source = event["code"] != nil || event["message"] != nil ? payload : (event["error"] ?? payload)
            throw ErrorClassification.fromStream(code: source["code"]?.stringValue, message: source["message"]?.stringValue)
        default:
            return .other(type: type, payload: payload)
        }
    }

    /// Parses a Responses API `usage` object; nil when absent or null.
    public static func usage(_ value: JSONValue?) -> ModelUsage? {
        guard let value, case .object = value else { return nil }
        let input = value["input_tokens"]?.intValue ?? 0
        let output = value["output_tokens"]?.intValue ?? 0
        return ModelUsage(
            inputTokens: input,
            cachedTokens: value["input_tokens_details"]?["cached_tokens"]?.intValue ?? 0,
            outputTokens: output,
            reasoningTokens: value["output_tokens_details"]?["reasoning_tokens"]?.intValue ?? 0,
            totalTokens: value["total_tokens"]?.intValue ?? (input + output))
    }
}
