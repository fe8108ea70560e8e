public import Logging
import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The only way out of a sandbox: an HTTP/1.1 forward proxy on a Unix domain socket, bind-mounted
/// into the sandbox, where the agent relays `127.0.0.1:3128` to it (see docs/SANDBOX_PROTOCOL.md).
///
/// It serves `CONNECT host:port` (then a raw byte tunnel) and absolute-form plain HTTP requests
/// (`GET http://host/path HTTP/1.1`, forwarded in origin-form with `Connection: close`, one request
/// per connection). For every request it checks the policy on the host name, resolves the name off
/// the event loop, refuses the request if any resolved address is forbidden
/// (`EgressPolicy.isForbidden(address:)`, which defeats DNS answers that mix public and internal
/// addresses), and connects to a vetted address itself (the name is never resolved again).
///
/// Answers: `403` for a refusal (`blocked by network policy: <host>`, `destination address not
/// allowed`), `400` for an unparseable request, `502` when the name does not resolve or no
/// address accepts the connection (10 s connect timeout), `503` when the proxy already has its
/// maximum number of connections. Tunnels are closed after 10 minutes without traffic.
///
/// Only the host, the decision and byte counts are logged: never request lines' paths, headers or
/// bodies (they may carry credentials).
public final class EgressProxy: Sendable {
    /// What programs in the sandbox use as `HTTP_PROXY` and `HTTPS_PROXY`.
    public static let sandboxProxyURL = "http://127.0.0.1:3128"
    /// The proxy variables for a sandboxed command's environment.
    public static let sandboxEnvironment: [String: String] = [
        "HTTP_PROXY": sandboxProxyURL, "HTTPS_PROXY": sandboxProxyURL, "http_proxy": sandboxProxyURL, "https_proxy": sandboxProxyURL,
        "NO_PROXY": "localhost,127.0.0.1,::1", "no_proxy": "localhost,127.0.0.1,::1",
    ]

    public static let maxConnections = 256
    public static let idleTimeout: Duration = .seconds(600)
    public static let connectTimeout: Duration = .seconds(10)

    public let socketPath: String
    public var policy: EgressPolicy { core.policy }
    private let serverChannel: any Channel
    private let core: ProxyCore

    private init(socketPath: String, serverChannel: any Channel, core: ProxyCore) {
        self.socketPath = socketPath
        self.serverChannel = serverChannel
        self.core = core
    }

    /// Starts a proxy listening on `socketPath` (replacing a stale socket there). The socket is
    /// made `0600` and, when `socketOwner` is given, owned by that user and group (the sandbox's,
    /// when the server runs as root), so that only they can connect.
    public static func start(
        socketPath: String, policy: EgressPolicy, socketOwner: (uid: UInt32, gid: UInt32)?, logger: Logger
    ) async throws -> EgressProxy {
        try await start(socketPath: socketPath, policy: policy, socketOwner: socketOwner, logger: logger, isForbidden: EgressPolicy.isForbidden(address:))
    }

    /// `start`, with the address check and the resolver replaceable: for tests only (a positive
    /// path needs a server on loopback). Production always uses the strict check.
    static func start(
        socketPath: String, policy: EgressPolicy, socketOwner: (uid: UInt32, gid: UInt32)?, logger: Logger,
        isForbidden: @escaping @Sendable (EgressPolicy.Address) -> Bool,
        resolver: (@Sendable (String) async throws -> [EgressPolicy.Address])? = nil,
        maxConnections: Int = EgressProxy.maxConnections, idleTimeout: Duration = EgressProxy.idleTimeout,
        connectTimeout: Duration = EgressProxy.connectTimeout
    ) async throws -> EgressProxy {
        let core = ProxyCore(
            policy: policy, logger: logger, isForbidden: isForbidden,
            resolver: resolver ?? { host in try await EgressResolver.resolve(host, timeout: .seconds(10)) },
            maxConnections: maxConnections, idleTimeout: TimeAmount(idleTimeout), connectTimeout: TimeAmount(connectTimeout))

        // sockaddr_un holds at most 107 bytes of path; a longer one is reached through its
        // directory's descriptor.
        if unlink(socketPath) != 0 && errno != ENOENT {
            throw SandboxError(code: "io", message: "cannot remove the old egress socket: \(String(cString: strerror(errno)))")
        }
        var bindPath = socketPath
        var directoryFD: Int32 = -1
        if socketPath.utf8.count > 100 {
            guard let slash = socketPath.lastIndex(of: "/") else { throw SandboxError(code: "io", message: "bad egress socket path") }
            let O_PATH: Int32 = 0x200000
            directoryFD = open(String(socketPath[..<slash]), O_PATH | O_DIRECTORY | O_CLOEXEC)
            guard directoryFD >= 0 else { throw SandboxError(code: "io", message: "cannot open the egress socket's directory") }
            bindPath = "/proc/self/fd/\(directoryFD)/" + socketPath[socketPath.index(after: slash)...]
        }
        defer { if directoryFD >= 0 { close(directoryFD) } }

        let channel = try await bootstrap(core)
            .bind(unixDomainSocketPath: bindPath)
            .get()
        let owned = socketOwner.map { chown(socketPath, $0.uid, $0.gid) == 0 } ?? true
        guard owned, chmod(socketPath, 0o600) == 0 else {
            try? await channel.close()
            unlink(socketPath)
            throw SandboxError(code: "io", message: "cannot set the egress socket's owner and mode: \(String(cString: strerror(errno)))")
        }
        logger.debug("egress proxy started", metadata: ["socket": "\(socketPath)"])
        return EgressProxy(socketPath: socketPath, serverChannel: channel, core: core)
    }

    /// A proxy for the runtime's own fetches (the web tool): on a TCP port of loopback, so that
    /// an ordinary HTTP client can use it, and requiring `Proxy-Authorization: authorization`
    /// (another local process cannot use it). The same address rules as the sandboxes' proxies;
    /// `allowPrivateAddressesForTests` lifts them, for tests that serve pages on loopback only.
    public static func startLoopback(
        policy: EgressPolicy, authorization: String, logger: Logger, allowPrivateAddressesForTests: Bool = false
    ) async throws -> (proxy: EgressProxy, port: Int) {
        let strict: @Sendable (EgressPolicy.Address) -> Bool = { EgressPolicy.isForbidden(address: $0) }
        let lenient: @Sendable (EgressPolicy.Address) -> Bool = { _ in false }
        let resolver: @Sendable (String) async throws -> [EgressPolicy.Address] = { host in try await EgressResolver.resolve(host, timeout: .seconds(10)) }
        let core = ProxyCore(
            policy: policy, logger: logger, isForbidden: allowPrivateAddressesForTests ? lenient : strict,
            resolver: resolver,
            maxConnections: EgressProxy.maxConnections, idleTimeout: TimeAmount(EgressProxy.idleTimeout), connectTimeout: TimeAmount(EgressProxy.connectTimeout),
            requiredAuthorization: authorization)
        let channel = try await bootstrap(core)
            .bind(host: "127.0.0.1", port: 0)
            .get()
        guard let port = channel.localAddress?.port else {
            try? await channel.close()
            throw SandboxError(code: "io", message: "the web proxy has no port")
        }
        return (EgressProxy(socketPath: "", serverChannel: channel, core: core), port)
    }

    /// Accepts clients (up to the core's limit) and serves each with a `ProxyRequestHandler`.
    private static func bootstrap(_ core: ProxyCore) -> ServerBootstrap {
        ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                let admitted = core.admit(channel)
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(IdleStateHandler(allTimeout: core.idleTimeout))
                    try sync.addHandler(ProxyRequestHandler(core: core, admitted: admitted))
                }
            }
    }

    /// The number of client connections being served.
    var connectionCount: Int { core.connectionCount }

    /// Stops accepting, closes every connection and tunnel, and removes the socket.
    public func stop() async {
        let channels = core.stop()
        try? await serverChannel.close()
        for channel in channels { try? await channel.close() }
        if !socketPath.isEmpty { unlink(socketPath) }
    }
}

/// What the proxy's connections share.
final class ProxyCore: Sendable {
    let policy: EgressPolicy
    /// The `Proxy-Authorization` every request must carry (a proxy on a TCP port, which any
    /// local process could reach); nil for the sandboxes' Unix-socket proxies.
    let requiredAuthorization: String?
    let logger: Logger
    let isForbidden: @Sendable (EgressPolicy.Address) -> Bool
    let resolver: @Sendable (String) async throws -> [EgressPolicy.Address]
    let maxConnections: Int
    let idleTimeout: TimeAmount
    let connectTimeout: TimeAmount

    private struct Channels {
        var clients: [ObjectIdentifier: any Channel] = [:]
        var upstreams: [ObjectIdentifier: any Channel] = [:]
        var stopped = false
    }
    private let channels = Mutex(Channels())

    init(
        policy: EgressPolicy, logger: Logger, isForbidden: @escaping @Sendable (EgressPolicy.Address) -> Bool,
        resolver: @escaping @Sendable (String) async throws -> [EgressPolicy.Address], maxConnections: Int, idleTimeout: TimeAmount,
        connectTimeout: TimeAmount, requiredAuthorization: String? = nil
    ) {
        self.requiredAuthorization = requiredAuthorization
        self.policy = policy
        self.logger = logger
        self.isForbidden = isForbidden
        self.resolver = resolver
        self.maxConnections = maxConnections
        self.idleTimeout = idleTimeout
        self.connectTimeout = connectTimeout
    }

    var connectionCount: Int { channels.withLock { $0.clients.count } }

    /// Registers a client connection; false when the proxy is full or stopped.
    func admit(_ channel: any Channel) -> Bool {
        let id = ObjectIdentifier(channel)
        let admitted = channels.withLock { c in
            guard !c.stopped, c.clients.count < maxConnections else { return false }
            c.clients[id] = channel
            return true
        }
        if admitted {
            channel.closeFuture.whenComplete { _ in _ = self.channels.withLock { $0.clients.removeValue(forKey: id) } }
        }
        return admitted
    }

    /// Registers an upstream connection; false when the proxy has stopped.
    func track(upstream channel: any Channel) -> Bool {
        let id = ObjectIdentifier(channel)
        let tracked = channels.withLock { c in
            guard !c.stopped else { return false }
            c.upstreams[id] = channel
            return true
        }
        if tracked {
            channel.closeFuture.whenComplete { _ in _ = self.channels.withLock { $0.upstreams.removeValue(forKey: id) } }
        }
        return tracked
    }

    func stop() -> [any Channel] {
        channels.withLock { c in
            c.stopped = true
            return Array(c.clients.values) + Array(c.upstreams.values)
        }
    }
}

// MARK: Requests

/// A parsed proxy request.
struct ProxyRequest: Equatable {
    enum Kind: Equatable {
        case connect
        /// Plain HTTP: the head to send to the origin.
        case forward(head: [UInt8])
    }

    var kind: Kind
    /// As requested (IPv6 without brackets), validated by `EgressPolicy.normalizedHost`.
    var host: String
    var port: Int
    /// The `Proxy-Authorization` value, if any (checked by proxies that require one).
    var proxyAuthorization: String? = nil

    static let maxHeadBytes = 16 * 1024

    enum ParseError: Error, Equatable {
        case malformed(String)
        case invalidHost
    }

    /// Parses a request head (everything up to and including the empty line).
    static func parse(_ head: [UInt8]) throws(ParseError) -> ProxyRequest {
        guard head.count >= 4, head.suffix(4) == [13, 10, 13, 10] else { throw .malformed("incomplete request head") }
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        var i = 0
        while i + 1 < head.count {
            if head[i] == 13 && head[i + 1] == 10 {
                lines.append(head[start..<i])
                start = i + 2
                i += 2
            } else {
                i += 1
            }
        }
        // The head ends with an empty line.
        guard lines.count >= 2, lines.last?.isEmpty == true else { throw .malformed("bad request head") }
        lines.removeLast()
        for line in lines where line.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) {
            throw .malformed("bare CR, LF or NUL in the request head")
        }
        let requestLine = lines.removeFirst()
        let parts = requestLine.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .malformed("bad request line") }
        let method = String(decoding: parts[0], as: UTF8.self)
        let target = String(decoding: parts[1], as: UTF8.self)
        let version = String(decoding: parts[2], as: UTF8.self)
        guard !method.isEmpty, parts[0].allSatisfy(isTokenByte) else { throw .malformed("bad method") }
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else { throw .malformed("unsupported HTTP version") }
        guard !target.isEmpty, parts[1].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { throw .malformed("bad request target") }

        var headers: [(name: String, line: ArraySlice<UInt8>)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex else { throw .malformed("bad header line") }
            let name = line[line.startIndex..<colon]
            guard name.allSatisfy(isTokenByte) else { throw .malformed("bad header name") }
            guard line[line.index(after: colon)...].allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else { throw .malformed("bad header value") }
            headers.append((String(decoding: name, as: UTF8.self).lowercased(), line))
        }

        let proxyAuthorization = headers.first { $0.name == "proxy-authorization" }.map {
            String(decoding: $0.line.drop(while: { $0 != UInt8(ascii: ":") }).dropFirst(), as: UTF8.self).trimmed(" \t")
        }
        if method == "CONNECT" {
            let (host, port) = try authority(target, defaultPort: nil)
            return ProxyRequest(kind: .connect, host: host, port: port, proxyAuthorization: proxyAuthorization)
        }
        let lower = target.lowercased()
        if lower.hasPrefix("https://") { throw .malformed("use CONNECT for https") }
        guard lower.hasPrefix("http://") else { throw .malformed("the request target must be an absolute http:// URL (or use CONNECT)") }
        let rest = target.dropFirst("http://".count)
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let authorityText = String(rest[..<authorityEnd])
        let (host, port) = try authority(authorityText, defaultPort: 80)
        var path = String(rest[authorityEnd...])
        if let hash = path.firstIndex(of: "#") { path = String(path[..<hash]) }
        if path.isEmpty || path.hasPrefix("?") { path = "/" + path }

        // Hop-by-hop headers (and those named in Connection) are not forwarded; Host is the
        // target's (RFC 9112 §3.2.2), and the origin is asked to close after one response.
        var dropped: Set<String> = ["host", "connection", "proxy-connection", "keep-alive", "proxy-authorization", "proxy-authenticate", "te", "trailer", "upgrade"]
        for header in headers where header.name == "connection" || header.name == "proxy-connection" {
            let value = String(decoding: header.line.drop(while: { $0 != UInt8(ascii: ":") }).dropFirst(), as: UTF8.self)
            for token in value.split(separator: ",") {
                let t = String(token).trimmed(" \t").lowercased()
                if !t.isEmpty && t != "content-length" && t != "transfer-encoding" { dropped.insert(t) }
            }
        }
        var out: [UInt8] = []
        out += Array("\(method) \(path) \(version)\r\n".utf8)
        let hostField = host.contains(":") ? "[\(host)]" : host
        out += Array("Host: \(hostField)\(port == 80 ? "" : ":\(port)")\r\n".utf8)
        for header in headers where !dropped.contains(header.name) {
            out += header.line
            out += [13, 10]
        }
        out += Array("Connection: close\r\n\r\n".utf8)
        return ProxyRequest(kind: .forward(head: out), host: host, port: port, proxyAuthorization: proxyAuthorization)
    }

    /// `host:port` (IPv6 in brackets). The host is normalized; the port must be 1–65535.
    static func authority(_ text: String, defaultPort: Int?) throws(ParseError) -> (String, Int) {
        if text.contains("@") { throw .malformed("credentials in the request target") }
        var hostPart = Substring(text)
        var portPart: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw .invalidHost }
            hostPart = text[...close]
            let after = text[text.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .invalidHost }
                portPart = after.dropFirst()
            }
        } else if let colon = text.lastIndex(of: ":") {
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        }
        guard let host = EgressPolicy.normalizedHost(String(hostPart)), !host.isEmpty else { throw .invalidHost }
        if host.contains(":") && !text.hasPrefix("[") { throw .invalidHost }
        let port: Int
        if let portPart {
            guard !portPart.isEmpty, portPart.count <= 5, portPart.allSatisfy({ $0.isASCII && $0.isNumber }), let p = Int(portPart), (1...65535).contains(p) else {
                throw .malformed("bad port")
            }
            port = p
        } else if let defaultPort {
            port = defaultPort
        } else {
            throw .malformed("CONNECT needs host:port")
        }
        return (host, port)
    }

    static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        default: return Array("!#$%&'*+-.^_`|~".utf8).contains(b)
        }
    }
}

extension String {
    fileprivate func trimmed(_ set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}

/// One client connection until its request is decided: reads the head, checks, resolves and
/// connects, then hands the connection to a pair of `GlueHandler`s (or answers and closes).
final class ProxyRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let headTimeout: TimeAmount = .seconds(30)
    /// Bytes accepted after the head while the request is being decided.
    static let maxEarlyBytes = 1 << 20

    private enum Phase {
        case head
        case deciding
        case done
    }

    private let core: ProxyCore
    private let admitted: Bool
    private var phase = Phase.head
    private var buffer = ByteBuffer()
    private var headTimer: Scheduled<Void>?
    private let started = NIODeadline.now()
    /// The client shut down its side (after sending its request) while it was being decided.
    private var inputClosed = false

    init(core: ProxyCore, admitted: Bool) {
        self.core = core
        self.admitted = admitted
    }

    func channelActive(context: ChannelHandlerContext) {
        if !admitted {
            core.logger.warning("egress proxy is at its connection limit", metadata: ["limit": "\(core.maxConnections)"])
            respond(context: context, 503, "Service Unavailable", "too many connections")
        } else {
            headTimer = context.eventLoop.assumeIsolated().scheduleTask(in: Self.headTimeout) { [weak self] in
                guard let self, self.phase == .head else { return }
                self.phase = .done
                context.close(promise: nil)
            }
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        headTimer?.cancel()
        phase = .done
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        switch phase {
        case .head:
            buffer.writeBuffer(&incoming)
            let view = buffer.readableBytesView
            let end = Self.headEnd(view)
            if (end ?? buffer.readableBytes) > ProxyRequest.maxHeadBytes {
                respond(context: context, 431, "Request Header Fields Too Large", "request head too large")
            } else if let end {
                let head = buffer.readBytes(length: end) ?? []
                phase = .deciding
                headTimer?.cancel()
                // Nothing more is read until the tunnel is up (bytes of this read burst are kept).
                try? context.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: false)
                decide(context: context, head: head)
            }
        case .deciding:
            buffer.writeBuffer(&incoming)
            if buffer.readableBytes > Self.maxEarlyBytes { phase = .done; context.close(promise: nil) }
        case .done:
            break
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
            return
        }
        if case ChannelEvent.inputClosed = event {
            switch phase {
            case .head:
                phase = .done
                context.close(promise: nil)
            case .deciding:
                inputClosed = true
            case .done:
                break
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// The length of the head (through CRLF CRLF), if complete.
    static func headEnd(_ bytes: ByteBufferView) -> Int? {
        guard bytes.count >= 4 else { return nil }
        var i = bytes.startIndex
        let last = bytes.endIndex - 3
        while i < last {
            if bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
                return i - bytes.startIndex + 4
            }
            i += 1
        }
        return nil
    }

    /// Answers with a short plain-text message and closes.
    private func respond(context: ChannelHandlerContext, _ code: Int, _ reason: String, _ message: String) {
        phase = .done
        headTimer?.cancel()
        let body = message + "\n"
        let text = "HTTP/1.1 \(code) \(reason)\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: text))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    private func metadata(_ host: String, _ port: Int, _ decision: String) -> Logger.Metadata {
        ["host": "\(host)", "port": "\(port)", "decision": "\(decision)"]
    }

    private func decide(context: ChannelHandlerContext, head: [UInt8]) {
        let request: ProxyRequest
        do {
            request = try ProxyRequest.parse(head)
        } catch .invalidHost {
            core.logger.info("egress request refused", metadata: ["decision": "invalid host"])
            respond(context: context, 400, "Bad Request", "invalid host")
            return
        } catch {
            guard case .malformed(let why) = error else { return }
            core.logger.info("egress request refused", metadata: ["decision": "bad request"])
            respond(context: context, 400, "Bad Request", why)
            return
        }
        if let required = core.requiredAuthorization, request.proxyAuthorization != required {
            core.logger.info("egress request refused", metadata: ["decision": "proxy authorization missing or wrong"])
            respond(context: context, 407, "Proxy Authentication Required", "proxy authorization required")
            return
        }
        let host = request.host
        guard core.policy.permits(host: host) else {
            core.logger.info("egress request refused", metadata: metadata(host, request.port, "blocked by policy"))
            respond(context: context, 403, "Forbidden", "blocked by network policy: \(host)")
            return
        }
        let promise = context.eventLoop.makePromise(of: [EgressPolicy.Address].self)
        if let literal = EgressPolicy.Address(host) {
            promise.succeed([literal])
        } else {
            let resolver = core.resolver
            promise.completeWithTask { try await resolver(host) }
        }
        promise.futureResult.assumeIsolated().whenComplete { result in
            guard self.phase == .deciding, context.channel.isActive else { return }
            switch result {
            case .failure:
                self.core.logger.info("egress request failed", metadata: self.metadata(host, request.port, "cannot resolve"))
                self.respond(context: context, 502, "Bad Gateway", "cannot resolve \(host)")
            case .success(let addresses):
                if addresses.isEmpty {
                    self.core.logger.info("egress request failed", metadata: self.metadata(host, request.port, "cannot resolve"))
                    self.respond(context: context, 502, "Bad Gateway", "cannot resolve \(host)")
                } else if addresses.contains(where: self.core.isForbidden) {
                    self.core.logger.info("egress request refused", metadata: self.metadata(host, request.port, "forbidden address"))
                    self.respond(context: context, 403, "Forbidden", "destination address not allowed")
                } else {
                    self.connect(context: context, request: request, addresses: Array(addresses.prefix(4)), index: 0)
                }
            }
        }
    }

    private func connect(context: ChannelHandlerContext, request: ProxyRequest, addresses: [EgressPolicy.Address], index: Int) {
        let target: SocketAddress
        do {
            target = try SocketAddress(ipAddress: addresses[index].description, port: request.port)
        } catch {
            respond(context: context, 502, "Bad Gateway", "upstream connection failed")
            return
        }
        let idle = core.idleTimeout
        ClientBootstrap(group: context.eventLoop)
            .connectTimeout(core.connectTimeout)
            .channelOption(ChannelOptions.autoRead, value: false)
            .channelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(IdleStateHandler(allTimeout: idle)) }
            }
            .connect(to: target)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .failure(let error):
                    guard self.phase == .deciding, context.channel.isActive else { return }
                    if index + 1 < addresses.count {
                        self.connect(context: context, request: request, addresses: addresses, index: index + 1)
                    } else {
                        var timedOut = false
                        if case ChannelError.connectTimeout = error { timedOut = true }
                        self.core.logger.info(
                            "egress request failed", metadata: self.metadata(request.host, request.port, timedOut ? "connect timeout" : "connect failed"))
                        self.respond(context: context, 502, "Bad Gateway", timedOut ? "upstream connection timed out" : "upstream connection failed")
                    }
                case .success(let upstream):
                    guard self.phase == .deciding, context.channel.isActive, self.core.track(upstream: upstream) else {
                        upstream.close(promise: nil)
                        return
                    }
                    self.establish(context: context, request: request, upstream: upstream)
                }
            }
    }

    /// Joins the client and the upstream connection.
    private func establish(context: ChannelHandlerContext, request: ProxyRequest, upstream: any Channel) {
        phase = .done
        let early = buffer
        buffer = ByteBuffer()
        let tunnel = Tunnel(host: request.host, port: request.port, logger: core.logger, started: started)
        tunnel.bytesOut = early.readableBytes
        let (clientSide, upstreamSide) = GlueHandler.matchedPair(tunnel)
        do {
            try upstream.pipeline.syncOperations.addHandler(upstreamSide)
            try context.pipeline.syncOperations.addHandler(clientSide)
        } catch {
            upstream.close(promise: nil)
            context.close(promise: nil)
            return
        }
        core.logger.debug("egress tunnel opened", metadata: metadata(request.host, request.port, "allowed"))
        switch request.kind {
        case .connect:
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: "HTTP/1.1 200 Connection established\r\n\r\n")), promise: nil)
        case .forward(let head):
            upstream.write(upstream.allocator.buffer(bytes: head), promise: nil)
        }
        if early.readableBytes > 0 { upstream.write(early, promise: nil) }
        upstream.flush()
        if inputClosed { clientSide.inputClosedBeforeJoining() }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        // Reading resumes on both sides (the glue handlers apply backpressure from here on).
        try? upstream.syncOptions?.setOption(ChannelOptions.autoRead, value: true)
        try? context.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: true)
    }
}

@available(*, unavailable)
extension ProxyRequestHandler: Sendable {}

/// Byte counts and closing of one tunnel (both sides run on the same event loop).
final class Tunnel {
    let host: String
    let port: Int
    let logger: Logger
    let started: NIODeadline
    var bytesOut = 0
    var bytesIn = 0
    var openSides = 2

    init(host: String, port: Int, logger: Logger, started: NIODeadline) {
        self.host = host
        self.port = port
        self.logger = logger
        self.started = started
    }

    func sideClosed() {
        openSides -= 1
        guard openSides == 0 else { return }
        logger.info(
            "egress tunnel closed",
            metadata: [
                "host": "\(host)", "port": "\(port)", "bytes_out": "\(bytesOut)", "bytes_in": "\(bytesIn)",
                "seconds": "\((NIODeadline.now() - started).nanoseconds / 1_000_000_000)",
            ])
    }
}

@available(*, unavailable)
extension Tunnel: Sendable {}

/// Relays bytes between two channels on the same event loop, reading from one only while the
/// other is writable. Half-closure is passed on: when one side shuts down its output, the other
/// side's output is shut down once what was written to it has been flushed. When either side
/// closes completely (or fails), the other is closed, again after a flush.
final class GlueHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let tunnel: Tunnel
    private let isClient: Bool
    private var partner: GlueHandler?
    private var context: ChannelHandlerContext?
    private var pendingRead = false
    /// Closing was started here (after the partner closed).
    private var closing = false
    /// Shutting down the output was started here (after the partner's input ended).
    private var outputClosing = false
    /// This side's channel is closed.
    private var done = false

    private init(tunnel: Tunnel, isClient: Bool) {
        self.tunnel = tunnel
        self.isClient = isClient
    }

    static func matchedPair(_ tunnel: Tunnel) -> (client: GlueHandler, upstream: GlueHandler) {
        let client = GlueHandler(tunnel: tunnel, isClient: true)
        let upstream = GlueHandler(tunnel: tunnel, isClient: false)
        client.partner = upstream
        upstream.partner = client
        return (client, upstream)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if !context.channel.isActive {
            // Closed before it was joined.
            sideDone()
            partner?.partnerClose()
        } else if partner?.done == true {
            partnerClose()
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        partner = nil
    }

    private func sideDone() {
        guard !done else { return }
        done = true
        tunnel.sideClosed()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        if isClient { tunnel.bytesOut += buffer.readableBytes } else { tunnel.bytesIn += buffer.readableBytes }
        partner?.partnerWrite(buffer)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner?.partnerFlush()
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        sideDone()
        partner?.partnerClose()
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { partner?.partnerBecameWritable() }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
            return
        }
        if case ChannelEvent.inputClosed = event {
            partner?.partnerInputClosed()
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// The client shut down its output before the tunnel existed.
    func inputClosedBeforeJoining() {
        partner?.partnerInputClosed()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func read(context: ChannelHandlerContext) {
        if partner?.partnerWritable == true {
            context.read()
        } else {
            pendingRead = true
        }
    }

    // MARK: Calls from the partner

    private func partnerWrite(_ buffer: ByteBuffer) {
        context?.write(wrapOutboundOut(buffer), promise: nil)
    }

    private func partnerFlush() {
        context?.flush()
    }

    private var partnerWritable: Bool {
        context?.channel.isWritable ?? false
    }

    private func partnerBecameWritable() {
        if pendingRead {
            pendingRead = false
            context?.read()
        }
    }

    /// The partner's input ended: flush what was written here, then shut down the output (which
    /// closes the channel if its input has ended too).
    private func partnerInputClosed() {
        guard let context, !closing, !done, !outputClosing else { return }
        outputClosing = true
        context.writeAndFlush(wrapOutboundOut(ByteBuffer())).assumeIsolated().whenComplete { _ in
            context.close(mode: .output, promise: nil)
        }
    }

    /// The partner closed: flush what was written here, then close.
    private func partnerClose() {
        guard let context, !closing, !done else { return }
        closing = true
        context.writeAndFlush(wrapOutboundOut(ByteBuffer())).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension GlueHandler: Sendable {}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

// MARK: Resolution

/// Name resolution with the system resolver (getaddrinfo) on a small dedicated thread pool, so
/// that slow DNS never blocks an event loop.
enum EgressResolver {
    static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 4)
        pool.start()
        return pool
    }()

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The addresses of `host` (IPv4 and IPv6, in the resolver's order, without duplicates).
    static func resolve(_ host: String, timeout: TimeAmount) async throws -> [EgressPolicy.Address] {
        let once = Mutex<CheckedContinuation<[EgressPolicy.Address], any Error>?>(nil)
        @Sendable func finish(_ result: Result<[EgressPolicy.Address], any Error>) {
            once.withLock { c in
                c?.resume(with: result)
                c = nil
            }
        }
        return try await withCheckedThrowingContinuation { continuation in
            once.withLock { $0 = continuation }
            let timer = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: timeout) {
                finish(.failure(Failure(description: "resolving \(host) timed out")))
            }
            pool.submit { state in
                guard case .active = state else {
                    finish(.failure(Failure(description: "resolver unavailable")))
                    return
                }
                let result = Result { try lookup(host) }
                timer.cancel()
                finish(result)
            }
        }
    }

    static func lookup(_ host: String) throws -> [EgressPolicy.Address] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, nil, &hints, &list)
        guard rc == 0 else { throw Failure(description: String(cString: gai_strerror(rc))) }
        defer { freeaddrinfo(list) }
        var addresses: [EgressPolicy.Address] = []
        var next = list
        while let info = next {
            next = info.pointee.ai_next
            guard let sa = info.pointee.ai_addr else { continue }
            var address: EgressPolicy.Address?
            switch info.pointee.ai_family {
            case AF_INET:
                var a = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                address = EgressPolicy.Address(bytes: withUnsafeBytes(of: &a) { Array($0) })
            case AF_INET6:
                var a = sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                address = EgressPolicy.Address(bytes: withUnsafeBytes(of: &a) { Array($0) })
            default:
                break
            }
            if let address, !addresses.contains(address) { addresses.append(address) }
        }
        return addresses
    }
}
