import AgentsAPI
import Foundation
import Storage
import Tools

extension SessionRunner {
    /// Answers a `search_session_history` call from the stored items.
    func runHistorySearch(_ call: BuiltinCall, turnID: String) async -> Bool {
        var change = Change()
        removeBuiltin(call)
        switch HistorySearch.parse(call.arguments) {
        case .failure(let error):
            appendBuiltinResult(call, turnID: turnID, error: "The call could not run: \(error.message)", into: &change)
        case .success(let arguments):
            // The search sees the step it runs in: what was enqueued without waiting has landed,
            // and what is staged (the response's end, an earlier call's result) is laid over
            // the store's items.
            guard await settlePipelinedWrites() else { return false }
            do {
                // Staged items are taken before and after the read: a commit made meanwhile
                // (by a request to this session) may have written them after the read's snapshot.
                let stagedBefore = stagedItems
                let stored = try await log.store.items(sessionID: sessionID, modelItems: false)
                let items = HistorySearch.overlay(stored, with: stagedBefore + stagedItems)
                appendBuiltinResult(call, turnID: turnID, output: HistorySearch.run(arguments, items: items), into: &change)
            } catch {
                logger.error("could not read the session's items for a history search", metadata: ["error": "\(error)"])
                appendBuiltinResult(call, turnID: turnID, error: "The history could not be read. Try again.", into: &change)
            }
        }
        // Written with the step's end (or the next call's start), not waited for: should the
        // process stop before that, recovery answers the call ("the runtime restarted before
        // this search ran"), and a search only reads.
        stage(change)
        return true
    }

    /// The `function_call_output` item answering a call of the runtime's own function.
    func appendBuiltinResult(_ call: BuiltinCall, turnID: String, output: String? = nil, error: String? = nil, into change: inout Change) {
        let item = SessionItem.functionCallOutput(
            FunctionCallOutputItem(
                id: IDGenerator.make(.item), turnID: turnID, callID: call.callID, output: output.map { .text($0) }, error: error,
                status: error == nil ? .completed : .failed))
        let record = withTimeReminder(ItemRecord(item: item))
        change.items.append(record)
        change.events.append(SessionEvent(.itemAdded(sessionID: sessionID, item: item, outputIndex: nil)))
        if let modelItem = ModelInput.modelItem(for: record) { history.append(modelItem) }
    }
}

/// The built-in `search_session_history` tool: the model searches its own session's full
/// history, including what a compaction replaced with a summary, and reads any item whole (in
/// pages), e.g. a tool result that was capped for the model.
enum HistorySearch {
    static let name = "search_session_history"

    static let definition: JSONValue = [
        "type": "function",
        "name": .string(name),
        "description": """
            Search this session's full history, including parts replaced by a summary when the conversation was \
            compacted, and tool results that were cut short. Give `query` to list matching items (case-insensitive; \
            every word must occur, "quoted phrases" stay together) with their IDs and an excerpt; give `item_id` to \
            read one item whole, page by page with `offset`.
            """,
        "parameters": [
            "type": "object",
            "properties": [
                "query": ["type": "string", "description": "Words or \"phrases\" to find."],
                "item_id": ["type": "string", "description": "An item ID from a search result, to read that item."],
                "offset": ["type": "integer", "description": "Where to continue reading the item (characters)."],
                "max_results": ["type": "integer", "description": "At most this many results (1–20, default 10)."],
            ],
            "additionalProperties": false,
        ],
        "strict": false,
    ]

    static let defaultResults = 10
    static let maxResults = 20
    static let excerptCharacters = 240
    /// One page of an item read whole: within the tool output budget (10 KiB, 256 lines).
    static let pageBytes = 8_000
    static let pageLines = 200

    struct Arguments: Equatable {
        var query: String?
        var itemID: String?
        var offset: Int
        var maxResults: Int
    }

    static func parse(_ arguments: JSONValue) -> Result<Arguments, ToolError> {
        let o: JSONObject
        switch ToolError.decodeArguments(arguments) {
        case .failure(let error): return .failure(error)
        case .success(.object(let object)): o = object
        case .success: return .failure(ToolError("The arguments must be a JSON object."))
        }
        let query = o["query"]?.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines)
        let itemID = o["item_id"]?.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines)
        if (query ?? "").isEmpty && (itemID ?? "").isEmpty {
            return .failure(ToolError("Give a non-empty `query` to search, or an `item_id` to read."))
        }
        let offset = Int(clamping: o["offset"]?.intValue ?? 0)
        guard offset >= 0 else { return .failure(ToolError("`offset` must be 0 or more.")) }
        let requested = o["max_results"]?.intValue.map { Int(clamping: $0) } ?? defaultResults
        return .success(
            Arguments(
                query: query?.isEmpty == false ? query : nil, itemID: itemID?.isEmpty == false ? itemID : nil, offset: offset,
                maxResults: min(max(requested, 1), maxResults)))
    }

    /// The tool's answer for the session's stored items.
    static func run(_ arguments: Arguments, items: [ItemRecord]) -> String {
        let entries = searchable(items)
        if let itemID = arguments.itemID {
            guard let entry = entries.first(where: { $0.id == itemID }) else {
                return "No item '\(itemID)' in this session's history."
            }
            return page(entry, offset: arguments.offset)
        }
        return search(arguments.query ?? "", in: entries, maxResults: arguments.maxResults)
    }

    /// `items` (the store's, in its order: by ID, which is time-ordered) with `newer` laid over
    /// them: an item of `newer` replaces the stored one with its ID (the last of `newer` wins)
    /// or joins the list in ID order. Items of `newer` without an ID are left out (the search
    /// skips those anyway).
    static func overlay(_ items: [ItemRecord], with newer: [ItemRecord]) -> [ItemRecord] {
        guard !newer.isEmpty else { return items }
        var items = items
        var position: [String: Int] = [:]
        for (i, record) in items.enumerated() {
            if let id = record.item.id { position[id] = i }
        }
        var added = false
        for record in newer {
            guard let id = record.item.id else { continue }
            if let i = position[id] {
                items[i] = record
            } else {
                position[id] = items.count
                items.append(record)
                added = true
            }
        }
        if added { items.sort { ($0.item.id ?? "") < ($1.item.id ?? "") } }
        return items
    }

    struct Entry {
        var id: String
        var label: String
        var text: String
    }

    /// The items worth searching, as text, oldest first; the tool's own calls and results are
    /// left out (searching them again would only repeat earlier answers).
    static func searchable(_ items: [ItemRecord]) -> [Entry] {
        var ownCalls = Set<String>()
        var entries: [Entry] = []
        for record in items {
            guard let id = record.item.id else { continue }
            switch record.item {
            case .message(let m):
                let text = m.content.map { part -> String in
                    switch part {
                    case .inputText(let t), .outputText(let t): return t
                    case .inputImage: return "[image]"
                    }
                }.joined(separator: "\n")
                entries.append(Entry(id: id, label: "\(m.role.rawValue) message", text: text))
            case .reasoning(let r):
                guard !r.summary.isEmpty else { continue }
                entries.append(Entry(id: id, label: "reasoning summary", text: r.summary.joined(separator: "\n")))
            case .functionCall(let f):
                if f.name == name {
                    ownCalls.insert(f.callID)
                    continue
                }
                let arguments = f.arguments.stringValue ?? JSONWriter.string(f.arguments)
                entries.append(Entry(id: id, label: "call of \(f.name) (\(f.callID))", text: "\(f.name)(\(arguments))"))
            case .functionCallOutput(let o):
                if ownCalls.contains(o.callID) { continue }
                var text = o.error ?? ""
                switch o.output {
                case .text(let t)?: text += (text.isEmpty ? "" : "\n") + t
                case .content(let parts)?:
                    for case .inputText(let t) in parts { text += (text.isEmpty ? "" : "\n") + t }
                case nil: break
                }
                entries.append(Entry(id: id, label: "result of \(o.callID)", text: text))
            case .commandExecution(let c):
                let exit = c.exitCode.map { " (exit \($0))" } ?? ""
                entries.append(Entry(id: id, label: "command\(exit)", text: "$ \(c.command)\n\(c.output ?? "")"))
            case .other(let o):
                guard o["type"]?.stringValue == "compaction", let summary = o["summary"]?.stringValue else { continue }
                entries.append(Entry(id: id, label: "compaction summary", text: summary))
            }
        }
        return entries
    }

    /// The words and "quoted phrases" of a query, lowercased.
    static func terms(_ query: String) -> [String] {
        var terms: [String] = []
        for (index, part) in query.split(separator: "\"", omittingEmptySubsequences: false).enumerated() {
            if index % 2 == 1 {
                let phrase = part.trimmingCharacters(in: .whitespacesAndNewlines)
                if !phrase.isEmpty { terms.append(phrase.lowercased()) }
            } else {
                terms += part.split(whereSeparator: { $0.isWhitespace }).map { $0.lowercased() }
            }
        }
        return terms
    }

    static func search(_ query: String, in entries: [Entry], maxResults: Int) -> String {
        let terms = terms(query)
        guard !terms.isEmpty else { return "Give a non-empty `query`." }
        var matches: [(entry: Entry, at: String.Index)] = []
        for entry in entries {
            let lower = entry.text.lowercased()
            guard terms.allSatisfy({ lower.contains($0) }) else { continue }
            // Excerpts are cut from the original text around the first term.
            let at = entry.text.range(of: terms[0], options: .caseInsensitive)?.lowerBound ?? entry.text.startIndex
            matches.append((entry, at))
        }
        guard !matches.isEmpty else { return "No items match \(quoted(query)). Try fewer or different words." }
        let shown = matches.suffix(maxResults)
        var lines = [
            matches.count > shown.count
                ? "\(matches.count) items match \(quoted(query)); the \(shown.count) most recent, oldest first:"
                : "\(matches.count) item\(matches.count == 1 ? "" : "s") match \(quoted(query)), oldest first:"
        ]
        for (entry, at) in shown {
            lines.append("- [\(entry.id)] \(entry.label) (\(entry.text.count) characters): \(excerpt(entry.text, around: at))")
        }
        lines.append("Read an item whole with `item_id`.")
        return lines.joined(separator: "\n")
    }

    static func quoted(_ query: String) -> String {
        "'" + String(query.prefix(200)) + "'"
    }

    /// About `excerptCharacters` of `text` around `index`, on one line.
    static func excerpt(_ text: String, around index: String.Index) -> String {
        let before = text.distance(from: text.startIndex, to: index)
        let start = text.index(index, offsetBy: -min(before, excerptCharacters / 3))
        let end = text.index(start, offsetBy: excerptCharacters, limitedBy: text.endIndex) ?? text.endIndex
        var s = String(text[start..<end]).split(whereSeparator: { $0.isNewline }).joined(separator: " ⏎ ")
        if start > text.startIndex { s = "…" + s }
        if end < text.endIndex { s += "…" }
        return s
    }

    /// One page of an item's text from `offset` (characters): at most `pageBytes` and
    /// `pageLines`, cut at a character boundary.
    static func page(_ entry: Entry, offset: Int) -> String {
        let total = entry.text.count
        guard offset < max(total, 1) else { return "Item \(entry.id) has \(total) characters; offset \(offset) is past its end." }
        let start = entry.text.index(entry.text.startIndex, offsetBy: offset)
        var end = start
        var bytes = 0
        var lines = 0
        while end < entry.text.endIndex {
            let c = entry.text[end]
            let size = c.utf8.count
            if bytes + size > pageBytes { break }
            if c.isNewline {
                lines += 1
                if lines >= pageLines { break }
            }
            bytes += size
            end = entry.text.index(after: end)
        }
        let endOffset = offset + entry.text.distance(from: start, to: end)
        var header = "Item \(entry.id), \(entry.label)"
        if offset > 0 || endOffset < total { header += ", characters \(offset)–\(endOffset) of \(total)" }
        var text = header + ":\n" + entry.text[start..<end]
        if endOffset < total { text += "\n[Continue with offset \(endOffset).]" }
        return text
    }
}
