/// Standard base64 (RFC 4648 §4, with padding). Decoding is strict: it rejects characters
/// outside the alphabet, whitespace, missing or misplaced padding, and non-zero padding bits.
enum Base64 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// 0–63 for alphabet characters, 0xFF otherwise.
    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = UInt8(i) }
        return table
    }()

    static func encodedCount(_ count: Int) -> Int {
        (count / 3 + (count % 3 == 0 ? 0 : 1)) * 4
    }

    static func encode(_ input: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        out.reserveCapacity(out.count + encodedCount(input.count))
        alphabet.withUnsafeBufferPointer { a in
            var i = 0
            let n = input.count
            while i + 3 <= n {
                let b0 = Int(input[i]), b1 = Int(input[i + 1]), b2 = Int(input[i + 2])
                out.append(a[b0 >> 2])
                out.append(a[((b0 & 0x03) << 4) | (b1 >> 4)])
                out.append(a[((b1 & 0x0F) << 2) | (b2 >> 6)])
                out.append(a[b2 & 0x3F])
                i += 3
            }
            let rest = n - i
            if rest == 1 {
                let b0 = Int(input[i])
                out.append(a[b0 >> 2])
                out.append(a[(b0 & 0x03) << 4])
                out.append(UInt8(ascii: "="))
                out.append(UInt8(ascii: "="))
            } else if rest == 2 {
                let b0 = Int(input[i]), b1 = Int(input[i + 1])
                out.append(a[b0 >> 2])
                out.append(a[((b0 & 0x03) << 4) | (b1 >> 4)])
                out.append(a[(b1 & 0x0F) << 2])
                out.append(UInt8(ascii: "="))
            }
        }
    }

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        bytes.withUnsafeBytes { encode($0, into: &out) }
        return String(decoding: out, as: UTF8.self)
    }

    /// The decoded bytes, or nil when `text` is not canonical padded base64.
    static func decode(_ text: String) -> [UInt8]? {
        var input = Array(text.utf8)
        return input.withUnsafeMutableBufferPointer { decode(UnsafeBufferPointer($0)) }
    }

    static func decode(_ input: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        let n = input.count
        if n == 0 { return [] }
        guard n % 4 == 0 else { return nil }
        var padding = 0
        if input[n - 1] == UInt8(ascii: "=") {
            padding = input[n - 2] == UInt8(ascii: "=") ? 2 : 1
        }
        var out: [UInt8] = []
        out.reserveCapacity(n / 4 * 3)
        return decodeTable.withUnsafeBufferPointer { t -> [UInt8]? in
            var i = 0
            while i < n {
                let last = i + 4 == n
                let c0 = t[Int(input[i])], c1 = t[Int(input[i + 1])]
                guard c0 != 0xFF, c1 != 0xFF else { return nil }
                if last && padding == 2 {
                    guard c1 & 0x0F == 0 else { return nil }
                    out.append(c0 << 2 | c1 >> 4)
                    return out
                }
                let c2 = t[Int(input[i + 2])]
                guard c2 != 0xFF else { return nil }
                if last && padding == 1 {
                    guard c2 & 0x03 == 0 else { return nil }
                    out.append(c0 << 2 | c1 >> 4)
                    out.append(c1 << 4 | c2 >> 2)
                    return out
                }
                let c3 = t[Int(input[i + 3])]
                guard c3 != 0xFF else { return nil }
                out.append(c0 << 2 | c1 >> 4)
                out.append(c1 << 4 | c2 >> 2)
                out.append(c2 << 6 | c3)
                i += 4
            }
            return out
        }
    }
}
