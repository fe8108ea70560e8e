import AgentsAPI
import Foundation
import ModelProviders
import Runtime
import Storage
import TestSupport
import Testing

@Suite("History search")
struct HistorySearchTests {
    static let catalog = try! ModelCatalog.builtIn.adding(json: #"{"models": {"tiny-model": {"context_window": 8000, "auto_compact_token_limit": 5000}}}"#)
    static let lookup: JSONValue = ["type": "function", "name": "lookup", "description": "Looks things up", "parameters": ["type": "object", "properties": [:]]]
    static let toolName = "search_session_history"

    static func search(_ arguments: JSONObject, callID: String) -> ScriptStep {
        .response(outputs: [.functionCall(name: toolName, arguments: JSONWriter.string(.object(arguments)), callID: callID)])
    }

    static func functionOutputs(_ items: [SessionItem]) -> [FunctionCallOutputItem] {
        items.compactMap { item in
            if case .functionCallOutput(let o) = item { return o }
            return nil
        }
    }

    @Test func aDetailSummarisedAwayIsFoundAndReadAgain() async throws {
        try await withRuntime(modelCatalog: Self.catalog) { h in
            // Turn 1: a tool result with a detail, then a response that crosses the threshold.
            h.model.enqueue(
                .response(outputs: [.functionCall(name: "lookup", arguments: "{}", callID: "call_lookup")]),
                .response(outputs: [.message(text: "Noted.")], usage: ModelUsage(inputTokens: 6_000, outputTokens: 5)))
            let (session, recorder) = try await h.createSession(input: "Look up the code word", tools: [Self.lookup], agent: ["model": "tiny-model"])
            try await recorder.wait(for: "agent.session.requires_action", timeout: .seconds(20))
            let turnID = try #require(try await h.turns(session.id).first?.id)
            try await h.send(session.id, [.toolResult(turnID: turnID, callID: "call_lookup", success: true, output: .text("The code word is PAPAYA-42."), error: nil)])
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(20))
            let detailID = try #require(Self.functionOutputs(try await h.items(session.id)).first?.id)

            // Turn 2: compaction drops the detail; the model searches for it and reads the item.
            h.model.enqueue(
                ScriptStep.message("SUMMARY: a code word was looked up.").matching(.contains("Write a hand-off summary")),
                Self.search([:], callID: "call_empty"),
                Self.search(["query": "\"CODE word\" papaya"], callID: "call_search"),
                Self.search(["item_id": .string(detailID)], callID: "call_read"),
                Self.search(["item_id": "item_missing"], callID: "call_missing"),
                .message("The code word is PAPAYA-42."))
            try await h.message(session.id, "What was the code word?")
            try await recorder.wait(for: "agent.session.idle", count: 2, timeout: .seconds(20))
            #expect(try await h.turns(session.id).last?.status == .completed)

            let requests = h.model.requests()
            try #require(requests.count == 8)
            // Every request offers the tool; after the compaction the detail is gone from the input.
            #expect(requests.allSatisfy { r in r.body["tools"]?.arrayValue?.contains { $0["name"]?.stringValue == Self.toolName } == true })
            #expect(!JSONWriter.string(requests[3].body["input"] ?? .null).contains("PAPAYA"))
            #expect(callOutput(requests[4], callID: "call_empty")?.contains("Give a non-empty `query`") == true)
            let found = try #require(callOutput(requests[5], callID: "call_search"))
            #expect(found.contains("1 item match") && found.contains("[\(detailID)]") && found.contains("PAPAYA-42"))
            let read = try #require(callOutput(requests[6], callID: "call_read"))
            #expect(read.hasPrefix("Item \(detailID)") && read.hasSuffix("The code word is PAPAYA-42."))
            #expect(callOutput(requests[7], callID: "call_missing")?.contains("No item 'item_missing'") == true)

            // The calls are the runtime's: shown as items, never asked of the application.
            let items = try await h.items(session.id)
            let searchCalls = items.filter { if case .functionCall(let f) = $0 { return f.name == Self.toolName }; return false }
            #expect(searchCalls.count == 4)
            let statuses = Self.functionOutputs(items).filter { $0.callID.hasPrefix("call_") && $0.callID != "call_lookup" }.map(\.status)
            #expect(statuses == [.failed, .completed, .completed, .completed])
            #expect(recorder.all.filter { $0.type == "agent.session.requires_action" }.count == 1)
        }
    }

    @Test func aSearchSeesWhatItsOwnStepWroteAndItsAnswerIsKept() async throws {
        try await withRuntime { h in
            // The response calls the search and then writes a note: the note is held back with
            // the response's end (and the search's answer with the step's end), to be written
            // together; the search must see the note all the same.
            h.model.enqueue(
                .response(outputs: [
                    .functionCall(name: Self.toolName, arguments: #"{"query":"mango"}"#, callID: "call_search"),
                    .message(text: "Noting it: the answer is MANGO-9."),
                ]),
                .message("It is MANGO-9."))
            let (session, recorder) = try await h.createSession(input: "What is the answer?")
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(20))

            let requests = h.model.requests()
            try #require(requests.count == 2)
            let found = try #require(callOutput(requests[1], callID: "call_search"))
            #expect(found.contains("1 item match") && found.contains("MANGO-9"))

            // The answer is stored and announced like any item.
            let answer = try #require(Self.functionOutputs(try await h.items(session.id)).first { $0.callID == "call_search" })
            #expect(answer.status == .completed)
            #expect(recorder.all.contains { e in
                if case .itemAdded(_, .functionCallOutput(let o), _) = e.body { return o.callID == "call_search" }
                return false
            })
        }
    }

    @Test func aSearchCutOffByARestartIsAnsweredAndTheTurnGoesOn() async throws {
        let model = try await ScriptedModelServer.start()
        defer { Task { await model.shutdown() } }
        // The call arrives whole, then the response stalls: the search never runs.
        model.enqueue(
            .response(
                outputs: [.functionCall(name: Self.toolName, arguments: #"{"query":"anything"}"#, callID: "call_cut")],
                options: StepOptions(chunkSize: 1000, stallAfterEvents: 6)),
            .message("Carrying on."))
        let first = try await RuntimeHarness.start(model: model)
        let (session, recorder) = try await first.createSession(input: "Search, please")
        try await recorder.wait(for: "agent.session.turn.item.done", timeout: .seconds(20))
        await first.stop()

        let second = try await RuntimeHarness.start(model: model, directory: first.directory)
        defer { second.removeFiles() }
        try await poll(timeout: .seconds(20), "the turn to complete after restart") {
            try await second.turns(session.id).first?.status == .completed
        }
        let answer = try #require(Self.functionOutputs(try await second.items(session.id)).first { $0.callID == "call_cut" })
        #expect(answer.status == .incomplete)
        #expect(answer.error?.contains("restarted before this search ran") == true)
        // The model is told, and the turn goes on.
        let requests = model.requests()
        try #require(requests.count == 2)
        #expect(callOutput(requests[1], callID: "call_cut")?.contains("restarted before this search ran") == true)
        await second.stop()
    }

    @Test func aCappedResultIsReadWholePageByPage() async throws {
        try await withRuntime { h in
            let dump: JSONValue = ["type": "function", "name": "dump", "description": "Dumps", "parameters": ["type": "object", "properties": [:]]]
            h.model.enqueue(.response(outputs: [.functionCall(name: "dump", arguments: "{}", callID: "call_dump")]), .message("It is long."))
            let (session, recorder) = try await h.createSession(input: "dump", tools: [dump])
            try await recorder.wait(for: "agent.session.requires_action", timeout: .seconds(20))
            let big = (0..<1500).map { "line \($0) " + String(repeating: "é", count: 30) }.joined(separator: "\n")
            let turnID = try #require(try await h.turns(session.id).first?.id)
            try await h.send(session.id, [.toolResult(turnID: turnID, callID: "call_dump", success: true, output: .text(big), error: nil)])
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(20))
            let dumpID = try #require(Self.functionOutputs(try await h.items(session.id)).first?.id)
            // The capped copy tells the model how to read the rest.
            let capped = try #require(callOutput(h.model.requests()[1], callID: "call_dump"))
            #expect(capped.contains("read it with \(Self.toolName), item_id \"\(dumpID)\""))

            // The model reads it page by page (one turn per page, so each offset comes from the
            // previous answer), and the pages put together are the whole result.
            var offset = 0
            var pages: [String] = []
            for page in 1...40 {
                h.model.enqueue(Self.search(["item_id": .string(dumpID), "offset": .int(Int64(offset))], callID: "call_page\(page)"), .message("ok"))
                try await h.message(session.id, "next page")
                try await recorder.wait(for: "agent.session.idle", count: page + 1, timeout: .seconds(20))
                let answer = try #require(callOutput(h.model.requests().last!, callID: "call_page\(page)"))
                #expect(answer.utf8.count < 10 * 1024 && answer.split(separator: "\n", omittingEmptySubsequences: false).count < 256)
                var lines = answer.split(separator: "\n", omittingEmptySubsequences: false).dropFirst()
                if let last = lines.last, last.hasPrefix("[Continue with offset ") {
                    offset = Int(last.dropFirst("[Continue with offset ".count).dropLast(2))!
                    lines = lines.dropLast()
                    pages.append(lines.joined(separator: "\n"))
                } else {
                    pages.append(lines.joined(separator: "\n"))
                    break
                }
            }
            #expect(pages.count > 5)
            #expect(pages.joined() == big)
        }
    }
}
