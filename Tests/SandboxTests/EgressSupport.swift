import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

struct SocketFailure: Error, CustomStringConvertible {
    var description: String
}

/// Runs blocking socket work on a thread of its own (never on the cooperative pool, which the
/// proxy under test needs).
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.start()
    }
}

enum RawSocket {
    static func setTimeout(_ fd: Int32, seconds: Int) {
        var tv = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    static func connectUnix(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketFailure(description: "socket: \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw SocketFailure(description: "path too long") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else {
            let e = errno
            close(fd)
            throw SocketFailure(description: "connect \(path): \(String(cString: strerror(e)))")
        }
        setTimeout(fd, seconds: 15)
        return fd
    }

    static func connectTCP(port: UInt16) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketFailure(description: "socket: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            let e = errno
            close(fd)
            throw SocketFailure(description: "connect 127.0.0.1:\(port): \(String(cString: strerror(e)))")
        }
        setTimeout(fd, seconds: 15)
        return fd
    }

    static func write(_ fd: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw SocketFailure(description: "write: \(String(cString: strerror(errno)))") }
            offset += n
        }
    }

    static func write(_ fd: Int32, _ text: String) throws { try write(fd, Array(text.utf8)) }

    /// Reads until EOF (or an error, or the receive timeout); returns what arrived.
    static func readAll(_ fd: Int32, limit: Int = 64 << 20) -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while out.count < limit {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            out += buffer[0..<n]
        }
        return out
    }

    /// Reads up to and including the first CRLF CRLF.
    static func readHead(_ fd: Int32) throws -> String {
        var out: [UInt8] = []
        var byte: UInt8 = 0
        while !(out.count >= 4 && out.suffix(4) == [13, 10, 13, 10]) {
            let n = recv(fd, &byte, 1, 0)
            if n < 0 && errno == EINTR { continue }
            guard n == 1 else { throw SocketFailure(description: "connection closed after \(String(decoding: out, as: UTF8.self))") }
            out.append(byte)
            if out.count > 65536 { throw SocketFailure(description: "head too long") }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Sends `request` to the proxy at `socketPath` and returns everything it answers.
    static func exchange(_ socketPath: String, _ request: String) async throws -> String {
        try await onThread {
            let fd = try connectUnix(socketPath)
            defer { close(fd) }
            try write(fd, request)
            return String(decoding: readAll(fd), as: UTF8.self)
        }
    }

    /// A port on 127.0.0.1 nothing listens on (bound, then released).
    static func unusedPort() throws -> UInt16 {
        let server = try TestHTTPServer()
        let port = server.port
        server.stop()
        return port
    }
}

/// A tiny HTTP/1.1 origin server on 127.0.0.1 (a thread per connection): answers every request
/// with `200` and a body naming the request's path, or `size` bytes for `/big?size=N`, then closes.
/// Records the request heads it received.
final class TestHTTPServer: Sendable {
    let port: UInt16
    private let listenFD: Int32
    private let state = Mutex<(heads: [String], bodies: [[UInt8]], connections: Int)>(([], [], 0))

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketFailure(description: "socket") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0, listen(fd, 64) == 0 else { throw SocketFailure(description: "bind/listen") }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        port = UInt16(bigEndian: actual.sin_port)
        listenFD = fd
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    var heads: [String] { state.withLock { $0.heads } }
    var bodies: [[UInt8]] { state.withLock { $0.bodies } }
    var connections: Int { state.withLock { $0.connections } }

    func stop() {
        shutdown(listenFD, Int32(SHUT_RDWR))
        close(listenFD)
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
        RawSocket.setTimeout(fd, seconds: 15)
        guard let head = try? RawSocket.readHead(fd) else { return }
        var body: [UInt8] = []
        if let line = head.split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("content-length:") }),
           let length = Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)), length > 0 {
            var bytes = [UInt8](repeating: 0, count: length)
            var got = 0
            while got < length {
                let n = bytes[got...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n <= 0 { break }
                got += n
            }
            body = Array(bytes[0..<got])
        }
        state.withLock {
            $0.heads.append(head)
            $0.bodies.append(body)
        }
        let target = head.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
        var payload: [UInt8]
        if target.hasPrefix("/big?size="), let size = Int(target.dropFirst("/big?size=".count)) {
            payload = (0..<size).map { UInt8(truncatingIfNeeded: $0 % 251) }
        } else {
            let described = body.count <= 100 ? String(decoding: body, as: UTF8.self) : "\(body.count) bytes"
            payload = Array("hello from origin \(target)\(body.isEmpty ? "" : " body=\(described)")\n".utf8)
        }
        let response = Array("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: \(payload.count)\r\nConnection: close\r\n\r\n".utf8) + payload
        try? RawSocket.write(fd, response)
    }
}

/// The expected body of `/big?size=N`.
func bigPayload(_ size: Int) -> [UInt8] {
    (0..<size).map { UInt8(truncatingIfNeeded: $0 % 251) }
}
