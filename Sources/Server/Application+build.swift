public import Hummingbird
public import Logging
public import Runtime
import Storage
import ModelProviders
import NIOCore

/// Where the server listens.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Request limits per API key (nil: unlimited).
    public var rateLimit: RateLimit?

    public init(host: String = "127.0.0.1", port: Int = 8080, rateLimit: RateLimit? = .standard) {
        self.host = host
        self.port = port
        self.rateLimit = rateLimit
    }
}

/// The router: `/v1/…` routes behind error and auth middleware.
public func buildRouter(runtime: AgentRuntime, logger: Logger, rateLimit: RateLimit? = .standard) -> Router<APIRequestContext> {
    let router = Router(context: APIRequestContext.self)
    router.add(middleware: ErrorMiddleware(logger: logger))
    router.get("/health") { _, _ -> Response in
        JSONResponse.make(bytes: Array(#"{"status":"ok"}"#.utf8))
    }
    // The API's description needs no key.
    let openAPI = Array(OpenAPIDocument.json.utf8)
    router.get("/v1/openapi.json") { _, _ -> Response in
        JSONResponse.make(bytes: openAPI)
    }
    let v1 = router.group("v1")
    v1.add(middleware: AuthMiddleware(store: runtime.store, limiter: rateLimit.map(RateLimiter.init(limit:))))
    SessionsController(runtime: runtime).addRoutes(to: v1)
    AgentsController(store: runtime.store).addRoutes(to: v1)
    EnvironmentsController(runtime: runtime).addRoutes(to: v1)
    FilesController(runtime: runtime).addRoutes(to: v1)
    UnavailableController().addRoutes(to: v1)
    return router
}

/// Builds the HTTP application around a runtime. The runtime is not started here: run it as a
/// service next to the application (see `runServer`), so that shutdown can stop it first.
public func buildApplication(
    runtime: AgentRuntime,
    configuration: ServerConfiguration,
    logger: Logger,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) -> some ApplicationProtocol {
    Application(
        router: buildRouter(runtime: runtime, logger: logger, rateLimit: configuration.rateLimit),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "cma"),
        onServerRunning: onServerRunning,
        logger: logger)
}
