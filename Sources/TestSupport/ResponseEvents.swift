import AgentsAPI
import ModelProviders

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Builds the event sequence of one scripted response, in the order and shape the OpenAI
/// Responses API streams them.
struct ResponseEventBuilder {
    let request: JSONValue
    let usage: ModelUsage
    let chunkSize: Int
    let responseID = randomID("resp_")
    let createdAt = Int64(Date().timeIntervalSince1970)
    private(set) var events: [JSONValue] = []
    private var doneItems: [JSONValue] = []

    init(request: JSONValue, usage: ModelUsage, chunkSize: Int) {
        self.request = request
        self.usage = usage
        self.chunkSize = chunkSize
    }

    /// All events for a response with these outputs and ending.
    static func events(
        request: JSONValue, outputs: [ScriptOutput], usage: ModelUsage, options: StepOptions
    ) -> [JSONValue] {
        var builder = ResponseEventBuilder(request: request, usage: usage, chunkSize: options.chunkSize)
        builder.emit("response.created", ["response": builder.response(status: "in_progress", output: [], usage: nil)])
        builder.emit("response.in_progress", ["response": builder.response(status: "in_progress", output: [], usage: nil)])
        for (index, output) in outputs.enumerated() {
            builder.add(output, at: index)
        }
        if let fail = options.fail {
            var response = builder.responseObject(status: "failed", output: builder.doneItems, usage: nil)
            response["error"] = ["code": .string(fail.code), "message": .string(fail.message)]
            builder.emit("response.failed", ["response": .object(response)])
        } else if let reason = options.incomplete {
            var response = builder.responseObject(status: "incomplete", output: builder.doneItems, usage: usage)
            response["incomplete_details"] = ["reason": .string(reason)]
            builder.emit("response.incomplete", ["response": .object(response)])
        } else {
            builder.emit("response.completed", ["response": builder.response(status: "completed", output: builder.doneItems, usage: usage)])
        }
        return builder.events
    }

    /// The single top-level error event of a `stream_error` step.
    static func errorEvent(code: String, message: String) -> JSONValue {
        ["type": "error", "sequence_number": 0, "code": .string(code), "message": .string(message), "param": nil]
    }

    private mutating func emit(_ type: String, _ fields: JSONObject) {
        var event = JSONObject()
        event["type"] = .string(type)
        event["sequence_number"] = .int(Int64(events.count))
        for (key, value) in fields { event[key] = value }
        events.append(.object(event))
    }

    private mutating func add(_ output: ScriptOutput, at index: Int) {
        let outputIndex = JSONValue.int(Int64(index))
        switch output {
        case .message(let text, let phase):
            let id = JSONValue.string(randomID("msg_"))
            func item(status: String, content: [JSONValue]) -> JSONValue {
                var o: JSONObject = ["id": id, "type": "message", "status": .string(status), "content": .array(content), "role": "assistant"]
                if let phase { o["phase"] = .string(phase) }
                return .object(o)
            }
            func part(_ text: String) -> JSONValue {
                ["type": "output_text", "annotations": [], "logprobs": [], "text": .string(text)]
            }
            emit("response.output_item.added", ["output_index": outputIndex, "item": item(status: "in_progress", content: [])])
            emit("response.content_part.added", ["item_id": id, "output_index": outputIndex, "content_index": 0, "part": part("")])
            for delta in chunks(text) {
                emit(
                    "response.output_text.delta",
                    ["item_id": id, "output_index": outputIndex, "content_index": 0, "delta": .string(delta), "logprobs": []])
            }
            emit(
                "response.output_text.done",
                ["item_id": id, "output_index": outputIndex, "content_index": 0, "text": .string(text), "logprobs": []])
            emit("response.content_part.done", ["item_id": id, "output_index": outputIndex, "content_index": 0, "part": part(text)])
            let done = item(status: "completed", content: [part(text)])
            emit("response.output_item.done", ["output_index": outputIndex, "item": done])
            doneItems.append(done)

        case .reasoning(let summary, let encryptedContent):
            let id = JSONValue.string(randomID("rs_"))
            emit("response.output_item.added", ["output_index": outputIndex, "item": ["id": id, "type": "reasoning", "summary": []]])
            for (summaryIndex, text) in summary.enumerated() {
                let si = JSONValue.int(Int64(summaryIndex))
                emit(
                    "response.reasoning_summary_part.added",
                    ["item_id": id, "output_index": outputIndex, "summary_index": si, "part": ["type": "summary_text", "text": ""]])
                for delta in chunks(text) {
                    emit(
                        "response.reasoning_summary_text.delta",
                        ["item_id": id, "output_index": outputIndex, "summary_index": si, "delta": .string(delta)])
                }
                emit(
                    "response.reasoning_summary_text.done",
                    ["item_id": id, "output_index": outputIndex, "summary_index": si, "text": .string(text)])
                emit(
                    "response.reasoning_summary_part.done",
                    [
                        "item_id": id, "output_index": outputIndex, "summary_index": si,
                        "part": ["type": "summary_text", "text": .string(text)],
                    ])
            }
            var done: JSONObject = ["id": id, "type": "reasoning"]
            if let encryptedContent { done["encrypted_content"] = .string(encryptedContent) }
            done["summary"] = .array(summary.map { ["type": "summary_text", "text": .string($0)] })
            emit("response.output_item.done", ["output_index": outputIndex, "item": .object(done)])
            doneItems.append(.object(done))

        case .functionCall(let name, let arguments, let callID):
            let id = JSONValue.string(randomID("fc_"))
            let call = JSONValue.string(callID ?? randomID("call_"))
            func item(status: String, arguments: String) -> JSONValue {
                ["id": id, "type": "function_call", "status": .string(status), "arguments": .string(arguments), "call_id": call, "name": .string(name)]
            }
            emit("response.output_item.added", ["output_index": outputIndex, "item": item(status: "in_progress", arguments: "")])
            for delta in chunks(arguments) {
                emit("response.function_call_arguments.delta", ["item_id": id, "output_index": outputIndex, "delta": .string(delta)])
            }
            emit("response.function_call_arguments.done", ["item_id": id, "output_index": outputIndex, "arguments": .string(arguments)])
            let done = item(status: "completed", arguments: arguments)
            emit("response.output_item.done", ["output_index": outputIndex, "item": done])
            doneItems.append(done)

        case .customToolCall(let name, let input, let callID):
            let id = JSONValue.string(randomID("ctc_"))
            let call = JSONValue.string(callID ?? randomID("call_"))
            func item(status: String, input: String) -> JSONValue {
                ["id": id, "type": "custom_tool_call", "status": .string(status), "input": .string(input), "call_id": call, "name": .string(name)]
            }
            emit("response.output_item.added", ["output_index": outputIndex, "item": item(status: "in_progress", input: "")])
            for delta in chunks(input) {
                emit("response.custom_tool_call_input.delta", ["item_id": id, "output_index": outputIndex, "delta": .string(delta)])
            }
            emit("response.custom_tool_call_input.done", ["item_id": id, "output_index": outputIndex, "input": .string(input)])
            let done = item(status: "completed", input: input)
            emit("response.output_item.done", ["output_index": outputIndex, "item": done])
            doneItems.append(done)
        }
    }

    /// The `response` object of the lifecycle events, echoing the request's settings.
    private func responseObject(status: String, output: [JSONValue], usage: ModelUsage?) -> JSONObject {
        var o = JSONObject()
        o["id"] = .string(responseID)
        o["object"] = "response"
        o["created_at"] = .int(createdAt)
        o["status"] = .string(status)
        o["error"] = .null
        o["incomplete_details"] = .null
        o["instructions"] = request["instructions"] ?? .null
        o["model"] = request["model"] ?? "scripted-model"
        o["output"] = .array(output)
        o["parallel_tool_calls"] = request["parallel_tool_calls"] ?? false
        o["previous_response_id"] = .null
        o["prompt_cache_key"] = request["prompt_cache_key"] ?? .null
        o["reasoning"] = request["reasoning"] ?? ["effort": nil, "summary": nil]
        o["store"] = request["store"] ?? false
        o["tool_choice"] = request["tool_choice"] ?? "auto"
        o["tools"] = request["tools"] ?? []
        o["usage"] = usage.map(Self.usageJSON) ?? .null
        o["metadata"] = [:]
        return o
    }

    private func response(status: String, output: [JSONValue], usage: ModelUsage?) -> JSONValue {
        .object(responseObject(status: status, output: output, usage: usage))
    }

    static func usageJSON(_ usage: ModelUsage) -> JSONValue {
        [
            "input_tokens": .int(usage.inputTokens),
            "input_tokens_details": ["cached_tokens": .int(usage.cachedTokens)],
            "output_tokens": .int(usage.outputTokens),
            "output_tokens_details": ["reasoning_tokens": .int(usage.reasoningTokens)],
            "total_tokens": .int(usage.totalTokens),
        ]
    }

    /// Splits on character boundaries, `chunkSize` characters per piece; no pieces for "".
    private func chunks(_ text: String) -> [String] {
        guard !text.isEmpty else { return [] }
        guard chunkSize > 0 else { return [text] }
        var pieces: [String] = []
        var start = text.startIndex
        while start < text.endIndex {
            let end = text.index(start, offsetBy: chunkSize, limitedBy: text.endIndex) ?? text.endIndex
            pieces.append(String(text[start..<end]))
            start = end
        }
        return pieces
    }
}

/// A prefixed random ID in the style of OpenAI's (`msg_…`, `rs_…`, `fc_…`, `call_…`).
func randomID(_ prefix: String) -> String {
    var id = prefix
    for _ in 0..<3 {
        let part = String(UInt64.random(in: .min ... .max), radix: 16)
        id += String(repeating: "0", count: 16 - part.count) + part
    }
    return id
}

/// Synthesised token counts: about four bytes per token.
enum UsageEstimator {
    static func tokens(_ byteCount: Int) -> Int64 { Int64((byteCount + 3) / 4) }

    static func usage(inputBytes: Int, cachedPrefixBytes: Int, outputs: [ScriptOutput]) -> ModelUsage {
        var visible = 0
        var reasoning = 0
        for output in outputs {
            switch output {
            case .message(let text, _): visible += text.utf8.count
            case .functionCall(let name, let arguments, _): visible += name.utf8.count + arguments.utf8.count
            case .customToolCall(let name, let input, _): visible += name.utf8.count + input.utf8.count
            case .reasoning(let summary, _): reasoning += summary.reduce(0) { $0 + $1.utf8.count }
            }
        }
        let reasoningTokens = tokens(reasoning)
        let input = tokens(inputBytes)
        return ModelUsage(
            inputTokens: input,
            cachedTokens: min(input, Int64(cachedPrefixBytes / 4)),
            outputTokens: tokens(visible) + reasoningTokens,
            reasoningTokens: reasoningTokens)
    }

    /// Length of the common prefix of two byte strings.
    static func commonPrefix(_ a: [UInt8], _ b: [UInt8]) -> Int {
        let n = min(a.count, b.count)
        var i = 0
        while i < n, a[i] == b[i] { i += 1 }
        return i
    }
}

/// The text the scripted server matches against and echoes: the last user message in `input`
/// (a string `content`, or its `input_text` parts joined with newlines).
func lastUserText(_ body: JSONValue, lastPartOnly: Bool = false) -> String? {
    guard let input = body["input"] else { return nil }
    if case .string(let s) = input { return s }
    guard let items = input.arrayValue else { return nil }
    for item in items.reversed() {
        guard item["role"]?.stringValue == "user" else { continue }
        let type = item["type"]?.stringValue
        guard type == nil || type == "message" else { continue }
        switch item["content"] {
        case .string(let s):
            return s
        case .array(let parts):
            let texts = parts.compactMap { part -> String? in
                guard part["type"]?.stringValue == "input_text" else { return nil }
                return part["text"]?.stringValue
            }
            return lastPartOnly ? texts.last : texts.joined(separator: "\n")
        default:
            return nil
        }
    }
    return nil
}
