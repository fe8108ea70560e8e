public import AgentsAPI

/// One `POST /v1/responses` as the ``ScriptedModelServer`` received it.
public struct RecordedRequest: Sendable {
    /// The parsed body (`.null` if it was not valid JSON).
    public var body: JSONValue
    /// The body's bytes exactly as received.
    public var rawBody: [UInt8]
    public var headers: RecordedHeaders
    public var path: String
    /// When the server had the whole request (for benchmarks: the runtime's loop gap).
    public var receivedAt: ContinuousClock.Instant = .now
    /// When the server finished writing its streamed answer (nil: not streamed, or not yet).
    public var answeredAt: ContinuousClock.Instant?

    public init(body: JSONValue, rawBody: [UInt8], headers: RecordedHeaders, path: String) {
        self.body = body
        self.rawBody = rawBody
        self.headers = headers
        self.path = path
    }

    /// The text of the last user message in `input` (what `.contains` matches against).
    public var lastUserText: String? { TestSupport.lastUserText(body) }

    public var promptCacheKey: String? { body["prompt_cache_key"]?.stringValue }

    /// The request in the control API's JSON shape: `{"body":…,"headers":{name: value}}`
    /// (header names lowercased; repeated headers joined with ", ").
    public var json: JSONValue {
        var headerObject = JSONObject()
        for (name, value) in headers {
            let key = name.lowercased()
            if let existing = headerObject[key]?.stringValue {
                headerObject[key] = .string(existing + ", " + value)
            } else {
                headerObject[key] = .string(value)
            }
        }
        return ["body": body, "headers": .object(headerObject)]
    }
}

/// HTTP header fields in the order received. Lookups ignore case.
public struct RecordedHeaders: Sendable, Sequence, CustomStringConvertible {
    public private(set) var fields: [(name: String, value: String)]

    public init(_ fields: [(name: String, value: String)]) {
        self.fields = fields
    }

    /// The first value of the header, or nil.
    public subscript(name: String) -> String? {
        let lower = name.lowercased()
        return fields.first { $0.name.lowercased() == lower }?.value
    }

    /// Every value of the header, in order.
    public func values(_ name: String) -> [String] {
        let lower = name.lowercased()
        return fields.filter { $0.name.lowercased() == lower }.map(\.value)
    }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> {
        fields.makeIterator()
    }

    public var description: String {
        fields.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
    }
}
