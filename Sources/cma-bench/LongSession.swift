// Long sessions (issue 4): how much of each request is a cacheable prefix, and what compaction
// saves. A 100-step session (each step: a short message and a client tool call whose ~1.5 KB
// result the benchmark submits) runs through the runtime against the scripted model server,
// three times: on a model whose window never fills, and on a 16,000-token window with blocking
// and with background compaction. Everything is measured on the requests the model server
// received, byte for byte.
import AgentsAPI
import Foundation
import Logging
import ModelProviders
import Runtime
import Storage
import TestSupport

struct LongSessionResult {
    var label: String
    var mainRequests = 0
    var summaryRequests = 0
    var compactions = 0
    /// Main requests whose input extends the previous main request's input byte for byte.
    var extendingSteps = 0
    /// Main requests after the first that do not (the first call after each compaction).
    var restartingSteps = 0
    /// Summary requests whose input extends the main request before them.
    var summariesOnPrefix = 0
    /// Bytes of each request's prompt (instructions, tools, input) shared with the previous main
    /// request's prompt, and the bytes of all prompts after the first.
    var sharedBytes = 0
    var promptBytes = 0
    var largestInputBytes = 0
    var usage = TokenUsage()

    var cacheableFraction: Double { promptBytes == 0 ? 0 : Double(sharedBytes) / Double(promptBytes) }
}

enum LongSessionBenchmark {
    static let marker = "Write a hand-off summary"

    static func run(steps: Int, logger: Logger) async throws {
        let catalog = try ModelCatalog.builtIn.adding(
            json: #"{"models": {"bench-small": {"context_window": 16000, "auto_compact_token_limit": 14400}, "bench-large": {"context_window": 1000000}}}"#)
        var results: [LongSessionResult] = []
        for (label, model, background) in [
            ("no compaction (1M-token window)", "bench-large", false),
            ("blocking compaction (16k window)", "bench-small", false),
            ("background compaction (16k window)", "bench-small", true),
        ] {
            results.append(try await session(label: label, model: model, background: background, steps: steps, catalog: catalog, logger: logger))
        }
        print("\(steps)-step session, a ~1.5 KB tool result per step:")
        for r in results {
            print("  \(r.label):")
            print("    main requests \(r.mainRequests), summary requests \(r.summaryRequests), compactions \(r.compactions)")
            let nonCompacting = r.mainRequests - 1 - r.compactions
            print(
                "    non-compacting steps whose input extends the previous request's input byte for byte (the whole previous request is a cacheable prefix): "
                    + "\(r.extendingSteps) of \(nonCompacting) (\(percent(r.extendingSteps, nonCompacting)))")
            print("    summary requests that extend the request before them: \(r.summariesOnPrefix) of \(r.summaryRequests)")
            print(String(format: "    prompt bytes (instructions, tools, input) that repeat the previous request's prefix: %.1f %%; largest input %d KB", r.cacheableFraction * 100, r.largestInputBytes / 1024))
            print(
                "    usage: input \(r.usage.inputTokens) tokens, cached \(r.usage.cachedTokens) (\(percent(Int(r.usage.cachedTokens), Int(r.usage.inputTokens)))), "
                    + "uncached \(r.usage.inputTokens - r.usage.cachedTokens), output \(r.usage.outputTokens); cost at cached = 10 % of uncached: \(cost(r.usage)) token-equivalents")
        }
        if let full = results.first {
            for r in results.dropFirst() {
                let saved = Int(full.usage.inputTokens - r.usage.inputTokens)
                print(
                    "  \(r.label) against none: \(saved) input tokens saved (\(percent(saved, Int(full.usage.inputTokens)))), "
                        + "cost \(cost(r.usage)) against \(cost(full.usage)) token-equivalents (\(percent(cost(full.usage) - cost(r.usage), cost(full.usage))) saved), summary requests included")
            }
        }
    }

    static func percent(_ part: Int, _ whole: Int) -> String {
        String(format: "%.1f %%", Double(part) * 100 / Double(max(whole, 1)))
    }

    /// Input cost in uncached-token equivalents, cached tokens at a tenth of the price.
    static func cost(_ usage: TokenUsage) -> Int {
        Int(usage.inputTokens - usage.cachedTokens) + Int(usage.cachedTokens / 10)
    }

    /// A deterministic ~1.5 KB tool result.
    static func toolResult(_ step: Int) -> String {
        (0..<24).map { line in "src/module\(step % 7)/file\(step).swift:\(line + 1): let value\(line) = compute(\(step * 31 + line)) // step \(step)" }
            .joined(separator: "\n")
    }

    static func session(
        label: String, model modelName: String, background: Bool, steps: Int, catalog: ModelCatalog, logger: Logger
    ) async throws -> LongSessionResult {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cma-bench-long-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let model = try await ScriptedModelServer.start()
        let store = try SQLiteStore(path: directory + "/cma.sqlite")
        let projectID = try await store.createProject(name: "bench")
        let client = OpenAIResponsesClient(configuration: model.clientConfiguration(), logger: logger)
        let runtime = AgentRuntime(store: store, model: client, logger: logger, modelCatalog: catalog)
        let runTask = Task { try await runtime.run() }

        let summary = "Goal: review every file and record findings. Done so far: files read in order, nothing unusual; "
            + String(repeating: "notes on the modules read so far, with the values that matter. ", count: 20)
        for _ in 0..<steps {
            model.enqueue(ScriptStep.message(summary).matching(.contains(marker)))
        }
        for i in 0..<(steps - 1) {
            model.enqueue(
                .response(outputs: [
                    .message(text: "Step \(i): reading the next file."),
                    .functionCall(name: "read_file", arguments: #"{"path":"src/file\#(i).swift"}"#, callID: "call_\(i)"),
                ]))
        }
        model.enqueue(.message("All files reviewed."))

        let tool: JSONValue = [
            "type": "function", "name": "read_file", "description": "Reads a file of the project.",
            "parameters": ["type": "object", "properties": ["path": ["type": "string"]], "required": ["path"]],
        ]
        let request = try SessionCreateRequest(
            json: [
                "agent": ["model": .string(modelName), "tools": [tool], "compaction": ["async": .bool(background)]],
                "environment": ["type": "none"], "input": "Review every file of the project, one at a time.",
            ])
        let sessionID = IDGenerator.make(.session)
        let subscription = runtime.subscribe(sessionID: sessionID)
        _ = try await runtime.createSession(projectID: projectID, sessionID: sessionID, request: request)
        var step = 0
        loop: for await delivery in subscription.events {
            guard case .event(let stored) = delivery else { continue }
            switch stored.type {
            case "agent.session.requires_action":
                let event = try JSONParser.parse(stored.json)
                for action in (event["session"] ?? event)["required_actions"]?.arrayValue ?? [] {
                    guard let callID = action["call_id"]?.stringValue, let turnID = action["turn_id"]?.stringValue else { continue }
                    let inputs: [SessionInput] = [.toolResult(turnID: turnID, callID: callID, success: true, output: .text(toolResult(step)), error: nil)]
                    step += 1
                    try await runtime.submit(projectID: projectID, sessionID: sessionID, inputs: inputs, idempotencyKey: nil, requestHash: "\(step)")
                }
            case "agent.session.idle":
                break loop
            case "agent.session.turn.failed", "error":
                fatalError("the session failed: \(String(decoding: stored.json, as: UTF8.self))")
            default:
                break
            }
        }
        subscription.cancel()

        var result = LongSessionResult(label: label)
        let requests = model.requests()
        var previousMain: (prompt: [UInt8], input: [UInt8])?
        for request in requests {
            let input = JSONWriter.bytes(request.body["input"] ?? .null)
            let prompt = JSONWriter.bytes([request.body["instructions"] ?? .null, request.body["tools"] ?? .null, request.body["input"] ?? .null])
            result.largestInputBytes = max(result.largestInputBytes, input.count)
            let lastUser = (request.body["input"]?.arrayValue ?? []).last { $0["role"]?.stringValue == "user" }
            let isSummary = (lastUser?["content"]?.arrayValue?.first?["text"]?.stringValue ?? "").hasPrefix(marker)
            if let previous = previousMain {
                result.sharedBytes += zip(previous.prompt, prompt).prefix { $0 == $1 }.count
                result.promptBytes += prompt.count
                // "[a,b" must start "[a,b,c…".
                let extends = input.count > previous.input.count && input.starts(with: previous.input.dropLast())
                if isSummary {
                    if extends { result.summariesOnPrefix += 1 }
                } else if extends {
                    result.extendingSteps += 1
                } else {
                    result.restartingSteps += 1
                }
            }
            if isSummary {
                result.summaryRequests += 1
            } else {
                result.mainRequests += 1
                previousMain = (prompt, input)
            }
        }
        result.compactions = try await store.items(sessionID: sessionID).filter { record in
            if case .other(let o) = record.item { return o["type"]?.stringValue == "compaction" }
            return false
        }.count
        result.usage = try await store.session(projectID: projectID, id: sessionID)?.session.usage ?? TokenUsage()

        runtime.shutdown()
        _ = await runTask.result
        try? store.close()
        await model.shutdown()
        return result
    }
}
