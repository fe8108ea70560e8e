import Foundation
import Logging
@testable import Sandbox
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The strict check, except that 127.0.0.1 is allowed (for an origin server in the test).
let allowingLoopbackForTests: @Sendable (EgressPolicy.Address) -> Bool = { address in
    address != EgressPolicy.Address("127.0.0.1")! && EgressPolicy.isForbidden(address: address)
}

final class ResolverLog: Sendable {
    private let names = Mutex<[String]>([])
    let answers: [String: [String]]

    init(_ answers: [String: [String]] = [:]) { self.answers = answers }

    var lookups: [String] { names.withLock { $0 } }

    var resolver: @Sendable (String) async throws -> [EgressPolicy.Address] {
        { host in
            self.names.withLock { $0.append(host) }
            guard let answer = self.answers[host] else { throw SocketFailure(description: "no such host") }
            return answer.compactMap { EgressPolicy.Address($0) }
        }
    }
}

/// Runs `body` with a proxy on a fresh socket, then stops it.
func withProxy(
    policy: EgressPolicy, isForbidden: @escaping @Sendable (EgressPolicy.Address) -> Bool = EgressPolicy.isForbidden(address:),
    resolver: ResolverLog? = nil, socketDirectory: String? = nil, maxConnections: Int = EgressProxy.maxConnections,
    idleTimeout: Duration = EgressProxy.idleTimeout, _ body: (EgressProxy, String) async throws -> Void
) async throws {
    let directory = socketDirectory ?? "/tmp/cma-egress-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let path = directory + "/egress.sock"
    var logger = Logger(label: "test.egress")
    logger.logLevel = .critical
    let proxy = try await EgressProxy.start(
        socketPath: path, policy: policy, socketOwner: nil, logger: logger, isForbidden: isForbidden, resolver: resolver?.resolver,
        maxConnections: maxConnections, idleTimeout: idleTimeout)
    do {
        try await body(proxy, path)
    } catch {
        await proxy.stop()
        throw error
    }
    await proxy.stop()
}

@Suite("Egress proxy")
struct EgressProxyTests {
    @Test func forbiddenDestinationsAreRefusedWithoutConnecting() async throws {
        let origin = try TestHTTPServer()
        defer { origin.stop() }
        try await withProxy(policy: .enabled) { _, socket in
            let targets = [
                "127.0.0.1:\(origin.port)", "169.254.169.254:80", "10.0.0.1:443", "192.168.1.1:80", "100.64.0.1:80", "[::1]:\(origin.port)",
                "[::ffff:127.0.0.1]:\(origin.port)", "[fd00:ec2::254]:80", "0.0.0.0:\(origin.port)", "localhost:\(origin.port)",
                "2130706433:\(origin.port)", "127.1:\(origin.port)",
            ]
            for target in targets {
                let answer = try await RawSocket.exchange(socket, "CONNECT \(target) HTTP/1.1\r\nHost: \(target)\r\n\r\n")
                #expect(answer.hasPrefix("HTTP/1.1 403 Forbidden\r\n"), "\(target): \(answer)")
                #expect(answer.hasSuffix("\r\n\r\ndestination address not allowed\n"), "\(target): \(answer)")
            }
            for url in ["http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:\(origin.port)/", "http://localhost:\(origin.port)/x"] {
                let answer = try await RawSocket.exchange(socket, "GET \(url) HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(answer.hasPrefix("HTTP/1.1 403 Forbidden\r\n"), "\(url): \(answer)")
            }
        }
        #expect(origin.connections == 0)
    }

    @Test func aRestrictedPolicyRefusesBeforeAnyLookup() async throws {
        let resolver = ResolverLog(["allowed.test": ["203.0.113.9"], "not-allowed.example": ["203.0.113.9"]])
        try await withProxy(policy: .restricted(allowed: ["allowed.test"]), resolver: resolver) { _, socket in
            let connect = try await RawSocket.exchange(socket, "CONNECT not-allowed.example:443 HTTP/1.1\r\nHost: not-allowed.example:443\r\n\r\n")
            #expect(connect.hasPrefix("HTTP/1.1 403 Forbidden\r\n"), "\(connect)")
            #expect(connect.hasSuffix("blocked by network policy: not-allowed.example\n"), "\(connect)")
            let get = try await RawSocket.exchange(socket, "GET http://Not-Allowed.Example./a HTTP/1.1\r\nHost: not-allowed.example\r\n\r\n")
            #expect(get.hasSuffix("blocked by network policy: not-allowed.example\n"), "\(get)")
            // Subdomain tricks and IP literals are refused too.
            for target in ["allowed.test.not-allowed.example:443", "notallowed.test:443", "203.0.113.9:443", "[2606:4700::1111]:443"] {
                let answer = try await RawSocket.exchange(socket, "CONNECT \(target) HTTP/1.1\r\n\r\n")
                #expect(answer.hasPrefix("HTTP/1.1 403 Forbidden\r\n"), "\(target): \(answer)")
                #expect(answer.contains("blocked by network policy"), "\(target): \(answer)")
            }
        }
        #expect(resolver.lookups.isEmpty, "\(resolver.lookups)")
    }

    @Test func anyForbiddenAddressInTheAnswerRefusesTheRequest() async throws {
        let resolver = ResolverLog([
            "rebind.test": ["203.0.113.9", "127.0.0.1"], "metadata.test": ["169.254.169.254"], "v6.test": ["2606:4700::1111", "fe80::1"],
            "mapped.test": ["::ffff:10.1.2.3"],
        ])
        try await withProxy(policy: .restricted(blocked: ["blocked.test"]), resolver: resolver) { _, socket in
            for host in ["rebind.test", "metadata.test", "v6.test", "mapped.test"] {
                let answer = try await RawSocket.exchange(socket, "CONNECT \(host):443 HTTP/1.1\r\n\r\n")
                #expect(answer.hasPrefix("HTTP/1.1 403 Forbidden\r\n"), "\(host): \(answer)")
                #expect(answer.hasSuffix("destination address not allowed\n"), "\(host): \(answer)")
            }
            let unknown = try await RawSocket.exchange(socket, "CONNECT unknown.test:443 HTTP/1.1\r\n\r\n")
            #expect(unknown.hasPrefix("HTTP/1.1 502 Bad Gateway\r\n"), "\(unknown)")
        }
        #expect(Set(resolver.lookups) == ["rebind.test", "metadata.test", "v6.test", "mapped.test", "unknown.test"])
    }

    @Test func connectTunnelsToAnAllowedOrigin() async throws {
        let origin = try TestHTTPServer()
        defer { origin.stop() }
        let resolver = ResolverLog(["origin.test": ["127.0.0.1"]])
        try await withProxy(policy: .restricted(allowed: ["origin.test"]), isForbidden: allowingLoopbackForTests, resolver: resolver) { _, socket in
            let port = origin.port
            let (head, rest) = try await onThread {
                let fd = try RawSocket.connectUnix(socket)
                defer { close(fd) }
                try RawSocket.write(fd, "CONNECT origin.test:\(port) HTTP/1.1\r\nHost: origin.test:\(port)\r\n\r\n")
                let head = try RawSocket.readHead(fd)
                try RawSocket.write(fd, "GET /through-the-tunnel HTTP/1.1\r\nHost: origin.test\r\n\r\n")
                return (head, String(decoding: RawSocket.readAll(fd), as: UTF8.self))
            }
            #expect(head == "HTTP/1.1 200 Connection established\r\n\r\n")
            #expect(rest.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(rest)")
            #expect(rest.hasSuffix("hello from origin /through-the-tunnel\n"), "\(rest)")

            // Bytes sent right behind the CONNECT (before its answer) are not lost; a large
            // response arrives whole (backpressure, then a flush before closing).
            let size = 8 << 20
            let big = try await onThread {
                let fd = try RawSocket.connectUnix(socket)
                defer { close(fd) }
                try RawSocket.write(fd, "CONNECT origin.test:\(port) HTTP/1.1\r\n\r\nGET /big?size=\(size) HTTP/1.1\r\nHost: origin.test\r\n\r\n")
                _ = try RawSocket.readHead(fd)
                _ = try RawSocket.readHead(fd)
                usleep(200_000)  // let the proxy's buffers fill up
                return RawSocket.readAll(fd)
            }
            #expect(big.count == size)
            let same = big == bigPayload(size)
            #expect(same)

            // A client that shuts down its output after its request still gets the answer.
            let halfClosed = try await onThread {
                let fd = try RawSocket.connectUnix(socket)
                defer { close(fd) }
                try RawSocket.write(fd, "CONNECT origin.test:\(port) HTTP/1.1\r\n\r\nGET /half-closed HTTP/1.1\r\nHost: origin.test\r\n\r\n")
                shutdown(fd, Int32(SHUT_WR))
                return String(decoding: RawSocket.readAll(fd), as: UTF8.self)
            }
            #expect(halfClosed.hasPrefix("HTTP/1.1 200 Connection established\r\n\r\nHTTP/1.1 200 OK\r\n"), "\(halfClosed)")
            #expect(halfClosed.hasSuffix("hello from origin /half-closed\n"), "\(halfClosed)")
        }
    }

    @Test func absoluteFormRequestsAreForwardedInOriginForm() async throws {
        let origin = try TestHTTPServer()
        defer { origin.stop() }
        let resolver = ResolverLog(["origin.test": ["127.0.0.1"]])
        try await withProxy(policy: .restricted(allowed: ["origin.test"]), isForbidden: allowingLoopbackForTests, resolver: resolver) { _, socket in
            let answer = try await RawSocket.exchange(
                socket,
                "POST http://origin.test:\(origin.port)/submit?q=1 HTTP/1.1\r\nHost: elsewhere.example\r\nProxy-Connection: keep-alive\r\n"
                    + "Proxy-Authorization: Basic c2VjcmV0\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nX-Kept: yes\r\nContent-Length: 5\r\n\r\nhello")
            #expect(answer.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(answer)")
            #expect(answer.hasSuffix("hello from origin /submit?q=1 body=hello\n"), "\(answer)")
            let head = try #require(origin.heads.last)
            let lines = head.split(separator: "\r\n").map(String.init)
            #expect(lines.first == "POST /submit?q=1 HTTP/1.1")
            #expect(lines.contains("Host: origin.test:\(origin.port)"))
            #expect(lines.contains("Connection: close"))
            #expect(lines.contains("X-Kept: yes"))
            #expect(lines.contains("Content-Length: 5"))
            for dropped in ["Host: elsewhere.example", "Proxy-Connection: keep-alive", "Proxy-Authorization: Basic c2VjcmV0", "X-Hop: 1", "Connection: keep-alive, X-Hop"] {
                #expect(!lines.contains(dropped), "\(dropped) was forwarded")
            }

            let get = try await RawSocket.exchange(socket, "GET http://ORIGIN.test:\(origin.port) HTTP/1.0\r\n\r\n")
            #expect(get.hasSuffix("hello from origin /\n"), "\(get)")
        }
    }

    @Test func malformedRequestsGet400() async throws {
        let resolver = ResolverLog()
        try await withProxy(policy: .enabled, resolver: resolver) { _, socket in
            let requests = [
                "GET /relative HTTP/1.1\r\nHost: example.com\r\n\r\n",
                "garbage\r\n\r\n",
                "CONNECT example.com HTTP/1.1\r\n\r\n",
                "CONNECT example.com:0 HTTP/1.1\r\n\r\n",
                "CONNECT example.com:70000 HTTP/1.1\r\n\r\n",
                "CONNECT bad_host!:443 HTTP/1.1\r\n\r\n",
                "CONNECT ::1:443 HTTP/1.1\r\n\r\n",
                "GET https://example.com/ HTTP/1.1\r\n\r\n",
                "GET ftp://example.com/ HTTP/1.1\r\n\r\n",
                "GET http://user:pw@example.com/ HTTP/1.1\r\n\r\n",
                "GET http://example.com/ HTTP/2.0\r\n\r\n",
                "GET  http://example.com/ HTTP/1.1\r\n\r\n",
                "GET http://example.com/ HTTP/1.1\r\n folded: header\r\n\r\n",
                "GET http://example.com/ HTTP/1.1\r\nBad Header: x\r\n\r\n",
                "GET http://example.com/ HTTP/1.1\r\nX: a\nInjected: b\r\n\r\n",
            ]
            for request in requests {
                let answer = try await RawSocket.exchange(socket, request)
                #expect(answer.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), "\(request.debugDescription): \(answer)")
            }
            let huge = try await RawSocket.exchange(socket, "GET http://example.com/ HTTP/1.1\r\nX: \(String(repeating: "a", count: 20000))\r\n\r\n")
            #expect(huge.hasPrefix("HTTP/1.1 431 "), "\(huge.prefix(100))")
        }
        #expect(resolver.lookups.isEmpty)
    }

    @Test func unreachableOriginsGet502() async throws {
        let port = try RawSocket.unusedPort()
        try await withProxy(policy: .enabled, isForbidden: allowingLoopbackForTests) { _, socket in
            let answer = try await RawSocket.exchange(socket, "CONNECT 127.0.0.1:\(port) HTTP/1.1\r\n\r\n")
            #expect(answer.hasPrefix("HTTP/1.1 502 Bad Gateway\r\n"), "\(answer)")
            #expect(answer.hasSuffix("upstream connection failed\n"), "\(answer)")
        }
    }

    @Test func idleTunnelsAreClosed() async throws {
        let origin = try TestHTTPServer()
        defer { origin.stop() }
        try await withProxy(policy: .enabled, isForbidden: allowingLoopbackForTests, idleTimeout: .milliseconds(300)) { _, socket in
            let port = origin.port
            let (head, elapsed) = try await onThread {
                let fd = try RawSocket.connectUnix(socket)
                defer { close(fd) }
                try RawSocket.write(fd, "CONNECT 127.0.0.1:\(port) HTTP/1.1\r\n\r\n")
                let head = try RawSocket.readHead(fd)
                let start = Date()
                let rest = RawSocket.readAll(fd)  // the origin waits for a request: nothing flows
                return (head + String(decoding: rest, as: UTF8.self), Date().timeIntervalSince(start))
            }
            #expect(head == "HTTP/1.1 200 Connection established\r\n\r\n")
            #expect(elapsed < 10, "the idle tunnel was not closed")
        }
    }

    @Test func connectionsAreBoundedAndStopClosesThem() async throws {
        try await withProxy(policy: .enabled, maxConnections: 2) { proxy, socket in
            // Two clients that never finish their request head.
            let first = try RawSocket.connectUnix(socket)
            let second = try RawSocket.connectUnix(socket)
            try RawSocket.write(first, "CONNECT exa")
            try RawSocket.write(second, "CONNECT exa")
            for _ in 0..<100 where proxy.connectionCount < 2 { try await Task.sleep(for: .milliseconds(20)) }
            #expect(proxy.connectionCount == 2)
            // A third is answered 503 as soon as it connects (and closed, so the test does not
            // write: the write could race the close and fail with EPIPE).
            let third = try await onThread { () throws -> String in
                let fd = try RawSocket.connectUnix(socket)
                defer { close(fd) }
                return String(decoding: RawSocket.readAll(fd), as: UTF8.self)
            }
            #expect(third.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"), "\(third)")

            await proxy.stop()
            // Stopping closed them, and the socket is gone.
            let rest = try await onThread { RawSocket.readAll(first) + RawSocket.readAll(second) }
            #expect(rest.isEmpty)
            close(first)
            close(second)
            #expect(access(socket, F_OK) != 0)
            #expect(throws: (any Error).self) { try RawSocket.connectUnix(socket) }
        }
    }

    @Test func theSocketIsPrivateAndMayHaveALongPath() async throws {
        // Longer than a sockaddr_un can hold.
        let directory = "/tmp/cma-egress-\(UUID().uuidString)/" + String(repeating: "d", count: 90)
        defer { try? FileManager.default.removeItem(atPath: "/tmp/" + directory.split(separator: "/")[1]) }
        try await withProxy(policy: .restricted(allowed: ["allowed.test"]), socketDirectory: directory) { _, socket in
            #expect(socket.utf8.count > 108)
            var st = stat()
            #expect(stat(socket, &st) == 0)
            #expect(st.st_mode & S_IFMT == S_IFSOCK)
            #expect(st.st_mode & 0o777 == 0o600)
            // Reachable through a short path to the same directory.
            let link = "/tmp/cma-egress-link-\(UUID().uuidString.prefix(8))"
            #expect(symlink(directory, link) == 0)
            defer { unlink(link) }
            let answer = try await RawSocket.exchange(link + "/egress.sock", "CONNECT blocked.test:443 HTTP/1.1\r\n\r\n")
            #expect(answer.hasPrefix("HTTP/1.1 403 Forbidden\r\n"), "\(answer)")
        }
    }

    @Test(.enabled(if: geteuid() == 0, "changing a socket's owner needs root"))
    func theSocketBelongsToTheGivenOwner() async throws {
        let directory = "/tmp/cma-egress-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var logger = Logger(label: "test.egress")
        logger.logLevel = .critical
        let proxy = try await EgressProxy.start(
            socketPath: directory + "/egress.sock", policy: .enabled, socketOwner: (uid: 2_000_123, gid: 2_000_123), logger: logger)
        var st = stat()
        #expect(stat(directory + "/egress.sock", &st) == 0)
        #expect(st.st_uid == 2_000_123)
        #expect(st.st_gid == 2_000_123)
        #expect(st.st_mode & 0o777 == 0o600)
        await proxy.stop()
    }

    @Test func requestParsing() throws {
        let connect = try ProxyRequest.parse(Array("CONNECT [2606:4700::1111]:443 HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        #expect(connect == ProxyRequest(kind: .connect, host: "2606:4700::1111", port: 443))
        let get = try ProxyRequest.parse(Array("GET http://Example.COM./a/b#frag HTTP/1.1\r\nUser-Agent: t\r\nKeep-Alive: 5\r\n\r\n".utf8))
        #expect(get.host == "example.com")
        #expect(get.port == 80)
        #expect(get.kind == .forward(head: Array("GET /a/b HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\nConnection: close\r\n\r\n".utf8)))
        #expect(throws: ProxyRequest.ParseError.invalidHost) { try ProxyRequest.parse(Array("CONNECT ex%61mple.com:443 HTTP/1.1\r\n\r\n".utf8)) }
    }
}

@Suite("Egress proxy on loopback (the web tool's)")
struct LoopbackEgressProxyTests {
    static func exchangeTCP(port: UInt16, _ request: String) async throws -> String {
        try await onThread {
            let fd = try RawSocket.connectTCP(port: port)
            defer { close(fd) }
            try RawSocket.write(fd, request)
            return String(decoding: RawSocket.readAll(fd), as: UTF8.self)
        }
    }

    @Test func requestsNeedTheProxyAuthorizationAndFollowTheAddressRules() async throws {
        let origin = try TestHTTPServer()
        defer { origin.stop() }
        let token = "Basic " + Data("cma:secret-token".utf8).base64EncodedString()
        let (strict, strictPort) = try await EgressProxy.startLoopback(policy: .enabled, authorization: token, logger: Logger(label: "test"))
        let (lenient, lenientPort) = try await EgressProxy.startLoopback(
            policy: .enabled, authorization: token, logger: Logger(label: "test"), allowPrivateAddressesForTests: true)
        defer { Task { await strict.stop(); await lenient.stop() } }

        let target = "http://127.0.0.1:\(origin.port)/page"
        // No or a wrong Proxy-Authorization: 407, before anything else is decided.
        for header in ["", "Proxy-Authorization: Basic d3Jvbmc=\r\n"] {
            let answer = try await Self.exchangeTCP(port: UInt16(lenientPort), "GET \(target) HTTP/1.1\r\nHost: x\r\n\(header)\r\n")
            #expect(answer.hasPrefix("HTTP/1.1 407"))
        }
        // With it: the strict proxy still never reaches loopback; the test-only one does.
        let refused = try await Self.exchangeTCP(port: UInt16(strictPort), "GET \(target) HTTP/1.1\r\nHost: x\r\nProxy-Authorization: \(token)\r\n\r\n")
        #expect(refused.hasPrefix("HTTP/1.1 403"))
        let served = try await Self.exchangeTCP(port: UInt16(lenientPort), "GET \(target) HTTP/1.1\r\nHost: x\r\nProxy-Authorization: \(token)\r\n\r\n")
        #expect(served.hasPrefix("HTTP/1.1 200"))
        // The credential is not passed on to the origin.
        #expect(origin.heads.count == 1)
        #expect(origin.heads.allSatisfy { !$0.lowercased().contains("proxy-authorization") })
    }
}
