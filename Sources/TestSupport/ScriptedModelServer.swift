import AgentsAPI
import Hummingbird
public import Logging
public import ModelProviders
import NIOCore
import ServiceLifecycle
import Synchronization

/// A real HTTP server on loopback that speaks the OpenAI Responses API's streaming format and
/// answers each `POST /v1/responses` from a FIFO queue of ``ScriptStep``s.
///
/// Responses are `text/event-stream` with frames `event: <type>\ndata: <json>\n\n`; every event
/// carries `type` and an increasing `sequence_number`, in the order OpenAI sends them
/// (`response.created`, `response.in_progress`, per item `output_item.added` … deltas … `done`
/// events, then `response.completed` with the full `response`: `id`, `status`, `output` (the
/// done items) and `usage`). Each frame is written whole.
///
/// When a step has no usage, it is synthesised at about four bytes per token: `input_tokens`
/// from the serialised `input`, `output_tokens` from the output text (including reasoning
/// summaries, which also count as `reasoning_tokens`), and `cached_tokens` from the common prefix
/// of this request's serialised `input` and that of the previous request with the same
/// `prompt_cache_key`: a small prompt-cache simulation.
///
/// A control API on the same port lets another process drive it:
/// - `POST /__scripted/steps` `{"steps":[…]}` queues steps (format: ``ScriptStep``);
/// - `GET /__scripted/requests` → `{"requests":[{"body":…,"headers":{…}}]}`;
/// - `POST /__scripted/reset` clears the queue and the log;
/// - `POST /__scripted/fallback` `{"mode":"echo"|"error"}` sets the ``Fallback``.
public final class ScriptedModelServer: Sendable {
    /// What to answer when no queued step matches a request.
    public enum Fallback: String, Sendable {
        /// 500 with an OpenAI error envelope saying there was no scripted response.
        case error
        /// A message `Echo: <text of the last user input_text>`.
        case echo
    }

    public let host: String
    public let port: Int
    private let state: ScriptedServerState
    private let runTask: Task<Void, any Error>
    private let group: ServiceGroup

    /// `http://<host>:<port>/v1`, the value for `OPENAI_BASE_URL`.
    public var baseURL: String {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "http://\(hostPart):\(port)/v1"
    }

    private init(host: String, port: Int, state: ScriptedServerState, runTask: Task<Void, any Error>, group: ServiceGroup) {
        self.group = group
        self.host = host
        self.port = port
        self.state = state
        self.runTask = runTask
    }

    /// Starts the server and returns once it is listening (port 0 picks a free port).
    public static func start(
        host: String = "127.0.0.1", port: Int = 0, fallback: Fallback = .error, logger: Logger? = nil
    ) async throws -> ScriptedModelServer {
        let logger = logger ?? {
            var logger = Logger(label: "scripted-model-server", factory: { StreamLogHandler.standardError(label: $0) })
            // Hummingbird reports cancellation at shutdown as an error; nothing below critical is news here.
            logger.logLevel = .critical
            return logger
        }()
        let state = ScriptedServerState(fallback: fallback)
        let router = Router(context: ScriptedRequestContext.self)
        addRoutes(to: router, state: state)

        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        let arrivals = state.arrivals
        let app = Application(
            router: router,
            server: .http1(additionalChannelHandlers: [ArrivalStamp(times: arrivals)]),
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? port)
                portContinuation.finish()
            },
            logger: logger)
        // Stopped by a graceful shutdown (which stops accepting first), not by cancelling the
        // serving task: cancelling it can trap in NIO when a just-accepted connection is still
        // buffered (apple/swift-nio#3481). Streams still running after a second are cancelled.
        var groupConfiguration = ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(1)
        let group = ServiceGroup(configuration: groupConfiguration)
        let runTask = Task {
            defer { portContinuation.finish() }
            try await group.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let boundPort = await iterator.next() else {
            if case .failure(let error) = await runTask.result { throw error }
            throw ScriptedServerError("the scripted model server stopped before it was listening")
        }
        return ScriptedModelServer(host: host, port: boundPort, state: state, runTask: runTask, group: group)
    }

    /// Queues steps (FIFO).
    public func enqueue(_ steps: ScriptStep...) { enqueue(steps) }

    /// Queues steps (FIFO).
    public func enqueue(_ steps: [ScriptStep]) { state.enqueue(steps) }

    /// Every `POST /v1/responses` received so far, in order.
    public func requests() -> [RecordedRequest] { state.values.withLock { $0.requests } }

    /// Steps still queued.
    public var pendingSteps: Int { state.values.withLock { $0.queue.count } }

    /// Waits until at least `count` requests have arrived and returns all of them.
    public func waitForRequests(count: Int, timeout: Duration = .seconds(10)) async throws -> [RecordedRequest] {
        try await poll(timeout: timeout, what: "\(count) request(s)") {
            let requests = self.requests()
            return requests.count >= count ? requests : nil
        }
    }

    /// How many times a client went away while a scripted stream was still running (a stalled
    /// stream, or a write that failed).
    public func clientDisconnects() -> Int { state.values.withLock { $0.clientDisconnects } }

    /// Waits until ``clientDisconnects()`` reaches `count`.
    public func waitForClientDisconnects(count: Int = 1, timeout: Duration = .seconds(10)) async throws {
        _ = try await poll(timeout: timeout, what: "\(count) client disconnect(s)") {
            self.clientDisconnects() >= count ? true : nil
        }
    }

    public func setFallback(_ fallback: Fallback) { state.values.withLock { $0.fallback = fallback } }

    /// Clears the queue, the request log, the disconnect count and the prompt-cache simulation.
    public func reset() { state.reset() }

    /// Stops the server, ending any stalled or running streams.
    public func shutdown() async {
        await group.triggerGracefulShutdown()
        _ = await runTask.result
    }

    /// A provider configuration pointing at this server, with a fake API key and retries fast
    /// enough for tests.
    public func clientConfiguration(
        apiKey: String? = "sk-scripted-test-key",
        retry: RetryPolicy = RetryPolicy(maxRetries: 2, initialBackoff: .milliseconds(10), maxBackoff: .milliseconds(50)),
        readTimeout: Duration = .seconds(30)
    ) -> ModelProviderConfiguration {
        ModelProviderConfiguration(
            baseURL: baseURL, apiKey: apiKey, retry: retry, connectTimeout: .seconds(5), readTimeout: readTimeout)
    }

    private func poll<T>(timeout: Duration, what: String, _ check: () -> T?) async throws -> T {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            if let value = check() { return value }
            guard clock.now < deadline else {
                throw ScriptedServerError("timed out after \(timeout) waiting for \(what)")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

/// Runs `body` with a fresh server and always shuts it down.
@discardableResult
public func withScriptedModelServer<T>(
    fallback: ScriptedModelServer.Fallback = .error,
    _ body: (ScriptedModelServer) async throws -> T
) async throws -> T {
    let server = try await ScriptedModelServer.start(fallback: fallback)
    do {
        let result = try await body(server)
        await server.shutdown()
        return result
    } catch {
        await server.shutdown()
        throw error
    }
}

/// A failure of the scripted server's own machinery (not a scripted error).
public struct ScriptedServerError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

// MARK: - State

final class ScriptedServerState: Sendable {
    struct Values {
        var queue: [ScriptStep] = []
        var requests: [RecordedRequest] = []
        var fallback: ScriptedModelServer.Fallback
        var lastInputByCacheKey: [String: [UInt8]] = [:]
        var clientDisconnects = 0
    }

    let values: Mutex<Values>
    let arrivals = ArrivalTimes()

    init(fallback: ScriptedModelServer.Fallback) {
        values = Mutex(Values(fallback: fallback))
    }

    func enqueue(_ steps: [ScriptStep]) {
        values.withLock { $0.queue.append(contentsOf: steps) }
    }

    func reset() {
        values.withLock { v in
            v.queue.removeAll()
            v.requests.removeAll()
            v.lastInputByCacheKey.removeAll()
            v.clientDisconnects = 0
        }
    }

    func noteClientDisconnect() {
        values.withLock { $0.clientDisconnects += 1 }
    }

    struct Decision {
        var step: ScriptStep?
        var fallback: ScriptedModelServer.Fallback
        var cachedPrefixBytes: Int
        /// The request's position in `requests`.
        var index: Int
    }

    /// Notes when the answer to request `index` was written completely.
    func noteAnswered(_ index: Int) {
        let now = ContinuousClock.now
        values.withLock { v in if index < v.requests.count { v.requests[index].answeredAt = now } }
    }

    /// Records the request and takes the first step that matches it.
    func receive(_ request: RecordedRequest, inputBytes: [UInt8]) -> Decision {
        let userText = request.lastUserText
        let cacheKey = request.promptCacheKey
        return values.withLock { v in
            v.requests.append(request)
            var cached = 0
            if let cacheKey {
                if let previous = v.lastInputByCacheKey[cacheKey] {
                    cached = UsageEstimator.commonPrefix(previous, inputBytes)
                }
                v.lastInputByCacheKey[cacheKey] = inputBytes
            }
            let index = v.queue.firstIndex { step in
                switch step.match {
                case nil: return true
                case .contains(let text): return userText?.contains(text) ?? false
                case .promptCacheKey(let key): return cacheKey == key
                }
            }
            let step = index.map { v.queue.remove(at: $0) }
            return Decision(step: step, fallback: v.fallback, cachedPrefixBytes: cached, index: v.requests.count - 1)
        }
    }
}

// MARK: - Routes

struct ScriptedRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }
}

private struct ScriptedInterruption: Error {}

extension ScriptedModelServer {
    private static let maxRequestBody = 64 << 20

    fileprivate static func addRoutes(to router: Router<ScriptedRequestContext>, state: ScriptedServerState) {
        router.post("v1/responses") { request, context -> Response in
            var request = request
            let buffer = try await request.collectBody(upTo: maxRequestBody)
            // Received when its end came off the wire (routing and parsing are this server's
            // time, not the client's).
            let receivedAt = state.arrivals.get(context.channel) ?? .now
            let raw = Array(buffer.readableBytesView)
            let body = (try? JSONParser.parse(raw)) ?? .null
            let headers = RecordedHeaders(request.headers.map { (name: $0.name.rawName, value: $0.value) })
            var recorded = RecordedRequest(body: body, rawBody: raw, headers: headers, path: request.uri.path)
            recorded.receivedAt = receivedAt
            let inputBytes = JSONWriter.bytes(body["input"] ?? .array([]))
            let decision = state.receive(recorded, inputBytes: inputBytes)

            let step: ScriptStep
            if let scripted = decision.step {
                step = scripted
            } else if decision.fallback == .echo {
                step = .message("Echo: \(lastUserText(body, lastPartOnly: true) ?? "")")
            } else {
                return jsonResponse(
                    status: 500,
                    errorEnvelope(
                        message: "no scripted response for this request (the queue is empty or no step matched)",
                        type: "server_error", code: "no_scripted_response"))
            }

            switch step.action {
            case .httpError(let status, let errorBody, let extraHeaders):
                var response: Response
                if case .string(let text)? = errorBody {
                    var fields = HTTPFields()
                    fields[.contentType] = "text/plain; charset=utf-8"
                    response = Response(
                        status: .init(code: status), headers: fields, body: .init(byteBuffer: ByteBuffer(string: text)))
                } else {
                    response = jsonResponse(status: status, errorBody ?? defaultErrorEnvelope(status: status))
                }
                for (name, value) in extraHeaders.sorted(by: { $0.key < $1.key }) where isToken(name) {
                    response.headers[.init(name)!] = value
                }
                return response
            case .streamError(let code, let message):
                return try await eventStream(
                    [ResponseEventBuilder.errorEvent(code: code, message: message)], options: StepOptions(),
                    channel: context.channel, state: state)
            case .response(let outputs, let usage, let options):
                let usage = usage ?? UsageEstimator.usage(
                    inputBytes: inputBytes.count, cachedPrefixBytes: decision.cachedPrefixBytes, outputs: outputs)
                let events = ResponseEventBuilder.events(request: body, outputs: outputs, usage: usage, options: options)
                return try await eventStream(events, options: options, channel: context.channel, state: state, index: decision.index)
            }
        }

        router.post("__scripted/steps") { request, _ -> Response in
            var request = request
            let buffer = try await request.collectBody(upTo: maxRequestBody)
            do {
                let json = try JSONParser.parse(buffer.readableBytesView)
                guard let array = json["steps"]?.arrayValue else {
                    throw ScriptFormatError("the body must be {\"steps\":[…]}")
                }
                let steps = try array.map { value throws(ScriptFormatError) in try ScriptStep(json: value) }
                state.enqueue(steps)
                return jsonResponse(status: 200, ["queued": .int(Int64(steps.count))])
            } catch {
                return jsonResponse(
                    status: 400, errorEnvelope(message: "invalid steps: \(error)", type: "invalid_request_error", code: nil))
            }
        }

        router.get("__scripted/requests") { _, _ -> Response in
            let requests = state.values.withLock { $0.requests }
            return jsonResponse(status: 200, ["requests": .array(requests.map(\.json))])
        }

        router.post("__scripted/reset") { _, _ -> Response in
            state.reset()
            return jsonResponse(status: 200, [:])
        }

        router.post("__scripted/fallback") { request, _ -> Response in
            var request = request
            let buffer = try await request.collectBody(upTo: 1 << 16)
            guard let json = try? JSONParser.parse(buffer.readableBytesView),
                let mode = json["mode"]?.stringValue.flatMap(Fallback.init(rawValue:))
            else {
                return jsonResponse(
                    status: 400,
                    errorEnvelope(message: "the body must be {\"mode\":\"echo\"|\"error\"}", type: "invalid_request_error", code: nil))
            }
            state.values.withLock { $0.fallback = mode }
            return jsonResponse(status: 200, ["mode": .string(mode.rawValue)])
        }
    }

    /// A 200 `text/event-stream` response writing `events`, honouring the delivery options.
    private static func eventStream(
        _ events: [JSONValue], options: StepOptions, channel: any Channel, state: ScriptedServerState, index: Int? = nil
    ) async throws -> Response {
        if options.delayBeforeHeaders > .zero {
            try await Task.sleep(for: options.delayBeforeHeaders)
        }
        let frames = events.map(frame)
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                let clientGone = try await ClientGoneHandler.install(on: channel)
                if options.delayBetweenEvents == .zero, options.disconnectAfterEvents == nil, options.stallAfterEvents == nil {
                    // Nothing between the events: one write, as a provider's buffered tail arrives
                    // (and the least of this server's time on the cores it shares with the client).
                    var all = ByteBuffer()
                    for f in frames { all.writeImmutableBuffer(f) }
                    do {
                        try await writer.write(all)
                    } catch {
                        state.noteClientDisconnect()
                        throw error
                    }
                    try await writer.finish(nil)
                    if let index { state.noteAnswered(index) }
                    return
                }
                var sent = 0
                while true {
                    if sent > 0, options.delayBetweenEvents > .zero {
                        try await Task.sleep(for: options.delayBetweenEvents)
                    }
                    if let limit = options.disconnectAfterEvents, sent >= limit {
                        // Abrupt: the chunked body never ends.
                        try? await channel.close()
                        throw ScriptedInterruption()
                    }
                    if let limit = options.stallAfterEvents, sent >= limit {
                        while !clientGone.isSet, !Task.isCancelled {
                            try? await Task.sleep(for: .milliseconds(5))
                        }
                        if clientGone.isSet { state.noteClientDisconnect() }
                        throw ScriptedInterruption()
                    }
                    guard sent < frames.count else { break }
                    if clientGone.isSet {
                        state.noteClientDisconnect()
                        throw ScriptedInterruption()
                    }
                    do {
                        try await writer.write(frames[sent])
                    } catch {
                        state.noteClientDisconnect()
                        throw error
                    }
                    sent += 1
                }
                try await writer.finish(nil)
                if let index { state.noteAnswered(index) }
            })
    }

    /// Whether `name` is a valid HTTP field name (RFC 9110 token).
    private static func isToken(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                return true
            default:
                return "!#$%&'*+-.^_`|~".utf8.contains(byte)
            }
        }
    }

    /// `event: <type>\ndata: <json>\n\n`, as one buffer.
    private static func frame(_ event: JSONValue) -> ByteBuffer {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        bytes.append(contentsOf: "event: ".utf8)
        bytes.append(contentsOf: (event["type"]?.stringValue ?? "message").utf8)
        bytes.append(contentsOf: "\ndata: ".utf8)
        JSONWriter.write(event, into: &bytes)
        bytes.append(contentsOf: "\n\n".utf8)
        return ByteBuffer(bytes: bytes)
    }

    private static func jsonResponse(status: Int, _ json: JSONValue) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(
            status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: JSONWriter.bytes(json))))
    }

    static func errorEnvelope(message: String, type: String, code: String?) -> JSONValue {
        [
            "error": [
                "message": .string(message), "type": .string(type), "param": nil,
                "code": code.map { .string($0) } ?? nil,
            ]
        ]
    }

    /// An OpenAI-style error envelope fitting `status`.
    static func defaultErrorEnvelope(status: Int) -> JSONValue {
        switch status {
        case 400: return errorEnvelope(message: "Invalid request (scripted).", type: "invalid_request_error", code: nil)
        case 401:
            return errorEnvelope(message: "Incorrect API key provided (scripted).", type: "invalid_request_error", code: "invalid_api_key")
        case 403: return errorEnvelope(message: "Forbidden (scripted).", type: "invalid_request_error", code: "unsupported_country_region_territory")
        case 404: return errorEnvelope(message: "The model does not exist (scripted).", type: "invalid_request_error", code: "model_not_found")
        case 429: return errorEnvelope(message: "Rate limit reached (scripted).", type: "requests", code: "rate_limit_exceeded")
        case 503: return errorEnvelope(message: "The server is overloaded (scripted).", type: "server_error", code: "server_is_overloaded")
        case 500...599:
            return errorEnvelope(
                message: "The server had an error while processing your request (scripted).", type: "server_error", code: "server_error")
        default: return errorEnvelope(message: "HTTP \(status) (scripted).", type: "error", code: nil)
        }
    }
}
