import AgentsAPI
import ModelProviders
import TestSupport
import Testing

@Suite("OpenAI Responses client against the scripted server")
struct OpenAIResponsesClientTests {
    // MARK: Streaming

    @Test func streamsTextInOrderWithUsage() async throws {
        try await withServerAndClient { server, client in
            let text = "Hello, streaming world! ünïcødé ✓ 🌍 done."
            server.enqueue(
                .response(
                    outputs: [.message(text: text, phase: "final_answer")],
                    usage: ModelUsage(inputTokens: 120, cachedTokens: 64, outputTokens: 11, reasoningTokens: 0),
                    options: StepOptions(chunkSize: 5)))
            let events = try await collect(client, userRequest("Say hello"))

            #expect(
                events.collapsedNames == [
                    "created", "response.in_progress", "item.added", "part.added", "text.delta*", "text.done", "part.done",
                    "item.done", "completed",
                ])
            #expect(events.textDeltas == text)
            #expect(events.filter { $0.name == "text.delta" }.count == (text.count + 4) / 5)
            guard case .created(let responseID) = events[0] else { Issue.record("first event is not created"); return }
            #expect(responseID.hasPrefix("resp_"))
            guard case .completed(let completedID, let usage) = events.last else { Issue.record("last event is not completed"); return }
            #expect(completedID == responseID)
            #expect(usage == ModelUsage(inputTokens: 120, cachedTokens: 64, outputTokens: 11, reasoningTokens: 0, totalTokens: 131))

            let item = try #require(events.doneItems.first)
            #expect(item["type"] == "message")
            #expect(item["status"] == "completed")
            #expect(item["phase"] == "final_answer")
            #expect(item["id"]?.stringValue?.hasPrefix("msg_") == true)
            #expect(item["content"]?.arrayValue?.first?["text"]?.stringValue == text)
            if case .outputTextDone(let itemID, 0, 0, let doneText) = events[events.count - 4] {
                #expect(doneText == text)
                #expect(itemID == item["id"]?.stringValue)
            } else {
                Issue.record("expected output_text.done before content_part.done")
            }
        }
    }

    @Test func reasoningSummariesAndEncryptedContentArePreserved() async throws {
        try await withServerAndClient { server, client in
            server.enqueue(
                .response(outputs: [
                    .reasoning(summary: ["First, think about **it**.", "Then decide."], encryptedContent: "gAAAAB-opaque=="),
                    .message(text: "Decided."),
                ]))
            let events = try await collect(client, userRequest("Think"))

            #expect(
                Array(events.collapsedNames.prefix(12)) == [
                    "created", "response.in_progress", "item.added",
                    "summary_part.added", "summary_text.delta*", "summary_text.done", "summary_part.done",
                    "summary_part.added", "summary_text.delta*", "summary_text.done", "summary_part.done",
                    "item.done",
                ])
            var summaries = ["", ""]
            for case .reasoningSummaryTextDelta(_, 0, let index, let delta) in events { summaries[index] += delta }
            #expect(summaries == ["First, think about **it**.", "Then decide."])

            let reasoning = try #require(events.doneItems.first)
            #expect(reasoning["type"] == "reasoning")
            #expect(reasoning["id"]?.stringValue?.hasPrefix("rs_") == true)
            #expect(reasoning["encrypted_content"] == "gAAAAB-opaque==")
            #expect(reasoning["summary"] == [["type": "summary_text", "text": "First, think about **it**."], ["type": "summary_text", "text": "Then decide."]])
            // The message is the second output.
            #expect(events.contains { if case .outputItemDone(1, let item) = $0 { return item["type"] == "message" } else { return false } })
            let usage = try #require(events.completedUsage)
            #expect(usage.reasoningTokens > 0)
            #expect(usage.outputTokens > usage.reasoningTokens)
        }
    }

    @Test func functionCallHasFullArgumentsWhenDone() async throws {
        try await withServerAndClient { server, client in
            let arguments = #"{"city":"Paris","units":"celsius","days":[1,2,3]}"#
            server.enqueue(.response(outputs: [.functionCall(name: "get_weather", arguments: arguments, callID: "call_42")], options: StepOptions(chunkSize: 7)))
            let events = try await collect(client, userRequest("Weather?"))

            #expect(events.collapsedNames == ["created", "response.in_progress", "item.added", "args.delta*", "response.function_call_arguments.done", "item.done", "completed"])
            let added = events.compactMap { if case .outputItemAdded(_, let item) = $0 { return item } else { return nil } }
            #expect(added.first?["arguments"] == "")
            #expect(added.first?["status"] == "in_progress")
            let deltas = events.compactMap { if case .functionCallArgumentsDelta(_, 0, let d) = $0 { return d } else { return nil } }.joined()
            #expect(deltas == arguments)
            let item = try #require(events.doneItems.first)
            #expect(item["type"] == "function_call")
            #expect(item["id"]?.stringValue?.hasPrefix("fc_") == true)
            #expect(item["call_id"] == "call_42")
            #expect(item["name"] == "get_weather")
            #expect(item["arguments"] == .string(arguments))
            #expect(item["status"] == "completed")
        }
    }

    @Test func incompleteResponseReportsReason() async throws {
        try await withServerAndClient { server, client in
            server.enqueue(.response(outputs: [.message(text: "Partial")], options: StepOptions(incomplete: "max_output_tokens")))
            let events = try await collect(client, userRequest("Long answer"))
            guard case .incomplete(let id, let reason, let usage) = events.last else {
                Issue.record("expected response.incomplete last, got \(events.last.map(\.name) ?? "nothing")")
                return
            }
            #expect(id.hasPrefix("resp_"))
            #expect(reason == "max_output_tokens")
            #expect(usage != nil)
        }
    }

    // MARK: The request

    @Test func sendsExactlyTheRequestBodyWithHeaders() async throws {
        try await withServerAndClient { server, client in
            server.enqueue(.message("ok"))
            let request = ModelRequest(
                model: "gpt-5-codex",
                instructions: "Be brief. \"Quotes\" and ünïcødé.",
                input: [
                    ["type": "message", "role": "user", "content": [["type": "input_text", "text": "hi"]]],
                    ["type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "abc"],
                    ["type": "function_call", "call_id": "c1", "name": "f", "arguments": "{\"x\":1.5}"],
                    ["type": "function_call_output", "call_id": "c1", "output": "42"],
                ],
                tools: [["type": "function", "name": "f", "parameters": ["type": "object", "properties": [:]], "strict": false]],
                parallelToolCalls: true,
                reasoning: ["effort": "medium", "summary": "auto"],
                include: ["reasoning.encrypted_content"],
                text: ["verbosity": "low"],
                serviceTier: "priority",
                promptCacheKey: "sess_123",
                promptCacheRetention: "24h")
            _ = try await collect(client, request)

            let recorded = try #require(server.requests().first)
            #expect(recorded.path == "/v1/responses")
            #expect(recorded.body == request.body)
            #expect(recorded.rawBody == JSONWriter.bytes(request.body))
            #expect(recorded.headers["authorization"] == "Bearer sk-scripted-test-key")
            #expect(recorded.headers["content-type"] == "application/json")
            #expect(recorded.headers["accept"] == "text/event-stream")

            // With an encoding cache, over a turn's requests: still exactly the writer's bytes.
            var cached = request
            cached.inputEncoding = JSONArrayEncodingCache()
            for round in 0..<3 {
                server.enqueue(.message("ok"))
                if round == 2 { cached.input[1] = ["type": "message", "role": "user", "content": "changed"] }
                cached.input.append(["type": "function_call_output", "call_id": .string("c\(round)"), "output": "more"])
                _ = try await collect(client, cached)
                let sent = try #require(server.requests().last)
                #expect(sent.rawBody == JSONWriter.bytes(cached.body), "round \(round)")
                #expect(sent.body["input"]?.arrayValue?.count == cached.input.count)
            }
        }
    }

    @Test func omitsAuthorizationWithoutKeyAndAcceptsTrailingSlash() async throws {
        try await withScriptedModelServer { server in
            server.enqueue(.message("ok"))
            var configuration = server.clientConfiguration(apiKey: nil)
            configuration.baseURL += "/"
            configuration.extraHeaders = ["X-Trace": "t1", "Authorization": "Bearer smuggled"]
            try await withClient(configuration) { client in
                _ = try await collect(client, userRequest("hi"))
            }
            let recorded = try #require(server.requests().first)
            #expect(recorded.path == "/v1/responses")
            #expect(recorded.headers["authorization"] == nil)
            #expect(recorded.headers["x-trace"] == "t1")
        }
    }

    @Test func connectionIsReusedAcrossCalls() async throws {
        try await withServerAndClient { server, client in
            for i in 0..<5 { server.enqueue(.message("reply \(i)")) }
            for i in 0..<5 {
                let events = try await collect(client, userRequest("call \(i)"))
                #expect(events.textDeltas == "reply \(i)")
            }
            #expect(server.requests().count == 5)
        }
    }

    // MARK: Retries

    @Test func retriesAfter429WithRetryAfterZero() async throws {
        try await withServerAndClient { server, client in
            server.enqueue(.httpError(status: 429, headers: ["retry-after": "0"]), .message("after the rate limit"))
            let events = try await collect(client, userRequest("hi"))
            #expect(events.textDeltas == "after the rate limit")
            #expect(events.filter { $0.name == "created" }.count == 1)
            #expect(server.requests().count == 2)
        }
    }

    @Test func retriesWithRetryAfterMsAndPastHTTPDate() async throws {
        try await withServerAndClient { server, client in
            server.enqueue(
                .httpError(status: 503, headers: ["retry-after-ms": "5"]),
                .httpError(status: 502, headers: ["retry-after": "Sun, 06 Nov 1994 08:49:37 GMT"]),
                .message("third time"))
            let events = try await collect(client, userRequest("hi"))
            #expect(events.textDeltas == "third time")
            #expect(server.requests().count == 3)
        }
    }

    @Test func persistent500FailsAfterExactlyMaxRetriesPlusOneAttempts() async throws {
        let maxRetries = 3
        try await withServerAndClient(retry: fastRetry(maxRetries: maxRetries)) { server, client in
            for _ in 0...maxRetries { server.enqueue(.httpError(status: 500)) }
            server.enqueue(.message("one attempt too many"))
            let error = await #expect(throws: ModelError.self) { _ = try await collect(client, userRequest("hi")) }
            #expect(error?.kind == .server)
            #expect(error?.statusCode == 500)
            #expect(error?.code == "server_error")
            #expect(server.requests().count == maxRetries + 1)
            #expect(server.pendingSteps == 1)
        }
    }

    @Test func retryAfterBeyondTheLimitFailsWithoutWaiting() async throws {
        try await withServerAndClient(retry: fastRetry(maxRetryAfter: .seconds(2))) { server, client in
            server.enqueue(.httpError(status: 429, headers: ["retry-after": "120"]), .message("never"))
            let start = ContinuousClock.now
            let error = await #expect(throws: ModelError.self) { _ = try await collect(client, userRequest("hi")) }
            #expect(ContinuousClock.now - start < .seconds(30))
            #expect(error?.kind == .rateLimited)
            #expect(error?.statusCode == 429)
            #expect(server.requests().count == 1)

            // An HTTP-date far in the future is just as long.
            server.reset()
            server.enqueue(.httpError(status: 503, headers: ["retry-after": "Fri, 31 Dec 2100 23:59:59 GMT"]), .message("never"))
            let second = await #expect(throws: ModelError.self) { _ = try await collect(client, userRequest("hi")) }
            #expect(second?.kind == .overloaded)
            #expect(server.requests().count == 1)
        }
    }

    @Test func insufficientQuotaIsRateLimitedAndNotRetried() async throws {
        try await withServerAndClient { server, client in
            server.enqueue(
                .httpError(
                    status: 429,
                    body: ["error": ["message": "You exceeded your current quota.", "type": "insufficient_quota", "param": nil, "code": "insufficient_quota"]]),
                .message("never"))
            let error = await #expect(throws: ModelError.self) { _ = try await collect(client, userRequest("hi")) }
            #expect(error?.kind == .rateLimited)
            #expect(error?.code == "insufficient_quota")
            #expect(error?.message == "You exceeded your current quota.")
            #expect(server.requests().count == 1)
        }
    }

    // MARK: Classification

    @Test func unauthorizedIsAuthenticationWithoutRetryAndNeverShowsTheKey() async throws {
        try await withServerAndClient { server, client in
            server.enqueue(
                .httpError(
                    status: 401,
                    body: ["error": ["message": "Incorrect API key provided: sk-scripted-test-key.", "type": "invalid_request_error", "param": nil, "code": "invalid_api_key"]]),
                .message("never"))
            let error = await #expect(throws: ModelError.self) { _ = try await collect(client, userRequest("hi")) }
            #expect(error?.kind == .authentication)
            #expect(error?.code == "invalid_api_key")
            #expect(error?.message.contains("sk-scripted-test-key") == false)
            #expect(error.map { "\($0)" }?.contains("sk-scripted-test-key") == false)
            #expect(server.requests().count == 1)
        }
    }

    @Test(arguments: [
        (403, ModelError.Kind.authentication), (404, .notFound), (422, .invalidRequest), (400, .invalidRequest),
    ])
    func clientErrorsAreNotRetried(status: Int, kind: ModelError.Kind) async throws {
        try await withServerAndClient { server, client in
            server.enqueue(.httpError(status: status), .message("never"))
            let error = await #expect(throws: ModelError.self) { _ = try await collect(client, userRequest("hi")) }
            #expect(error?.kind == kind)
            #expect(error?.statusCode == status)
            #expect(server.requests().count == 1)
        }
    }

    @Test func contextLengthExceeded() async throws {
        try await withServerAndClient { server, client in
            server.enqueue(
                .httpError(
                    status: 400,
                    body: ["error": ["message": "Your input exceeds the context window of this model.", "type": "invalid_request_error", "param": "input", "code": "context_length_exceeded"]]))
            let error = await #expect(throws: ModelError.self) { _ = try await collect(client, userRequest("hi")) }
            #expect(error?.kind == .contextLengthExceeded)
            #expect(error?.code == "context_length_exceeded")
            #expect(server.requests().count == 1)

            // Recognised by the message alone too.
            server.enqueue(
                .httpError(
                    status: 400,
                    body: ["error": ["message": "This model's maximum context length is 8192 tokens.", "type": "invalid_request_error", "param": nil, "code": nil]]))
            let second = await #expect(throws: ModelError.self) { _ = try await collect(client, userRequest("hi")) }
            #expect(second?.kind == .contextLengthExceeded)
        }
    }

    @Test func nonJSONErrorBodyIsKeptInTheMessage() async throws {
        try await withServerAndClient(retry: .none) { server, client in
            server.enqueue(.httpError(status: 502, body: "<html>Bad Gateway</html>"))
            let error = await #expect(throws: ModelError.self) { _ = try await collect(client, userRequest("hi")) }
            #expect(error?.kind == .server)
            #expect(error?.statusCode == 502)
            #expect(error?.message.contains("Bad Gateway") == true)
        }
    }

    // MARK: Failures while streaming

    @Test func responseFailedMidStreamThrowsWithCode() async throws {
        try await withServerAndClient { server, client in
            server.enqueue(.response(outputs: [.message(text: "partial")], options: StepOptions(fail: (code: "rate_limit_exceeded", message: "Slow down."))))
            let stream = try await client.stream(userRequest("hi"))
            var received: [ModelStreamEvent] = []
            let error = await #expect(throws: ModelError.self) {
                for try await event in stream { received.append(event) }
            }
            #expect(error?.kind == .rateLimited)
            #expect(error?.code == "rate_limit_exceeded")
            #expect(error?.message == "Slow down.")
            #expect(received.textDeltas == "partial")
            #expect(received.doneItems.count == 1)
            #expect(server.requests().count == 1)
        }
    }

    @Test(arguments: [
        ("context_length_exceeded", ModelError.Kind.contextLengthExceeded), ("server_error", .server),
        ("server_is_overloaded", .overloaded), ("invalid_prompt", .invalidRequest),
    ])
    func streamErrorEventsAreClassified(code: String, kind: ModelError.Kind) async throws {
        try await withServerAndClient { server, client in
            server.enqueue(.streamError(code: code, message: "boom"))
            let error = await #expect(throws: ModelError.self) { _ = try await collect(client, userRequest("hi")) }
            #expect(error?.kind == kind)
            #expect(error?.code == code)
            #expect(error?.message == "boom")
            #expect(server.requests().count == 1)
        }
    }

    @Test func midStreamDisconnectIsAConnectionErrorAndNotRetried() async throws {
        try await withServerAndClient { server, client in
            server.enqueue(
                .response(
                    outputs: [.message(text: "this will be cut off in the middle")],
                    options: StepOptions(chunkSize: 4, delayBetweenEvents: .milliseconds(20), disconnectAfterEvents: 5)),
                .message("a retry would get this"))
            let stream = try await client.stream(userRequest("hi"))
            var received: [ModelStreamEvent] = []
            let error = await #expect(throws: ModelError.self) {
                for try await event in stream { received.append(event) }
            }
            #expect(error?.kind == .connection)
            // What arrived before the cut is delivered; bytes still buffered in the HTTP client when
            // the connection drops may be lost, so only bound the count.
            #expect((1...5).contains(received.count))
            #expect("this".hasPrefix(received.textDeltas))
            #expect(server.requests().count == 1)
            #expect(server.pendingSteps == 1)
        }
    }

    @Test func silenceLongerThanTheReadTimeoutIsATimeout() async throws {
        // No retries: under load a slow response head must not turn into a second request.
        try await withServerAndClient(retry: .none, readTimeout: .seconds(4)) { server, client in
            server.enqueue(.response(outputs: [.message(text: "stalls")], options: StepOptions(stallAfterEvents: 2)))
            let stream = try await client.stream(userRequest("hi"))
            var received = 0
            let error = await #expect(throws: ModelError.self) {
                for try await _ in stream { received += 1 }
            }
            #expect(error?.kind == .timeout)
            #expect(received == 2)
            try await server.waitForClientDisconnects(count: 1)
        }
    }

    @Test func noResponseHeadWithinTheReadTimeoutIsRetriedThenATimeout() async throws {
        // Generous margins: a loaded machine must not turn the slow head into a fast one.
        try await withServerAndClient(retry: fastRetry(maxRetries: 1), readTimeout: .seconds(1)) { server, client in
            for _ in 0..<2 {
                server.enqueue(.response(outputs: [.message(text: "too late")], options: StepOptions(delayBeforeHeaders: .seconds(8))))
            }
            server.enqueue(.message("one attempt too many"))
            let error = await #expect(throws: ModelError.self) { _ = try await collect(client, userRequest("hi")) }
            #expect(error?.kind == .timeout)
            // Under load the server may record the retry only after the client gave up on it.
            let requests = (try? await server.waitForRequests(count: 2)) ?? server.requests()
            #expect(requests.count == 2)
        }
    }

    // MARK: Cancellation

    @Test func cancellingTheConsumerOfAStalledStreamReturnsPromptlyAndClosesTheRequest() async throws {
        try await withServerAndClient { server, client in
            server.enqueue(.response(outputs: [.message(text: "never finishes")], options: StepOptions(stallAfterEvents: 3)))
            let (progress, progressContinuation) = AsyncStream<Int>.makeStream()
            let consumer = Task { () throws -> (events: Int, sawTerminalEvent: Bool, cancelled: Bool) in
                var count = 0
                var sawTerminalEvent = false
                let stream = try await client.stream(userRequest("hi"))
                for try await event in stream {
                    count += 1
                    if case .completed = event { sawTerminalEvent = true }
                    progressContinuation.yield(count)
                }
                return (count, sawTerminalEvent, Task.isCancelled)
            }
            for await count in progress where count == 3 { break }

            let start = ContinuousClock.now
            consumer.cancel()
            let result = await consumer.result
            #expect(ContinuousClock.now - start < .seconds(5))
            // Like any AsyncThrowingStream, a cancelled iteration simply ends (or throws
            // CancellationError); it never ends with a terminal event.
            switch result {
            case .success(let outcome):
                #expect(outcome.events == 3)
                #expect(!outcome.sawTerminalEvent)
                #expect(outcome.cancelled)
            case .failure(let error):
                #expect(error is CancellationError)
            }
            try await server.waitForClientDisconnects(count: 1, timeout: .seconds(5))
            #expect(server.requests().count == 1)
        }
    }

    @Test func droppingAStreamWithoutFinishingReleasesTheRequest() async throws {
        try await withServerAndClient { server, client in
            server.enqueue(.response(outputs: [.message(text: "never finishes")], options: StepOptions(stallAfterEvents: 3)))
            func readThreeEventsAndDrop() async throws -> Int {
                let stream = try await client.stream(userRequest("hi"))
                var count = 0
                for try await _ in stream {
                    count += 1
                    if count == 3 { break }
                }
                return count
            }
            #expect(try await readThreeEventsAndDrop() == 3)
            try await server.waitForClientDisconnects(count: 1, timeout: .seconds(5))
        }
    }

    @Test func cancellationDuringBackoffStopsRetrying() async throws {
        try await withServerAndClient(retry: RetryPolicy(maxRetries: 5, initialBackoff: .seconds(30), maxBackoff: .seconds(30))) { server, client in
            server.enqueue(.httpError(status: 500), .message("never"))
            let consumer = Task { try await client.stream(userRequest("hi")) }
            _ = try await server.waitForRequests(count: 1)
            let start = ContinuousClock.now
            consumer.cancel()
            let result = await consumer.result
            #expect(ContinuousClock.now - start < .seconds(5))
            #expect(throws: CancellationError.self) { try result.get() }
            #expect(server.requests().count == 1)
        }
    }

    // MARK: Connection failures

    @Test func connectionRefusedIsAConnectionErrorAfterRetries() async throws {
        // Port 1 on loopback: nothing listens there. (A port that was just freed can be taken by
        // a server of a test running in parallel.)
        let server = try await ScriptedModelServer.start()
        var configuration = server.clientConfiguration(retry: fastRetry(maxRetries: 2))
        await server.shutdown()
        configuration.baseURL = "http://127.0.0.1:1/v1"
        configuration.connectTimeout = .seconds(2)
        let start = ContinuousClock.now
        try await withClient(configuration) { client in
            let error = await #expect(throws: ModelError.self) { _ = try await collect(client, userRequest("hi")) }
            #expect(error?.kind == .connection)
            #expect(error?.statusCode == nil)
        }
        #expect(ContinuousClock.now - start < .seconds(30))
    }

    // MARK: Scripted server behaviour seen through the client

    @Test func synthesisedUsageSimulatesThePromptCache() async throws {
        try await withServerAndClient { server, client in
            server.enqueue(.message("first"), .message("second"), .message("other session"))
            let first = userRequest("hello", promptCacheKey: "sess_a")
            let second = userRequest(
                "hello", promptCacheKey: "sess_a",
                extraInput: [["type": "message", "role": "assistant", "content": [["type": "output_text", "text": "first"]]]])
            let firstUsage = try #require(try await collect(client, first).completedUsage)
            let secondUsage = try #require(try await collect(client, second).completedUsage)
            let otherUsage = try #require(try await collect(client, userRequest("hello", promptCacheKey: "sess_b")).completedUsage)

            let firstInput = JSONWriter.bytes(.array(first.input)).count
            #expect(firstUsage.inputTokens == Int64((firstInput + 3) / 4))
            #expect(firstUsage.cachedTokens == 0)
            // The shared prefix is the first input minus its closing bracket.
            #expect(secondUsage.cachedTokens == Int64((firstInput - 1) / 4))
            #expect(secondUsage.inputTokens > firstUsage.inputTokens)
            #expect(otherUsage.cachedTokens == 0)
        }
    }

    @Test func matchingStepsServeInterleavedSessions() async throws {
        try await withServerAndClient { server, client in
            server.enqueue(
                .message("for alpha", match: .contains("alpha")),
                .message("for beta", match: .contains("beta")),
                .message("by cache key", match: .promptCacheKey("sess_gamma")))
            let gamma = try await collect(client, userRequest("gamma question", promptCacheKey: "sess_gamma"))
            let beta = try await collect(client, userRequest("this is beta"))
            let alpha = try await collect(client, userRequest("and alpha"))
            #expect(gamma.textDeltas == "by cache key")
            #expect(beta.textDeltas == "for beta")
            #expect(alpha.textDeltas == "for alpha")
        }
    }

    @Test func echoFallbackRepliesWithTheLastUserText() async throws {
        try await withServerAndClient(fallback: .echo) { server, client in
            let events = try await collect(client, userRequest("ping ✓"))
            #expect(events.textDeltas == "Echo: ping ✓")
            #expect(events.completedUsage != nil)
        }
    }

    @Test func errorFallbackIsA500WithACode() async throws {
        try await withServerAndClient(retry: fastRetry(maxRetries: 1)) { server, client in
            let error = await #expect(throws: ModelError.self) { _ = try await collect(client, userRequest("unscripted")) }
            #expect(error?.kind == .server)
            #expect(error?.code == "no_scripted_response")
            #expect(server.requests().count == 2)
        }
    }

    // MARK: Configuration

    @Test func configurationFromEnvironment() {
        let configuration = ModelProviderConfiguration.fromEnvironment([
            "OPENAI_BASE_URL": "http://localhost:11434/v1/", "OPENAI_API_KEY": "sk-env", "OPENAI_PROJECT_ID": " ",
        ])
        #expect(configuration.baseURL == "http://localhost:11434/v1/")
        #expect(configuration.responsesURL == "http://localhost:11434/v1/responses")
        #expect(configuration.apiKey == "sk-env")
        #expect(configuration.project == nil)
        #expect(!"\(configuration)".contains("sk-env"))
        let defaults = ModelProviderConfiguration.fromEnvironment([:])
        #expect(defaults.responsesURL == "https://api.openai.com/v1/responses")
        #expect(defaults.apiKey == nil)
        #expect(defaults.retry == RetryPolicy())
        #expect(defaults.retry.maxRetries == 4)
    }

    @Test func backoffGrowsAndIsCapped() {
        let policy = RetryPolicy(initialBackoff: .milliseconds(100), maxBackoff: .seconds(1), jitter: 0)
        #expect(policy.backoff(forRetry: 0) == .milliseconds(100))
        #expect(policy.backoff(forRetry: 2) == .milliseconds(400))
        #expect(policy.backoff(forRetry: 10) == .seconds(1))
        let jittered = RetryPolicy(initialBackoff: .seconds(1), maxBackoff: .seconds(1), jitter: 0.5)
        for _ in 0..<20 {
            let delay = jittered.backoff(forRetry: 0)
            #expect(delay > .milliseconds(499) && delay <= .seconds(1))
        }
    }
}
