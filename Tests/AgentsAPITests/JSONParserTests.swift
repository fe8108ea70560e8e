import AgentsAPI
import Testing

@Suite("JSONParser: valid documents")
struct JSONParserValidTests {
    /// Compact documents whose written form is exactly the input: parsing and writing them back
    /// must give the same bytes, which also shows that key order is kept.
    @Test(arguments: [
        #"{"b":1,"a":[true,false,null],"c":{"z":"y","x":1.5}}"#,
        #"{"zeta":1,"alpha":2,"mid":3}"#,
        #"[]"#,
        #"{}"#,
        #"[[],{},[{}],{"":""}]"#,
        #""plain""#,
        #"0"#,
        #"-1"#,
        #"9223372036854775807"#,
        #"-9223372036854775808"#,
        #"1.5"#,
        #"-0.0"#,
        #"1e-05"#,
        #"1e+300"#,
        #"true"#,
        #"null"#,
        #"{"nested":{"deeper":{"deepest":[1,2,{"k":"v"}]}}}"#,
        #""café ☃ 😀""#,
    ])
    func writtenFormIsTheInput(_ text: String) throws {
        let value = try JSONParser.parse(text)
        #expect(JSONWriter.string(value) == text)
        #expect(try JSONParser.parse(JSONWriter.bytes(value)) == value)
    }

    @Test func objectKeyOrderIsKept() throws {
        let value = try JSONParser.parse(#"{"c":1,"a":2,"b":{"y":1,"x":2}}"#)
        #expect(value.keys == ["c", "a", "b"])
        #expect(value["b"]?.keys == ["y", "x"])
        #expect(JSONWriter.string(value) == #"{"c":1,"a":2,"b":{"y":1,"x":2}}"#)
    }

    @Test func integersStayIntegers() throws {
        #expect(try JSONParser.parse("0") == .int(0))
        #expect(try JSONParser.parse("-0") == .int(0))
        #expect(try JSONParser.parse("42") == .int(42))
        #expect(try JSONParser.parse("9223372036854775807") == .int(.max))
        #expect(try JSONParser.parse("-9223372036854775808") == .int(.min))
        #expect(JSONWriter.string(.int(.max)) == "9223372036854775807")
        #expect(JSONWriter.string(.int(.min)) == "-9223372036854775808")
        // Around the 18-digit fast path, both signs, parsed and written back unchanged.
        for text in ["999999999999999999", "-999999999999999999", "1000000000000000000", "-1000000000000000000", "123456789012345678", "-12", "7"] {
            #expect(try JSONWriter.string(JSONParser.parse(text)) == text)
            #expect(try JSONParser.parse(text) == .int(Int64(text)!))
        }
        // An integer is not equal to the same number written as a double.
        #expect(try JSONParser.parse("1") != JSONParser.parse("1.0"))
    }

    @Test func integersBeyondInt64BecomeDoubles() throws {
        #expect(try JSONParser.parse("9223372036854775808") == .double(9_223_372_036_854_775_808.0))
        #expect(try JSONParser.parse("-9223372036854775809") == .double(-9_223_372_036_854_775_809.0))
    }

    @Test(arguments: [
        ("1.5", 1.5), ("1e-5", 1e-5), ("1E+2", 100.0), ("2.0", 2.0), ("-2.5e3", -2500.0),
        ("0.1", 0.1), ("5e-324", Double.leastNonzeroMagnitude), ("1.7976931348623157e308", 1.7976931348623157e308),
    ])
    func doubles(_ text: String, _ expected: Double) throws {
        let value = try JSONParser.parse(text)
        #expect(value == .double(expected))
        // Writing keeps it a double and the exact value.
        let again = try JSONParser.parse(JSONWriter.bytes(value))
        guard case .double(let d) = again else {
            Issue.record("expected a double, got \(again)")
            return
        }
        #expect(d == expected)
    }

    @Test func negativeZeroKeepsItsSign() throws {
        let value = try JSONParser.parse("-0.0")
        guard case .double(let d) = value else {
            Issue.record("expected a double, got \(value)")
            return
        }
        #expect(d == 0 && d.sign == .minus)
        #expect(JSONWriter.string(value) == "-0.0")
    }

    @Test func whitespaceAroundTokensIsAllowed() throws {
        let value = try JSONParser.parse(" \t\r\n{ \"a\" :\t[ 1 ,\n2 ] , \"b\" : null }\r\n ")
        #expect(value == ["a": [1, 2], "b": nil])
    }

    @Test(arguments: [
        Named(#""\u00e9""#, "é"),
        Named(#""\u00E9""#, "é"),
        Named(#""\ud83d\ude00""#, "😀"),
        Named(#""\uD83D\uDE00""#, "😀"),
        Named(#""a\ud834\udd1eb""#, "a𝄞b"),
        Named(#""\u0000""#, "\u{0}"),
        Named(#""\u001f""#, "\u{1F}"),
        Named(#""\uffff""#, "\u{FFFF}"),
        Named(#""\"\\\/\b\f\n\r\t""#, "\"\\/\u{08}\u{0C}\n\r\t"),
        Named(#""mixed \u0041 and raw é""#, "mixed A and raw é"),
    ])
    func escapesDecode(_ c: Named<String>) throws {
        #expect(try JSONParser.parse(c.name) == .string(c.value))
    }

    @Test func rawMultibyteUTF8IsAccepted() throws {
        // é (2 bytes), ☃ (3 bytes), 😀 (4 bytes), also as an object key.
        let bytes: [UInt8] = [0x7B, 0x22, 0xC3, 0xA9, 0x22, 0x3A, 0x22, 0xE2, 0x98, 0x83, 0xF0, 0x9F, 0x98, 0x80, 0x22, 0x7D]
        #expect(try JSONParser.parse(bytes) == ["é": "☃😀"])
    }

    @Test func nestingExactlyAtMaxDepthIsAccepted() throws {
        let depth = JSONParser.defaultMaxDepth
        let arrays = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        #expect(throws: Never.self) { try JSONParser.parse(arrays) }

        var objects = "1"
        for _ in 0..<depth { objects = #"{"k":\#(objects)}"# }
        #expect(throws: Never.self) { try JSONParser.parse(objects) }

        #expect(throws: Never.self) { try JSONParser.parse("[[[1]]]", maxDepth: 3) }
        #expect(throws: Never.self) { try JSONParser.parse(#"[{"a":[1]}]"#, maxDepth: 3) }
        // Scalars are not nesting.
        #expect(throws: Never.self) { try JSONParser.parse("1", maxDepth: 0) }
    }
}

@Suite("JSONParser: strict rejections")
struct JSONParserRejectionTests {
    struct Rejection: Sendable, CustomTestStringConvertible {
        var name: String
        var bytes: [UInt8]
        /// The byte offset the error must report.
        var offset: Int
        var maxDepth = JSONParser.defaultMaxDepth

        init(_ name: String, _ text: String, offset: Int, maxDepth: Int = JSONParser.defaultMaxDepth) {
            self.name = name
            self.bytes = Array(text.utf8)
            self.offset = offset
            self.maxDepth = maxDepth
        }

        init(_ name: String, bytes: [UInt8], offset: Int) {
            self.name = name
            self.bytes = bytes
            self.offset = offset
        }

        var testDescription: String { name }
    }

    /// Errors found at the offending byte: the offset must point at it.
    @Test(arguments: [
        Rejection("empty input", "", offset: 0),
        Rejection("whitespace only", "  \n ", offset: 4),
        Rejection("trailing comma in array", "[1,2,]", offset: 5),
        Rejection("trailing comma in object", #"{"a":1,}"#, offset: 7),
        Rejection("comma without value", "[,1]", offset: 1),
        Rejection("missing comma", "[1 2]", offset: 3),
        Rejection("missing colon", #"{"a" 1}"#, offset: 5),
        Rejection("unquoted key", "{a:1}", offset: 1),
        Rejection("single-quoted string", "['a']", offset: 1),
        Rejection("leading zero", "01", offset: 1),
        Rejection("negative leading zero", "-01", offset: 2),
        Rejection("leading zero in array", "[00]", offset: 2),
        Rejection("plus sign", "+1", offset: 0),
        Rejection("bare decimal point", ".5", offset: 0),
        Rejection("no digits after point", "1.", offset: 2),
        Rejection("point then exponent", "1.e5", offset: 2),
        Rejection("empty exponent", "1e", offset: 2),
        Rejection("lone minus", "-", offset: 1),
        Rejection("NaN", "NaN", offset: 0),
        Rejection("Infinity", "Infinity", offset: 0),
        Rejection("hex number", "0x10", offset: 1),
        Rejection("number out of range", "1e400", offset: 0),
        Rejection("negative number out of range", "[-1e400]", offset: 1),
        Rejection("unterminated string", #""abc"#, offset: 4),
        Rejection("unterminated string in object", #"{"a":"b"#, offset: 7),
        Rejection("unterminated array", "[1,2", offset: 4),
        Rejection("unterminated object", #"{"a":1"#, offset: 6),
        Rejection("raw control character in string", "\"a\u{01}b\"", offset: 2),
        Rejection("raw newline in string", "\"a\nb\"", offset: 2),
        Rejection("raw tab in string", "\"a\tb\"", offset: 2),
        Rejection("bad hex digit in unicode escape", #""\u12G4""#, offset: 5),
        Rejection("short unicode escape at end", #""\u12"#, offset: 3),
        Rejection("trailing garbage after object", "{} x", offset: 3),
        Rejection("two values", "1 2", offset: 2),
        Rejection("extra closing bracket", "[1]]", offset: 3),
        Rejection("literal followed by garbage", "truex", offset: 4),
        Rejection("misspelt literal", "nul", offset: 0),
        Rejection("capitalised literal", "True", offset: 0),
        Rejection("one level too deep (arrays)", String(repeating: "[", count: 65) + String(repeating: "]", count: 65), offset: 64),
        Rejection("one level too deep (custom limit)", "[[[[1]]]]", offset: 3, maxDepth: 3),
        Rejection("one level too deep (objects)", #"[{"a":[{}]}]"#, offset: 7, maxDepth: 3),
        Rejection("byte 0xFF outside a string", bytes: [0x5B, 0xFF, 0x5D], offset: 1),
        Rejection("invalid UTF-8 [C3 28] at string start", bytes: [0x22, 0xC3, 0x28, 0x22], offset: 1),
    ])
    func rejectedAtTheOffendingByte(_ c: Rejection) {
        let error = parseError(c.bytes, maxDepth: c.maxDepth)
        #expect(error != nil, "accepted invalid JSON")
        #expect(error?.offset == c.offset, "\(error.map(String.init(describing:)) ?? "")")
        #expect(error?.message.isEmpty == false)
    }

    /// Errors noticed at the end of an escape: the offset must lie within the escape or just after it.
    @Test(arguments: [
        Named(#""\x""#, 1...3),
        Named(#""\a""#, 1...3),
        Named(#""\U0041""#, 1...3),
        Named(#""\ud800""#, 1...7),
        Named(#""\udc00""#, 1...7),
        Named(#""\ud800x""#, 1...7),
        Named(#""\ud800\u0041""#, 1...13),
        Named(#""\ud800\ud800""#, 1...13),
        Named(#""\ude00\ud83d""#, 1...7),
        Named(#"{"k\ud800":1}"#, 3...9),
    ])
    func invalidEscapesAndLoneSurrogates(_ c: Named<ClosedRange<Int>>) {
        let error = parseError(c.name)
        #expect(error != nil, "accepted invalid JSON")
        if let error { #expect(c.value.contains(error.offset), "\(error)") }
    }

    /// Invalid UTF-8 inside strings: the offset is the first byte of the invalid sequence.
    static let invalidUTF8: [Named<[UInt8]>] = [
        Named("truncated 2-byte sequence", [0x22, 0xC3, 0x22]),
        Named("truncated 3-byte sequence", [0x22, 0xE2, 0x82, 0x22]),
        Named("lone continuation byte", [0x22, 0x80, 0x22]),
        Named("overlong encoding of '/'", [0x22, 0xC0, 0xAF, 0x22]),
        Named("UTF-8 encoded surrogate U+D800", [0x22, 0xED, 0xA0, 0x80, 0x22]),
        Named("code point above U+10FFFF", [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22]),
        Named("byte 0xFE", [0x22, 0xFE, 0x22]),
        Named("invalid UTF-8 in a key", [0x7B, 0x22, 0xC3, 0x28, 0x22, 0x3A, 0x31, 0x7D]),
    ]

    @Test(arguments: invalidUTF8)
    func invalidUTF8InStrings(_ c: Named<[UInt8]>) {
        let error = parseError(c.value)
        #expect(error != nil, "accepted invalid UTF-8")
        let expected = c.value.firstIndex(of: 0x22)! + 1
        #expect(error?.offset == expected, "\(error.map(String.init(describing:)) ?? "")")
    }

    @Test(arguments: [
        // `"abc` + C3 28 + `"`: the invalid sequence starts at byte 4.
        Named("after ASCII", ([0x22, 0x61, 0x62, 0x63, 0xC3, 0x28, 0x22] as [UInt8], 4)),
        // é (valid, 2 bytes) then a truncated 3-byte sequence followed by 'A'.
        Named("after valid multibyte", ([0x22, 0xC3, 0xA9, 0xE2, 0x82, 0x41, 0x22], 3)),
        // An escape, then a lone continuation byte.
        Named("after an escape", ([0x22, 0x5C, 0x6E, 0x61, 0x80, 0x22], 4)),
    ])
    func invalidUTF8OffsetPointsAtTheInvalidByte(_ c: Named<([UInt8], Int)>) {
        let error = parseError(c.value.0)
        #expect(error?.offset == c.value.1, "\(error.map(String.init(describing:)) ?? "")")
    }

    @Test(arguments: [
        #"{"a":1,"a":2}"#,
        #"{"a":1,"b":2,"a":3}"#,
        #"{"outer":{"x":null,"x":null}}"#,
        #"[{"k":[],"k":{}}]"#,
        // The same key written with and without an escape.
        #"{"é":1,"\u00e9":2}"#,
    ])
    func duplicateKeysAreRejected(_ text: String) {
        let error = parseError(text)
        #expect(error != nil, "accepted duplicate keys")
        #expect(error?.message.contains("duplicate") == true)
        if let error { #expect(error.offset > 0 && error.offset <= text.utf8.count) }
    }

    @Test func deepNestingIsRejectedWithoutExhaustingTheStack() {
        let text = String(repeating: "[", count: 100_000)
        let error = parseError(text)
        #expect(error?.offset == JSONParser.defaultMaxDepth)
    }

    @Test func errorDescriptionNamesTheOffset() {
        let error = parseError("[1,]")
        #expect(error?.description == "\(error?.message ?? "") at byte 3")
    }
}

@Suite("JSONParser: large objects")
struct JSONLargeObjectTests {
    /// Objects with many keys are indexed: parsing (with its duplicate-key check) and lookups stay
    /// linear overall, so a hostile body cannot make the server spin. (Quadratic behaviour would
    /// make this test run for many minutes.)
    @Test func manyKeysParseAndLookUp() throws {
        let count = 200_000
        var text = "{"
        for i in 0..<count {
            if i > 0 { text += "," }
            text += "\"k\(i)\":\(i)"
        }
        text += "}"
        let value = try JSONParser.parse(text)
        let object = try #require(value.objectValue)
        #expect(object.count == count)
        #expect(object["k0"] == .int(0))
        #expect(object["k199999"] == .int(199_999))
        #expect(object["missing"] == nil)
        #expect(Array(object.keys.prefix(3)) == ["k0", "k1", "k2"])
        // A duplicate far into the object is still found.
        #expect(throws: JSONParseError.self) { try JSONParser.parse(String(text.dropLast()) + ",\"k5\":1}") }
        // Removal keeps the index consistent.
        var copy = object
        copy["k10"] = nil
        #expect(copy.count == count - 1 && copy["k10"] == nil && copy["k11"] == .int(11))
        copy["k10"] = .int(-1)
        #expect(copy.keys.last == "k10" && copy["k10"] == .int(-1))
    }
}

@Suite("JSONParser: keeping only some members of one object")
struct JSONParserPruningTests {
    static func lean(_ text: String) throws(JSONParseError) -> JSONValue {
        try JSONParser.parse(Array(text.utf8), keepingOnly: ["id", "usage"], under: "response")
    }

    @Test func onlyTheKeptMembersOfTheNamedObjectAreBuilt() throws {
        let text = #"{"type":"response.completed","response":{"id":"resp_1","instructions":"a\nlong \"prompt\" \u00e9\ud83d\ude00","tools":[{"type":"function","parameters":{"x":[1,2.5e3,-0,true,false,null]}}],"usage":{"input_tokens":3},"output":[]},"sequence_number":7}"#
        let value = try Self.lean(text)
        let full = try JSONParser.parse(text)
        #expect(value["type"] == full["type"])
        #expect(value["sequence_number"] == .int(7))
        #expect(value["response"]?.keys == ["id", "usage"])
        #expect(value["response"]?["id"] == full["response"]?["id"])
        #expect(value["response"]?["usage"] == full["response"]?["usage"])
    }

    @Test func onlyTheTopLevelMemberIsPruned() throws {
        // The same key deeper down, or a non-object value, is parsed whole.
        let nested = try Self.lean(#"{"item":{"response":{"tools":[1],"id":"x"}},"response":"text"}"#)
        #expect(nested["item"]?["response"]?["tools"] == [1])
        #expect(nested["response"] == "text")
        let array = try Self.lean(#"[{"response":{"tools":[1]}}]"#)
        #expect(array.arrayValue?.first?["response"]?["tools"] == [1])
    }

    /// Skipped members are not built but must still be well-formed JSON.
    @Test(arguments: [
        #"{"response":{"tools":[1,],"id":"a"}}"#,
        #"{"response":{"tools":{"a" 1},"id":"a"}}"#,
        #"{"response":{"tools":"bad \x escape","id":"a"}}"#,
        #"{"response":{"tools":"\ud83d alone","id":"a"}}"#,
        #"{"response":{"tools":"raw"#+"\u{01}"+#"control","id":"a"}}"#,
        #"{"response":{"tools":01,"id":"a"}}"#,
        #"{"response":{"tools":tru,"id":"a"}}"#,
        #"{"response":{"tools":"unterminated}}"#,
        #"{"response":{"tools":[1,2}"#,
        #"{"response":{"id":"a","id":"b"}}"#,
    ])
    func malformedInputIsStillRejected(_ text: String) {
        #expect(throws: JSONParseError.self) { try Self.lean(text) }
    }

    @Test func theDepthLimitHoldsInSkippedMembers() throws {
        let deep = String(repeating: "[", count: 70) + String(repeating: "]", count: 70)
        #expect(throws: JSONParseError.self) { try Self.lean(#"{"response":{"tools":"# + deep + "}}") }
        let fine = String(repeating: "[", count: 30) + String(repeating: "]", count: 30)
        #expect(try Self.lean(#"{"response":{"tools":"# + fine + #","id":"a"}}"#)["response"]?["id"] == "a")
    }
}
