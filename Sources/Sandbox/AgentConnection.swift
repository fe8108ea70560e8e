import CMAJSON
import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// An error reported by the sandbox agent (`{"ev":"error","code":…}`) or by the connection.
public struct SandboxError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    static let closed = SandboxError(code: "sandbox_closed", message: "The sandbox is not running.")
}

/// What a running command reports.
public enum ExecEvent: Sendable, Equatable {
    case output([UInt8])
    case exit(ExecResult)
}

public struct ExecResult: Sendable, Equatable {
    /// Nil when the process was killed by a signal.
    public var exitCode: Int?
    public var signal: Int?
    public var timedOut: Bool
    public var durationMs: Int64
    /// The same, in microseconds: the command's own time, as the agent timed it (from just
    /// before the spawn to reaping the exit status).
    public var durationMicros: Int64
    public var outputBytes: Int64
    public var logError: String?

    public init(
        exitCode: Int?, signal: Int?, timedOut: Bool, durationMs: Int64, durationMicros: Int64? = nil, outputBytes: Int64, logError: String? = nil
    ) {
        self.exitCode = exitCode
        self.signal = signal
        self.timedOut = timedOut
        self.durationMs = durationMs
        self.durationMicros = durationMicros ?? durationMs * 1000
        self.outputBytes = outputBytes
        self.logError = logError
    }
}

/// The runtime's end of the agent protocol (docs/SANDBOX_PROTOCOL.md) over the agent's stdio
/// pipes, driven by a NIO pipe channel: no thread per sandbox, no blocking reads.
final class AgentConnection: Sendable {
    private enum Waiter: Sendable {
        case reply(CheckedContinuation<JSONValue, any Error>)
        case exec(AsyncThrowingStream<ExecEvent, any Error>.Continuation)
        /// A request whose reply nobody waits for (``notify(_:_:)``).
        case ignored
    }

    private struct State {
        var nextID: Int64 = 1
        var waiters: [Int64: Waiter] = [:]
        var ready: CheckedContinuation<Void, any Error>?
        var isReady = false
        var closed = false
    }

    private let state = Mutex(State())
    private let channelBox = Mutex<(any Channel)?>(nil)

    private init() {}

    private var channel: (any Channel)? { channelBox.withLock { $0 } }

    /// Connects to an agent through its stdout (read) and stdin (write) descriptors, taking
    /// ownership of both, and waits for its `ready` line.
    static func connect(stdoutFD: Int32, stdinFD: Int32, readyTimeout: Duration) async throws -> AgentConnection {
        // The connection exists before the channel, so no frame (the ready line) can arrive
        // before there is someone to hand it to.
        let connection = AgentConnection()
        let handler = FrameHandler(connection: connection)
        let channel = try await NIOPipeBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler) }
            }
            .takingOwnershipOfDescriptors(input: stdoutFD, output: stdinFD)
            .get()
        connection.channelBox.withLock { $0 = channel }
        do {
            try await connection.waitUntilReady(timeout: readyTimeout)
        } catch {
            connection.close()
            throw error
        }
        return connection
    }

    private func waitUntilReady(timeout: Duration) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                    let resume: Result<Void, any Error>? = self.state.withLock { s in
                        if s.isReady { return .success(()) }
                        if s.closed { return .failure(SandboxError(code: "sandbox_failed", message: "The sandbox exited before it was ready.")) }
                        s.ready = c
                        return nil
                    }
                    if let resume { c.resume(with: resume) }
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw SandboxError(code: "sandbox_failed", message: "The sandbox did not start within \(timeout).")
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    var isClosed: Bool { state.withLock { $0.closed } }

    // MARK: Requests

    /// Assigns the next request ID to `waiter`; nil once the connection is closed.
    private func register(_ waiter: Waiter) -> Int64? {
        state.withLock { s in
            guard !s.closed else { return nil }
            let id = s.nextID
            s.nextID += 1
            s.waiters[id] = waiter
            return id
        }
    }

    /// Sends a request and waits for its final reply. An `error` reply throws `SandboxError`.
    func request(_ op: String, _ fields: JSONObject = [:]) async throws -> JSONValue {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<JSONValue, any Error>) in
            guard let id = register(.reply(c)) else {
                c.resume(throwing: SandboxError.closed)
                return
            }
            send(op: op, id: id, fields: fields)
        }
    }

    /// Starts a command; its output and exit arrive on the returned stream. Returns the
    /// request ID (for `signal`).
    func exec(_ fields: JSONObject) -> (id: Int64, events: AsyncThrowingStream<ExecEvent, any Error>) {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: ExecEvent.self)
        guard let id = register(.exec(continuation)) else {
            continuation.finish(throwing: SandboxError.closed)
            return (0, stream)
        }
        send(op: "exec", id: id, fields: fields)
        return (id, stream)
    }

    /// Sends a request without waiting for its reply (what it does shows elsewhere, e.g. in an
    /// exec's events).
    func notify(_ op: String, _ fields: JSONObject) {
        guard let id = register(.ignored) else { return }
        send(op: op, id: id, fields: fields)
    }

    private func send(op: String, id: Int64, fields: JSONObject) {
        var object: JSONObject = ["op": .string(op), "id": .int(id)]
        for (k, v) in fields { object[k] = v }
        var bytes = JSONWriter.bytes(.object(object))
        bytes.append(UInt8(ascii: "\n"))
        guard let channel else {
            failAll(SandboxError.closed)
            return
        }
        let buffer = channel.allocator.buffer(bytes: bytes)
        let written = channel.writeAndFlush(buffer)
        if StepTrace.enabled, op == "start" { written.whenSuccess { StepTrace.mark("command start written to the agent") } }
        written.whenFailure { [weak self] error in
            self?.failAll(SandboxError(code: "sandbox_closed", message: "Writing to the sandbox failed: \(error)"))
        }
    }

    /// Closes the agent's stdin (it then stops everything and exits).
    func close() {
        channel?.close(promise: nil)
    }

    // MARK: Frames

    fileprivate func handle(_ frame: JSONValue) {
        guard case .object(let o) = frame, let ev = o["ev"]?.stringValue else { return }
        if ev == "ready" {
            let c = state.withLock { s -> CheckedContinuation<Void, any Error>? in
                s.isReady = true
                let c = s.ready
                s.ready = nil
                return c
            }
            c?.resume()
            return
        }
        guard let id = o["id"]?.intValue else { return }
        switch ev {
        case "output":
            let waiter = state.withLock { $0.waiters[id] }
            if case .exec(let continuation) = waiter, let data = o["data"]?.stringValue, let bytes = Data(base64Encoded: data) {
                continuation.yield(.output(Array(bytes)))
            }
        case "exit":
            StepTrace.mark("command exit read from the agent")
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            if case .exec(let continuation) = waiter {
                continuation.yield(.exit(Self.result(o)))
                continuation.finish()
            } else if case .reply(let c) = waiter {
                c.resume(returning: frame)
            }
        case "error":
            let error = SandboxError(code: o["code"]?.stringValue ?? "error", message: o["message"]?.stringValue ?? "")
            switch state.withLock({ $0.waiters.removeValue(forKey: id) }) {
            case .exec(let continuation): continuation.finish(throwing: error)
            case .reply(let c): c.resume(throwing: error)
            case .ignored, nil: break
            }
        default:
            switch state.withLock({ $0.waiters.removeValue(forKey: id) }) {
            case .reply(let c): c.resume(returning: frame)
            case .exec(let continuation): continuation.finish(throwing: SandboxError(code: "protocol", message: "unexpected \(ev) for an exec"))
            case .ignored, nil: break
            }
        }
    }

    private static func result(_ o: JSONObject) -> ExecResult {
        ExecResult(
            exitCode: o["exit_code"]?.intValue.map { Int($0) },
            signal: o["signal"]?.intValue.map { Int($0) },
            timedOut: o["timed_out"]?.boolValue ?? false,
            durationMs: o["duration_ms"]?.intValue ?? 0,
            durationMicros: o["duration_us"]?.intValue,
            outputBytes: o["output_bytes"]?.intValue ?? 0,
            logError: o["log_error"]?.stringValue)
    }

    fileprivate func failAll(_ error: SandboxError) {
        let (waiters, ready) = state.withLock { s -> ([Waiter], CheckedContinuation<Void, any Error>?) in
            s.closed = true
            let w = Array(s.waiters.values)
            s.waiters = [:]
            let r = s.ready
            s.ready = nil
            return (w, r)
        }
        ready?.resume(throwing: SandboxError(code: "sandbox_failed", message: "The sandbox exited before it was ready."))
        for w in waiters {
            switch w {
            case .reply(let c): c.resume(throwing: error)
            case .exec(let continuation): continuation.finish(throwing: error)
            case .ignored: break
            }
        }
    }
}

/// Splits the agent's stdout into lines and hands each parsed frame to the connection.
private final class FrameHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    private let connection: AgentConnection
    private let pending = Mutex<[UInt8]>([])

    init(connection: AgentConnection) {
        self.connection = connection
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        let lines: [[UInt8]] = pending.withLock { pending in
            pending.append(contentsOf: buffer.readableBytesView)
            var out: [[UInt8]] = []
            var start = 0
            while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                out.append(Array(pending[start..<newline]))
                start = newline + 1
            }
            pending.removeFirst(start)
            return out
        }
        for line in lines where !line.isEmpty {
            if let frame = try? JSONParser.parse(line, maxDepth: 16) {
                connection.handle(frame)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection.failAll(SandboxError.closed)
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            connection.failAll(SandboxError.closed)
            context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
