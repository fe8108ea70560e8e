/// A type that has a wire representation.
public protocol JSONEncodable: Sendable {
    var json: JSONValue { get }
}

/// A type that can be read back from its wire representation (leniently: unknown fields are
/// ignored, so stored objects written by newer versions still load).
public protocol JSONDecodable: Sendable {
    init(json: JSONValue) throws(ValidationError)
}

public typealias JSONCodable = JSONDecodable & JSONEncodable

extension JSONEncodable {
    public var jsonBytes: [UInt8] { JSONWriter.bytes(json) }
    public var jsonString: String { JSONWriter.string(json) }
}

extension JSONDecodable {
    public init(jsonString: String) throws {
        try self.init(json: JSONParser.parse(jsonString))
    }

    public init(jsonBytes: some Sequence<UInt8>) throws {
        try self.init(json: JSONParser.parse(jsonBytes))
    }
}

// MARK: - Enumerations shared by several objects

public enum ServiceTier: String, Sendable, CaseIterable {
    case auto, `default`, flex, priority, fast, ultrafast
}

public enum ReasoningEffort: String, Sendable, CaseIterable {
    case none, minimal, low, medium, high, xhigh, max
}

public enum ReasoningSummary: String, Sendable, CaseIterable {
    case concise, detailed, auto
}

public enum Verbosity: String, Sendable, CaseIterable {
    case low, medium, high
}

public enum PromptCacheTTL: String, Sendable, CaseIterable {
    case thirtyMinutes = "30m"
    case twelveHours = "12h"
}

public enum ReviewMode: String, Sendable, CaseIterable {
    case none
    case autoReview = "auto_review"
}

public enum ListOrder: String, Sendable, CaseIterable {
    case asc, desc
}

// MARK: - Token usage

/// `TokenUsage`: every field is present when the object is.
public struct TokenUsage: Sendable, Equatable, JSONCodable {
    public var inputTokens: Int64
    public var cachedTokens: Int64
    public var outputTokens: Int64
    public var reasoningTokens: Int64
    public var totalTokens: Int64

    public init(inputTokens: Int64 = 0, cachedTokens: Int64 = 0, outputTokens: Int64 = 0, reasoningTokens: Int64 = 0, totalTokens: Int64? = nil) {
        self.inputTokens = inputTokens
        self.cachedTokens = cachedTokens
        self.outputTokens = outputTokens
        self.reasoningTokens = reasoningTokens
        self.totalTokens = totalTokens ?? inputTokens + outputTokens
    }

    public static let zero = TokenUsage()

    public static func + (lhs: TokenUsage, rhs: TokenUsage) -> TokenUsage {
        TokenUsage(
            inputTokens: lhs.inputTokens + rhs.inputTokens,
            cachedTokens: lhs.cachedTokens + rhs.cachedTokens,
            outputTokens: lhs.outputTokens + rhs.outputTokens,
            reasoningTokens: lhs.reasoningTokens + rhs.reasoningTokens,
            totalTokens: lhs.totalTokens + rhs.totalTokens)
    }

    public var json: JSONValue {
        [
            "input_tokens": .int(inputTokens),
            "input_tokens_details": ["cached_tokens": .int(cachedTokens)],
            "output_tokens": .int(outputTokens),
            "output_tokens_details": ["reasoning_tokens": .int(reasoningTokens)],
            "total_tokens": .int(totalTokens),
        ]
    }

    public init(json: JSONValue) throws(ValidationError) {
        let r = try JSONReader(json)
        inputTokens = try r.int("input_tokens")
        outputTokens = try r.int("output_tokens")
        totalTokens = try r.int("total_tokens")
        cachedTokens = try r.objectField("input_tokens_details").value?.intField("cached_tokens").value ?? 0
        reasoningTokens = try r.objectField("output_tokens_details").value?.intField("reasoning_tokens").value ?? 0
    }
}

// MARK: - Metadata

/// Up to 16 string pairs; keys 1–64 characters, values up to 512. Order is kept as given.
public struct Metadata: Sendable, Equatable, JSONCodable {
    public static let maxPairs = 16
    public static let maxKeyLength = 64
    public static let maxValueLength = 512

    public private(set) var pairs: [(key: String, value: String)]

    public init() { pairs = [] }

    public init(validating raw: [(String, String)], param: String) throws(ValidationError) {
        guard raw.count <= Self.maxPairs else {
            throw ValidationError("Invalid '\(param)': metadata can have at most \(Self.maxPairs) key-value pairs, got \(raw.count).", param: param, code: "invalid_value")
        }
        pairs = []
        for (key, value) in raw {
            let keyLength = key.unicodeScalars.count
            guard keyLength >= 1, keyLength <= Self.maxKeyLength else {
                throw ValidationError("Invalid '\(param)': metadata keys must be 1 to \(Self.maxKeyLength) characters long.", param: "\(param).\(key.prefix(80))", code: "invalid_value")
            }
            guard value.unicodeScalars.count <= Self.maxValueLength else {
                throw ValidationError("Invalid '\(param).\(key)': metadata values can be at most \(Self.maxValueLength) characters long.", param: "\(param).\(key)", code: "invalid_value")
            }
            pairs.append((key, value))
        }
    }

    public subscript(key: String) -> String? {
        pairs.first { $0.key == key }?.value
    }

    public var isEmpty: Bool { pairs.isEmpty }

    public var json: JSONValue {
        .object(JSONObject(pairs.map { ($0.key, JSONValue.string($0.value)) }))
    }

    public init(json: JSONValue) throws(ValidationError) {
        let r = try JSONReader(json)
        pairs = []
        for (key, value) in r.object {
            if case .string(let s) = value { pairs.append((key, s)) }
        }
    }

    public static func == (lhs: Metadata, rhs: Metadata) -> Bool {
        lhs.pairs.count == rhs.pairs.count && zip(lhs.pairs, rhs.pairs).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    /// Reads an optional, nullable metadata field: absent → `.absent`, null → `.null`.
    public static func field(_ reader: JSONReader, _ key: String) throws(ValidationError) -> Field<Metadata> {
        switch try reader.stringMapField(key) {
        case .absent: return .absent
        case .null: return .null
        case .value(let pairs): return .value(try Metadata(validating: pairs, param: reader.param(key)))
        }
    }
}

// MARK: - Errors

/// The OpenAI error envelope: `{"error": {"message", "type", "param", "code"}}`.
public struct APIErrorBody: Sendable, Equatable, JSONCodable {
    public var message: String
    public var type: String
    public var param: String?
    public var code: String?

    public init(message: String, type: String, param: String? = nil, code: String? = nil) {
        self.message = message
        self.type = type
        self.param = param
        self.code = code
    }

    public var json: JSONValue {
        [
            "error": [
                "message": .string(message),
                "type": .string(type),
                "param": param.map { .string($0) } ?? .null,
                "code": code.map { .string($0) } ?? .null,
            ]
        ]
    }

    public init(json: JSONValue) throws(ValidationError) {
        let r = try JSONReader(json).object("error")
        message = try r.string("message")
        type = try r.string("type")
        param = try r.optionalString("param")
        code = try r.optionalString("code")
    }
}

// MARK: - List pages

/// A `CursorPage` (or, for turn items, a `ConversationCursorPage`): `{object, data, first_id,
/// last_id, has_more}`.
public struct ListPage<Element: JSONEncodable>: JSONEncodable {
    public var data: [Element]
    public var firstID: String?
    public var lastID: String?
    public var hasMore: Bool

    public init(data: [Element], firstID: String?, lastID: String?, hasMore: Bool) {
        self.data = data
        self.firstID = firstID
        self.lastID = lastID
        self.hasMore = hasMore
    }

    public var json: JSONValue {
        [
            "object": "list",
            "data": .array(data.map(\.json)),
            "first_id": firstID.map { .string($0) } ?? .null,
            "last_id": lastID.map { .string($0) } ?? .null,
            "has_more": .bool(hasMore),
        ]
    }
}

/// Confirmation returned by DELETE endpoints: `{id, deleted: true, object}`.
public struct DeletedObject: Sendable, Equatable, JSONCodable {
    public var id: String
    public var object: String

    public init(id: String, object: String) {
        self.id = id
        self.object = object
    }

    public var json: JSONValue {
        ["id": .string(id), "deleted": true, "object": .string(object)]
    }

    public init(json: JSONValue) throws(ValidationError) {
        let r = try JSONReader(json)
        id = try r.string("id")
        object = try r.string("object")
    }
}

extension Optional where Wrapped == String {
    /// `.string` or `.null`.
    public var jsonOrNull: JSONValue { map { .string($0) } ?? .null }
}

extension Optional where Wrapped == Int64 {
    public var jsonOrNull: JSONValue { map { .int($0) } ?? .null }
}
