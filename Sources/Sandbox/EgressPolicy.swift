#if canImport(Glibc)
import Glibc
#endif

/// Which destinations a sandbox may reach through its egress proxy (`EgressProxy`).
///
/// Two checks apply to every request:
/// 1. `permits(host:)`, on the host name the client asked for (before any DNS lookup).
/// 2. `isForbidden(address:)`, on every address the name resolves to: loopback, private,
///    link-local, CGNAT, multicast, unspecified, reserved and cloud-metadata addresses are always
///    refused, whatever the access mode, so a sandbox can never reach the runtime's own API or
///    another service of the host or its network.
///
/// Domain lists: matching is case-insensitive and ignores a trailing dot; a listed domain matches
/// itself and all its subdomains (`example.com` matches `example.com` and `api.example.com`, not
/// `badexample.com`). A leading `*.` or `.` in a list entry is ignored (`*.example.com` is the same
/// as `example.com`).
///
/// - `.enabled`: any host name, and IP literals, subject to the address check.
/// - `.restricted(allowed:blocked:)`: never IP literals. A host in `blocked` is refused. When
///   `allowed` is non-empty, only hosts in it are permitted; when it is empty and `blocked` is not,
///   everything not blocked is permitted. When both are empty, nothing is permitted.
public struct EgressPolicy: Sendable, Equatable {
    public enum Access: Sendable, Equatable {
        case enabled
        case restricted(allowed: [String], blocked: [String])
    }

    public var access: Access

    public init(access: Access) {
        switch access {
        case .enabled:
            self.access = .enabled
        case .restricted(let allowed, let blocked):
            self.access = .restricted(allowed: Self.normalizedList(allowed), blocked: Self.normalizedList(blocked))
        }
    }

    /// Any public destination.
    public static let enabled = EgressPolicy(access: .enabled)

    public static func restricted(allowed: [String] = [], blocked: [String] = []) -> EgressPolicy {
        EgressPolicy(access: .restricted(allowed: allowed, blocked: blocked))
    }

    /// Whether a request for `host` (a name or an IP literal, IPv6 with or without brackets) may
    /// go ahead, before resolution. Malformed names are never permitted.
    public func permits(host: String) -> Bool {
        guard let name = Self.normalizedHost(host) else { return false }
        if Self.isIPLiteral(name) {
            return access == .enabled
        }
        switch access {
        case .enabled:
            return true
        case .restricted(let allowed, let blocked):
            if Self.matches(name, blocked) { return false }
            if !allowed.isEmpty { return Self.matches(name, allowed) }
            return !blocked.isEmpty
        }
    }

    // MARK: Host names

    /// The lower-cased host without a trailing dot (and without the brackets of an IPv6 literal),
    /// or nil when it is not a plausible host: empty, longer than 253 bytes, or with characters
    /// other than letters, digits, `-`, `_` and `.` (and `:` in an IPv6 literal), or an empty label.
    public static func normalizedHost(_ host: String) -> String? {
        var h = host.lowercased()
        if h.hasPrefix("[") && h.hasSuffix("]") && h.count > 2 {
            h = String(h.dropFirst().dropLast())
            return Address(h)?.bytes.count == 16 ? h : nil
        }
        if h.contains(":") {
            return Address(h)?.bytes.count == 16 ? h : nil
        }
        if h.hasSuffix(".") { h.removeLast() }
        guard !h.isEmpty, h.utf8.count <= 253 else { return nil }
        for label in h.split(separator: ".", omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.utf8.count <= 63 else { return nil }
            for byte in label.utf8 {
                let ok = (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2D || byte == 0x5F
                guard ok else { return nil }
            }
        }
        return h
    }

    /// Whether a (normalized) host is an IP literal rather than a name: any IPv6 address, and any
    /// name whose last label is numeric (decimal, or hexadecimal with `0x`), which the resolver
    /// reads as an IPv4 address in one of its legacy forms (`127.1`, `2130706433`, `0x7f.1`).
    public static func isIPLiteral(_ host: String) -> Bool {
        if host.contains(":") { return true }
        var h = host
        if h.hasSuffix(".") { h.removeLast() }
        guard let last = h.split(separator: ".", omittingEmptySubsequences: false).last, !last.isEmpty else { return false }
        if last.allSatisfy({ $0.isASCII && $0.isNumber }) { return true }
        let lower = last.lowercased()
        return lower.hasPrefix("0x") && lower.dropFirst(2).allSatisfy { $0.isHexDigit }
    }

    static func normalizedList(_ list: [String]) -> [String] {
        var out: [String] = []
        for entry in list {
            var e = entry.trimmingASCIIWhitespace().lowercased()
            if e.hasPrefix("*.") { e.removeFirst(2) }
            while e.hasPrefix(".") { e.removeFirst() }
            while e.hasSuffix(".") { e.removeLast() }
            if !e.isEmpty && !out.contains(e) { out.append(e) }
        }
        return out
    }

    static func matches(_ host: String, _ domains: [String]) -> Bool {
        domains.contains { host == $0 || host.hasSuffix("." + $0) }
    }

    // MARK: Addresses

    /// An IPv4 (4 bytes) or IPv6 (16 bytes) address.
    public struct Address: Sendable, Hashable, CustomStringConvertible {
        public let bytes: [UInt8]

        public init?(bytes: [UInt8]) {
            guard bytes.count == 4 || bytes.count == 16 else { return nil }
            self.bytes = bytes
        }

        /// Parses a literal in standard notation (dotted quad; IPv6 with or without brackets).
        public init?(_ text: String) {
            var t = text
            if t.hasPrefix("[") && t.hasSuffix("]") { t = String(t.dropFirst().dropLast()) }
            if t.contains(":") {
                var a = in6_addr()
                guard inet_pton(AF_INET6, t, &a) == 1 else { return nil }
                bytes = withUnsafeBytes(of: &a) { Array($0) }
            } else {
                var a = in_addr()
                guard inet_pton(AF_INET, t, &a) == 1 else { return nil }
                bytes = withUnsafeBytes(of: &a) { Array($0) }
            }
        }

        public var isIPv4: Bool { bytes.count == 4 }

        public var description: String {
            var buffer = [CChar](repeating: 0, count: 64)
            let ok = bytes.withUnsafeBytes { raw in
                inet_ntop(isIPv4 ? AF_INET : AF_INET6, raw.baseAddress, &buffer, socklen_t(buffer.count)) != nil
            }
            guard ok, let end = buffer.firstIndex(of: 0) else { return "?" }
            return String(decoding: buffer[..<end].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    /// Whether `address` must never be reached from a sandbox: IPv4 0.0.0.0/8, 10/8, 100.64/10
    /// (CGNAT), 127/8, 169.254/16 (link-local and the cloud metadata service), 172.16/12,
    /// 192.0.0/24, 192.168/16, 198.18/15, 224/4 (multicast) and 240/4 (reserved, with
    /// 255.255.255.255); IPv6 `::`, `::1`, fc00::/7 (unique local, with fd00:ec2::254), fe80::/10
    /// (link-local), fec0::/10 (site-local), ff00::/8 (multicast), 64:ff9b:1::/48 (local NAT64),
    /// and any IPv6 address that embeds a forbidden IPv4 address: IPv4-mapped (::ffff:0:0/96),
    /// IPv4-compatible (::/96), IPv4-translated (::ffff:0:0:0/96), NAT64 (64:ff9b::/96) and 6to4
    /// (2002::/16).
    public static func isForbidden(address: Address) -> Bool {
        let b = address.bytes
        if b.count == 4 { return isForbiddenIPv4(b[0], b[1], b[2], b[3]) }
        guard b.count == 16 else { return true }
        func embedded(_ at: Int) -> Bool { isForbiddenIPv4(b[at], b[at + 1], b[at + 2], b[at + 3]) }
        let zeros = { (range: Range<Int>) in b[range].allSatisfy { $0 == 0 } }
        // ::/96 (unspecified, loopback and IPv4-compatible): forbidden when the IPv4 part is, which
        // covers :: (0.0.0.0) and ::1 (0.0.0.1).
        if zeros(0..<12) { return embedded(12) }
        // ::ffff:a.b.c.d (mapped) and ::ffff:0:a.b.c.d (translated).
        if zeros(0..<10) && b[10] == 0xFF && b[11] == 0xFF { return embedded(12) }
        if zeros(0..<8) && b[8] == 0xFF && b[9] == 0xFF && b[10] == 0 && b[11] == 0 { return embedded(12) }
        // 64:ff9b::/96, the well-known NAT64 prefix.
        if b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B && zeros(4..<12) { return embedded(12) }
        // 64:ff9b:1::/48, local-use NAT64: could translate to anything.
        if b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B && b[4] == 0x00 && b[5] == 0x01 { return true }
        // 2002::/16 (6to4) carries an IPv4 address in bits 16–47.
        if b[0] == 0x20 && b[1] == 0x02 { return embedded(2) }
        if b[0] & 0xFE == 0xFC { return true }  // fc00::/7
        if b[0] == 0xFE && b[1] & 0xC0 == 0x80 { return true }  // fe80::/10
        if b[0] == 0xFE && b[1] & 0xC0 == 0xC0 { return true }  // fec0::/10
        if b[0] == 0xFF { return true }  // ff00::/8
        return false
    }

    /// `isForbidden(address:)` for a literal; anything that is not an IP address is forbidden.
    public static func isForbidden(address text: String) -> Bool {
        guard let address = Address(text) else { return true }
        return isForbidden(address: address)
    }

    static func isForbiddenIPv4(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) -> Bool {
        switch a {
        case 0, 10, 127: return true  // "this network", private, loopback
        case 100: return b & 0xC0 == 64  // 100.64.0.0/10
        case 169: return b == 254  // link-local, 169.254.169.254
        case 172: return b & 0xF0 == 16  // 172.16.0.0/12
        case 192: return (b == 0 && c == 0) || b == 168  // 192.0.0.0/24, 192.168.0.0/16
        case 198: return b & 0xFE == 18  // 198.18.0.0/15
        case 224...255: return true  // multicast, reserved, broadcast
        default: return false
        }
    }
}

extension String {
    fileprivate func trimmingASCIIWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\n" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\n" || l == "\r" { s.removeLast() }
        return String(s)
    }
}
