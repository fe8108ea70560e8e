public import AgentsAPI

/// Errors the runtime reports to its callers; the server maps each to one HTTP status and the
/// OpenAI error envelope.
public enum RuntimeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 404: no such object in the caller's project.
    case notFound(String, param: String?)
    /// 400: the request is invalid.
    case invalid(ValidationError)
    /// 409: the request conflicts with the object's state (e.g. deleting a running session).
    case conflict(String, code: String)
    /// 400 with the exact message and code the SDK's tool-result retry logic matches on.
    case unknownPendingToolCall(callID: String)
    /// 500: something on our side failed.
    case internalError(String)
    /// 503: the server is shutting down; the request changed nothing and can be retried.
    case unavailable(String)

    public var description: String {
        switch self {
        case .notFound(let m, _): return m
        case .invalid(let v): return v.description
        case .conflict(let m, _): return m
        case .unknownPendingToolCall(let id): return "Unknown pending tool call: \(id)"
        case .internalError(let m): return m
        case .unavailable(let m): return m
        }
    }
}
