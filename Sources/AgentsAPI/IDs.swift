import Synchronization

/// Object identifiers: a short type prefix and a 26-character time-ordered part (48-bit
/// millisecond timestamp + 80 random bits, Crockford base32, lowercase).
///
/// IDs minted by one process are strictly increasing, so ID order is creation order and cursor
/// pagination is an index range scan. The contract leaves ID formats open; these prefixes are ours.
public enum IDPrefix: String, Sendable, CaseIterable {
    case agent
    case session = "sess"
    case turn
    case item
    case event = "evt"
    case call
    case project = "proj"
    case apiKey = "key"
    case environment = "env"
    case template = "tmpl"
    case artifact = "art"
    case file
}

public struct IDGenerator: Sendable {
    private struct State {
        var lastMillis: UInt64 = 0
        var lastRandomHigh: UInt16 = 0
        var lastRandomLow: UInt64 = 0
    }

    private static let state = Mutex(State())
    private static let alphabet: [UInt8] = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)

    /// A new ID such as `sess_01jd3m0m5r6k8v2q9x4y7z1abc`.
    public static func make(_ prefix: IDPrefix) -> String {
        prefix.rawValue + "_" + next()
    }

    /// The 26-character time-ordered part.
    public static func next() -> String {
        let now = UInt64(currentTimeMillis())
        let (millis, high, low) = state.withLock { s -> (UInt64, UInt16, UInt64) in
            if now > s.lastMillis {
                var rng = SystemRandomNumberGenerator()
                s.lastMillis = now
                // Keep headroom in the random part so increments never overflow in practice.
                s.lastRandomHigh = UInt16.random(in: 0...0x7FFF, using: &rng)
                s.lastRandomLow = rng.next()
            } else {
                // Same (or earlier, if the clock stepped back) millisecond: increment.
                let (sum, overflow) = s.lastRandomLow.addingReportingOverflow(1)
                s.lastRandomLow = sum
                if overflow { s.lastRandomHigh &+= 1 }
            }
            return (s.lastMillis, s.lastRandomHigh, s.lastRandomLow)
        }
        return encode(millis: millis, high: high, low: low)
    }

    static func encode(millis: UInt64, high: UInt16, low: UInt64) -> String {
        // 128 bits laid out as 48 (time) + 16 + 64 (random); 26 base32 characters cover 130
        // bits, so the two leading bits are zero.
        var out = [UInt8](repeating: 0, count: 26)
        let hi = (millis << 16) | UInt64(high)  // top 64 bits
        let lo = low  // bottom 64 bits
        for i in 0..<26 {
            let bitFromRight = (25 - i) * 5  // position of this character's least significant bit
            let value: UInt64
            if bitFromRight >= 64 {
                value = (hi >> UInt64(bitFromRight - 64)) & 0x1F
            } else if bitFromRight + 5 <= 64 {
                value = (lo >> UInt64(bitFromRight)) & 0x1F
            } else {
                let lowBits = 64 - bitFromRight
                let fromLo = lo >> UInt64(bitFromRight)
                let fromHi = (hi & ((1 << UInt64(5 - lowBits)) - 1)) << UInt64(lowBits)
                value = (fromLo | fromHi) & 0x1F
            }
            out[i] = alphabet[Int(value)]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether `id` looks like one of ours with the given prefix (used to reject garbage early,
    /// before touching storage).
    public static func isWellFormed(_ id: String, prefix: IDPrefix) -> Bool {
        let utf8 = id.utf8
        let expected = prefix.rawValue.utf8.count + 1 + 26
        guard utf8.count == expected, id.hasPrefix(prefix.rawValue + "_") else { return false }
        return utf8.dropFirst(prefix.rawValue.utf8.count + 1).allSatisfy { alphabet.contains($0) }
    }
}

/// Wall-clock time in milliseconds since the Unix epoch.
public func currentTimeMillis() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}

/// Wall-clock time in Unix seconds, the API's timestamp unit.
public func currentUnixSeconds() -> Int64 {
    currentTimeMillis() / 1000
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
