import AgentsAPI
import Foundation
import ModelProviders
import Runtime
import Storage
import TestSupport
import Testing

@Suite("Web search and fetch")
struct WebToolTests {
    static func call(_ arguments: JSONObject, callID: String) -> ScriptStep {
        .response(outputs: [.functionCall(name: "web_search", arguments: JSONWriter.string(.object(arguments)), callID: callID)])
    }

    static func webCalls(_ items: [SessionItem]) -> [JSONObject] {
        items.compactMap { item in
            if case .other(let o) = item, o["type"]?.stringValue == "web_search_call" { return o }
            return nil
        }
    }

    static func tool(_ extra: JSONObject = [:]) -> JSONValue {
        var o: JSONObject = ["type": "web_search"]
        for (k, v) in extra { o[k] = v }
        return .object(o)
    }

    /// Loopback pages are allowed only through the explicit test-only setting.
    static func testSettings(_ server: WebTestServer, allowLoopback: Bool = true) -> WebSettings {
        WebSettings(searchURL: server.baseURL, timeout: .seconds(10), allowPrivateAddressesForTests: allowLoopback)
    }

    @Test func searchOpenAndFindAreRecordedAndReachTheModel() async throws {
        let web = try await WebTestServer.start()
        defer { Task { await web.shutdown() } }
        try await withRuntime(webSettings: Self.testSettings(web)) { h in
            let article = web.baseURL + "/pages/article"
            let long = web.baseURL + "/pages/long"
            h.model.enqueue(
                Self.call(["action": "search", "query": "swift servers"], callID: "call_search"),
                Self.call(["action": "open_page", "url": .string(article)], callID: "call_open"),
                Self.call(["action": "find_in_page", "url": .string(article), "pattern": "KANGAROO"], callID: "call_find"),
                Self.call(["action": "open_page", "url": .string(long)], callID: "call_long"),
                Self.call(["action": "open_page", "url": .string(long), "line": 1500], callID: "call_long2"),
                .message("Swift runs on Linux."))
            let (session, recorder) = try await h.createSession(input: "Find out about Swift on servers", tools: [Self.tool()])
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(30))
            let requests = h.model.requests()
            try #require(requests.count == 6)
            #expect(requests[0].body["tools"]?.arrayValue?.contains { $0["name"] == "web_search" } == true)

            let search = try #require(callOutput(requests[1], callID: "call_search"))
            #expect(search.contains("Result for swift servers"))
            #expect(search.contains(article))
            #expect(search.contains("An article about Swift."))

            let page = try #require(callOutput(requests[2], callID: "call_open"))
            #expect(page.contains("Title: Swift on Servers"))
            #expect(page.contains("# Swift on Servers"))
            #expect(page.contains("Swift runs & scales on Linux."))
            #expect(page.contains("- Fast"))
            #expect(!page.contains("SCRIPT-TEXT"))

            let found = try #require(callOutput(requests[3], callID: "call_find"))
            #expect(found.contains("1 match for \"KANGAROO\""))
            #expect(found.contains("kangaroo appears"))

            // Medium context: about 8 KB of a long page, then where to read on.
            let first = try #require(callOutput(requests[4], callID: "call_long"))
            #expect(first.utf8.count < 9_000)
            #expect(first.contains("L0: Line number 0 of the long page."))
            #expect(first.contains("Call open_page with line="))
            let later = try #require(callOutput(requests[5], callID: "call_long2"))
            #expect(later.contains("L1500: Line number 1500 of the long page."))

            let calls = Self.webCalls(try await h.items(session.id))
            try #require(calls.count == 5)
            #expect(calls.allSatisfy { $0["status"] == "completed" })
            #expect(calls[0]["action"]?["type"] == "search")
            #expect(calls[0]["action"]?["query"] == "swift servers")
            #expect(calls[1]["action"] == ["type": "open_page", "url": .string(article)])
            #expect(calls[2]["action"] == ["type": "find_in_page", "url": .string(article), "pattern": "KANGAROO"])
            // The article was fetched once: find_in_page read the opened page.
            #expect(web.requestedPaths.filter { $0 == "/pages/article" }.count == 1)
        }
    }

    @Test func theProductionPolicyRefusesLoopbackPages() async throws {
        let web = try await WebTestServer.start()
        defer { Task { await web.shutdown() } }
        try await withRuntime(webSettings: Self.testSettings(web, allowLoopback: false)) { h in
            h.model.enqueue(
                Self.call(["action": "open_page", "url": .string(web.baseURL + "/pages/article")], callID: "call_open"),
                Self.call(["action": "open_page", "url": "http://169.254.169.254/latest/meta-data/"], callID: "call_meta"),
                .message("Could not read it."))
            let (session, recorder) = try await h.createSession(tools: [Self.tool()])
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(30))
            let requests = h.model.requests()
            try #require(requests.count == 3)
            #expect(callOutput(requests[1], callID: "call_open")?.contains("destination is not allowed") == true)
            #expect(callOutput(requests[2], callID: "call_meta")?.contains("not allowed") == true)
            #expect(!web.requestedPaths.contains("/pages/article"))
            let calls = Self.webCalls(try await h.items(session.id))
            #expect(calls.map { $0["status"] } == ["incomplete", "incomplete"])
        }
    }

    @Test func allowedDomainsBoundResultsPagesAndRedirects() async throws {
        let web = try await WebTestServer.start()
        defer { Task { await web.shutdown() } }
        try await withRuntime(webSettings: Self.testSettings(web)) { h in
            h.model.enqueue(
                Self.call(["action": "search", "query": "anything"], callID: "call_search"),
                Self.call(["action": "open_page", "url": "https://outside.example/page"], callID: "call_outside"),
                Self.call(["action": "open_page", "url": .string(web.baseURL + "/pages/redirect")], callID: "call_redirect"),
                Self.call(["action": "open_page", "url": .string(web.baseURL + "/pages/redirect-away")], callID: "call_away"),
                Self.call(["action": "open_page", "url": .string(web.baseURL + "/pages/image")], callID: "call_image"),
                .message("done"))
            let (_, recorder) = try await h.createSession(tools: [Self.tool(["allowed_domains": ["127.0.0.1"], "context_size": "low"])])
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(30))
            let requests = h.model.requests()
            try #require(requests.count == 6)
            let search = try #require(callOutput(requests[1], callID: "call_search"))
            #expect(search.contains("/pages/article"))
            #expect(!search.contains("outside.example"))
            #expect(callOutput(requests[2], callID: "call_outside")?.contains("not allowed for this agent") == true)
            #expect(callOutput(requests[3], callID: "call_redirect")?.contains("Title: Swift on Servers") == true)
            #expect(callOutput(requests[4], callID: "call_away")?.contains("redirected to http://blocked.example/x") == true)
            #expect(callOutput(requests[5], callID: "call_image")?.contains("cannot be read as text") == true)
        }
    }

    @Test func modesDisabledAndCached() async throws {
        let web = try await WebTestServer.start()
        defer { Task { await web.shutdown() } }
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("cma-web-cache-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: cache) }
        var settings = Self.testSettings(web)
        settings.cacheDirectory = cache
        try await withRuntime(webSettings: settings) { h in
            let article = web.baseURL + "/pages/article"
            // disabled: not offered at all.
            h.model.enqueue(.message("no web"))
            let (_, r0) = try await h.createSession(tools: [Self.tool(["mode": "disabled"])])
            try await r0.wait(for: "agent.session.idle", timeout: .seconds(30))
            #expect(h.model.requests()[0].body["tools"]?.arrayValue?.contains { $0["name"] == "web_search" } == false)

            // cached: a page never fetched is not read; once a live session fetched it, it is.
            h.model.enqueue(Self.call(["action": "open_page", "url": .string(article)], callID: "call_cached1"), .message("miss"))
            let (cached, r1) = try await h.createSession(tools: [Self.tool(["mode": "cached"])])
            try await r1.wait(for: "agent.session.idle", timeout: .seconds(30))
            #expect(callOutput(h.model.requests()[2], callID: "call_cached1")?.contains("not in the page cache") == true)
            #expect(!web.requestedPaths.contains("/pages/article"))

            h.model.enqueue(Self.call(["action": "open_page", "url": .string(article)], callID: "call_live"), .message("fetched"))
            let (_, r2) = try await h.createSession(tools: [Self.tool()])
            try await r2.wait(for: "agent.session.idle", timeout: .seconds(30))
            #expect(web.requestedPaths.filter { $0 == "/pages/article" }.count == 1)
            #expect(try FileManager.default.contentsOfDirectory(atPath: cache).contains { $0.hasSuffix(".json") })

            h.model.enqueue(Self.call(["action": "open_page", "url": .string(article)], callID: "call_cached2"), .message("hit"))
            try await h.message(cached.id, "again")
            try await r1.wait(for: "agent.session.idle", count: 2, timeout: .seconds(30))
            #expect(callOutput(try #require(h.model.requests().last), callID: "call_cached2")?.contains("Title: Swift on Servers") == true)
            #expect(web.requestedPaths.filter { $0 == "/pages/article" }.count == 1)
        }
    }

    @Test func searchWithoutABackendSaysSo() async throws {
        try await withRuntime { h in
            h.model.enqueue(Self.call(["action": "search", "query": "x"], callID: "call_s"), Self.call(["action": "fly"], callID: "call_bad"), .message("ok"))
            let (session, recorder) = try await h.createSession(tools: [Self.tool()])
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(30))
            let requests = h.model.requests()
            try #require(requests.count == 3)
            #expect(callOutput(requests[1], callID: "call_s")?.contains("not configured") == true)
            #expect(callOutput(requests[2], callID: "call_bad")?.contains("`action` must be") == true)
            let calls = Self.webCalls(try await h.items(session.id))
            #expect(calls.map { $0["status"] } == ["incomplete", "incomplete"])
            #expect(calls.last?["action"] == ["type": "other"])
        }
    }
}
