import AgentsAPI
import AsyncHTTPClient
import Foundation
import Logging
import MCP
import Sandbox

/// Settings for the MCP servers of every session.
public struct MCPSettings: Sendable {
    /// Longest wait for a server to start and list its tools.
    public var startupTimeout: Duration
    /// Longest wait for one tool call.
    public var callTimeout: Duration

    public init(startupTimeout: Duration = .seconds(30), callTimeout: Duration = .seconds(120)) {
        self.startupTimeout = startupTimeout
        self.callTimeout = callTimeout
    }
}

/// A tool of an MCP server as the model sees it: a function named `mcp__<server>__<tool>`, as
/// Codex names them.
struct ExposedMCPTool: Sendable, Equatable {
    var exposedName: String
    var serverLabel: String
    var info: MCPToolInfo

    /// A stand-in for a tool no longer offered (its server stopped or changed its list).
    static func unknown(_ exposedName: String, label: String = "", tool: String? = nil) -> ExposedMCPTool {
        ExposedMCPTool(exposedName: exposedName, serverLabel: label, info: MCPToolInfo(name: tool ?? exposedName, description: "", inputSchema: [:], destructive: false))
    }

    var definition: JSONValue {
        [
            "type": "function", "name": .string(exposedName), "description": .string(info.description), "parameters": .object(Self.schema(info.inputSchema)),
            "strict": false,
        ]
    }

    /// An input schema the Responses API accepts: an object schema.
    static func schema(_ s: JSONObject) -> JSONObject {
        var schema = s
        if schema["type"]?.stringValue != "object" { schema["type"] = "object" }
        if schema["properties"] == nil { schema["properties"] = [:] }
        return schema
    }

    /// `mcp__<label>__<tool>`, with characters the API refuses replaced by `_`, and cut to 64
    /// characters with a hash of the full name when longer.
    static func exposedName(label: String, tool: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-".unicodeScalars)
        let clean = String(String.UnicodeScalarView(tool.unicodeScalars.map { allowed.contains($0) ? $0 : "_" }))
        let name = "mcp__\(label)__\(clean)"
        guard name.unicodeScalars.count > 64 else { return name }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in "\(label)\u{0}\(tool)".utf8 {
            hash ^= UInt64(b)
            hash = hash &* 0x100_0000_01b3
        }
        let suffix = String(hash, radix: 16)
        return String(name.prefix(64 - suffix.count - 1)) + "_" + suffix
    }
}

/// The MCP servers of one session: started when a turn needs them, kept while the session runs,
/// restarted after they stop. Owned by the session's runner.
actor MCPServers {
    struct Server {
        var config: MCPTool
        var secrets: MCPSecrets
        var client: MCPClient?
        var tools: [MCPToolInfo] = []
        /// The turn in which starting it last failed (an optional server is tried once per turn).
        var failedTurn: String?
        /// The sandbox of its own of a stdio server reached from the service.
        var ownSandbox: RunningSandbox?
    }

    /// How a server's process or connection is made: supplied by the runner.
    struct Context: Sendable {
        /// The session's sandbox (for `connection_origin: environment`).
        var environmentSandbox: @Sendable () async throws -> BubblewrapSandbox
        /// A sandbox of the server's own (for stdio servers reached from the service).
        var ownSandbox: @Sendable (_ label: String) async throws -> RunningSandbox
        /// The environment a stdio server starts with, before its `env_vars` and `env`.
        var baseEnvironment: [String: String]
        /// Values `env_vars` can name (the hosted environment's `env`).
        var inheritable: [String: String]
    }

    private var servers: [String: Server] = [:]
    private var order: [String] = []
    let settings: MCPSettings
    let logger: Logger

    init(settings: MCPSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    var isEmpty: Bool { order.isEmpty }

    /// Takes the session's current MCP tools. A server whose definition changed is restarted.
    func configure(_ tools: [MCPTool], secrets: [String: MCPSecrets]) async {
        var next: [String: Server] = [:]
        var stale: [Server] = []
        for tool in tools {
            let s = secrets[tool.serverLabel] ?? MCPSecrets()
            if var existing = servers[tool.serverLabel], existing.config == tool, existing.secrets == s {
                existing.config = tool
                next[tool.serverLabel] = existing
            } else {
                if let old = servers[tool.serverLabel] { stale.append(old) }
                next[tool.serverLabel] = Server(config: tool, secrets: s)
            }
        }
        for (label, server) in servers where next[label] == nil { stale.append(server) }
        servers = next
        order = tools.map(\.serverLabel)
        for server in stale { await Self.stop(server) }
    }

    /// Starts what is not running. Returns the required servers that could not start (the turn
    /// fails with them). Optional servers that fail are left out of this turn's tools.
    func prepare(turnID: String, context: Context) async -> [(label: String, error: MCPError)] {
        var toStart: [String] = []
        for label in order {
            guard var server = servers[label] else { continue }
            if let client = server.client, client.closedError != nil {
                // It stopped: start it again.
                logger.notice("MCP server stopped; restarting it", metadata: ["mcp_server": "\(label)"])
                await client.close()
                server.client = nil
                server.tools = []
                servers[label] = server
            }
            if server.client == nil, server.failedTurn != turnID || server.config.required { toStart.append(label) }
        }
        var failures: [(String, MCPError)] = []
        await withTaskGroup(of: (String, Result<(MCPClient, [MCPToolInfo], RunningSandbox?), MCPError>).self) { group in
            for label in toStart {
                guard let server = servers[label] else { continue }
                group.addTask { (label, await self.start(server, context: context)) }
            }
            for await (label, result) in group {
                guard var server = servers[label] else { continue }
                switch result {
                case .success(let (client, tools, own)):
                    server.client = client
                    server.tools = tools
                    server.ownSandbox = own
                    server.failedTurn = nil
                    logger.info("MCP server ready", metadata: ["mcp_server": "\(label)", "tools": "\(tools.count)"])
                case .failure(let error):
                    server.failedTurn = turnID
                    logger.warning("MCP server did not start", metadata: ["mcp_server": "\(label)", "error": "\(error.message)"])
                    if server.config.required { failures.append((label, error)) }
                }
                servers[label] = server
            }
        }
        // Tool lists the servers said changed are fetched again.
        for label in order {
            guard var server = servers[label], let client = server.client, client.toolsChanged else { continue }
            if let tools = try? await client.listTools(timeout: settings.startupTimeout) {
                server.tools = tools
                servers[label] = server
            }
        }
        return failures.sorted { (order.firstIndex(of: $0.0) ?? 0) < (order.firstIndex(of: $1.0) ?? 0) }
    }

    private func start(_ server: Server, context: Context) async -> Result<(MCPClient, [MCPToolInfo], RunningSandbox?), MCPError> {
        let label = server.config.serverLabel
        let client = MCPClient(label: label)
        var own: RunningSandbox?
        do {
            switch server.config.transport {
            case .http(let url):
                client.attach(
                    MCPHTTPChannel(
                        url: url, label: label, headers: server.secrets.headers, authorization: server.secrets.authorization, httpClient: HTTPClient.shared,
                        events: client.channelEvents, readTimeout: max(settings.callTimeout, settings.startupTimeout)))
            case .stdio(let command, let cwd, let args, let envVars):
                let sandbox: BubblewrapSandbox
                do {
                    if server.config.connectionOrigin == .environment {
                        sandbox = try await context.environmentSandbox()
                    } else {
                        let running = try await context.ownSandbox(label)
                        own = running
                        sandbox = running.sandbox
                    }
                } catch {
                    throw MCPError(.connection, "The MCP server '\(label)' has no sandbox to run in: \((error as? SandboxError)?.message ?? "\(error)")")
                }
                var env = context.baseEnvironment
                for name in envVars { if let value = context.inheritable[name] { env[name] = value } }
                for (name, value) in server.secrets.env { env[name] = value }
                let logPath = server.config.connectionOrigin == .environment ? "/workspace/.cma/logs/mcp-\(label).log" : "/workspace/mcp-\(label).log"
                client.attach(
                    MCPStdioChannel(
                        label: label, sandbox: sandbox, argv: [command] + args, cwd: cwd, env: env, logPath: logPath, events: client.channelEvents))
            }
            try await client.initialize(timeout: settings.startupTimeout)
            var tools = try await client.listTools(timeout: settings.startupTimeout)
            if let allowed = server.config.allowedTools { tools = tools.filter { allowed.contains($0.name) } }
            return .success((client, tools, own))
        } catch let error as MCPError {
            await client.close()
            await own?.stop()
            return .failure(error)
        } catch {
            await client.close()
            await own?.stop()
            return .failure(MCPError(.connection, "\(error)"))
        }
    }

    /// The tools the model is offered, in the order of the servers, then of their lists.
    func exposedTools() -> [ExposedMCPTool] {
        var result: [ExposedMCPTool] = []
        var taken = Set<String>()
        for label in order {
            guard let server = servers[label], server.client != nil else { continue }
            for tool in server.tools {
                let name = ExposedMCPTool.exposedName(label: label, tool: tool.name)
                guard taken.insert(name).inserted else { continue }
                result.append(ExposedMCPTool(exposedName: name, serverLabel: label, info: tool))
            }
        }
        return result
    }

    /// Calls a tool. Errors are returned as text for the model and the item.
    func call(label: String, tool: String, arguments: JSONObject) async -> Result<MCPCallResult, MCPError> {
        guard let server = servers[label], let client = server.client else {
            return .failure(MCPError(.connection, "The MCP server '\(label)' is not running."))
        }
        do {
            return .success(
                try await client.callTool(tool, arguments: arguments, meta: server.config.requestMetadata.isEmpty ? nil : server.config.requestMetadata, timeout: settings.callTimeout))
        } catch {
            return .failure(error)
        }
    }

    func stopAll() async {
        let all = servers.values
        for label in order { servers[label]?.client = nil }
        for server in all { await Self.stop(server) }
    }

    private static func stop(_ server: Server) async {
        await server.client?.close()
        await server.ownSandbox?.stop()
    }
}
