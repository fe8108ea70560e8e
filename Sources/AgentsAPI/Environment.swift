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
    /// Set for files that came from the Files API.
    public var fileID: String?

    public init(id: String, path: String, sizeBytes: Int64, fileID: String? = nil) {
        self.id = id
        self.path = path
        self.sizeBytes = sizeBytes
        self.fileID = fileID
    }

    public var json: JSONValue {
        if let fileID {
            return ["type": "file_id", "id": .string(id), "file_id": .string(fileID), "path": .string(path), "size_bytes": .int(sizeBytes)]
        }
        return ["type": "inline", "id": .string(id), "path": .string(path), "size_bytes": .int(sizeBytes)]
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
    public var packages: PackageSet
    public var skills: [HostedSkill] = []

    public init(
        id: String, containerSize: ContainerSize = .medium, networkAccess: NetworkAccess = .disabled, allowedDomains: [String] = [], files: [HostedFile] = [],
        packages: PackageSet = PackageSet()
    ) {
        self.id = id
        self.containerSize = containerSize
        self.networkAccess = networkAccess
        self.allowedDomains = allowedDomains
        self.files = files
        self.packages = packages
    }

    public var json: JSONValue {
        [
            "type": "openai_hosted",
            "id": .string(id),
            "capability_directories": [],
            "container_size": .string(containerSize.rawValue),
            "files": .array(files.map(\.json)),
            "network": ["access": .string(networkAccess.rawValue), "allowed_domains": .array(allowedDomains.map { .string($0) })],
            "packages": packages.json,
            "plugins": [],
            "skills": .array(skills.map(\.json)),
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
            files.append(HostedFile(id: try fr.string("id"), path: try fr.string("path"), sizeBytes: try fr.intField("size_bytes").value ?? 0, fileID: try fr.optionalString("file_id")))
        }
        self.files = files
        packages = PackageSet(json: r["packages"])
        skills = HostedSkill.list(r["skills"])
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
        /// Standard base64, as received (inline files).
        public var base64: String?
        /// A Files API file, read when the file is placed.
        public var fileID: String?

        public init(path: String, base64: String) {
            self.path = path
            self.base64 = base64
        }

        public init(path: String, fileID: String) {
            self.path = path
            self.fileID = fileID
        }
    }

    public var env: [(name: String, value: String)]
    public var setupCommands: [SetupCommand]
    public var files: [FileContents]
    /// The network policy's blocked domains (not part of the public object).
    public var blockedDomains: [String]
    /// The inline skills' archives.
    public var skills: [SkillArchive] = []

    public init(env: [(name: String, value: String)] = [], setupCommands: [SetupCommand] = [], files: [FileContents] = [], blockedDomains: [String] = []) {
        self.env = env
        self.setupCommands = setupCommands
        self.files = files
        self.blockedDomains = blockedDomains
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.env.elementsEqual(rhs.env, by: { $0 == $1 }) && lhs.setupCommands == rhs.setupCommands && lhs.files == rhs.files
            && lhs.blockedDomains == rhs.blockedDomains && lhs.skills == rhs.skills
    }

    public var json: JSONValue {
        [
            "env": .object(JSONObject(env.map { ($0.name, JSONValue.string($0.value)) })),
            "setup_commands": .array(setupCommands.map { ["command": .string($0.command), "cwd": .string($0.cwd)] }),
            "files": .array(files.map { f in
                if let id = f.fileID { return ["path": .string(f.path), "file_id": .string(id)] }
                return ["path": .string(f.path), "data": .string(f.base64 ?? "")]
            }),
            "blocked_domains": .array(blockedDomains.map { .string($0) }),
            "skills": .array(skills.map { ["name": .string($0.name), "data": .string($0.base64)] }),
        ]
    }

    public init(json: JSONValue) {
        env = (json["env"]?.objectValue.map { Array($0) } ?? []).compactMap { k, v in v.stringValue.map { (k, $0) } }
        setupCommands = (json["setup_commands"]?.arrayValue ?? []).compactMap { c in
            c["command"]?.stringValue.map { SetupCommand(command: $0, cwd: c["cwd"]?.stringValue ?? "/workspace") }
        }
        files = (json["files"]?.arrayValue ?? []).compactMap { f in
            guard let path = f["path"]?.stringValue else { return nil }
            if let id = f["file_id"]?.stringValue { return FileContents(path: path, fileID: id) }
            guard let data = f["data"]?.stringValue else { return nil }
            return FileContents(path: path, base64: data)
        }
        blockedDomains = json["blocked_domains"]?.arrayValue?.compactMap(\.stringValue) ?? []
        skills = (json["skills"]?.arrayValue ?? []).compactMap { s in
            guard let name = s["name"]?.stringValue, let data = s["data"]?.stringValue else { return nil }
            return SkillArchive(name: name, base64: data)
        }
    }

    /// The network policy (public part from `hosted`, blocked domains from here).
    public func networkPolicy(_ hosted: HostedEnvironment) -> NetworkPolicy {
        NetworkPolicy(access: hosted.networkAccess, allowedDomains: hosted.allowedDomains, blockedDomains: blockedDomains)
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
    /// The workspace directory every hosted path lives under.
    public static let workspaceRoot = "/workspace"
    public static let maxSetupCommands = 32
    public static let maxEnvironmentVariables = 128

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

