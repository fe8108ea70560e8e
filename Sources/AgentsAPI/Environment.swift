/// `container_size` of a hosted environment.
public enum ContainerSize: String, Sendable, CaseIterable {
    case small, medium, large
}

public enum NetworkAccess: String, Sendable, CaseIterable {
    case enabled, disabled, restricted
}

/// A file placed in the workspace before the agent starts (public metadata only).
public struct HostedFile: Sendable, Equatable {
    public var id: String
    public var path: String
    public var sizeBytes: Int64

    public init(id: String, path: String, sizeBytes: Int64) {
        self.id = id
        self.path = path
        self.sizeBytes = sizeBytes
    }

    public var json: JSONValue {
        ["type": "inline", "id": .string(id), "path": .string(path), "size_bytes": .int(sizeBytes)]
    }
}

/// The public part of an `openai_hosted` environment: what the API returns. Confidential inputs
/// (environment variables, setup commands, file contents) are in `HostedEnvironmentSecrets`
/// and are never echoed.
public struct HostedEnvironment: Sendable, Equatable {
    public var id: String
    public var containerSize: ContainerSize
    public var networkAccess: NetworkAccess
    public var allowedDomains: [String]
    public var files: [HostedFile]

    public init(id: String, containerSize: ContainerSize = .medium, networkAccess: NetworkAccess = .disabled, allowedDomains: [String] = [], files: [HostedFile] = []) {
        self.id = id
        self.containerSize = containerSize
        self.networkAccess = networkAccess
        self.allowedDomains = allowedDomains
        self.files = files
    }

    public var json: JSONValue {
        [
            "type": "openai_hosted",
            "id": .string(id),
            "capability_directories": [],
            "container_size": .string(containerSize.rawValue),
            "files": .array(files.map(\.json)),
            "network": ["access": .string(networkAccess.rawValue), "allowed_domains": .array(allowedDomains.map { .string($0) })],
            "packages": ["npm": [], "python": [], "system": []],
            "plugins": [],
            "skills": [],
        ]
    }

    init(reading r: JSONReader) throws(ValidationError) {
        id = try r.string("id")
        containerSize = try r.enumField("container_size", ContainerSize.self).value ?? .medium
        let network = try r.objectField("network").value
        networkAccess = try network?.enumField("access", NetworkAccess.self).value ?? .disabled
        allowedDomains = try network?.stringArrayField("allowed_domains").value ?? []
        var files: [HostedFile] = []
        for f in try r.arrayField("files").value ?? [] {
            let fr = try JSONReader(f)
            files.append(HostedFile(id: try fr.string("id"), path: try fr.string("path"), sizeBytes: try fr.intField("size_bytes").value ?? 0))
        }
        self.files = files
    }
}

/// Confidential inputs of a hosted environment. Stored with the session, used to build the
/// sandbox, never returned by the API or logged.
public struct HostedEnvironmentSecrets: Sendable, Equatable {
    public struct SetupCommand: Sendable, Equatable {
        public var command: String
        public var cwd: String

        public init(command: String, cwd: String = "/workspace") {
            self.command = command
            self.cwd = cwd
        }
    }

    public struct FileContents: Sendable, Equatable {
        public var path: String
        /// Standard base64, as received.
        public var base64: String

        public init(path: String, base64: String) {
            self.path = path
            self.base64 = base64
        }
    }

    public var env: [(name: String, value: String)]
    public var setupCommands: [SetupCommand]
    public var files: [FileContents]

    public init(env: [(name: String, value: String)] = [], setupCommands: [SetupCommand] = [], files: [FileContents] = []) {
        self.env = env
        self.setupCommands = setupCommands
        self.files = files
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.env.elementsEqual(rhs.env, by: { $0 == $1 }) && lhs.setupCommands == rhs.setupCommands && lhs.files == rhs.files
    }

    public var json: JSONValue {
        [
            "env": .object(JSONObject(env.map { ($0.name, JSONValue.string($0.value)) })),
            "setup_commands": .array(setupCommands.map { ["command": .string($0.command), "cwd": .string($0.cwd)] }),
            "files": .array(files.map { ["path": .string($0.path), "data": .string($0.base64)] }),
        ]
    }

    public init(json: JSONValue) {
        env = (json["env"]?.objectValue.map { Array($0) } ?? []).compactMap { k, v in v.stringValue.map { (k, $0) } }
        setupCommands = (json["setup_commands"]?.arrayValue ?? []).compactMap { c in
            c["command"]?.stringValue.map { SetupCommand(command: $0, cwd: c["cwd"]?.stringValue ?? "/workspace") }
        }
        files = (json["files"]?.arrayValue ?? []).compactMap { f in
            guard let path = f["path"]?.stringValue, let data = f["data"]?.stringValue else { return nil }
            return FileContents(path: path, base64: data)
        }
    }
}

/// `AgentSessionEnvironmentState.status`.
public enum EnvironmentStatus: String, Sendable, CaseIterable {
    case pending, ready, connected, disconnected, suspended, expired, failed
}

/// `AgentSessionEnvironmentState`, carried by the `agent.session.environment.*` events.
public struct EnvironmentState: Sendable, Equatable {
    public var id: String
    public var type: String
    public var status: EnvironmentStatus
    public var error: (code: String, message: String)?

    public init(id: String, type: String = "openai_hosted", status: EnvironmentStatus, error: (code: String, message: String)? = nil) {
        self.id = id
        self.type = type
        self.status = status
        self.error = error
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.id == rhs.id && lhs.type == rhs.type && lhs.status == rhs.status && lhs.error?.code == rhs.error?.code && lhs.error?.message == rhs.error?.message
    }

    public var json: JSONValue {
        [
            "id": .string(id), "type": .string(type), "status": .string(status.rawValue),
            "error": error.map { ["code": .string($0.code), "message": .string($0.message), "type": "sandbox_error"] } ?? .null,
        ]
    }

    init(json: JSONValue) throws(ValidationError) {
        let r = try JSONReader(json)
        id = try r.string("id")
        type = try r.optionalString("type") ?? "openai_hosted"
        status = try r.requiredEnum("status", EnvironmentStatus.self)
        if let e = try r.objectField("error").value {
            error = (try e.optionalString("code") ?? "", try e.optionalString("message") ?? "")
        } else {
            error = nil
        }
    }
}

// MARK: - Request parsing

extension HostedEnvironment {
    /// The largest inline file, and all inline files together (after base64 decoding).
    public static let maxInlineFileBytes = 4 << 20
    public static let maxSetupCommands = 32
    public static let maxEnvironmentVariables = 128

    /// Parses `environment` of type `openai_hosted` in a session create. Features that need the
    /// rest of the hosted-environment work (prewarmed environments, templates, packages, network
    /// access, skills, plugins, desktop) answer `feature_not_available`.
    static func parse(_ env: JSONReader) throws(ValidationError) -> (HostedEnvironment, HostedEnvironmentSecrets) {
        try env.rejectUnknown([
            "type", "environment_id", "environment_template_id", "capability_directories", "container_size", "desktop", "env", "files",
            "network", "packages", "plugins", "setup_commands", "skills",
        ])
        if try env.optionalString("environment_id") != nil {
            throw .notAvailable("Prewarmed environments (environment_id) are", param: env.param("environment_id"))
        }
        if try env.optionalString("environment_template_id") != nil {
            throw .notAvailable("Environment templates (environment_template_id) are", param: env.param("environment_template_id"))
        }
        for key in ["capability_directories", "plugins", "skills"] where !(try env.arrayField(key).value ?? []).isEmpty {
            throw .notAvailable("'\(key)' is", param: env.param(key))
        }
        if let desktop = try env.objectField("desktop").value, try desktop.boolField("enabled").value == true {
            throw .notAvailable("The desktop is", param: desktop.param("enabled"))
        }
        if let packages = try env.objectField("packages").value {
            try packages.rejectUnknown(["npm", "python", "system"])
            for key in ["npm", "python", "system"] where !(try packages.stringArrayField(key).value ?? []).isEmpty {
                throw .notAvailable("Package installation is", param: packages.param(key))
            }
        }
        var hosted = HostedEnvironment(id: IDGenerator.make(.environment))
        hosted.containerSize = try env.enumField("container_size", ContainerSize.self).value ?? .medium
        if let network = try env.objectField("network").value {
            try network.rejectUnknown(["access", "allowed_domains", "blocked_domains"])
            let access = try network.requiredEnum("access", NetworkAccess.self)
            if access != .disabled {
                throw .notAvailable("Network access from hosted environments is", param: network.param("access"))
            }
        }

        var secrets = HostedEnvironmentSecrets()
        if let vars = try env.stringMapField("env").value {
            guard vars.count <= maxEnvironmentVariables else {
                throw .invalid("'\(env.param("env"))' can have at most \(maxEnvironmentVariables) variables.", param: env.param("env"))
            }
            for (name, value) in vars {
                guard isValidVariableName(name) else {
                    throw .invalid("Invalid environment variable name '\(name.prefix(64))': use letters, digits and '_', not starting with a digit.", param: "\(env.param("env")).\(name.prefix(64))")
                }
                guard !value.utf8.contains(0) else {
                    throw .invalid("Environment variable values must not contain NUL.", param: "\(env.param("env")).\(name)")
                }
                secrets.env.append((name, value))
            }
        }
        if let files = try env.arrayField("files").value {
            var total = 0
            for f in try env.objectArray(files, key: "files") {
                let type = try f.string("type")
                guard type == "inline" else {
                    if type == "file_id" { throw .notAvailable("Files API files (type 'file_id') are", param: f.param("type")) }
                    throw .invalid("Invalid value for '\(f.param("type"))': '\(type.prefix(64))'. Supported values are: 'inline', 'file_id'.", param: f.param("type"))
                }
                try f.rejectUnknown(["type", "data", "path"])
                let path = try f.string("path")
                try validateWorkspacePath(path, param: f.param("path"))
                let data = try f.string("data")
                guard let size = base64DecodedLength(data) else {
                    throw .invalid("'\(f.param("data"))' must be standard base64.", param: f.param("data"))
                }
                guard size <= maxInlineFileBytes else {
                    throw .invalid("'\(f.param("data"))' is too large (limit \(maxInlineFileBytes) bytes).", param: f.param("data"))
                }
                total += size
                guard total <= 2 * maxInlineFileBytes else {
                    throw .invalid("Inline files are too large together (limit \(2 * maxInlineFileBytes) bytes).", param: env.param("files"))
                }
                guard !secrets.files.contains(where: { $0.path == path }) else {
                    throw .invalid("Duplicate file path '\(path.prefix(200))'.", param: f.param("path"))
                }
                secrets.files.append(.init(path: path, base64: data))
                hosted.files.append(HostedFile(id: IDGenerator.make(.file), path: path, sizeBytes: Int64(size)))
            }
        }
        if let commands = try env.arrayField("setup_commands").value {
            guard commands.count <= maxSetupCommands else {
                throw .invalid("'\(env.param("setup_commands"))' can have at most \(maxSetupCommands) commands.", param: env.param("setup_commands"))
            }
            for c in try env.objectArray(commands, key: "setup_commands") {
                try c.rejectUnknown(["command", "cwd"])
                let command = try c.string("command")
                guard !command.isEmpty, !command.utf8.contains(0) else { throw .invalid("'\(c.param("command"))' must be a non-empty command.", param: c.param("command")) }
                let cwd = try c.optionalString("cwd") ?? "/workspace"
                if cwd != "/workspace" { try validateWorkspacePath(cwd, param: c.param("cwd")) }
                secrets.setupCommands.append(.init(command: command, cwd: cwd))
            }
        }
        return (hosted, secrets)
    }

    static func isValidVariableName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, !name.isEmpty, name.utf8.count <= 256 else { return false }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_".unicodeScalars)
        return !("0"..."9").contains(first) && name.unicodeScalars.allSatisfy { allowed.contains($0) }
    }

    /// The path rules of §10.1: absolute, under `/workspace/`, normalised, not in reserved places.
    public static func validateWorkspacePath(_ path: String, param: String) throws(ValidationError) {
        let invalid = ValidationError.invalid(
            "Invalid path '\(path.prefix(200))': use an absolute, normalised path inside /workspace/ (no '.', '..' or empty components, no NUL or backslash).",
            param: param)
        guard path.hasPrefix("/workspace/"), path.utf8.count <= 4096, !path.utf8.contains(0), !path.contains("\\") else { throw invalid }
        let components = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst(2)
        guard !components.isEmpty, components.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }) else { throw invalid }
        let first = components.first!
        if first == ".codex" || first == ".managed-agents" || first.hasPrefix(".managed-agents-") || first == ".cma" || (first == "outputs" && components.count == 1) {
            throw ValidationError.invalid("The path '\(path.prefix(200))' is reserved.", param: param)
        }
    }

    /// The decoded size of standard base64 text, or nil when it is not valid base64.
    static func base64DecodedLength(_ text: String) -> Int? {
        let bytes = Array(text.utf8)
        guard bytes.count % 4 == 0 else { return nil }
        var padding = 0
        for (i, b) in bytes.enumerated() {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "/"):
                if padding > 0 { return nil }
            case UInt8(ascii: "="):
                guard i >= bytes.count - 2 else { return nil }
                padding += 1
            default:
                return nil
            }
        }
        return bytes.count / 4 * 3 - padding
    }
}

