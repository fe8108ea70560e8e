import AgentsAPI
import ModelProviders
import TestSupport

/// Retries fast enough for tests.
func fastRetry(maxRetries: Int = 2, maxRetryAfter: Duration = .seconds(60)) -> RetryPolicy {
    RetryPolicy(
        maxRetries: maxRetries, initialBackoff: .milliseconds(1), maxBackoff: .milliseconds(5), maxRetryAfter: maxRetryAfter,
        jitter: 0.5)
}

/// Runs `body` with a dedicated client for `configuration`, shutting it down afterwards.
func withClient<T>(
    _ configuration: ModelProviderConfiguration,
    _ body: (OpenAIResponsesClient) async throws -> T
) async throws -> T {
    let client = OpenAIResponsesClient.dedicated(configuration: configuration)
    do {
        let result = try await body(client)
        try await client.shutdown()
        return result
    } catch {
        try? await client.shutdown()
        throw error
    }
}

/// Runs `body` with a fresh scripted server and a client pointed at it.
func withServerAndClient<T>(
    retry: RetryPolicy = fastRetry(),
    readTimeout: Duration = .seconds(30),
    fallback: ScriptedModelServer.Fallback = .error,
    _ body: (ScriptedModelServer, OpenAIResponsesClient) async throws -> T
) async throws -> T {
    try await withScriptedModelServer(fallback: fallback) { server in
        try await withClient(server.clientConfiguration(retry: retry, readTimeout: readTimeout)) { client in
            try await body(server, client)
        }
    }
}

/// Starts a response and collects all its events.
func collect(_ client: some ModelClient, _ request: ModelRequest) async throws -> [ModelStreamEvent] {
    let stream = try await client.stream(request)
    var events: [ModelStreamEvent] = []
    for try await event in stream {
        events.append(event)
    }
    return events
}

func userRequest(_ text: String, model: String = "gpt-test", promptCacheKey: String? = nil, extraInput: [JSONValue] = []) -> ModelRequest {
    ModelRequest(
        model: model,
        instructions: "You are a test.",
        input: [
            ["type": "message", "role": "user", "content": [["type": "input_text", "text": .string(text)]]]
        ] + extraInput,
        reasoning: ["effort": "low", "summary": "auto"],
        include: ["reasoning.encrypted_content"],
        promptCacheKey: promptCacheKey)
}

extension ModelStreamEvent {
    /// A short name for order assertions.
    var name: String {
        switch self {
        case .created: return "created"
        case .outputItemAdded: return "item.added"
        case .contentPartAdded: return "part.added"
        case .outputTextDelta: return "text.delta"
        case .outputTextDone: return "text.done"
        case .contentPartDone: return "part.done"
        case .reasoningSummaryPartAdded: return "summary_part.added"
        case .reasoningSummaryTextDelta: return "summary_text.delta"
        case .reasoningSummaryTextDone: return "summary_text.done"
        case .reasoningSummaryPartDone: return "summary_part.done"
        case .functionCallArgumentsDelta: return "args.delta"
        case .outputItemDone: return "item.done"
        case .completed: return "completed"
        case .incomplete: return "incomplete"
        case .other(let type, _): return type
        }
    }
}

extension Array where Element == ModelStreamEvent {
    /// Names with consecutive repeats collapsed (`text.delta*`).
    var collapsedNames: [String] {
        var names: [String] = []
        for event in self {
            let name = event.name
            if let last = names.last, last == name || last == name + "*" {
                names[names.count - 1] = name + "*"
            } else {
                names.append(name)
            }
        }
        return names
    }

    var textDeltas: String {
        compactMap { if case .outputTextDelta(_, _, _, let d) = $0 { return d } else { return nil } }.joined()
    }

    var doneItems: [JSONValue] {
        compactMap { if case .outputItemDone(_, let item) = $0 { return item } else { return nil } }
    }

    var completedUsage: ModelUsage? {
        for event in self {
            if case .completed(_, let usage) = event { return usage }
        }
        return nil
    }
}
