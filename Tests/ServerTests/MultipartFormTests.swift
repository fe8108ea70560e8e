import Testing

@testable import Server

@Suite("multipart/form-data")
struct MultipartFormTests {
    static func body(boundary: String, parts: [(disposition: String, content: [UInt8])]) -> [UInt8] {
        var out: [UInt8] = []
        for part in parts {
            out += Array("--\(boundary)\r\nContent-Disposition: form-data; \(part.disposition)\r\n\r\n".utf8) + part.content + Array("\r\n".utf8)
        }
        return out + Array("--\(boundary)--\r\n".utf8)
    }

    @Test func quotedParametersKeepSemicolonsAndEscapes() throws {
        let body = Self.body(boundary: "b0", parts: [
            (#"name="file"; filename="a;b \"c\".txt""#, Array("data".utf8)), (#"name=purpose"#, Array("user_data".utf8)),
        ])
        let parts = try MultipartForm.parse(body, boundary: "b0")
        #expect(parts.map(\.name) == ["file", "purpose"])
        #expect(parts[0].filename == #"a;b "c".txt"#)
        #expect(parts[0].body == Array("data".utf8) && parts[1].body == Array("user_data".utf8))
        #expect(parts[1].filename == nil)
    }

    @Test func aBoundaryMadeOfDashesOverContentMadeOfDashesParses() throws {
        // The input that made a naive search quadratic: a long run of near-matches.
        let boundary = String(repeating: "-", count: 200)
        let content = Array((String(repeating: "-", count: 201) + "x").utf8)
        let big = Array(repeating: content, count: 5_000).flatMap { $0 }
        let parts = try MultipartForm.parse(Self.body(boundary: boundary, parts: [(#"name="file"; filename="f""#, big)]), boundary: boundary)
        #expect(parts.count == 1 && parts[0].body == big)
    }

    @Test(arguments: [
        ("abcabd", "xxabcabcabdyy", 5), ("aaaa", "aaabaaaa", 4), ("a", "bbba", 3), ("abc", "ab", nil as Int?), ("--x", "-----x", 3),
    ])
    func findLocatesTheFirstOccurrence(needle: String, haystack: String, expected: Int?) {
        #expect(MultipartForm.find(Array(needle.utf8), in: Array(haystack.utf8), from: 0) == expected)
    }
}
