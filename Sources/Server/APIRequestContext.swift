import AgentsAPI
public import Hummingbird
import NIOCore
import Storage
import Synchronization

/// The request context: Hummingbird's core storage plus the caller's project.
public struct APIRequestContext: RequestContext {
    /// Largest request body accepted (tool lists alone may be 3 MiB).
    public static let bodyLimit = 8 * 1024 * 1024

    public var coreContext: CoreRequestContextStorage
    /// Set by `AuthMiddleware`; every handler scopes its reads and writes to it.
    public var projectID: String = ""

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
    }

    public var maxUploadSize: Int { Self.bodyLimit }
}

/// `Authorization: Bearer <key>` → project. Keys are looked up by their SHA-256; known hashes are
/// cached in memory (never the keys themselves).
struct AuthMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let store: any Store
    /// Per-key request limits (nil: none).
    let limiter: RateLimiter?
    let cache = KeyCache()

    final class KeyCache: Sendable {
        private let entries = Mutex<[String: String]>([:])

        func get(_ hash: String) -> String? { entries.withLock { $0[hash] } }

        func set(_ hash: String, _ projectID: String) {
            entries.withLock { c in
                if c.count > 10_000 { c.removeAll() }
                c[hash] = projectID
            }
        }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            throw APIError(
                status: .unauthorized,
                message: "You didn't provide an API key. Send it in the Authorization header as 'Bearer YOUR_KEY'.",
                code: "missing_api_key")
        }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw APIError(status: .unauthorized, message: "The Authorization header must be 'Bearer YOUR_KEY'.", code: "invalid_api_key")
        }
        let key = parts[1].trimmingSpaces
        let hash = APIKeys.hash(key)
        var projectID = cache.get(hash)
        if projectID == nil {
            projectID = try await store.projectID(forKeyHash: hash)
            if let projectID { cache.set(hash, projectID) }
        }
        guard let projectID else {
            throw APIError(status: .unauthorized, message: "Incorrect API key provided.", code: "invalid_api_key")
        }
        if let limiter, case .denied(let retryAfter) = limiter.take(hash) {
            throw limiter.error(retryAfter: retryAfter)
        }
        var context = context
        context.projectID = projectID
        return try await next(request, context)
    }
}

extension Substring {
    var trimmingSpaces: String {
        String(self.drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}

/// Small helpers shared by the controllers.
enum JSONResponse {
    static func make(bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        var buffer = ByteBuffer()
        buffer.writeBytes(bytes)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: buffer))
    }

    static func make(_ value: some JSONEncodable, status: HTTPResponse.Status = .ok) -> Response {
        make(bytes: value.jsonBytes, status: status)
    }

    /// A cursor page built from stored JSON without re-encoding each object.
    static func page(_ page: Page<StoredObject>, lastID: String? = nil) -> Response {
        var out: [UInt8] = []
        out.reserveCapacity(page.rows.reduce(96) { $0 + $1.json.utf8.count + 1 })
        out.append(contentsOf: #"{"object":"list","data":["#.utf8)
        for (i, row) in page.rows.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: row.json.utf8)
        }
        out.append(contentsOf: #"],"first_id":"#.utf8)
        JSONWriter.write(page.rows.first.map { .string($0.id) } ?? .null, into: &out)
        out.append(contentsOf: #","last_id":"#.utf8)
        JSONWriter.write((lastID ?? page.rows.last?.id).map { .string($0) } ?? .null, into: &out)
        out.append(contentsOf: #","has_more":"#.utf8)
        out.append(contentsOf: (page.hasMore ? "true" : "false").utf8)
        out.append(UInt8(ascii: "}"))
        return make(bytes: out)
    }
}

extension Request {
    /// The body as JSON. An empty body reads as `{}`.
    mutating func jsonBody() async throws -> (value: JSONValue, canonical: [UInt8]) {
        let buffer = try await collectBody(upTo: APIRequestContext.bodyLimit)
        guard buffer.readableBytes > 0 else { return (.object([:]), Array("{}".utf8)) }
        do {
            let value = try JSONParser.parse(buffer.readableBytesView)
            return (value, JSONWriter.bytes(value))
        } catch {
            throw APIError.invalidJSON(error)
        }
    }

    /// Query parameters with keys and values percent-decoded (Hummingbird leaves keys encoded,
    /// and the SDK sends `metadata%5Bkey%5D=value`).
    var decodedQuery: [(key: String, value: String)] {
        guard let query = uri.query, !query.isEmpty else { return [] }
        return query.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = percentDecode(kv[0])
            let value = kv.count > 1 ? percentDecode(kv[1]) : ""
            return (key, value)
        }
    }

    func queryValue(_ name: String) -> String? {
        decodedQuery.last(where: { $0.key == name })?.value
    }
}

/// Decodes `%XX` escapes and `+` (space). Invalid escapes are kept as they are.
func percentDecode(_ s: Substring) -> String {
    let utf8 = Array(s.utf8)
    guard utf8.contains(UInt8(ascii: "%")) || utf8.contains(UInt8(ascii: "+")) else { return String(s) }
    var out: [UInt8] = []
    out.reserveCapacity(utf8.count)
    var i = 0
    func hex(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
    while i < utf8.count {
        let b = utf8[i]
        if b == UInt8(ascii: "%"), i + 2 < utf8.count, let h = hex(utf8[i + 1]), let l = hex(utf8[i + 2]) {
            out.append(h << 4 | l)
            i += 3
        } else if b == UInt8(ascii: "+") {
            out.append(UInt8(ascii: " "))
            i += 1
        } else {
            out.append(b)
            i += 1
        }
    }
    return String(decoding: out, as: UTF8.self)
}

extension Parameters {
    /// A path parameter (an object ID), percent-decoded: `agent%5F01` is `agent_01`.
    func id(_ name: String) throws -> String {
        let raw = try require(name)
        return raw.removingPercentEncoding ?? raw
    }
}
