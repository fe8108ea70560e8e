import AgentsAPI
public import AsyncHTTPClient
public import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// A `ModelClient` for the OpenAI Responses API (`POST {base}/responses`, streamed), and for any
/// server that speaks it.
///
/// ## Retries
/// A request is retried (up to `retry.maxRetries` times, with exponential backoff and jitter) when
/// it fails before the response stream starts: on 408, 409, 429 (except `insufficient_quota`),
/// 500, 502, 503, 504, and on connection failures and timeouts before the response head. A
/// `retry-after-ms` or `Retry-After` header sets the delay; one longer than `retry.maxRetryAfter`
/// is not waited for and the call fails at once. `x-should-retry: true|false` overrides the status
/// rule, as the official SDKs do. Once a 2xx response has started, nothing is retried: the caller
/// never sees duplicated partial output.
///
/// ## Streaming and cancellation
/// ``stream(_:)`` returns once the response head has arrived. The body is then read by one task
/// owned by the returned stream: it parses server-sent events straight from the body's byte
/// buffers, decodes each payload with `JSONParser` (of a lifecycle event's `response`, only the
/// members the decoder reads are built) and yields the events. The stream's
/// `onTermination` cancels that task, so cancelling the consuming task, or dropping the stream
/// before it ends, cancels the HTTP request and releases the connection at once. (Reading the
/// body in the consumer's own iterator would avoid the task, but then nothing could enforce the
/// read timeout independently of the consumer.) The event buffer is unbounded: a response is
/// finite, and a slow consumer must not stall the provider's connection. As with any
/// `AsyncThrowingStream`, a cancelled consumer's iteration simply ends (`next()` returns nil)
/// without a terminal event: a response is complete only once `.completed` or `.incomplete`
/// has been received.
///
/// While streaming, a watchdog enforces `readTimeout` as the longest silence between two body
/// chunks (`ModelError.Kind.timeout`). After the terminal event the stream finishes immediately
/// and the task reads the (normally empty) rest of the body, so that the connection goes back
/// to the pool for the next call.
///
/// The API key never appears in errors or logs; logging is at `debug`/`trace` only.
public final class OpenAIResponsesClient: ModelClient {
    public let configuration: ModelProviderConfiguration
    public let httpClient: HTTPClient
    private let ownsHTTPClient: Bool
    private let logger: Logger
    private let url: String
    private let host: String
    private let headers: HTTPHeaders
    private let redactor: Redactor

    /// Uses `httpClient`, which the caller owns and shuts down. Its own timeouts also apply; see
    /// ``httpClientConfiguration(for:)`` for settings that match `configuration`.
    public convenience init(
        configuration: ModelProviderConfiguration,
        httpClient: HTTPClient,
        logger: Logger = Logger(label: "cma.model-providers")
    ) {
        self.init(configuration: configuration, httpClient: httpClient, ownsHTTPClient: false, logger: logger)
    }

    /// Uses `HTTPClient.shared`. Note its own timeouts (connect and read, 90 s each) also apply,
    /// whichever is shorter wins; use ``dedicated(configuration:logger:)`` or inject a client
    /// for long silent reasoning phases.
    public convenience init(configuration: ModelProviderConfiguration, logger: Logger = Logger(label: "cma.model-providers")) {
        self.init(configuration: configuration, httpClient: .shared, ownsHTTPClient: false, logger: logger)
    }

    /// A client with its own `HTTPClient`, configured by ``httpClientConfiguration(for:)``.
    /// Call ``shutdown()`` when done with it.
    public static func dedicated(
        configuration: ModelProviderConfiguration,
        logger: Logger = Logger(label: "cma.model-providers")
    ) -> OpenAIResponsesClient {
        let httpClient = HTTPClient(
            eventLoopGroup: HTTPClient.defaultEventLoopGroup,
            configuration: httpClientConfiguration(for: configuration))
        return OpenAIResponsesClient(configuration: configuration, httpClient: httpClient, ownsHTTPClient: true, logger: logger)
    }

    /// HTTP client settings that match `configuration`: its connect and read timeouts, no
    /// internal retry of failed connection attempts (this client retries with its own policy),
    /// no decompression, no distributed-tracing spans. Connections use TCP_NODELAY (NIO's
    /// `ClientBootstrap` default).
    ///
    /// AsyncHTTPClient otherwise takes the process's bootstrapped tracer, which is a no-op one
    /// unless something bootstrapped a real one (the runtime never does), and still describes
    /// every request for it (the URL parsed a second time with Foundation, the span's
    /// attributes built): ~20 µs before each model request leaves.
    public static func httpClientConfiguration(for configuration: ModelProviderConfiguration) -> HTTPClient.Configuration {
        var pool = HTTPClient.Configuration.ConnectionPool()
        pool.retryConnectionEstablishment = false
        var settings = HTTPClient.Configuration(
            timeout: .init(connect: TimeAmount(configuration.connectTimeout), read: TimeAmount(configuration.readTimeout)),
            connectionPool: pool,
            decompression: .disabled)
        settings.tracing.tracer = nil
        return settings
    }

    private init(configuration: ModelProviderConfiguration, httpClient: HTTPClient, ownsHTTPClient: Bool, logger: Logger) {
        self.configuration = configuration
        self.httpClient = httpClient
        self.ownsHTTPClient = ownsHTTPClient
        self.logger = logger
        self.url = configuration.responsesURL
        self.host = Self.hostDescription(configuration.baseURL)
        self.redactor = Redactor(secret: configuration.apiKey)

        var headers = HTTPHeaders()
        if let key = configuration.apiKey, !key.isEmpty {
            headers.add(name: "Authorization", value: "Bearer \(key)")
        }
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Accept", value: "text/event-stream")
        if let organization = configuration.organization { headers.add(name: "OpenAI-Organization", value: organization) }
        if let project = configuration.project { headers.add(name: "OpenAI-Project", value: project) }
        let reserved: Set<String> = ["authorization", "content-type", "accept", "content-length", "transfer-encoding", "host"]
        for (name, value) in configuration.extraHeaders.sorted(by: { $0.key < $1.key })
        where !reserved.contains(name.lowercased()) {
            headers.replaceOrAdd(name: name, value: value)
        }
        self.headers = headers
    }

    /// Shuts down the HTTP client if this instance created it (``dedicated(configuration:logger:)``);
    /// does nothing otherwise.
    public func shutdown() async throws {
        if ownsHTTPClient { try await httpClient.shutdown() }
    }

    public func stream(_ request: ModelRequest) async throws -> ModelResponseStream {
        var http = HTTPClientRequest(url: url)
        http.method = .POST
        http.headers = headers
        http.body = .bytes(ByteBuffer(bytes: request.encodedBody()))
        StepTrace.mark("model request encoded")

        let policy = configuration.retry
        let headTimeout = TimeAmount(configuration.connectTimeout + configuration.readTimeout)
        var retry = 0
        while true {
            let failure: ModelError
            var retryable: Bool
            var retryAfter: Duration?
            do {
                logger.debug(
                    "model request", metadata: ["model": "\(request.model)", "attempt": "\(retry + 1)", "host": "\(host)"])
                // No logger is passed down: AsyncHTTPClient's own request logging is not ours to vet.
                let response = try await httpClient.execute(http, deadline: .now() + headTimeout)
                let status = Int(response.status.code)
                if (200..<300).contains(status) {
                    return startStream(response.body, model: request.model)
                }
                let body = await readErrorBody(response.body)
                failure = redactor(ErrorClassification.fromHTTP(status: status, body: body))
                retryable = ErrorClassification.isRetryable(status: status, code: failure.code)
                switch response.headers.first(name: "x-should-retry")?.lowercased() {
                case "true": retryable = true
                case "false": retryable = false
                default: break
                }
                retryAfter = RetryAfter.parse(
                    retryAfterMs: response.headers.first(name: "retry-after-ms"),
                    retryAfter: response.headers.first(name: "retry-after"))
            } catch {
                if Task.isCancelled { throw CancellationError() }
                failure = redactor(ErrorClassification.fromTransport(error, host: host, phase: "before the response started"))
                retryable = true
            }

            guard retryable, retry < policy.maxRetries else {
                logger.debug("model request failed", metadata: ["error": "\(failure)", "attempts": "\(retry + 1)"])
                throw failure
            }
            let delay: Duration
            if let retryAfter {
                guard retryAfter <= policy.maxRetryAfter else {
                    logger.debug(
                        "model request failed; Retry-After exceeds the limit",
                        metadata: ["error": "\(failure)", "retry_after_s": "\(retryAfter.seconds)"])
                    throw failure
                }
                delay = retryAfter
            } else {
                delay = policy.backoff(forRetry: retry)
            }
            logger.debug("retrying model request", metadata: ["error": "\(failure)", "delay_s": "\(delay.seconds)"])
            try await Task.sleep(for: delay)
            retry += 1
        }
    }

    private func startStream(_ body: HTTPClientResponse.Body, model: String) -> ModelResponseStream {
        let (stream, continuation) = AsyncThrowingStream<ModelStreamEvent, any Error>.makeStream()
        let pump = StreamPump(
            body: body, continuation: continuation, readTimeout: configuration.readTimeout, host: host,
            redactor: redactor, logger: logger)
        let task = Task { await pump.run() }
        continuation.onTermination = { termination in
            if case .cancelled = termination { task.cancel() }
        }
        return ModelResponseStream(stream)
    }

    /// At most 64 KiB of an error response, waiting no longer than the read timeout.
    private func readErrorBody(_ body: HTTPClientResponse.Body) async -> [UInt8] {
        let limit = 64 * 1024
        let timeout = configuration.readTimeout
        let result = try? await withThrowingTaskGroup(of: [UInt8]?.self) { group in
            group.addTask {
                var out: [UInt8] = []
                do {
                    for try await chunk in body {
                        out.append(contentsOf: chunk.readableBytesView.prefix(limit - out.count))
                        if out.count >= limit { break }
                    }
                } catch {
                    // Keep what arrived; the status alone still classifies the failure.
                }
                return out
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
        return (result ?? nil) ?? []
    }

    private static func hostDescription(_ baseURL: String) -> String {
        var rest = Substring(baseURL)
        if let scheme = rest.firstRange(of: "://") { rest = rest[scheme.upperBound...] }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }  // drop userinfo
        return rest.isEmpty ? "the model provider" : String(rest)
    }
}

/// Reads one streamed response body and feeds the events into the stream's continuation.
private struct StreamPump: Sendable {
    let body: HTTPClientResponse.Body
    let continuation: AsyncThrowingStream<ModelStreamEvent, any Error>.Continuation
    let readTimeout: Duration
    let host: String
    let redactor: Redactor
    let logger: Logger

    func run() async {
        let monitor = IdleMonitor(timeout: readTimeout, host: host)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await self.read(monitor: monitor) }
                group.addTask { try await monitor.watch() }
                try await group.next()
                group.cancelAll()
            }
        } catch {
            // After a normal finish this is a no-op (e.g. an error while draining).
            continuation.finish(throwing: classify(error))
        }
    }

    private func read(monitor: IdleMonitor) async throws {
        var iterator = body.makeAsyncIterator()
        var parser = ServerSentEventParser()
        var decoder = ResponsesEventDecoder()
        var done = false
        let continuation = self.continuation
        let logger = self.logger
        while !done, let chunk = try await iterator.next() {
            monitor.touch()
            try parser.feed(chunk) { payload in
                guard !done else { return }
                if payload.elementsEqual(Self.doneMarker) {
                    done = true
                    guard decoder.isFinished else {
                        throw ModelError(kind: .protocolViolation, message: "the stream ended ([DONE]) before the response completed")
                    }
                    return
                }
                let json: JSONValue
                do {
                    json = try JSONParser.parse(payload, keepingOnly: ResponsesEventDecoder.responseMembers, under: "response")
                } catch {
                    throw ModelError(kind: .protocolViolation, message: "the model provider sent an event that is not valid JSON: \(error)")
                }
                let event = try decoder.decode(json)
                logger.trace("model event", metadata: ["type": "\(json["type"]?.stringValue ?? "")"])
                continuation.yield(event)
                if decoder.isFinished { done = true }
            }
        }
        guard done else {
            if Task.isCancelled { throw CancellationError() }
            throw ModelError(kind: .connection, message: "the stream from \(host) ended before the response completed")
        }
        continuation.finish()

        // Read the rest (normally nothing but the end of the body) so the connection is reused.
        monitor.enterDrain()
        var drained = 0
        while drained < 1 << 20, let chunk = try await iterator.next() {
            monitor.touch()
            drained += chunk.readableBytes
        }
    }

    private static let doneMarker: [UInt8] = Array("[DONE]".utf8)

    private func classify(_ error: any Error) -> any Error {
        switch error {
        case let error as ModelError:
            return redactor(error)
        case is CancellationError:
            return error
        default:
            if Task.isCancelled { return CancellationError() }
            return redactor(ErrorClassification.fromTransport(error, host: host, phase: "while streaming the response"))
        }
    }
}

/// Tracks the time of the last body chunk and fails when the silence exceeds the timeout.
private final class IdleMonitor: Sendable {
    private let lastActivity: Atomic<UInt64>
    private let timeoutNanos: Atomic<UInt64>
    private let host: String

    init(timeout: Duration, host: String) {
        self.lastActivity = Atomic(Self.now())
        self.timeoutNanos = Atomic(UInt64(clamping: max(0, timeout.nanoseconds)))
        self.host = host
    }

    private static func now() -> UInt64 { NIODeadline.now().uptimeNanoseconds }

    func touch() { lastActivity.store(Self.now(), ordering: .relaxed) }

    /// After the terminal event, wait at most 5 s between chunks for the end of the body.
    func enterDrain() {
        timeoutNanos.store(min(timeoutNanos.load(ordering: .relaxed), 5_000_000_000), ordering: .relaxed)
    }

    func watch() async throws {
        while true {
            let timeout = timeoutNanos.load(ordering: .relaxed)
            let deadline = lastActivity.load(ordering: .relaxed) &+ timeout
            let now = Self.now()
            if now >= deadline {
                throw ModelError(
                    kind: .timeout,
                    message: "no data from \(host) for \(Double(timeout) / 1e9) s while streaming the response (read timeout)")
            }
            try await Task.sleep(for: .nanoseconds(Int64(clamping: deadline - now)))
        }
    }
}

/// Removes the API key from error messages, in case a provider or proxy echoes it.
struct Redactor: Sendable {
    let secret: String?

    func callAsFunction(_ error: ModelError) -> ModelError {
        guard let secret, secret.count >= 4, error.message.contains(secret) else { return error }
        var error = error
        error.message = error.message.replacing(secret, with: "<redacted>")
        return error
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        self = .nanoseconds(duration.nanoseconds)
    }
}

extension Duration {
    /// Whole nanoseconds, saturating.
    var nanoseconds: Int64 {
        let c = components
        let (product, overflow) = c.seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return c.seconds < 0 ? .min : .max }
        return product.addingReportingOverflow(c.attoseconds / 1_000_000_000).partialValue
    }
}
