import HTTPTypes
public import AgentsAPI
public import Hummingbird
import Logging
import Runtime
import Storage

/// An error as the API reports it: an HTTP status and the OpenAI error envelope.
public struct APIError: Error, HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var body: APIErrorBody
    public var headers: HTTPFields

    public init(status: HTTPResponse.Status, message: String, type: String = "invalid_request_error", param: String? = nil, code: String? = nil, headers: HTTPFields = [:]) {
        self.status = status
        self.body = APIErrorBody(message: message, type: type, param: param, code: code)
        self.headers = headers
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = JSONResponse.make(bytes: body.jsonBytes, status: status)
        for field in headers { response.headers.append(field) }
        return response
    }

    static func notFound(_ message: String, param: String? = nil) -> APIError {
        APIError(status: .notFound, message: message, param: param, code: "not_found")
    }

    static func invalidJSON(_ error: JSONParseError) -> APIError {
        APIError(
            status: .badRequest,
            message: "We could not parse the JSON body of your request: \(error.message) at byte \(error.offset). Send a valid JSON object.",
            code: "invalid_json")
    }

    static func invalid(_ error: ValidationError) -> APIError {
        APIError(status: .badRequest, message: error.message, param: error.param, code: error.code)
    }

    static func notAvailable(_ what: String) -> APIError {
        APIError(status: .badRequest, message: "\(what) not available yet on this server.", code: "feature_not_available")
    }

    /// Maps any error to the envelope. Unknown errors become a generic 500 (details are logged,
    /// never sent).
    static func from(_ error: any Error, logger: Logger) -> APIError {
        switch error {
        case let e as APIError:
            return e
        case let e as ValidationError:
            return .invalid(e)
        case let e as JSONParseError:
            return .invalidJSON(e)
        case let e as RuntimeError:
            switch e {
            case .notFound(let message, let param):
                return .notFound(message, param: param)
            case .invalid(let v):
                return .invalid(v)
            case .conflict(let message, let code):
                var headers = HTTPFields()
                headers[.init("x-should-retry")!] = "false"
                return APIError(status: .conflict, message: message, code: code, headers: headers)
            case .unknownPendingToolCall(let callID):
                return APIError(status: .badRequest, message: "Unknown pending tool call: \(callID)", code: "invalid_request_error")
            case .internalError(let message):
                return APIError(status: .internalServerError, message: message, type: "server_error", code: "internal_error")
            case .unavailable(let message):
                var headers = HTTPFields()
                headers[.init("retry-after")!] = "5"
                headers[.init("x-should-retry")!] = "true"
                return APIError(status: .serviceUnavailable, message: message, type: "server_error", code: "server_shutting_down", headers: headers)
            }
        case let e as HTTPError:
            return fromHTTPStatus(e.status, message: e.body)
        case let e as any HTTPResponseError:
            return fromHTTPStatus(e.status, message: nil)
        default:
            logger.error("unhandled error", metadata: ["error": "\(String(describing: error).prefix(500))"])
            return APIError(status: .internalServerError, message: "The server had an error while processing your request. Try again.", type: "server_error", code: "internal_error")
        }
    }

    private static func fromHTTPStatus(_ status: HTTPResponse.Status, message: String?) -> APIError {
        switch status {
        case .notFound:
            return APIError(status: .notFound, message: message ?? "Not found. Check the method and path (every path starts with /v1).", code: "not_found")
        case .methodNotAllowed:
            return APIError(status: .methodNotAllowed, message: message ?? "This method is not allowed on this path.", code: "method_not_allowed")
        case .contentTooLarge:
            return APIError(status: .contentTooLarge, message: "The request body is too large (limit \(APIRequestContext.bodyLimit) bytes).", code: "request_too_large")
        default:
            return APIError(
                status: status, message: message ?? status.reasonPhrase,
                type: status.code >= 500 ? "server_error" : "invalid_request_error")
        }
    }
}

/// Turns every error thrown below it into an `APIError` response.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            // No route: a known path with another method is a 405.
            if let methods = RouteTable.methods(forPath: request.uri.path), !methods.contains(request.method.rawValue) {
                var headers = HTTPFields()
                headers[.allow] = methods.joined(separator: ", ")
                return try APIError(
                    status: .methodNotAllowed, message: "\(request.method.rawValue) is not allowed on this path. Use \(methods.joined(separator: ", ")).",
                    code: "method_not_allowed", headers: headers
                ).response(from: request, context: context)
            }
            return try APIError.from(error, logger: logger).response(from: request, context: context)
        } catch {
            return try APIError.from(error, logger: logger).response(from: request, context: context)
        }
    }
}

/// The methods each path of the API answers, read from the OpenAPI document, so that a known
/// path asked with another method gets 405 and `Allow` rather than 404.
enum RouteTable {
    static let routes: [(segments: [Substring], methods: [String])] = {
        guard case .object(let paths)? = (try? JSONParser.parse(OpenAPIDocument.json))?["paths"] else { return [] }
        return paths.map { path, item in
            let methods = (item.objectValue?.keys.map { $0.uppercased() } ?? []).filter { ["GET", "POST", "PUT", "PATCH", "DELETE"].contains($0) }
            return (("/v1" + path).split(separator: "/"), methods.sorted())
        }
    }()

    /// The methods `path` answers, or nil when no route has that shape.
    static func methods(forPath path: String) -> [String]? {
        let segments = path.split(separator: "?", maxSplits: 1).first.map { $0.split(separator: "/") } ?? []
        var found: [String] = []
        for route in routes where route.segments.count == segments.count {
            let matches = zip(route.segments, segments).allSatisfy { pattern, segment in
                (pattern.hasPrefix("{") && pattern.hasSuffix("}")) || pattern == segment
            }
            if matches { found += route.methods }
        }
        return found.isEmpty ? nil : Array(Set(found)).sorted()
    }
}
