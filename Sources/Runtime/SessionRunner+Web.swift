import AgentsAPI
import Foundation
import Sandbox
import Storage
import Tools

/// What a call the runtime runs (MCP, web) produced, before it is recorded.
enum RuntimeCallOutcome: Sendable {
    /// Its finished item and what the model is told; `announced`: its `item.added` was sent.
    case done(item: SessionItem, modelText: String, announced: Bool)
    case storageFailed
}

/// The web tool: searches and page reads run in the runtime and are recorded as
/// `web_search_call` items.
extension SessionRunner {
    /// The session's web tool, when the model is offered it (`mode` other than `disabled`, and no
    /// client function of the same name).
    var offeredWebTool: WebSearchTool? {
        let config = record.session.agent.config
        guard web != nil, let tool = config.webSearch, tool.mode != .disabled, !config.functionTools.contains(where: { $0.name == WebTool.name }) else {
            return nil
        }
        return tool
    }

    /// The network rules of a restricted hosted environment, which web fetches follow too.
    private var environmentWebPolicy: EgressPolicy? {
        guard let hosted = record.session.environment.hosted, hosted.networkAccess == .restricted else { return nil }
        return EnvironmentSetup.egress(hosted, secrets: environmentSecrets)
    }

    func runWebCall(_ call: BuiltinCall, turnID: String) async -> Bool {
        removeBuiltin(call)
        return await recordRuntimeCall(await executeWeb(call, turnID: turnID), call: call)
    }

    /// Runs a web call; records only its start.
    func executeWeb(_ call: BuiltinCall, turnID: String) async -> RuntimeCallOutcome {
        guard let tool = offeredWebTool, let web else {
            let item = Self.webSearchCallItem(id: call.itemID, turnID: turnID, action: ["type": "other"], status: .incomplete)
            return .done(item: item, modelText: "Web access is not available in this session.", announced: false)
        }
        let action: WebTool.Action
        switch WebTool.parse(call.arguments) {
        case .failure(let error):
            let item = Self.webSearchCallItem(id: call.itemID, turnID: turnID, action: ["type": "other"], status: .incomplete)
            return .done(item: item, modelText: "The call could not run: \(error.message)", announced: false)
        case .success(let a): action = a
        }
        var change = Change()
        let started = Self.webSearchCallItem(id: call.itemID, turnID: turnID, action: action.json, status: .inProgress)
        change.events.append(SessionEvent(.itemAdded(sessionID: sessionID, item: started, outputIndex: call.outputIndex)))
        guard await commitInLoop(change) else { return .storageFailed }

        let budget = WebTool.budget(tool.contextSize)
        let environment = environmentWebPolicy
        let allowed: (String) -> Bool = { host in WebTool.allows(host, tool: tool, environment: environment) }
        var text: String
        var ok = true
        do throws(WebToolError) {
            switch action {
            case .search(let query):
                let results = try await web.search(query, limit: budget.results * 3, language: nil).filter { result in
                    guard let host = URL(string: result.url)?.host else { return false }
                    return allowed(host)
                }
                text = SearchResultsText.format(Array(results.prefix(budget.results)), query: query, maxBytes: budget.bytes)
            case .openPage(let url, let line):
                let page = try await web.page(url, allowed: allowed, cachedOnly: tool.mode == .cached)
                rememberPage(page, as: url)
                let window = PageWindow.window(page.text, startLine: line, maxBytes: budget.bytes)
                text = "URL: \(page.url)\n" + (page.title.map { "Title: \($0)\n" } ?? "") + "\n" + window.text
                if let next = window.nextLine {
                    text += "\n\n[Lines \(line)–\(next - 1) of \(window.totalLines). Call open_page with line=\(next) to read on.]"
                } else if window.totalLines == 0 {
                    text += "(The page has no text.)"
                }
            case .findInPage(let url, let pattern):
                let page: WebPage
                if let opened = openedPage(url) {
                    page = opened
                } else {
                    page = try await web.page(url, allowed: allowed, cachedOnly: tool.mode == .cached)
                    rememberPage(page, as: url)
                }
                let matches = FindInPage.find(page.text, pattern: pattern, maxMatches: budget.results * 2)
                if matches.isEmpty {
                    text = "No match for \"\(pattern)\" in \(page.url)."
                } else {
                    text = "\(matches.count) match\(matches.count == 1 ? "" : "es") for \"\(pattern)\" in \(page.url):\n"
                        + matches.map { "L\($0.line): \($0.snippet)" }.joined(separator: "\n")
                    text = String(decoding: Array(text.utf8).prefix(budget.bytes), as: UTF8.self)
                }
            }
        } catch {
            text = error.message
            ok = false
        }
        let item = Self.webSearchCallItem(id: call.itemID, turnID: turnID, action: action.json, status: ok ? .completed : .incomplete)
        return .done(item: item, modelText: text, announced: true)
    }

    static func webSearchCallItem(id: String, turnID: String, action: JSONValue, status: OutputItemStatus) -> SessionItem {
        .other(["id": .string(id), "type": "web_search_call", "action": action, "status": .string(status.rawValue), "turn_id": .string(turnID)])
    }

    // MARK: Pages opened in this session (for find_in_page)

    private func rememberPage(_ page: WebPage, as url: String) {
        openedPages.removeAll { $0.key == url || $0.key == page.url }
        openedPages.append((url, page))
        if page.url != url { openedPages.append((page.url, page)) }
        if openedPages.count > 20 { openedPages.removeFirst(openedPages.count - 20) }
    }

    private func openedPage(_ url: String) -> WebPage? {
        openedPages.last { $0.key == url }?.page
    }

    // MARK: Recording a runtime-run call

    func recordRuntimeCall(_ outcome: RuntimeCallOutcome, call: BuiltinCall) async -> Bool {
        guard case .done(let item, let modelText, let announced) = outcome else { return false }
        return await recordRuntimeCall(call.raw, item: item, outputIndex: call.outputIndex, modelText: modelText, announce: !announced)
    }

    /// Records a finished call run by the runtime (MCP, web): its item, and the output the
    /// model reads after the call in the history. `announce`: the item was not announced yet.
    func recordRuntimeCall(_ raw: JSONValue, item: SessionItem, outputIndex: Int, modelText: String, announce: Bool) async -> Bool {
        var change = Change()
        appendRuntimeCallResult(raw, item: item, outputIndex: outputIndex, modelText: modelText, announce: announce, into: &change)
        if let a = active { change.turns.append(a.record) }
        return await commitInLoop(change)
    }

    /// `recordRuntimeCall`'s writes, into `change`. The call itself is already in the history
    /// (added when the model made it, or rebuilt from its item after a restart).
    func appendRuntimeCallResult(_ raw: JSONValue, item: SessionItem, outputIndex: Int, modelText: String, announce: Bool, into change: inout Change) {
        let record = withTimeReminder(ItemRecord(item: item, modelItem: ["call": raw, "output": .string(modelText)]))
        history.append(ModelInput.callOutput(for: raw, output: record.modelItem?["output"]?.stringValue ?? modelText))
        change.items.append(record)
        if announce { change.events.append(SessionEvent(.itemAdded(sessionID: sessionID, item: item, outputIndex: outputIndex))) }
        change.events.append(SessionEvent(.itemDone(sessionID: sessionID, item: item, outputIndex: outputIndex)))
    }
}
