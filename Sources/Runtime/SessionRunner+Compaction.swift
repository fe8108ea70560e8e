import AgentsAPI
import ModelProviders
import Storage

/// Blocking compaction: when the last response's input crossed the model's threshold (or the
/// provider said the context is too long), the model writes a hand-off summary, and the session
/// continues from the recent user messages and that summary. The full history stays in the
/// store and in the items list; a `compaction` item marks the switch.
extension SessionRunner {
    /// The request that asks for the summary (the last user message of that request).
    static let compactionPrompt = """
        Write a hand-off summary of this conversation for another model that will continue the work \
        without seeing it. Include: the user's goal and constraints; decisions made and why; the state \
        of the work (what is done, what is in progress, files changed and where); important data \
        (paths, commands, identifiers, values, error messages) verbatim; and the next steps. Be \
        complete and precise but concise. Reply with the summary only.
        """

    /// How the summary is introduced to the model after compaction.
    static let summaryPrefix = "The earlier part of this conversation was compacted. Summary of it, written for you to continue the work:\n\n"

    /// The most recent user messages kept verbatim after compaction (bytes of text, about 20,000
    /// tokens).
    static let keptUserMessageBytes = 80_000

    enum CompactionResult {
        case compacted
        case failed(TurnError)
        case cancelled
        case storageFailed
    }

    /// Whether the next model call should be preceded by a compaction.
    var needsCompaction: Bool {
        lastInputTokens >= modelCatalog.limits(for: record.session.agent.config.model).limits.autoCompactTokenLimit
    }

    /// Asks the model for the hand-off summary and switches the history to it.
    func compact(turnID: String, reason: String) async -> CompactionResult {
        let tokensBefore = lastInputTokens
        var request = modelRequest(history: history + [Self.userMessage(Self.compactionPrompt)])
        // Same instructions and tools (so the cached prefix still applies), but no tool calls.
        request.toolChoice = "none"
        var summary = ""
        var usage: ModelUsage?
        var finished = false
        do {
            let stream = try await model.stream(request)
            for try await event in stream {
                if active?.cancelRequested ?? true { return .cancelled }
                switch event {
                case .outputItemDone(_, let item) where item["type"]?.stringValue == "message":
                    for part in item["content"]?.arrayValue ?? [] where part["type"]?.stringValue == "output_text" {
                        summary += part["text"]?.stringValue ?? ""
                    }
                case .completed(_, let u):
                    usage = u
                    finished = true
                case .incomplete(_, _, let u):
                    usage = u
                    finished = true
                default:
                    break
                }
            }
        } catch let error as ModelError {
            addUsage(usage)
            if Task.isCancelled || active?.cancelRequested == true { return .cancelled }
            return .failed(Self.turnError(for: error))
        } catch {
            if error is CancellationError || Task.isCancelled || active?.cancelRequested == true { return .cancelled }
            return .failed(TurnError(code: .internalError, message: "The compaction request failed unexpectedly."))
        }
        addUsage(usage)
        guard finished, !summary.isEmpty else {
            return .failed(TurnError(code: .serverError, message: "The model did not produce a summary when compacting the conversation."))
        }

        let replacement = Self.recentUserMessages(history, limit: Self.keptUserMessageBytes) + [Self.userMessage(Self.summaryPrefix + summary)]
        let item: JSONObject = [
            "type": "compaction", "id": .string(IDGenerator.make(.item)), "turn_id": .string(turnID), "status": "completed",
            "summary": .string(summary), "reason": .string(reason), "input_tokens_before": .int(Int64(tokensBefore)),
        ]
        var change = Change()
        let outputIndex = takeOutputIndex()
        change.items.append(ItemRecord(item: .other(item), modelItem: ["replacement": .array(replacement)]))
        change.events.append(SessionEvent(.itemAdded(sessionID: sessionID, item: .other(item), outputIndex: outputIndex)))
        change.events.append(SessionEvent(.itemDone(sessionID: sessionID, item: .other(item), outputIndex: outputIndex)))
        if var a = active {
            a.record.runtime = a.runtimeJSON
            active = a
            change.turns.append(a.record)
        }
        change.session = true
        guard await commitInLoop(change) else { return .storageFailed }
        history = replacement
        lastInputTokens = 0
        logger.info("compacted the conversation", metadata: ["reason": "\(reason)", "input_tokens_before": "\(tokensBefore)"])
        return .compacted
    }

    static func userMessage(_ text: String) -> JSONValue {
        ["type": "message", "role": "user", "content": [["type": "input_text", "text": .string(text)]]]
    }

    /// The latest user messages of `history` (not earlier summaries), oldest first, within
    /// `limit` bytes of text (the oldest one kept may be cut).
    static func recentUserMessages(_ history: [JSONValue], limit: Int) -> [JSONValue] {
        var kept: [JSONValue] = []
        var budget = limit
        for item in history.reversed() where item["type"]?.stringValue == "message" && item["role"]?.stringValue == "user" {
            let text = (item["content"]?.arrayValue ?? []).compactMap { $0["text"]?.stringValue }.joined(separator: "\n")
            if text.hasPrefix(summaryPrefix) { continue }
            guard budget > 0 else { break }
            if text.utf8.count <= budget {
                kept.append(item)
                budget -= text.utf8.count
            } else {
                kept.append(userMessage(String(decoding: Array(text.utf8.prefix(budget)), as: UTF8.self) + "\n[…]"))
                budget = 0
            }
        }
        return kept.reversed()
    }

    /// The provider input for stored items: everything after the last compaction, which stands
    /// for what came before it.
    static func history(from items: [ItemRecord]) -> [JSONValue] {
        var history: [JSONValue] = []
        for record in items {
            if case .other(let o) = record.item, o["type"]?.stringValue == "compaction", let replacement = record.modelItem?["replacement"]?.arrayValue {
                history = replacement
            } else {
                history += ModelInput.modelItems(for: record)
            }
        }
        return history
    }
}
