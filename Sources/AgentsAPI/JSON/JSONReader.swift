/// A request or stored document did not have the expected shape. `param` is the dotted path of
/// the offending field (`tools[2].name`), as the OpenAI error envelope reports it.
public struct ValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var param: String?
    public var code: String?

    public init(_ message: String, param: String?, code: String? = nil) {
        self.message = message
        self.param = param
        self.code = code
    }

    public var description: String { param.map { "\(message) (param: \($0))" } ?? message }
}

/// A field that distinguishes "left out" from "explicitly null", which the API's update
/// endpoints give different meanings.
public enum Field<Value> {
    case absent
    case null
    case value(Value)

    /// The value if one was given, otherwise nil (absent and null alike).
    public var value: Value? {
        if case .value(let v) = self { return v }
        return nil
    }

    public var isAbsent: Bool {
        if case .absent = self { return true }
        return false
    }

    public func map<T>(_ transform: (Value) throws -> T) rethrows -> Field<T> {
        switch self {
        case .absent: return .absent
        case .null: return .null
        case .value(let v): return .value(try transform(v))
        }
    }
}

extension Field: Sendable where Value: Sendable {}
extension Field: Equatable where Value: Equatable {}

/// Path-tracking access to a JSON object, producing `ValidationError`s that name the field.
public struct JSONReader {
    public let object: JSONObject
    public let path: String

    public init(_ value: JSONValue, path: String = "") throws(ValidationError) {
        guard case .object(let object) = value else {
            throw ValidationError(
                path.isEmpty ? "The request body must be a JSON object." : "Invalid type for '\(path)': expected an object, but got \(value.typeName) instead.",
                param: path.isEmpty ? nil : path, code: "invalid_type")
        }
        self.object = object
        self.path = path
    }

    public init(object: JSONObject, path: String = "") {
        self.object = object
        self.path = path
    }

    public func param(_ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    public func has(_ key: String) -> Bool { object.contains(key) }

    public subscript(key: String) -> JSONValue? { object[key] }

    /// Rejects fields that are not in `allowed`, naming the first one.
    public func rejectUnknown(_ allowed: Set<String>) throws(ValidationError) {
        for key in object.keys where !allowed.contains(key) {
            throw ValidationError("Unrecognized request argument supplied: \(key)", param: param(key), code: "unknown_parameter")
        }
    }

    // MARK: raw access

    public func field(_ key: String) -> Field<JSONValue> {
        guard let value = object[key] else { return .absent }
        if case .null = value { return .null }
        return .value(value)
    }

    public func required(_ key: String) throws(ValidationError) -> JSONValue {
        switch field(key) {
        case .absent: throw ValidationError("Missing required parameter: '\(param(key))'.", param: param(key), code: "missing_required_parameter")
        case .null: throw ValidationError("'\(param(key))' must not be null.", param: param(key))
        case .value(let v): return v
        }
    }

    // MARK: strings

    public func string(_ key: String) throws(ValidationError) -> String {
        try asString(required(key), key)
    }

    public func stringField(_ key: String) throws(ValidationError) -> Field<String> {
        switch field(key) {
        case .absent: return .absent
        case .null: return .null
        case .value(let v): return .value(try asString(v, key))
        }
    }

    public func optionalString(_ key: String) throws(ValidationError) -> String? {
        try stringField(key).value
    }

    private func asString(_ value: JSONValue, _ key: String) throws(ValidationError) -> String {
        guard case .string(let s) = value else {
            throw ValidationError("Invalid type for '\(param(key))': expected a string, but got \(value.typeName) instead.", param: param(key), code: "invalid_type")
        }
        return s
    }

    /// A string constrained to an enumeration.
    public func enumField<E: RawRepresentable>(_ key: String, _: E.Type) throws(ValidationError) -> Field<E> where E.RawValue == String, E: CaseIterable {
        switch try stringField(key) {
        case .absent: return .absent
        case .null: return .null
        case .value(let raw):
            guard let e = E(rawValue: raw) else {
                let allowed = E.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
                throw ValidationError("Invalid value for '\(param(key))': '\(raw.prefix(100))'. Supported values are: \(allowed).", param: param(key), code: "invalid_value")
            }
            return .value(e)
        }
    }

    public func requiredEnum<E: RawRepresentable>(_ key: String, _ type: E.Type) throws(ValidationError) -> E where E.RawValue == String, E: CaseIterable {
        _ = try required(key)
        guard let e = try enumField(key, type).value else {
            throw ValidationError("Missing required parameter: '\(param(key))'.", param: param(key))
        }
        return e
    }

    // MARK: scalars

    public func boolField(_ key: String) throws(ValidationError) -> Field<Bool> {
        switch field(key) {
        case .absent: return .absent
        case .null: return .null
        case .value(.bool(let b)): return .value(b)
        case .value(let v):
            throw ValidationError("Invalid type for '\(param(key))': expected a boolean, but got \(v.typeName) instead.", param: param(key), code: "invalid_type")
        }
    }

    public func intField(_ key: String) throws(ValidationError) -> Field<Int64> {
        switch field(key) {
        case .absent: return .absent
        case .null: return .null
        case .value(let v):
            guard let i = v.intValue else {
                throw ValidationError("Invalid type for '\(param(key))': expected an integer, but got \(v.typeName) instead.", param: param(key), code: "invalid_type")
            }
            return .value(i)
        }
    }

    public func int(_ key: String) throws(ValidationError) -> Int64 {
        guard let value = try intField(key).value else {
            _ = try required(key)
            throw ValidationError("Missing required parameter: '\(param(key))'.", param: param(key))
        }
        return value
    }

    // MARK: containers

    public func objectField(_ key: String) throws(ValidationError) -> Field<JSONReader> {
        switch field(key) {
        case .absent: return .absent
        case .null: return .null
        case .value(let v): return .value(try JSONReader(v, path: param(key)))
        }
    }

    public func object(_ key: String) throws(ValidationError) -> JSONReader {
        try JSONReader(required(key), path: param(key))
    }

    public func arrayField(_ key: String) throws(ValidationError) -> Field<[JSONValue]> {
        switch field(key) {
        case .absent: return .absent
        case .null: return .null
        case .value(.array(let a)): return .value(a)
        case .value(let v):
            throw ValidationError("Invalid type for '\(param(key))': expected an array, but got \(v.typeName) instead.", param: param(key), code: "invalid_type")
        }
    }

    public func array(_ key: String) throws(ValidationError) -> [JSONValue] {
        guard let a = try arrayField(key).value else {
            _ = try required(key)
            throw ValidationError("Missing required parameter: '\(param(key))'.", param: param(key))
        }
        return a
    }

    public func stringArrayField(_ key: String) throws(ValidationError) -> Field<[String]> {
        switch try arrayField(key) {
        case .absent: return .absent
        case .null: return .null
        case .value(let values):
            var result: [String] = []
            result.reserveCapacity(values.count)
            for (i, v) in values.enumerated() {
                guard case .string(let s) = v else {
                    throw ValidationError("Invalid type for '\(param(key))[\(i)]': expected a string, but got \(v.typeName) instead.", param: "\(param(key))[\(i)]", code: "invalid_type")
                }
                result.append(s)
            }
            return .value(result)
        }
    }

    /// Readers for each element of an array of objects.
    public func objectArray(_ values: [JSONValue], key: String) throws(ValidationError) -> [JSONReader] {
        var readers: [JSONReader] = []
        readers.reserveCapacity(values.count)
        for (i, v) in values.enumerated() {
            readers.append(try JSONReader(v, path: "\(param(key))[\(i)]"))
        }
        return readers
    }

    public func stringMapField(_ key: String) throws(ValidationError) -> Field<[(String, String)]> {
        switch try objectField(key) {
        case .absent: return .absent
        case .null: return .null
        case .value(let reader):
            var pairs: [(String, String)] = []
            for (k, v) in reader.object {
                guard case .string(let s) = v else {
                    throw ValidationError("Invalid type for '\(reader.param(k))': expected a string, but got \(v.typeName) instead.", param: reader.param(k), code: "invalid_type")
                }
                pairs.append((k, s))
            }
            return .value(pairs)
        }
    }
}

extension JSONObject {
    /// Sets `key` only when `value` is non-nil (an "omitted when absent" field).
    public mutating func set(_ key: String, _ value: JSONValue?) {
        if let value { self[key] = value }
    }

    /// Sets `key` to the value, or to an explicit `null`.
    public mutating func setNullable(_ key: String, _ value: JSONValue?) {
        self[key] = value ?? .null
    }
}
