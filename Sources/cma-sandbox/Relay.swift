#if canImport(Glibc)
import Glibc
#endif

/// The in-sandbox end of egress (`--egress-relay`): listens on a loopback TCP port (by default
/// 127.0.0.1:3128, in the sandbox's own network namespace) and relays each accepted connection,
/// byte for byte, to a new connection to the egress proxy's Unix socket. Everything is
/// non-blocking and driven by the agent's poll loop: each direction has a bounded buffer, a side
/// is read only while its buffer has room, and a descriptor is polled only for what the relay can
/// act on, so a slow or stuck peer never blocks requests. When one side reaches EOF, what was read
/// from it is flushed to the other side, whose output is then shut down (half-closure is passed
/// on, so a client that shuts down its output still gets its answer); once both directions have
/// ended, or as soon as either side fails (reset, broken pipe), both are closed.
final class EgressRelay {
    static let bufferSize = 64 * 1024
    /// Connections relayed at once; further clients wait in the listen backlog.
    static let maxConnections = 128
    /// Connections accepted per loop iteration.
    static let acceptBatch = 16

    /// A fixed-size byte buffer (data lives in `storage[head..<tail]`).
    struct Buffer {
        var storage = [UInt8](repeating: 0, count: EgressRelay.bufferSize)
        var head = 0
        var tail = 0

        var isEmpty: Bool { head == tail }
        var hasRoom: Bool { tail < storage.count || head > 0 }

        /// Reads from `fd` into the free space. Returns the read result (bytes, 0 at EOF, -1 with errno).
        mutating func fill(from fd: Int32) -> Int {
            if tail == storage.count && head > 0 {
                storage.withUnsafeMutableBytes { raw in
                    guard let base = raw.baseAddress else { return }
                    memmove(base, base + head, tail - head)
                }
                tail -= head
                head = 0
            }
            let room = storage.count - tail
            guard room > 0 else { return -2 }
            var n: Int
            repeat {
                n = storage.withUnsafeMutableBytes { read(fd, $0.baseAddress! + tail, room) }
            } while n < 0 && errno == EINTR
            if n > 0 { tail += n }
            return n
        }

        /// Writes buffered bytes to `fd`. Returns false on a write error other than EAGAIN.
        mutating func drain(to fd: Int32) -> Bool {
            while head < tail {
                let n = storage.withUnsafeBytes { send(fd, $0.baseAddress! + head, tail - head, Int32(MSG_NOSIGNAL)) }
                if n > 0 {
                    head += n
                    continue
                }
                if n < 0 && errno == EINTR { continue }
                if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { break }
                return false
            }
            if head == tail {
                head = 0
                tail = 0
            }
            return true
        }
    }

    final class Connection {
        var tcp: Int32
        var unix: Int32
        /// Client → proxy.
        var up = Buffer()
        /// Proxy → client.
        var down = Buffer()
        var connecting: Bool
        var tcpEOF = false
        var unixEOF = false
        /// Our output to that side was shut down (after its peer's EOF and a flush).
        var unixShut = false
        var tcpShut = false
        var failed = false
        var tcpRevents: Int16 = 0
        var unixRevents: Int16 = 0

        init(tcp: Int32, unix: Int32, connecting: Bool) {
            self.tcp = tcp
            self.unix = unix
            self.connecting = connecting
        }

        var tcpEvents: Int16 {
            var e: Int16 = 0
            if !tcpEOF && up.hasRoom { e |= Int16(POLLIN) }
            if !down.isEmpty { e |= Int16(POLLOUT) }
            return e
        }

        var unixEvents: Int16 {
            if connecting { return Int16(POLLOUT) }
            var e: Int16 = 0
            if !unixEOF && down.hasRoom { e |= Int16(POLLIN) }
            if !up.isEmpty { e |= Int16(POLLOUT) }
            return e
        }

        /// Done: failed, or both directions have ended and been passed on.
        var finished: Bool {
            failed || (unixShut && tcpShut)
        }

        /// Passes an EOF on once what preceded it has been flushed.
        func propagateEOF() {
            if tcpEOF && up.isEmpty && !connecting && !unixShut {
                _ = shutdown(unix, Int32(SHUT_WR))
                unixShut = true
            }
            if unixEOF && down.isEmpty && !tcpShut {
                _ = shutdown(tcp, Int32(SHUT_WR))
                tcpShut = true
            }
        }

        func close() {
            Sys.closeFD(tcp)
            Sys.closeFD(unix)
            tcp = -1
            unix = -1
        }
    }

    private enum Slot {
        case listener
        case tcp(Connection)
        case unix(Connection)
    }

    let socketPath: String
    private let listenFD: Int32
    /// The TCP port the relay listens on.
    let port: UInt16
    private var connections: [Connection] = []
    private var slots: [Slot] = []
    private var reportedFailure = false

    /// Opens the listening socket on `host:port` (an IPv4 literal; port 0 picks a free one).
    init(socketPath: String, host: String, port: UInt16) throws(Failure) {
        guard socketPath.utf8.count < MemoryLayout.size(ofValue: sockaddr_un().sun_path), !socketPath.utf8.contains(0) else {
            throw Failure("invalid_path", "the egress socket path is too long")
        }
        self.socketPath = socketPath
        let type = Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue)
        let fd = socket(AF_INET, type, 0)
        guard fd >= 0 else { throw Failure.errno(errno, host, "socket") }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            Sys.closeFD(fd)
            throw Failure("bad_request", "\(host) is not an IPv4 address")
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 128) == 0 else {
            let e = errno
            Sys.closeFD(fd)
            throw Failure.errno(e, "\(host):\(port)", "listen on")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.listenFD = fd
        self.port = UInt16(bigEndian: actual.sin_port)
    }

    /// Appends the descriptors to poll (only for what can be acted on) to `fds`.
    func appendPollFDs(_ fds: inout [pollfd]) {
        slots.removeAll(keepingCapacity: true)
        if connections.count < Self.maxConnections {
            fds.append(pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0))
            slots.append(.listener)
        }
        for c in connections {
            c.tcpRevents = 0
            c.unixRevents = 0
            let t = c.tcpEvents
            if t != 0 {
                fds.append(pollfd(fd: c.tcp, events: t, revents: 0))
                slots.append(.tcp(c))
            }
            let u = c.unixEvents
            if u != 0 {
                fds.append(pollfd(fd: c.unix, events: u, revents: 0))
                slots.append(.unix(c))
            }
        }
    }

    /// Handles the results of poll for the descriptors `appendPollFDs` added (in that order).
    func handle(_ polled: ArraySlice<pollfd>) {
        var acceptNow = false
        for (slot, p) in zip(slots, polled) where p.revents != 0 {
            switch slot {
            case .listener: acceptNow = true
            case .tcp(let c): c.tcpRevents = p.revents
            case .unix(let c): c.unixRevents = p.revents
            }
        }
        for c in connections where c.tcpRevents != 0 || c.unixRevents != 0 {
            step(c)
        }
        if connections.contains(where: { $0.finished }) {
            connections.removeAll { c in
                guard c.finished else { return false }
                c.close()
                return true
            }
        }
        if acceptNow { accept() }
    }

    private func step(_ c: Connection) {
        let bad = Int16(POLLERR) | Int16(POLLNVAL)
        if c.connecting {
            guard c.unixRevents != 0 else { return readTCP(c) }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            if getsockopt(c.unix, SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0 {
                report("cannot connect to \(socketPath): \(Sys.describe(error))")
                c.failed = true
                return
            }
            c.connecting = false
        } else if c.unixRevents & bad != 0 {
            c.failed = true
            return
        }
        if c.tcpRevents & bad != 0 {
            c.failed = true
            return
        }
        readTCP(c)
        if c.failed { return }
        if !c.unixEOF && c.down.hasRoom && c.unixRevents & (Int16(POLLIN) | Int16(POLLHUP)) != 0 {
            let n = c.down.fill(from: c.unix)
            if n == 0 { c.unixEOF = true } else if n == -1 && errno != EAGAIN && errno != EWOULDBLOCK { c.failed = true; return }
        }
        // Writes are attempted whenever there is something to send (cheap when the peer is not
        // ready: EAGAIN).
        // What the proxy sent goes out first: when it has closed (say, after a refusal) while the
        // client still sends, the client gets the answer before the connection fails.
        if !c.down.isEmpty && !c.down.drain(to: c.tcp) { c.failed = true; return }
        if !c.up.isEmpty && !c.up.drain(to: c.unix) { c.failed = true; return }
        c.propagateEOF()
    }

    private func readTCP(_ c: Connection) {
        guard !c.tcpEOF, c.up.hasRoom, c.tcpRevents & (Int16(POLLIN) | Int16(POLLHUP)) != 0 else { return }
        let n = c.up.fill(from: c.tcp)
        if n == 0 {
            c.tcpEOF = true
        } else if n == -1 && errno != EAGAIN && errno != EWOULDBLOCK {
            c.failed = true
        }
    }

    private func accept() {
        for _ in 0..<Self.acceptBatch where connections.count < Self.maxConnections {
            var client: Int32
            repeat { client = Glibc.accept(listenFD, nil, nil) } while client < 0 && errno == EINTR
            guard client >= 0 else { return }  // EAGAIN: none left (or a transient error)
            Sys.setCloexec(client)
            Sys.setNonblocking(client, true)
            let type = Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue)
            let unixFD = socket(AF_UNIX, type, 0)
            guard unixFD >= 0 else {
                report("socket: \(Sys.describe(errno))")
                Sys.closeFD(client)
                continue
            }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let path = Array(socketPath.utf8)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (i, byte) in path.enumerated() { raw[i] = byte }
            }
            var rc: Int32
            repeat {
                rc = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(unixFD, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
                }
            } while rc < 0 && errno == EINTR
            if rc == 0 || errno == EINPROGRESS {
                connections.append(Connection(tcp: client, unix: unixFD, connecting: rc != 0))
            } else {
                // Including EAGAIN (the proxy's backlog is full, which the connection limit makes
                // unlikely): the client sees its connection closed.
                report("cannot connect to \(socketPath): \(Sys.describe(errno))")
                Sys.closeFD(unixFD)
                Sys.closeFD(client)
            }
        }
    }

    /// Reports the first failure to reach the proxy on stderr (later ones are not repeated).
    private func report(_ message: String) {
        guard !reportedFailure else { return }
        reportedFailure = true
        Sys.diagnostic("egress relay: " + message)
    }
}
