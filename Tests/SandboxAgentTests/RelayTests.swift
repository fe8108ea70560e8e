import CMAJSON
import Foundation
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A Unix-socket server standing in for the egress proxy (a thread per connection).
final class UnixTestServer: Sendable {
    enum Mode: Sendable {
        /// Sends back everything it receives, closes at EOF.
        case echo
        /// Sends `bytes`, then closes (without reading).
        case sendThenClose([UInt8])
        /// Reads until EOF and records how many bytes arrived.
        case sink
    }

    let path: String
    let mode: Mode
    private let listenFD: Int32
    private let state = Mutex<(connections: Int, received: [Int], closedByPeer: Int)>((0, [], 0))

    init(directory: String, mode: Mode) throws {
        path = directory + "/proxy.sock"
        self.mode = mode
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0, listen(fd, 64) == 0 else { throw AgentClient.Failure(description: "bind \(path): \(errno)") }
        listenFD = fd
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    var connections: Int { state.withLock { $0.connections } }
    var received: [Int] { state.withLock { $0.received } }

    func stop() {
        shutdown(listenFD, Int32(SHUT_RDWR))
        close(listenFD)
        unlink(path)
    }

    private func acceptLoop() {
        while true {
            let client = accept(listenFD, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            state.withLock { $0.connections += 1 }
            let thread = Thread { [self] in serve(client) }
            thread.start()
        }
    }

    private func serve(_ fd: Int32) {
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 65536)
        switch mode {
        case .echo:
            while true {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                guard (try? Relay.write(fd, Array(buffer[0..<n]))) != nil else { return }
            }
        case .sendThenClose(let bytes):
            try? Relay.write(fd, bytes)
        case .sink:
            var total = 0
            while true {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                total += n
            }
            state.withLock { $0.received.append(total) }
        }
    }
}

enum Relay {
    static func write(_ fd: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw AgentClient.Failure(description: "write: \(errno)") }
            offset += n
        }
    }

    static func readAll(_ fd: Int32) -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return out }
            out += buffer[0..<n]
        }
    }

    static func connect(port: Int64) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            close(fd)
            throw AgentClient.Failure(description: "connect to the relay: \(errno)")
        }
        var tv = timeval(tv_sec: 15, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    /// An agent relaying an ephemeral loopback port to `socket`; returns it and the port.
    static func startAgent(_ dirs: TestDirs, socket: String) throws -> (AgentClient, Int64) {
        let agent = try AgentClient(
            workspace: dirs.workspace, arguments: ["--workspace", dirs.workspace, "--egress-relay", socket, "--egress-listen", "127.0.0.1:0"])
        let ready = try agent.wait("ready") { !$0.isEmpty }.first
        #expect(ready?["ev"] == "ready")
        guard let port = ready?["egress_port"]?.intValue, port > 0 else {
            agent.close()
            throw AgentClient.Failure(description: "no egress_port in \(String(describing: ready))")
        }
        return (agent, port)
    }
}

/// The egress relay (`--egress-relay`): loopback TCP to the proxy's Unix socket.
@Suite struct RelayTests {
    @Test func bytesFlowBothWaysUnchanged() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let server = try UnixTestServer(directory: dirs.root, mode: .echo)
        defer { server.stop() }
        let (agent, port) = try Relay.startAgent(dirs, socket: server.path)
        defer { agent.close() }

        // Several megabytes written while reading the echo (more than every buffer on the way).
        let size = 6 << 20
        let payload = (0..<size).map { UInt8(truncatingIfNeeded: ($0 &* 7919) >> 3) }
        let fd = try Relay.connect(port: port)
        defer { close(fd) }
        let writer = Thread {
            try? Relay.write(fd, payload)
            shutdown(fd, Int32(SHUT_WR))
        }
        writer.start()
        // The client shuts down its output when done writing, and still gets all of the echo.
        let echoed = Relay.readAll(fd)
        #expect(echoed.count == size)
        let same = echoed == payload
        #expect(same)
        #expect(server.connections == 1)
        #expect(try agent.request(["op": "ping"])["ev"] == "pong")
    }

    @Test func whenTheProxyClosesTheClientGetsEverythingThenEOF() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let response = Array("HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\n\r\nno!\n".utf8) + [UInt8](repeating: 0x61, count: 300_000)
        let server = try UnixTestServer(directory: dirs.root, mode: .sendThenClose(response))
        defer { server.stop() }
        let (agent, port) = try Relay.startAgent(dirs, socket: server.path)
        defer { agent.close() }
        for _ in 0..<3 {
            let fd = try Relay.connect(port: port)
            usleep(100_000)  // the proxy has long closed its side by now
            let received = Relay.readAll(fd)
            let same = received == response
            #expect(same, "\(received.count) bytes")
            close(fd)
        }
    }

    @Test func whenTheClientClosesTheProxySeesEOF() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let server = try UnixTestServer(directory: dirs.root, mode: .sink)
        defer { server.stop() }
        let (agent, port) = try Relay.startAgent(dirs, socket: server.path)
        defer { agent.close() }
        let fd = try Relay.connect(port: port)
        try Relay.write(fd, [UInt8](repeating: 1, count: 1_000_000))
        close(fd)
        let deadline = Date().addingTimeInterval(10)
        while server.received.isEmpty && Date() < deadline { usleep(20_000) }
        #expect(server.received == [1_000_000])
    }

    @Test func aStalledConnectionNeverBlocksRequests() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        // The "proxy" sends far more than the client reads.
        let server = try UnixTestServer(directory: dirs.root, mode: .sendThenClose([UInt8](repeating: 0x62, count: 64 << 20)))
        defer { server.stop() }
        let (agent, port) = try Relay.startAgent(dirs, socket: server.path)
        defer { agent.close() }
        let stalled = try Relay.connect(port: port)
        defer { close(stalled) }
        // A second connection in the same state, and one that is read normally.
        let alsoStalled = try Relay.connect(port: port)
        defer { close(alsoStalled) }
        usleep(300_000)
        for _ in 0..<20 {
            let started = Date()
            #expect(try agent.request(["op": "ping"])["ev"] == "pong")
            #expect(Date().timeIntervalSince(started) < 1)
        }
        let result = try agent.sh("echo still responsive")
        #expect(result.text == "still responsive\n")
        // Reading the stalled connection later gets every byte.
        #expect(Relay.readAll(stalled).count == 64 << 20)
    }

    @Test func withoutAProxyClientsAreClosedAndTheAgentCarriesOn() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let (agent, port) = try Relay.startAgent(dirs, socket: dirs.root + "/nothing-here.sock")
        defer { agent.close() }
        for _ in 0..<3 {
            let fd = try Relay.connect(port: port)
            try? Relay.write(fd, Array("CONNECT example.com:443 HTTP/1.1\r\n\r\n".utf8))
            #expect(Relay.readAll(fd).isEmpty)
            close(fd)
        }
        #expect(try agent.request(["op": "ping"])["ev"] == "pong")
    }

    @Test func commandsDoNotInheritTheRelaysSockets() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let server = try UnixTestServer(directory: dirs.root, mode: .echo)
        defer { server.stop() }
        let (agent, port) = try Relay.startAgent(dirs, socket: server.path)
        defer { agent.close() }
        let fd = try Relay.connect(port: port)
        defer { close(fd) }
        try Relay.write(fd, [1, 2, 3])
        usleep(100_000)
        // (A descriptor the shell closes while ls runs is reported missing on stderr: ignored.)
        let result = try agent.sh("ls -l /proc/$$/fd 2>/dev/null | grep -c socket: || true")
        #expect(result.text == "0\n")
    }

    @Test func aPortInUseStopsTheAgentBeforeReady() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        // Hold a port.
        let holder = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        defer { close(holder) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(holder, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        #expect(listen(holder, 1) == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(holder, $0, &length) } }
        let port = UInt16(bigEndian: address.sin_port)

        let agent = try AgentClient(
            workspace: dirs.workspace, arguments: ["--workspace", dirs.workspace, "--egress-relay", dirs.root + "/p.sock", "--egress-listen", "127.0.0.1:\(port)"])
        defer { agent.close() }
        #expect(agent.waitForExit(timeout: 5) == 1)
        #expect(agent.allEvents.isEmpty)

        let bad = try AgentClient(workspace: dirs.workspace, arguments: ["--workspace", dirs.workspace, "--egress-relay", dirs.root + "/p.sock", "--egress-listen", "nonsense"])
        defer { bad.close() }
        #expect(bad.waitForExit(timeout: 5) == 2)
    }
}
