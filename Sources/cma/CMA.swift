import ArgumentParser
import Foundation
import Hummingbird
import Logging
import ModelProviders
import Runtime
import Sandbox
import Server
import ServiceLifecycle
import Storage
import Tools

@main
struct CMA: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cma",
        abstract: "A self-hosted runtime for Codex agents, speaking the OpenAI Agents API.",
        subcommands: [Serve.self, Keys.self])
}

/// Options shared by commands that use the data directory.
struct DataDirOption: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Where the database lives (env CMA_DATA_DIR; default ./.cma).")
    var dataDir: String?

    var resolved: String {
        dataDir ?? ProcessInfo.processInfo.environment["CMA_DATA_DIR"] ?? "./.cma"
    }

    /// Creates the directory (owner-only) and opens the database in it.
    func openStore() throws -> SQLiteStore {
        let path = resolved
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let file = (path as NSString).appendingPathComponent("cma.sqlite")
        let store = try SQLiteStore(path: file)
        // The database is the server's alone (also files created before umask was set).
        for suffix in ["", "-wal", "-shm"] { _ = chmod(file + suffix, 0o600) }
        return store
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the API server.")

    @Option(help: "Address to listen on (env CMA_HOST; default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on; 0 picks a free port (env CMA_PORT; default 8080).")
    var port: Int?

    @Option(help: "Seconds an unused session sandbox keeps running before it is suspended; 0 never suspends (env CMA_SANDBOX_IDLE_TIMEOUT; default 600).")
    var sandboxIdleTimeout: Int?

    @Option(help: "A JSON file describing models the built-in catalog does not know: {\"models\": {\"NAME\": {\"context_window\": N}}} (env CMA_MODEL_CATALOG).")
    var modelCatalog: String?

    @Option(help: "Requests per second each API key may make; 0 turns the limit off (env CMA_RATE_LIMIT; default 50).")
    var rateLimit: Double?

    @Option(help: "Requests an API key may make at once above the rate (env CMA_RATE_LIMIT_BURST; default twice the rate).")
    var rateLimitBurst: Double?

    @Option(help: "Seconds running turns get at shutdown to finish their current model call or command (env CMA_SHUTDOWN_GRACE; default 10).")
    var shutdownGrace: Int?

    @Option(
        name: .customLong("sandbox-ro-bind"),
        help: "HOST:SANDBOX — show a host file or directory to every sandbox, read-only (repeatable; env CMA_SANDBOX_RO_BINDS, comma-separated).")
    var sandboxReadOnlyBinds: [String] = []

    @Option(
        name: .customLong("web-search-url"),
        help: "The base URL of a SearXNG instance with its JSON API enabled, for the web_search tool's searches (env CMA_WEB_SEARCH_URL).")
    var webSearchURL: String?

    @OptionGroup var data: DataDirOption

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        let level = env["CMA_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "cma")

        let host = host ?? env["CMA_HOST"] ?? "127.0.0.1"
        guard let port = port ?? (env["CMA_PORT"].map { Int($0) } ?? 8080), (0...65535).contains(port) else {
            throw ValidationError("CMA_PORT must be a port number.")
        }
        guard let idleSeconds = sandboxIdleTimeout ?? (env["CMA_SANDBOX_IDLE_TIMEOUT"].map { Int($0) } ?? 600), idleSeconds >= 0 else {
            throw ValidationError("CMA_SANDBOX_IDLE_TIMEOUT must be a number of seconds.")
        }
        guard let rate = rateLimit ?? (env["CMA_RATE_LIMIT"].map { Double($0) } ?? RateLimit.standard.requestsPerSecond), rate >= 0, rate.isFinite else {
            throw ValidationError("CMA_RATE_LIMIT must be a number of requests per second (0 for no limit).")
        }
        let burst = rateLimitBurst ?? env["CMA_RATE_LIMIT_BURST"].flatMap { Double($0) }
        if let burst, !(burst >= 1 && burst.isFinite) { throw ValidationError("CMA_RATE_LIMIT_BURST must be at least 1.") }
        let limit = rate == 0 ? nil : RateLimit(requestsPerSecond: rate, burst: burst)
        guard let grace = shutdownGrace ?? (env["CMA_SHUTDOWN_GRACE"].map { Int($0) } ?? 10), grace >= 0 else {
            throw ValidationError("CMA_SHUTDOWN_GRACE must be a number of seconds.")
        }
        var catalog = ModelCatalog.builtIn
        if let file = modelCatalog ?? env["CMA_MODEL_CATALOG"] {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw ValidationError("Cannot read the model catalog \(file).") }
            do {
                catalog = try catalog.adding(json: text)
            } catch {
                throw ValidationError("The model catalog \(file) is invalid: \(error)")
            }
        }
        // Everything the server creates is private to it unless opened up on purpose.
        umask(0o077)
        let store = try data.openStore()
        var binds: [(source: String, destination: String)] = []
        for spec in sandboxReadOnlyBinds + (env["CMA_SANDBOX_RO_BINDS"].map { $0.split(separator: ",").map(String.init) } ?? []) {
            let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, parts[0].hasPrefix("/"), parts[1].hasPrefix("/"), !parts[1].hasPrefix("/workspace"),
                FileManager.default.fileExists(atPath: parts[0])
            else {
                throw ValidationError("--sandbox-ro-bind takes HOST:SANDBOX, two absolute paths (the host one existing, the sandbox one outside /workspace): \(spec)")
            }
            binds.append((parts[0], parts[1]))
        }
        let sandboxHost = makeSandboxHost(dataDir: data.resolved, logger: logger, readOnlyBinds: binds)
        let modelConfiguration = ModelProviderConfiguration.fromEnvironment(env)
        // A dedicated HTTP client: its read timeout is ours (reasoning models can be silent for
        // minutes), not the shared client's 90 s.
        let model = OpenAIResponsesClient.dedicated(configuration: modelConfiguration, logger: Logger(label: "cma.model"))
        let searchURL = webSearchURL ?? env["CMA_WEB_SEARCH_URL"]
        if let searchURL, SearXNG.requestURL(base: searchURL, query: "q", page: 1, language: nil, timeRange: nil) == nil {
            throw ValidationError("--web-search-url must be an http(s) URL: \(searchURL)")
        }
        let webSettings = WebSettings(searchURL: searchURL, cacheDirectory: (data.resolved as NSString).appendingPathComponent("web-cache"))
        let runtime = AgentRuntime(
            store: store, model: model, logger: Logger(label: "cma.runtime"), sandboxHost: sandboxHost,
            sandboxIdleTimeout: idleSeconds == 0 ? nil : .seconds(idleSeconds), modelCatalog: catalog, shutdownGrace: .seconds(grace),
            webSettings: webSettings)
        let dataDir = data.resolved
        let app = buildApplication(
            runtime: runtime, configuration: ServerConfiguration(host: host, port: port, rateLimit: limit), logger: logger,
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                let line = "cma listening on http://\(host):\(bound) (data: \(dataDir), model API: \(modelConfiguration.baseURL))\n"
                FileHandle.standardOutput.write(Data(line.utf8))
            })
        // The runtime is listed last so that it is shut down first: it ends event streams and
        // stops the turn loops, then the HTTP server drains.
        let group = ServiceGroup(
            configuration: .init(services: [app, runtime], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        try await model.shutdown()
    }
}

/// The sandbox host for hosted environments, or nil (with a log line saying why) when this
/// machine cannot run them.
func makeSandboxHost(dataDir: String, logger: Logger, readOnlyBinds: [(source: String, destination: String)] = []) -> SandboxHost? {
    let root = (dataDir as NSString).appendingPathComponent("sandboxes")
    var configuration = SandboxHost.Configuration.locate(root: root)
    configuration.readOnlyBinds = readOnlyBinds
    let host = SandboxHost(configuration: configuration, logger: Logger(label: "cma.sandbox"))
    do {
        try host.checkAvailable()
        try FileManager.default.createDirectory(atPath: root + "/workspaces", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/state", withIntermediateDirectories: true)
        if !host.isolatesUsers {
            logger.warning("not running as root: sandboxes share the server's uid, and their memory and process counts are not bounded")
        }
        return host
    } catch {
        logger.warning("hosted environments are disabled: \(error)")
        return nil
    }
}

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage API keys.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an API key and print it on stdout (shown once; only its hash is stored).")

        @OptionGroup var data: DataDirOption

        func run() async throws {
            let store = try data.openStore()
            let (key, _) = try await APIKeys.create(in: store)
            FileHandle.standardOutput.write(Data((key + "\n").utf8))
        }
    }
}
