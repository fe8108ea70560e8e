import AgentsAPI
import Testing

@Suite("JSONWriter")
struct JSONWriterTests {
    @Test func escapesQuotesBackslashesAndControlCharacters() {
        let value: JSONValue = .string("a\"b\\c\n\r\t\u{0}\u{01}\u{08}\u{0C}\u{1F}/")
        #expect(JSONWriter.string(value) == #""a\"b\\c\n\r\t\u0000\u0001\u0008\u000c\u001f/""#)
    }

    @Test func everyControlCharacterIsEscapedAndReadsBack() throws {
        for scalar in (0..<0x20 as Range<UInt32>).compactMap({ Unicode.Scalar($0) }) {
            let value = JSONValue.string("x\(Character(scalar))y")
            let bytes = JSONWriter.bytes(value)
            #expect(!bytes.contains { $0 < 0x20 }, "raw control byte written for U+\(String(scalar.value, radix: 16))")
            #expect(try JSONParser.parse(bytes) == value)
        }
    }

    @Test func nonASCIIIsWrittenRaw() {
        let value: JSONValue = ["clé": "☃ 😀 \u{7F} \u{2028}"]
        let bytes = JSONWriter.bytes(value)
        #expect(bytes == Array(#"{"clé":"☃ 😀 \#u{7F} \#u{2028}"}"#.utf8))
        #expect(!JSONWriter.string(value).contains("\\u"))
    }

    @Test func keysAreEscapedLikeValues() throws {
        let value: JSONValue = ["a\"b": 1, "c\\d": 2, "e\nf": 3]
        #expect(JSONWriter.string(value) == #"{"a\"b":1,"c\\d":2,"e\nf":3}"#)
        #expect(try JSONParser.parse(JSONWriter.bytes(value)) == value)
    }

    @Test func outputIsCompactAndKeepsInsertionOrder() {
        var object = JSONObject()
        object["z"] = 1
        object["a"] = [true, false, nil]
        object["m"] = ["y": 2.5, "b": "s"]
        #expect(JSONWriter.string(.object(object)) == #"{"z":1,"a":[true,false,null],"m":{"y":2.5,"b":"s"}}"#)
    }

    @Test func replacingAValueKeepsItsPositionAndRemovingDropsTheKey() {
        var object: JSONObject = ["a": 1, "b": 2, "c": 3]
        object["b"] = "two"
        object["a"] = nil
        #expect(JSONWriter.string(.object(object)) == #"{"b":"two","c":3}"#)
    }

    @Test(arguments: [
        (JSONValue.double(1.5), "1.5"),
        (.double(2.0), "2.0"),
        (.double(-0.0), "-0.0"),
        (.double(1e-5), "1e-05"),
        (.double(1e300), "1e+300"),
        (.int(-7), "-7"),
    ])
    func numbers(_ value: JSONValue, _ expected: String) throws {
        #expect(JSONWriter.string(value) == expected)
        #expect(try JSONParser.parse(expected) == value)
    }

    @Test(arguments: [Double.infinity, -Double.infinity, Double.nan])
    func nonFiniteDoublesAreWrittenAsNull(_ d: Double) throws {
        let written = JSONWriter.string(["x": .double(d)])
        #expect(written == #"{"x":null}"#)
        #expect(throws: Never.self) { try JSONParser.parse(written) }
    }

    @Test func objectEqualityIgnoresKeyOrderButOutputDoesNot() {
        let a: JSONValue = ["x": 1, "y": 2]
        let b: JSONValue = ["y": 2, "x": 1]
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(JSONWriter.string(a) != JSONWriter.string(b))
    }
}

@Suite("JSON round-trip property")
struct JSONRoundTripPropertyTests {
    /// Random JSON trees from a fixed seed must survive write → parse unchanged, and writing
    /// again must give identical bytes (key order and number kinds preserved).
    @Test(arguments: [1, 2, 3, 0xC0FFEE] as [UInt64])
    func randomTreesRoundTrip(seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        for _ in 0..<300 {
            let value = RandomJSON.value(depth: 0, using: &rng)
            let bytes = JSONWriter.bytes(value)
            let parsed = try JSONParser.parse(bytes)
            #expect(parsed == value, "\(JSONWriter.string(value))")
            #expect(JSONWriter.bytes(parsed) == bytes)
        }
    }

    @Test func randomDoublesRoundTripExactly() throws {
        var rng = SeededGenerator(seed: 42)
        var checked = 0
        while checked < 5_000 {
            let d = Double(bitPattern: rng.next())
            guard d.isFinite else { continue }
            checked += 1
            let parsed = try JSONParser.parse(JSONWriter.bytes(.double(d)))
            guard case .double(let back) = parsed else {
                Issue.record("\(d) came back as \(parsed)")
                continue
            }
            #expect(back.bitPattern == d.bitPattern, "\(d) came back as \(back)")
        }
    }
}

enum RandomJSON {
    static func value(depth: Int, using rng: inout SeededGenerator) -> JSONValue {
        let containerAllowed = depth < 6
        switch Int.random(in: 0..<(containerAllowed ? 9 : 7), using: &rng) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2:
            let specials: [Int64] = [0, 1, -1, .max, .min, .max - 1, .min + 1]
            return .int(Bool.random(using: &rng) ? specials.randomElement(using: &rng)! : Int64.random(in: .min ... .max, using: &rng))
        case 3:
            let specials: [Double] = [0, -0.0, 1.5, 1e-5, -2.25e100, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 0.1]
            if Bool.random(using: &rng) { return .double(specials.randomElement(using: &rng)!) }
            var d: Double
            repeat { d = Double(bitPattern: rng.next()) } while !d.isFinite
            return .double(d)
        case 4, 5, 6: return .string(string(using: &rng))
        case 7:
            return .array((0..<Int.random(in: 0...5, using: &rng)).map { _ in value(depth: depth + 1, using: &rng) })
        default:
            var object = JSONObject()
            for _ in 0..<Int.random(in: 0...5, using: &rng) {
                object[string(using: &rng)] = value(depth: depth + 1, using: &rng)
            }
            return .object(object)
        }
    }

    static func string(using rng: inout SeededGenerator) -> String {
        var scalars = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...12, using: &rng) {
            let value: UInt32
            switch Int.random(in: 0..<6, using: &rng) {
            case 0: value = UInt32.random(in: 0..<0x20, using: &rng)  // control characters
            case 1: value = [0x22, 0x5C, 0x2F].randomElement(using: &rng)!  // " \ /
            case 2: value = UInt32.random(in: 0x80..<0xD800, using: &rng)
            case 3: value = UInt32.random(in: 0xE000...0xFFFF, using: &rng)
            case 4: value = UInt32.random(in: 0x10000...0x10FFFF, using: &rng)
            default: value = UInt32.random(in: 0x20..<0x7F, using: &rng)
            }
            scalars.append(Unicode.Scalar(value)!)
        }
        return String(scalars)
    }
}
