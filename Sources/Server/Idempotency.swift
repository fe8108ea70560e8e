import AgentsAPI
import HTTPTypes
import Hummingbird
import Storage
import Synchronization

/// `Idempotency-Key` on the POSTs that create something.
///
/// The key is reserved, with the ID the new object will get, before anything is created; the
/// response is remembered once it exists. A retry with the same key and body gets the original
/// response; with a different body, a 400. A retry while the first request is still running
/// gets a 409. A key whose request was cut short by a crash is finished on retry: the object
/// with the reserved ID is returned as it is now if it was created, or created now with that ID.
/// A request that fails forgets its key, so it can be retried with the same one. Keys are kept
/// 24 hours.
struct Idempotency: Sendable {
    let store: any Store

    static let maxKeyLength = 256
    /// `status` of a reserved key whose request has not finished.
    static let pending = 0
    /// `status` of a key whose request answered with a stream (`response` is the object's ID).
    static let streamed = 1

    /// Requests being processed by this process (project, scope, key).
    private static let inFlight = Mutex<Set<String>>([])

    /// What a create produced.
    enum Outcome {
        /// A JSON response, remembered as it is.
        case json([UInt8], HTTPResponse.Status = .ok)
        /// A streamed response; a retry gets `replay(id)`.
        case stream(Response)
    }

    static func key(of request: Request) throws -> String? {
        guard let key = request.headers[HTTPField.Name("Idempotency-Key")!] else { return nil }
        guard !key.isEmpty, key.utf8.count <= maxKeyLength else {
            throw APIError(
                status: .badRequest, message: "The Idempotency-Key header must be 1 to \(maxKeyLength) bytes long.", param: "Idempotency-Key",
                code: "invalid_value")
        }
        return key
    }

    static func keyReused() -> APIError {
        APIError(
            status: .badRequest,
            message: "This Idempotency-Key was already used with a different request body. Use a new key for a different request.",
            param: "Idempotency-Key", code: "idempotency_key_reused")
    }

    /// Runs `create` with a new ID (`makeID`) at most once per key.
    /// - `existing(id)`: the JSON of an object created under a key whose request was cut short,
    ///   or nil when it was not created.
    /// - `replay(id)`: the response repeating a streamed create.
    func run(
        _ request: Request, context: APIRequestContext, scope: String, requestHash: String, makeID: () -> String,
        existing: (String) async throws -> [UInt8]?, replay: ((String) async throws -> Response)? = nil,
        create: (String) async throws -> Outcome
    ) async throws -> Response {
        guard let key = try Self.key(of: request) else {
            return Self.response(try await create(makeID()))
        }
        let projectID = context.projectID
        let flightKey = "\(projectID)\u{0}\(scope)\u{0}\(key)"
        let reserved = IdempotencyRecord(scope: scope, key: key, requestHash: requestHash, status: Self.pending, response: makeID())
        var id = reserved.response
        let live = try await store.reserveIdempotencyKey(projectID: projectID, record: reserved)
        if let live {
            guard live.requestHash == requestHash else { throw Self.keyReused() }
            switch live.status {
            case Self.pending:
                id = live.response
            case Self.streamed:
                if let replay { return try await replay(live.response) }
                throw APIError(status: .internalServerError, message: "The original response cannot be repeated.", type: "server_error", code: "internal_error")
            default:
                return JSONResponse.make(bytes: Array(live.response.utf8), status: HTTPResponse.Status(code: live.status))
            }
        }
        guard Self.inFlight.withLock({ $0.insert(flightKey).inserted }) else {
            throw APIError(
                status: .conflict, message: "A request with this Idempotency-Key is still being processed. Retry once it has finished.",
                param: "Idempotency-Key", code: "idempotency_key_in_use")
        }
        defer { _ = Self.inFlight.withLock { $0.remove(flightKey) } }
        if live != nil, let bytes = try await existing(id) {
            // The request that reserved the key was cut short after creating the object.
            if let replay {
                try await store.completeIdempotencyKey(projectID: projectID, scope: scope, key: key, status: Self.streamed, response: id)
                return try await replay(id)
            }
            try await store.completeIdempotencyKey(projectID: projectID, scope: scope, key: key, status: 200, response: String(decoding: bytes, as: UTF8.self))
            return JSONResponse.make(bytes: bytes)
        }
        let outcome: Outcome
        do {
            outcome = try await create(id)
        } catch {
            // Nothing was created: the key may be used again.
            try? await store.deleteIdempotencyKey(projectID: projectID, scope: scope, key: key)
            throw error
        }
        switch outcome {
        case .json(let bytes, let status):
            try await store.completeIdempotencyKey(projectID: projectID, scope: scope, key: key, status: Int(status.code), response: String(decoding: bytes, as: UTF8.self))
        case .stream:
            try await store.completeIdempotencyKey(projectID: projectID, scope: scope, key: key, status: Self.streamed, response: id)
        }
        return Self.response(outcome)
    }

    static func response(_ outcome: Outcome) -> Response {
        switch outcome {
        case .json(let bytes, let status): return JSONResponse.make(bytes: bytes, status: status)
        case .stream(let response): return response
        }
    }
}
