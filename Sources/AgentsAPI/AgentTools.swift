import CMAJSON

// MARK: - MCP

/// Where an MCP server is reached from.
public enum MCPConnectionOrigin: String, Sendable, CaseIterable {
    /// From the runtime itself (a stdio server runs in a sandbox of its own).
    case service
    /// From the session's execution environment (a stdio server runs in the session's sandbox).
    case environment
}

/// How an MCP server is reached. Secrets (authorization, headers, env) are not part of it: they
/// live in `MCPSecrets`, which no response or event carries.
public enum MCPTransportConfig: Sendable, Equatable {
    case http(serverURL: String)
    case stdio(command: String, cwd: String, args: [String], envVars: [String])
}

/// The confidential parts of an MCP tool: session-level `authorization`, `headers` and `env`.
/// Reusable agents may carry (non-secret) headers, which are echoed on the agent; a session
/// keeps all of them out of its public JSON.
public struct MCPSecrets: Sendable, Equatable, JSONCodable {
    public var authorization: String?
    public var headers: [(String, String)]
    public var env: [(String, String)]

    public init(authorization: String? = nil, headers: [(String, String)] = [], env: [(String, String)] = []) {
        self.authorization = authorization
        self.headers = headers
        self.env = env
    }

    public var isEmpty: Bool { authorization == nil && headers.isEmpty && env.isEmpty }

    public static func == (lhs: MCPSecrets, rhs: MCPSecrets) -> Bool {
        lhs.authorization == rhs.authorization && lhs.headers.elementsEqual(rhs.headers, by: ==) && lhs.env.elementsEqual(rhs.env, by: ==)
    }

    public var json: JSONValue {
        var o = JSONObject()
        o.set("authorization", authorization.map { .string($0) })
        o["headers"] = .object(JSONObject(headers.map { ($0.0, .string($0.1)) }))
        o["env"] = .object(JSONObject(env.map { ($0.0, .string($0.1)) }))
        return .object(o)
    }

    public init(json: JSONValue) throws(ValidationError) {
        let r = try JSONReader(json)
        authorization = try r.optionalString("authorization")
        headers = try r.stringMapField("headers").value ?? []
        env = try r.stringMapField("env").value ?? []
    }
}

/// A `type: "mcp"` tool: the tools of an MCP server, offered to the model.
public struct MCPTool: Sendable, Equatable {
    public var serverLabel: String
    public var transport: MCPTransportConfig
    /// Nil: every tool of the server is allowed.
    public var allowedTools: [String]?
    public var connectionOrigin: MCPConnectionOrigin
    public var credentialID: String?
    public var requestMetadata: JSONObject
    /// The server must initialise before the first turn.
    public var required: Bool
    /// In memory only; never written by `json`.
    public var secrets: MCPSecrets

    public init(
        serverLabel: String, transport: MCPTransportConfig, allowedTools: [String]? = nil, connectionOrigin: MCPConnectionOrigin = .service,
        credentialID: String? = nil, requestMetadata: JSONObject = [:], required: Bool = false, secrets: MCPSecrets = .init()
    ) {
        self.serverLabel = serverLabel
        self.transport = transport
        self.allowedTools = allowedTools
        self.connectionOrigin = connectionOrigin
        self.credentialID = credentialID
        self.requestMetadata = requestMetadata
        self.required = required
        self.secrets = secrets
    }

    /// The reusable-agent form: non-secret headers included, authorization and env never.
    public var json: JSONValue { json(includingHeaders: true) }

    /// The session form leaves headers out too.
    public func json(includingHeaders: Bool) -> JSONValue {
        var o = JSONObject()
        o["type"] = "mcp"
        o["server_label"] = .string(serverLabel)
        switch transport {
        case .http(let url):
            var t: JSONObject = ["type": "http", "server_url": .string(url)]
            if includingHeaders { t["headers"] = .object(JSONObject(secrets.headers.map { ($0.0, .string($0.1)) })) }
            o["transport"] = .object(t)
        case .stdio(let command, let cwd, let args, let envVars):
            o["transport"] = [
                "type": "stdio", "command": .string(command), "cwd": .string(cwd), "args": .array(args.map { .string($0) }),
                "env_vars": .array(envVars.map { .string($0) }),
            ]
        }
        o["allowed_tools"] = allowedTools.map { .array($0.map { .string($0) }) } ?? .null
        o["connection_origin"] = .string(connectionOrigin.rawValue)
        o.set("credential_id", credentialID.map { .string($0) })
        o["request_metadata"] = .object(requestMetadata)
        o["required"] = .bool(required)
        return .object(o)
    }

    /// Reads the stored (or echoed) form.
    init(reading r: JSONReader) throws(ValidationError) {
        serverLabel = try r.string("server_label")
        let t = try r.object("transport")
        var secrets = MCPSecrets()
        switch try t.string("type") {
        case "stdio":
            transport = .stdio(
                command: try t.string("command"), cwd: try t.string("cwd"), args: try t.stringArrayField("args").value ?? [],
                envVars: try t.stringArrayField("env_vars").value ?? [])
        default:
            transport = .http(serverURL: try t.string("server_url"))
            secrets.headers = try t.stringMapField("headers").value ?? []
        }
        allowedTools = try r.stringArrayField("allowed_tools").value
        connectionOrigin = try r.enumField("connection_origin", MCPConnectionOrigin.self).value ?? .service
        credentialID = try r.optionalString("credential_id")
        requestMetadata = try r.objectField("request_metadata").value?.object ?? [:]
        required = try r.boolField("required").value ?? false
        self.secrets = secrets
    }

    static let labelCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-".unicodeScalars)

    /// Parses an `mcp` tool of a request. `persisted`: the reusable-agent schema, which has no
    /// `authorization` and no `env`.
    static func parse(_ t: JSONReader, persisted: Bool) throws(ValidationError) -> MCPTool {
        try t.rejectUnknown(["type", "server_label", "transport", "allowed_tools", "connection_origin", "credential_id", "request_metadata", "required"])
        let label = try t.string("server_label")
        guard !label.isEmpty, label.unicodeScalars.count <= 64, label.unicodeScalars.allSatisfy({ labelCharacters.contains($0) }) else {
            throw .invalid(
                "Invalid '\(t.param("server_label"))': server labels must be 1 to 64 characters of a-z, A-Z, 0-9, '_' or '-'.", param: t.param("server_label"))
        }
        if try t.optionalString("credential_id") != nil {
            throw .notAvailable("Vault credentials for MCP servers (credential_id) are", param: t.param("credential_id"))
        }
        let tr = try t.object("transport")
        var secrets = MCPSecrets()
        let transport: MCPTransportConfig
        switch try tr.string("type") {
        case "http":
            try tr.rejectUnknown(persisted ? ["type", "server_url", "headers"] : ["type", "server_url", "headers", "authorization"])
            let url = try tr.string("server_url")
            guard Self.isHTTPURL(url) else {
                throw .invalid("Invalid '\(tr.param("server_url"))': expected an http:// or https:// URL with a host.", param: tr.param("server_url"))
            }
            transport = .http(serverURL: url)
            secrets.headers = try tr.stringMapField("headers").value ?? []
            for (name, value) in secrets.headers {
                guard Self.isHeaderName(name), !value.utf8.contains(where: { $0 == 10 || $0 == 13 || $0 == 0 }) else {
                    throw .invalid("Invalid header '\(name.prefix(64))' in '\(tr.param("headers"))'.", param: tr.param("headers"))
                }
                if ["content-type", "accept", "mcp-session-id", "mcp-protocol-version", "content-length", "host", "transfer-encoding", "connection"]
                    .contains(name.lowercased())
                {
                    throw .invalid("Header '\(name)' in '\(tr.param("headers"))' is set by the runtime.", param: tr.param("headers"))
                }
            }
            if !persisted, let authorization = try tr.optionalString("authorization") {
                guard !authorization.isEmpty, !authorization.utf8.contains(where: { $0 == 10 || $0 == 13 || $0 == 0 }) else {
                    throw .invalid("Invalid '\(tr.param("authorization"))': it must be a non-empty header value.", param: tr.param("authorization"))
                }
                secrets.authorization = authorization
            }
        case "stdio":
            try tr.rejectUnknown(persisted ? ["type", "command", "cwd", "args", "env_vars"] : ["type", "command", "cwd", "args", "env_vars", "env"])
            let command = try tr.string("command")
            guard !command.isEmpty, !command.utf8.contains(0) else {
                throw .invalid("'\(tr.param("command"))' must be a non-empty string.", param: tr.param("command"))
            }
            let cwd = try tr.string("cwd")
            guard cwd.hasPrefix("/"), !cwd.utf8.contains(0) else {
                throw .invalid("'\(tr.param("cwd"))' must be an absolute path.", param: tr.param("cwd"))
            }
            let args = try tr.stringArrayField("args").value ?? []
            let envVars = try tr.stringArrayField("env_vars").value ?? []
            for name in envVars where !Self.isEnvName(name) {
                throw .invalid("Invalid environment variable name '\(name.prefix(64))' in '\(tr.param("env_vars"))'.", param: tr.param("env_vars"))
            }
            if !persisted {
                secrets.env = try tr.stringMapField("env").value ?? []
                for (name, _) in secrets.env where !Self.isEnvName(name) {
                    throw .invalid("Invalid environment variable name '\(name.prefix(64))' in '\(tr.param("env"))'.", param: tr.param("env"))
                }
            }
            transport = .stdio(command: command, cwd: cwd, args: args, envVars: envVars)
        case let other:
            throw .invalid("Invalid value for '\(tr.param("type"))': '\(other.prefix(64))'. Supported values are: 'http', 'stdio'.", param: tr.param("type"))
        }
        let allowed = try t.stringArrayField("allowed_tools").value
        return MCPTool(
            serverLabel: label, transport: transport, allowedTools: allowed,
            connectionOrigin: try t.enumField("connection_origin", MCPConnectionOrigin.self).value ?? .service, credentialID: nil,
            requestMetadata: try t.objectField("request_metadata").value?.object ?? [:], required: try t.boolField("required").value ?? false,
            secrets: secrets)
    }

    static func isHTTPURL(_ url: String) -> Bool {
        let lower = url.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://"), url.utf8.count <= 2048 else { return false }
        let rest = url.drop { $0 != "/" }.dropFirst(2)
        return !rest.isEmpty && !rest.hasPrefix("/") && !url.contains(where: { $0 == " " || $0 == "\n" || $0 == "\r" })
    }

    static func isHeaderName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 256
            && name.utf8.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || Array("!#$%&'*+-.^_`|~".utf8).contains(b)
            }
    }

    static func isEnvName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !(first >= 0x30 && first <= 0x39), name.utf8.count <= 256 else { return false }
        return name.utf8.allSatisfy { b in (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F }
    }
}

// MARK: - Web search

public enum WebSearchMode: String, Sendable, CaseIterable {
    case disabled, cached, live
}

public enum WebSearchContextSize: String, Sendable, CaseIterable {
    case low, medium, high
}

/// A `type: "web_search"` tool.
public struct WebSearchTool: Sendable, Equatable {

    /// Nil: unrestricted (within the server's egress policy).
    public var allowedDomains: [String]?
    public var contextSize: WebSearchContextSize
    public var location: JSONObject?
    public var mode: WebSearchMode

    public init(allowedDomains: [String]? = nil, contextSize: WebSearchContextSize = .medium, location: JSONObject? = nil, mode: WebSearchMode = .live) {
        self.allowedDomains = allowedDomains
        self.contextSize = contextSize
        self.location = location
        self.mode = mode
    }

    public var json: JSONValue {
        var o: JSONObject = ["type": "web_search"]
        o["allowed_domains"] = allowedDomains.map { .array($0.map { .string($0) }) } ?? .null
        o["context_size"] = .string(contextSize.rawValue)
        o.set("location", location.map { .object($0) })
        o["mode"] = .string(mode.rawValue)
        return .object(o)
    }

    init(reading r: JSONReader) throws(ValidationError) {
        allowedDomains = try r.stringArrayField("allowed_domains").value
        contextSize = try r.enumField("context_size", WebSearchContextSize.self).value ?? .medium
        location = try r.objectField("location").value?.object
        mode = try r.enumField("mode", WebSearchMode.self).value ?? .live
    }

    static func parse(_ t: JSONReader) throws(ValidationError) -> WebSearchTool {
        try t.rejectUnknown(["type", "allowed_domains", "context_size", "location", "mode"])
        var tool = try WebSearchTool(reading: t)
        if let domains = tool.allowedDomains {
            var normalised: [String] = []
            for domain in domains {
                var d = domain.lowercased()
                while d.hasSuffix(".") { d.removeLast() }
                guard !d.isEmpty, d.utf8.count <= 253, !d.contains("*"), !d.contains("/"), !d.contains(":"),
                    d.utf8.allSatisfy({ b in (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x2E })
                else {
                    throw .invalid(
                        "Invalid domain '\(domain.prefix(64))' in '\(t.param("allowed_domains"))': expected a host name such as 'example.com' (wildcards are not supported; subdomains are included).",
                        param: t.param("allowed_domains"))
                }
                normalised.append(d)
            }
            tool.allowedDomains = normalised
        }
        if let location = try t.objectField("location").value {
            try location.rejectUnknown(["city", "country", "region", "timezone", "type"])
            for key in ["city", "country", "region", "timezone"] { _ = try location.optionalString(key) }
        }
        return tool
    }
}
