/// Why a document is not acceptable JSON, and where.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var offset: Int

    public var description: String { "\(message) at byte \(offset)" }
}

/// A strict RFC 8259 parser: rejects invalid UTF-8, lone surrogates, trailing garbage, leading
/// zeros and nesting deeper than `maxDepth`. It never traps on input.
public struct JSONParser: ~Copyable {
    public static let defaultMaxDepth = 64

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private let maxDepth: Int
    private let pruning: Pruning?

    /// A member of the top-level object whose value, if an object, keeps only some members.
    private struct Pruning {
        var key: String
        var keep: Set<String>
    }

    private init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int, pruning: Pruning? = nil) {
        self.bytes = bytes
        self.maxDepth = maxDepth
        self.pruning = pruning
    }

    public static func parse(_ bytes: some Sequence<UInt8>, maxDepth: Int = defaultMaxDepth) throws(JSONParseError) -> JSONValue {
        try parse(bytes, maxDepth: maxDepth, pruning: nil)
    }

    /// Parses like ``parse(_:maxDepth:)``, except that when the top-level value is an object whose
    /// member `key` is an object, only that object's members named in `keep` are built. The
    /// others are checked (structure, escapes, control characters, nesting depth) and skipped
    /// without being built; their strings are not checked for valid UTF-8, since none is made
    /// from them. For a streamed model response's lifecycle events, which repeat the whole
    /// request (instructions, tools) and output in every `response` object.
    public static func parse(
        _ bytes: some Sequence<UInt8>, keepingOnly keep: Set<String>, under key: String, maxDepth: Int = defaultMaxDepth
    ) throws(JSONParseError) -> JSONValue {
        try parse(bytes, maxDepth: maxDepth, pruning: Pruning(key: key, keep: keep))
    }

    private static func parse(_ bytes: some Sequence<UInt8>, maxDepth: Int, pruning: Pruning?) throws(JSONParseError) -> JSONValue {
        let array = Array(bytes)
        do {
            return try array.withUnsafeBufferPointer { buffer in
                var parser = JSONParser(bytes: buffer, maxDepth: maxDepth, pruning: pruning)
                return try parser.parseDocument()
            }
        } catch let error as JSONParseError {
            throw error
        } catch {
            throw JSONParseError(message: "invalid JSON", offset: 0)
        }
    }

    public static func parse(_ string: String, maxDepth: Int = defaultMaxDepth) throws(JSONParseError) -> JSONValue {
        try parse(Array(string.utf8), maxDepth: maxDepth)
    }

    private mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        skipWhitespace()
        let value = try parseValue(depth: 0)
        skipWhitespace()
        if index != bytes.count {
            throw fail("unexpected data after the JSON value")
        }
        return value
    }

    private func fail(_ message: String) -> JSONParseError {
        JSONParseError(message: message, offset: index)
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        guard index < bytes.count else { throw fail("unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw fail("unexpected character")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw fail("unexpected end of input") }
        let start = literal.utf8Start
        for i in 0..<count where bytes[index + i] != start[i] {
            throw fail("invalid literal")
        }
        index += count
    }

    private mutating func parseObject(depth: Int, keeping keep: Set<String>? = nil) throws(JSONParseError) -> JSONValue {
        guard depth <= maxDepth else { throw fail("JSON nested too deeply (limit \(maxDepth))") }
        index += 1
        var object = JSONObject()
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(object)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let key = try parseString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            index += 1
            skipWhitespace()
            if let keep, !keep.contains(key) {
                try skipValue(depth: depth)
            } else {
                let value: JSONValue
                if depth == 1, let pruning, key == pruning.key, index < bytes.count, bytes[index] == UInt8(ascii: "{") {
                    value = try parseObject(depth: depth + 1, keeping: pruning.keep)
                } else {
                    value = try parseValue(depth: depth)
                }
                guard object.appendNew(key, value) else { throw fail("duplicate key \"\(key.prefix(64))\"") }
            }
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end of input") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(object)
            }
            throw fail("expected ',' or '}'")
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= maxDepth else { throw fail("JSON nested too deeply (limit \(maxDepth))") }
        index += 1
        var array: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(array)
        }
        while true {
            skipWhitespace()
            array.append(try parseValue(depth: depth))
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end of input") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(array)
            }
            throw fail("expected ',' or ']'")
        }
    }

    /// Checks one value without building it (see ``parse(_:keepingOnly:under:maxDepth:)``).
    private mutating func skipValue(depth: Int) throws(JSONParseError) {
        guard index < bytes.count else { throw fail("unexpected end of input") }
        let open = bytes[index]
        switch open {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            guard depth + 1 <= maxDepth else { throw fail("JSON nested too deeply (limit \(maxDepth))") }
            let isObject = open == UInt8(ascii: "{")
            let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
            index += 1
            skipWhitespace()
            if index < bytes.count, bytes[index] == close {
                index += 1
                return
            }
            while true {
                skipWhitespace()
                if isObject {
                    guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
                    try skipString()
                    skipWhitespace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                    index += 1
                    skipWhitespace()
                }
                try skipValue(depth: depth + 1)
                skipWhitespace()
                guard index < bytes.count else { throw fail("unexpected end of input") }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                if bytes[index] == close {
                    index += 1
                    return
                }
                throw fail(isObject ? "expected ',' or '}'" : "expected ',' or ']'")
            }
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "t"): try expectLiteral("true")
        case UInt8(ascii: "f"): try expectLiteral("false")
        case UInt8(ascii: "n"): try expectLiteral("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): _ = try parseNumber()
        default: throw fail("unexpected character")
        }
    }

    /// Checks a string's escapes and control characters without making it.
    private mutating func skipString() throws(JSONParseError) {
        index += 1  // opening quote
        while true {
            guard index < bytes.count else { throw fail("unterminated string") }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return
            }
            if byte == UInt8(ascii: "\\") {
                index += 1
                _ = try escapedScalar()
                continue
            }
            if byte < 0x20 { throw fail("control character in string") }
            index += 1
        }
    }

    private mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = index
        var isInteger = true
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count else { throw fail("invalid number") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < bytes.count, isDigit(bytes[index]) { throw fail("leading zeros are not allowed") }
        } else if isDigit(bytes[index]) {
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        } else {
            throw fail("invalid number")
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else { throw fail("invalid number") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else { throw fail("invalid number") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if isInteger, index - start <= 18 {
            // At most 18 digits: fits in an Int64 without overflow checks.
            var value: Int64 = 0
            let negative = bytes[start] == UInt8(ascii: "-")
            for i in (negative ? start + 1 : start)..<index { value = value &* 10 &+ Int64(bytes[i] &- UInt8(ascii: "0")) }
            return .int(negative ? -value : value)
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        if isInteger, let value = Int64(text) {
            return .int(value)
        }
        guard let value = Double(text), value.isFinite else { throw JSONParseError(message: "number out of range", offset: start) }
        return .double(value)
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private mutating func parseString() throws(JSONParseError) -> String {
        index += 1  // opening quote
        let start = index
        var ascii = true
        // Fast path: a string without escapes is one run of bytes, validated and copied once.
        while true {
            guard index < bytes.count else { throw fail("unterminated string") }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let run = UnsafeBufferPointer(rebasing: bytes[start..<index])
                if !ascii, let bad = Self.firstInvalidUTF8(run) { throw JSONParseError(message: "invalid UTF-8 in string", offset: start + bad) }
                index += 1
                return String(decoding: run, as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw fail("control character in string") }
            ascii = ascii && byte < 0x80
            index += 1
        }
        // With escapes: runs and decoded escapes are gathered as UTF-8, then made a string once.
        var utf8: [UInt8] = []
        utf8.reserveCapacity(index - start + 16)
        var runStart = start
        while true {
            guard index < bytes.count else { throw fail("unterminated string") }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                let run = UnsafeBufferPointer(rebasing: bytes[runStart..<index])
                if !ascii, let bad = Self.firstInvalidUTF8(run) { throw JSONParseError(message: "invalid UTF-8 in string", offset: runStart + bad) }
                utf8.append(contentsOf: run)
                ascii = true
                index += 1
                if byte == UInt8(ascii: "\"") { return String(decoding: utf8, as: UTF8.self) }
                try parseEscape(into: &utf8)
                runStart = index
                continue
            }
            if byte < 0x20 { throw fail("control character in string") }
            ascii = ascii && byte < 0x80
            index += 1
        }
    }

    /// The offset in `run` of the first byte that does not start or continue a well-formed
    /// UTF-8 sequence (RFC 3629: no overlong forms, surrogates or values past U+10FFFF), or nil.
    static func firstInvalidUTF8(_ run: UnsafeBufferPointer<UInt8>) -> Int? {
        var i = 0
        let end = run.count
        while i < end {
            let b = run[i]
            if b < 0x80 {
                i += 1
                continue
            }
            let length: Int
            switch b {
            case 0xC2...0xDF: length = 2
            case 0xE0...0xEF: length = 3
            case 0xF0...0xF4: length = 4
            default: return i
            }
            guard i + length <= end else { return i }
            // Allowed ranges for the second byte exclude overlong forms and surrogates.
            let second = run[i + 1]
            let valid: ClosedRange<UInt8>
            switch b {
            case 0xE0: valid = 0xA0...0xBF
            case 0xED: valid = 0x80...0x9F
            case 0xF0: valid = 0x90...0xBF
            case 0xF4: valid = 0x80...0x8F
            default: valid = 0x80...0xBF
            }
            guard valid.contains(second) else { return i }
            for k in 2..<length where !(0x80...0xBF).contains(run[i + k]) { return i }
            i += length
        }
        return nil
    }

    private mutating func parseEscape(into utf8: inout [UInt8]) throws(JSONParseError) {
        let scalar = try escapedScalar()
        if scalar.isASCII {
            utf8.append(UInt8(scalar.value))
        } else {
            utf8.append(contentsOf: UTF8.encode(scalar)!)
        }
    }

    /// The scalar an escape (after its backslash) stands for; a surrogate pair is one scalar.
    private mutating func escapedScalar() throws(JSONParseError) -> Unicode.Scalar {
        guard index < bytes.count else { throw fail("unterminated escape") }
        let byte = bytes[index]
        index += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): return Unicode.Scalar(byte)
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            let first = try parseHex4()
            let scalar: Unicode.Scalar?
            if (0xD800...0xDBFF).contains(first) {
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                    throw fail("unpaired surrogate in string")
                }
                index += 2
                let second = try parseHex4()
                guard (0xDC00...0xDFFF).contains(second) else { throw fail("unpaired surrogate in string") }
                scalar = Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))
            } else if (0xDC00...0xDFFF).contains(first) {
                throw fail("unpaired surrogate in string")
            } else {
                scalar = Unicode.Scalar(first)
            }
            guard let scalar else { throw fail("invalid escape") }
            return scalar
        default:
            throw fail("invalid escape")
        }
    }

    private mutating func parseHex4() throws(JSONParseError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw fail("invalid unicode escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw fail("invalid unicode escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }
}
