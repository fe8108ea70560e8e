import AgentsAPI
import ModelProviders
import Storage

/// Compaction: when the last response's input crossed the model's threshold (or the provider
/// said the context is too long), the model writes a hand-off summary, and the session continues
/// from the recent user messages and that summary. The full history stays in the store and in
/// the items list; a `compaction` item marks the switch.
///
/// Blocking (the default) writes the summary before the next model call. Background
/// (`compaction.async`) starts writing it at that point but lets the call go ahead with the full
/// history; the first model call after the summary is ready switches to it, keeping what was
/// added to the history in the meantime.
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

    /// What a summary request produced.
    enum SummaryOutcome: Sendable {
        case summary(String, ModelUsage?)
        case failed(TurnError, ModelUsage?)
        case cancelled
    }

    /// A summary being written in the background (`compaction.async`) for the first
    /// `historyCount` items of the history of `epoch`.
    struct BackgroundCompaction {
        var id: Int
        var task: Task<SummaryOutcome, Never>
        var epoch: Int
        var historyCount: Int
        var tokensBefore: Int
        var outcome: SummaryOutcome?
    }

    /// Whether the next model call should be preceded by a compaction.
    var needsCompaction: Bool {
        lastInputTokens >= modelCatalog.limits(for: record.session.agent.config.model).limits.autoCompactTokenLimit
    }

    /// Runs before each model call: compacts (blocking), or switches to a background summary
    /// that is ready, or starts one. Nil when the history was left as it is.
    func compactBeforeModelCall(turnID: String) async -> CompactionResult? {
        if let background = backgroundCompaction, background.epoch != historyEpoch {
            discardBackgroundCompaction()
        }
        var backgroundFailed = false
        if let background = backgroundCompaction, let outcome = background.outcome {
            backgroundCompaction = nil
            if case .summary(let summary, _) = outcome {
                return await switchToSummary(
                    summary, historyCount: background.historyCount, turnID: turnID, reason: "threshold", mode: "async",
                    tokensBefore: background.tokensBefore)
            }
            // The background summary failed: compact the blocking way if it is still needed.
            backgroundFailed = true
        }
        guard needsCompaction else { return nil }
        if record.session.agent.config.asyncCompaction && !backgroundFailed {
            if backgroundCompaction == nil { startBackgroundCompaction() }
            return nil
        }
        return await compact(turnID: turnID, reason: "threshold")
    }

    /// Asks the model for the hand-off summary and switches the history to it (blocking).
    func compact(turnID: String, reason: String) async -> CompactionResult {
        // A blocking compaction supersedes one being written in the background.
        discardBackgroundCompaction()
        let outcome = await Self.writeSummary(model: model, request: summaryRequest(for: history))
        switch outcome {
        case .summary(let summary, let usage):
            addUsage(usage)
            if active?.cancelRequested ?? true { return .cancelled }
            return await switchToSummary(summary, historyCount: history.count, turnID: turnID, reason: reason, mode: "blocking", tokensBefore: lastInputTokens)
        case .failed(let error, let usage):
            addUsage(usage)
            if Task.isCancelled || active?.cancelRequested == true { return .cancelled }
            return .failed(error)
        case .cancelled:
            return .cancelled
        }
    }

    /// After a context overflow: the background summary, when one is being written, is awaited
    /// and switched to; otherwise this is a blocking compaction.
    func compactAfterOverflow(turnID: String) async -> CompactionResult {
        if let background = backgroundCompaction, background.epoch == historyEpoch {
            let outcome = await background.task.value
            if backgroundCompaction?.id == background.id {
                backgroundCompaction = nil
                if case .summary(let summary, _) = outcome, historyEpoch == background.epoch {
                    return await switchToSummary(
                        summary, historyCount: background.historyCount, turnID: turnID, reason: "context_length_exceeded", mode: "async",
                        tokensBefore: background.tokensBefore)
                }
            }
            if active?.cancelRequested ?? true { return .cancelled }
        }
        return await compact(turnID: turnID, reason: "context_length_exceeded")
    }

    /// The summary request: the model request for `history` plus the summary instruction, with
    /// the same instructions and tools (so the cached prefix still applies) but no tool calls.
    private func summaryRequest(for history: [JSONValue]) -> ModelRequest {
        var request = modelRequest(history: history + [Self.userMessage(Self.compactionPrompt)])
        request.toolChoice = "none"
        return request
    }

    private func startBackgroundCompaction() {
        backgroundCompactionCounter += 1
        let id = backgroundCompactionCounter
        let request = summaryRequest(for: history)
        let model = self.model
        let task = Task<SummaryOutcome, Never> {
            let outcome = await Self.writeSummary(model: model, request: request)
            await self.backgroundSummaryFinished(id: id, outcome: outcome)
            return outcome
        }
        backgroundCompaction = BackgroundCompaction(id: id, task: task, epoch: historyEpoch, historyCount: history.count, tokensBefore: lastInputTokens)
        logger.info("writing a compaction summary in the background", metadata: ["input_tokens": "\(lastInputTokens)"])
    }

    private func backgroundSummaryFinished(id: Int, outcome: SummaryOutcome) async {
        // Its tokens are spent whether or not the summary is used.
        switch outcome {
        case .summary(_, let usage), .failed(_, let usage):
            guard !deleting else { return }
            addUsage(usage)
            if active == nil, usage != nil {
                var change = Change()
                change.session = true
                _ = await commitInLoop(change)
            }
        case .cancelled:
            break
        }
        if case .failed(let error, _) = outcome {
            logger.warning("the background compaction summary failed", metadata: ["error": "\(error.message)"])
        }
        guard var background = backgroundCompaction, background.id == id else { return }
        background.outcome = outcome
        backgroundCompaction = background
    }

    func discardBackgroundCompaction() {
        backgroundCompaction?.task.cancel()
        backgroundCompaction = nil
    }

    /// Streams the summary request and collects the summary text.
    static func writeSummary(model: any ModelClient, request: ModelRequest) async -> SummaryOutcome {
        var summary = ""
        var usage: ModelUsage?
        var finished = false
        do {
            let stream = try await model.stream(request)
            for try await event in stream {
                if Task.isCancelled { return .cancelled }
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
            if Task.isCancelled { return .cancelled }
            return .failed(turnError(for: error), usage)
        } catch {
            if error is CancellationError || Task.isCancelled { return .cancelled }
            return .failed(TurnError(code: .internalError, message: "The compaction request failed unexpectedly."), usage)
        }
        guard finished, !summary.isEmpty else {
            return .failed(TurnError(code: .serverError, message: "The model did not produce a summary when compacting the conversation."), usage)
        }
        return .summary(summary, usage)
    }

    /// Replaces the first `historyCount` items of the history with the recent user messages
    /// among them and the summary; later items (added while a background summary was written)
    /// stay after it.
    private func switchToSummary(
        _ summary: String, historyCount: Int, turnID: String, reason: String, mode: String, tokensBefore: Int
    ) async -> CompactionResult {
        let count = min(historyCount, history.count)
        let replacement = Self.recentUserMessages(Array(history.prefix(count)), limit: Self.keptUserMessageBytes)
            + [Self.userMessage(Self.summaryPrefix + summary)] + history.dropFirst(count)
        let item: JSONObject = [
            "type": "compaction", "id": .string(IDGenerator.make(.item)), "turn_id": .string(turnID), "status": "completed",
            "summary": .string(summary), "reason": .string(reason), "mode": .string(mode), "input_tokens_before": .int(Int64(tokensBefore)),
        ]
        var change = Change()
        recordRuntimeItem(item, modelItem: ["replacement": .array(replacement)], into: &change)
        guard await commitInLoop(change) else { return .storageFailed }
        history = replacement
        historyEpoch += 1
        lastInputTokens = 0
        logger.info("compacted the conversation", metadata: ["reason": "\(reason)", "mode": "\(mode)", "input_tokens_before": "\(tokensBefore)"])
        return .compacted
    }

    /// An item the runtime itself adds to the turn (a compaction, project instructions): stored
    /// with what it stands for in the model's input, announced as added and done.
    func recordRuntimeItem(_ item: JSONObject, modelItem: JSONValue, into change: inout Change) {
        let outputIndex = takeOutputIndex()
        change.items.append(ItemRecord(item: .other(item), modelItem: modelItem))
        change.events.append(SessionEvent(.itemAdded(sessionID: sessionID, item: .other(item), outputIndex: outputIndex)))
        change.events.append(SessionEvent(.itemDone(sessionID: sessionID, item: .other(item), outputIndex: outputIndex)))
        if var a = active {
            a.record.runtime = a.runtimeJSON
            active = a
            change.turns.append(a.record)
        }
        change.session = true
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
            if isCompaction(record), let replacement = record.modelItem?["replacement"]?.arrayValue {
                history = replacement
            } else {
                history += ModelInput.modelItems(for: record)
            }
        }
        return history
    }

    static func isCompaction(_ record: ItemRecord) -> Bool {
        if case .other(let o) = record.item { return o["type"]?.stringValue == "compaction" }
        return false
    }
}
