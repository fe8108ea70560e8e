import AgentsAPI
import Testing

/// A named test input, so parameterized cases read well in test output.
struct Named<Value: Sendable>: Sendable, CustomTestStringConvertible {
    var name: String
    var value: Value

    init(_ name: String, _ value: Value) {
        self.name = name
        self.value = value
    }

    var testDescription: String { name }
}

/// The error `JSONParser` reports for `bytes`, or nil if it parses.
func parseError(_ bytes: [UInt8], maxDepth: Int = JSONParser.defaultMaxDepth) -> JSONParseError? {
    do {
        _ = try JSONParser.parse(bytes, maxDepth: maxDepth)
        return nil
    } catch {
        return error
    }
}

func parseError(_ text: String, maxDepth: Int = JSONParser.defaultMaxDepth) -> JSONParseError? {
    parseError(Array(text.utf8), maxDepth: maxDepth)
}

/// The `ValidationError` that `parse` throws for `json`, or nil if it accepts it.
func validationError<T>(_ json: JSONValue, _ parse: (JSONValue) throws(ValidationError) -> T) -> ValidationError? {
    do {
        _ = try parse(json)
        return nil
    } catch {
        return error
    }
}

/// Encodes `value`, writes it as bytes, parses the bytes and decodes them again.
func roundTrip<T: JSONCodable>(_ value: T) throws -> T {
    let bytes = JSONWriter.bytes(value.json)
    return try T(json: JSONParser.parse(bytes))
}

extension JSONValue {
    /// The keys of an object value, in order (empty for other values).
    var keys: [String] { objectValue?.keys ?? [] }
}

/// A small deterministic generator (SplitMix64) for property-style tests.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
