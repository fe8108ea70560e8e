/// The parts of a hosted environment's configuration shared by session create, prewarmed
/// environments and templates: network policy, packages, files, and the parsed (not yet
/// resolved) parameters.

// MARK: - Network policy

/// `network` of a hosted environment. `blockedDomains` is kept but never returned (§10.2).
public struct NetworkPolicy: Sendable, Equatable {
    public var access: NetworkAccess
    public var allowedDomains: [String]
    public var blockedDomains: [String]

    public init(access: NetworkAccess, allowedDomains: [String] = [], blockedDomains: [String] = []) {
        self.access = access
        self.allowedDomains = allowedDomains
        self.blockedDomains = blockedDomains
    }

    /// The default when neither the request nor a template says: no network.
    public static let disabled = NetworkPolicy(access: .disabled)
    public static let maxDomains = 256

    /// What the API returns.
    public var publicJSON: JSONValue {
        ["access": .string(access.rawValue), "allowed_domains": .array(allowedDomains.map { .string($0) })]
    }

    /// What is stored (with the blocked domains).
    public var storedJSON: JSONValue {
        [
            "access": .string(access.rawValue), "allowed_domains": .array(allowedDomains.map { .string($0) }),
            "blocked_domains": .array(blockedDomains.map { .string($0) }),
        ]
    }

    public init(stored json: JSONValue?) {
        access = json?["access"]?.stringValue.flatMap(NetworkAccess.init(rawValue:)) ?? .disabled
        allowedDomains = json?["allowed_domains"]?.arrayValue?.compactMap(\.stringValue) ?? []
        blockedDomains = json?["blocked_domains"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    static func parse(_ r: JSONReader) throws(ValidationError) -> NetworkPolicy {
        try r.rejectUnknown(["access", "allowed_domains", "blocked_domains"])
        let access = try r.requiredEnum("access", NetworkAccess.self)
        let allowed = try domains(r, "allowed_domains")
        let blocked = try domains(r, "blocked_domains")
        if !allowed.isEmpty && access != .restricted {
            throw .invalid("'\(r.param("allowed_domains"))' is only used when 'access' is 'restricted'.", param: r.param("allowed_domains"))
        }
        if !blocked.isEmpty {
            guard access == .restricted else {
                throw .invalid("A nonempty '\(r.param("blocked_domains"))' requires 'access': 'restricted'.", param: r.param("blocked_domains"))
            }
            guard allowed.isEmpty else {
                throw .invalid("'\(r.param("blocked_domains"))' cannot be combined with a nonempty 'allowed_domains'.", param: r.param("blocked_domains"))
            }
        }
        return NetworkPolicy(access: access, allowedDomains: allowed, blockedDomains: blocked)
    }

    private static func domains(_ r: JSONReader, _ key: String) throws(ValidationError) -> [String] {
        let list = try r.stringArrayField(key).value ?? []
        guard list.count <= maxDomains else { throw .invalid("'\(r.param(key))' can have at most \(maxDomains) domains.", param: r.param(key)) }
        var out: [String] = []
        for (i, raw) in list.enumerated() {
            let param = "\(r.param(key))[\(i)]"
            if raw.contains("*") { throw .invalid("Wildcard domains are not supported ('\(raw.prefix(100))'); a domain also covers its subdomains.", param: param) }
            guard let domain = normalizedDomain(raw) else {
                throw .invalid("'\(raw.prefix(100))' is not a valid domain name.", param: param)
            }
            if !out.contains(domain) { out.append(domain) }
        }
        return out
    }

    /// Lowercased, without a trailing dot; nil when it is not a host name.
    public static func normalizedDomain(_ raw: String) -> String? {
        var name = raw.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        guard !name.isEmpty, name.utf8.count <= 253 else { return nil }
        for label in name.split(separator: ".", omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.utf8.count <= 63, !label.hasPrefix("-"), !label.hasSuffix("-"),
                label.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" })
            else { return nil }
        }
        return name
    }

    /// Whether `host` is `domain` or one of its subdomains (both normalised).
    public static func domain(_ host: String, isWithin domain: String) -> Bool {
        host == domain || host.hasSuffix("." + domain)
    }

    /// Whether every destination this policy permits is also permitted by `base` (so that a
    /// session can narrow a template's policy but never broaden it).
    public func isWithin(_ base: NetworkPolicy) -> Bool {
        if access == .disabled || base.access == .enabled { return true }
        if base.access == .disabled || access == .enabled { return false }
        // Both restricted.
        if !base.allowedDomains.isEmpty {
            return !allowedDomains.isEmpty && allowedDomains.allSatisfy { a in base.allowedDomains.contains { Self.domain(a, isWithin: $0) } }
        }
        if !base.blockedDomains.isEmpty {
            if !allowedDomains.isEmpty {
                return allowedDomains.allSatisfy { a in
                    !base.blockedDomains.contains { b in Self.domain(a, isWithin: b) || Self.domain(b, isWithin: a) }
                }
            }
            if !blockedDomains.isEmpty {
                return base.blockedDomains.allSatisfy { b in blockedDomains.contains { Self.domain(b, isWithin: $0) } }
            }
            return false
        }
        // The base permits nothing.
        return allowedDomains.isEmpty && blockedDomains.isEmpty
    }
}

// MARK: - Packages

/// `packages` of a hosted environment: installed into a cached layer before the network policy
/// applies.
public struct PackageSet: Sendable, Equatable, Hashable {
    public var system: [String]
    public var python: [String]
    public var npm: [String]

    public init(system: [String] = [], python: [String] = [], npm: [String] = []) {
        self.system = system
        self.python = python
        self.npm = npm
    }

    public static let maxPerList = 64

    public var isEmpty: Bool { system.isEmpty && python.isEmpty && npm.isEmpty }

    public var json: JSONValue {
        ["npm": .array(npm.map { .string($0) }), "python": .array(python.map { .string($0) }), "system": .array(system.map { .string($0) })]
    }

    public init(json: JSONValue?) {
        func list(_ key: String) -> [String] { json?[key]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        self.init(system: list("system"), python: list("python"), npm: list("npm"))
    }

    /// The same set in a canonical order (what identifies its cached layer).
    public var canonical: PackageSet {
        PackageSet(system: Array(Set(system)).sorted(), python: Array(Set(python)).sorted(), npm: Array(Set(npm)).sorted())
    }

    static func parse(_ r: JSONReader) throws(ValidationError) -> PackageSet {
        try r.rejectUnknown(["npm", "python", "system"])
        var set = PackageSet()
        for (key, isValid) in [("system", isValidSystemName), ("python", isValidPythonRequirement), ("npm", isValidNPMSpec)] as [(String, (String) -> Bool)] {
            let names = try r.stringArrayField(key).value ?? []
            guard names.count <= maxPerList else { throw .invalid("'\(r.param(key))' can have at most \(maxPerList) packages.", param: r.param(key)) }
            for (i, name) in names.enumerated() where !isValid(name) {
                throw .invalid("'\(name.prefix(100))' is not a valid \(key) package specification.", param: "\(r.param(key))[\(i)]")
            }
            switch key {
            case "system": set.system = names
            case "python": set.python = names
            default: set.npm = names
            }
        }
        return set
    }

    private static func only(_ text: Substring, _ allowed: String) -> Bool {
        let set = Set(allowed.unicodeScalars)
        return text.unicodeScalars.allSatisfy { set.contains($0) || ("a"..."z").contains($0) || ("0"..."9").contains($0) }
    }

    /// A Debian package name, optionally `=version`. Never an option or a path.
    static func isValidSystemName(_ spec: String) -> Bool {
        guard spec.utf8.count <= 200, let first = spec.unicodeScalars.first, ("a"..."z").contains(first) || ("0"..."9").contains(first) else { return false }
        let parts = spec.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts[0].count >= 2, only(parts[0], "+.-") else { return false }
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].unicodeScalars.allSatisfy({ ("A"..."Z").contains($0) || "+.~:-".unicodeScalars.contains($0) || ("a"..."z").contains($0) || ("0"..."9").contains($0) }) else { return false }
        }
        return true
    }

    /// A PyPI requirement such as `requests`, `rich==13.7.1` or `pkg[extra]>=1,<2`. No URLs,
    /// paths, options or spaces.
    static func isValidPythonRequirement(_ spec: String) -> Bool {
        guard spec.utf8.count <= 200, let first = spec.unicodeScalars.first,
            ("a"..."z").contains(first) || ("A"..."Z").contains(first) || ("0"..."9").contains(first)
        else { return false }
        return spec.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "._-[],=<>!~*+".unicodeScalars.contains($0)
        } && !spec.contains("://")
    }

    /// An npm package such as `left-pad`, `@scope/name` or `name@1.2.3`.
    static func isValidNPMSpec(_ spec: String) -> Bool {
        guard spec.utf8.count <= 214, let first = spec.unicodeScalars.first, first != "-", first != ".", first != "_" else { return false }
        return spec.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "@/._-^~<>=*+".unicodeScalars.contains($0)
        } && !spec.contains("..") && spec.filter({ $0 == "/" }).count <= 1
    }
}

// MARK: - Files

/// Where a file placed in the workspace comes from.
public enum HostedFileSource: Sendable, Equatable {
    /// Standard base64, as received.
    case inline(String)
    /// A file uploaded through `POST /v1/files`.
    case fileID(String)
}

public struct HostedFileParam: Sendable, Equatable {
    public var path: String
    public var source: HostedFileSource
    /// The decoded size (inline files; file-ID files are sized when resolved).
    public var size: Int64?

    static func parseList(_ values: [JSONValue], reader r: JSONReader, key: String) throws(ValidationError) -> [HostedFileParam] {
        var out: [HostedFileParam] = []
        var total: Int64 = 0
        for f in try r.objectArray(values, key: key) {
            let file = try parse(f)
            if let size = file.size {
                total += size
                guard total <= 2 * Int64(HostedEnvironment.maxInlineFileBytes) else {
                    throw .invalid("Inline files are too large together (limit \(2 * HostedEnvironment.maxInlineFileBytes) bytes).", param: r.param(key))
                }
            }
            guard !out.contains(where: { $0.path == file.path }) else {
                throw .invalid("Duplicate file path '\(file.path.prefix(200))'.", param: f.param("path"))
            }
            out.append(file)
        }
        return out
    }

    /// The public metadata and the confidential contents of `files`; every Files API file must
    /// be in `fileSizes` (400 on `param[i].file_id` otherwise).
    static func place(
        _ files: [HostedFileParam], fileSizes: [String: Int64], param: String
    ) throws(ValidationError) -> (files: [EnvironmentTemplate.File], contents: [HostedEnvironmentSecrets.FileContents]) {
        var placed: [EnvironmentTemplate.File] = []
        var contents: [HostedEnvironmentSecrets.FileContents] = []
        for (i, file) in files.enumerated() {
            switch file.source {
            case .inline(let data):
                placed.append(EnvironmentTemplate.File(path: file.path, sizeBytes: file.size ?? 0))
                contents.append(.init(path: file.path, base64: data))
            case .fileID(let id):
                guard let size = fileSizes[id] else { throw .invalid("No file found with id '\(id.prefix(128))'.", param: "\(param)[\(i)].file_id") }
                placed.append(EnvironmentTemplate.File(path: file.path, sizeBytes: size, fileID: id))
                contents.append(.init(path: file.path, fileID: id))
            }
        }
        return (placed, contents)
    }

    /// One `{type: "inline", data, path}` or `{type: "file_id", file_id, path}`.
    public static func parse(_ f: JSONReader) throws(ValidationError) -> HostedFileParam {
        let type = try f.string("type")
        switch type {
        case "inline":
            try f.rejectUnknown(["type", "data", "path"])
            let path = try f.string("path")
            try HostedEnvironment.validateWorkspacePath(path, param: f.param("path"))
            let data = try f.string("data")
            guard let size = HostedEnvironment.base64DecodedLength(data) else {
                throw .invalid("'\(f.param("data"))' must be standard base64.", param: f.param("data"))
            }
            guard size <= HostedEnvironment.maxInlineFileBytes else {
                throw .invalid("'\(f.param("data"))' is too large (limit \(HostedEnvironment.maxInlineFileBytes) bytes).", param: f.param("data"))
            }
            return HostedFileParam(path: path, source: .inline(data), size: Int64(size))
        case "file_id":
            try f.rejectUnknown(["type", "file_id", "path"])
            let path = try f.string("path")
            try HostedEnvironment.validateWorkspacePath(path, param: f.param("path"))
            let id = try f.string("file_id")
            guard !id.isEmpty, id.utf8.count <= RequestLimits.maxIDLength else { throw .invalid("'\(f.param("file_id"))' is not a valid file ID.", param: f.param("file_id")) }
            return HostedFileParam(path: path, source: .fileID(id), size: nil)
        default:
            throw .invalid("Invalid value for '\(f.param("type"))': '\(type.prefix(64))'. Supported values are: 'inline', 'file_id'.", param: f.param("type"))
        }
    }
}

// MARK: - Parameters

/// The hosted-environment fields of a session create, an environment create or a template
/// create/update, as given (before a template is applied and file IDs are resolved).
public struct HostedEnvironmentParams: Sendable {
    public enum Context: Sendable { case session, prewarm, template }

    public var environmentID: String?
    public var templateID: String?
    public var containerSize: ContainerSize?
    /// Absent: inherit (or default); null: the default policy.
    public var network: Field<NetworkPolicy> = .absent
    public var packages: PackageSet?
    public var files: [HostedFileParam]?
    public var env: [(name: String, value: String)]?
    public var setupCommands: [HostedEnvironmentSecrets.SetupCommand]?
    /// Inline skills (replacing the template's).
    public var skills: [(HostedSkill, SkillArchive)]?
    /// Templates only.
    public var name: Field<String> = .absent

    public init() {}

    /// Whether anything besides `type` and `environment_id` was given.
    public var hasInlineConfiguration: Bool {
        templateID != nil || containerSize != nil || !network.isAbsent || packages != nil || files != nil || env != nil || setupCommands != nil
            || skills != nil
    }

    public static func parse(_ r: JSONReader, context: Context) throws(ValidationError) -> HostedEnvironmentParams {
        var keys: Set<String> = ["capability_directories", "desktop", "env", "files", "network", "packages", "plugins", "setup_commands", "skills"]
        switch context {
        case .session: keys.formUnion(["type", "environment_id", "environment_template_id", "container_size"])
        case .prewarm: keys.formUnion(["type", "environment_template_id"])
        case .template: keys.insert("name")
        }
        try r.rejectUnknown(keys)
        if context == .prewarm, try r.string("type") != "openai_hosted" {
            throw .invalid("Invalid value for '\(r.param("type"))': prewarmed environments are 'openai_hosted'.", param: r.param("type"))
        }
        var p = HostedEnvironmentParams()
        p.environmentID = try r.optionalString("environment_id")
        p.templateID = try r.optionalString("environment_template_id")
        for (key, value) in [("environment_id", p.environmentID), ("environment_template_id", p.templateID)] {
            if let value, value.isEmpty || value.utf8.count > RequestLimits.maxIDLength { throw .invalid("'\(r.param(key))' is not a valid ID.", param: r.param(key)) }
        }
        if let list = try r.arrayField("skills").value { p.skills = try Skills.parse(list, reader: r, key: "skills") }
        for key in ["capability_directories", "plugins"] where !(try r.arrayField(key).value ?? []).isEmpty {
            throw .notAvailable("'\(key)' is", param: r.param(key))
        }
        if let desktop = try r.objectField("desktop").value, try desktop.boolField("enabled").value == true {
            throw .notAvailable("The desktop is", param: desktop.param("enabled"))
        }
        p.containerSize = try r.enumField("container_size", ContainerSize.self).value
        switch try r.objectField("network") {
        case .absent: p.network = .absent
        case .null: p.network = .null
        case .value(let n): p.network = .value(try NetworkPolicy.parse(n))
        }
        if let packages = try r.objectField("packages").value { p.packages = try PackageSet.parse(packages) }
        if context == .template {
            switch try r.stringField("name") {
            case .absent: p.name = .absent
            case .null: p.name = .null
            case .value(let name):
                guard name.utf8.count <= 256 else { throw .invalid("'name' can be at most 256 bytes.", param: r.param("name")) }
                p.name = .value(name)
            }
        }

        if let vars = try r.stringMapField("env").value {
            guard vars.count <= HostedEnvironment.maxEnvironmentVariables else {
                throw .invalid("'\(r.param("env"))' can have at most \(HostedEnvironment.maxEnvironmentVariables) variables.", param: r.param("env"))
            }
            var env: [(name: String, value: String)] = []
            for (name, value) in vars {
                guard HostedEnvironment.isValidVariableName(name) else {
                    throw .invalid(
                        "Invalid environment variable name '\(name.prefix(64))': use letters, digits and '_', not starting with a digit.",
                        param: "\(r.param("env")).\(name.prefix(64))")
                }
                guard !value.utf8.contains(0) else {
                    throw .invalid("Environment variable values must not contain NUL.", param: "\(r.param("env")).\(name)")
                }
                env.append((name, value))
            }
            p.env = env
        }
        if let files = try r.arrayField("files").value {
            p.files = try HostedFileParam.parseList(files, reader: r, key: "files")
        }
        if let commands = try r.arrayField("setup_commands").value {
            guard commands.count <= HostedEnvironment.maxSetupCommands else {
                throw .invalid("'\(r.param("setup_commands"))' can have at most \(HostedEnvironment.maxSetupCommands) commands.", param: r.param("setup_commands"))
            }
            var list: [HostedEnvironmentSecrets.SetupCommand] = []
            for c in try r.objectArray(commands, key: "setup_commands") {
                try c.rejectUnknown(["command", "cwd"])
                let command = try c.string("command")
                guard !command.isEmpty, !command.utf8.contains(0) else { throw .invalid("'\(c.param("command"))' must be a non-empty command.", param: c.param("command")) }
                let cwd = try c.optionalString("cwd") ?? "/workspace"
                if cwd != "/workspace" { try HostedEnvironment.validateWorkspacePath(cwd, param: c.param("cwd")) }
                list.append(.init(command: command, cwd: cwd))
            }
            p.setupCommands = list
        }
        if context == .session, p.environmentID != nil, p.hasInlineConfiguration {
            throw .invalid(
                "'\(r.param("environment_id"))' cannot be combined with a template or inline configuration.", param: r.param("environment_id"))
        }
        return p
    }

    /// The complete configuration: the template's (if any), with these fields applied on top.
    /// `fileSizes` gives the size of every referenced Files API file (a missing one is a 400).
    /// The network may only narrow the template's policy.
    public func resolve(
        template: EnvironmentTemplateRecord?, fileSizes: [String: Int64], paramPrefix: String = "environment"
    ) throws(ValidationError) -> (HostedEnvironment, HostedEnvironmentSecrets) {
        var hosted = HostedEnvironment(id: IDGenerator.make(.environment))
        var secrets = HostedEnvironmentSecrets()
        var policy = NetworkPolicy.disabled
        if let template {
            policy = template.template.network
            hosted.packages = template.template.packages
            secrets = template.secrets
            hosted.files = template.template.files.map { HostedFile(id: IDGenerator.make(.file), path: $0.path, sizeBytes: $0.sizeBytes, fileID: $0.fileID) }
        }
        hosted.containerSize = containerSize ?? .medium
        if case .value(let requested) = self.network {
            let base = template?.template.network ?? requested
            guard requested.isWithin(base) else {
                throw .invalid("The network policy cannot be broader than the template's.", param: "\(paramPrefix).network")
            }
            policy = requested
        }
        if let packages { hosted.packages = packages }
        if let env { secrets.env = env }
        if let setupCommands { secrets.setupCommands = setupCommands }
        if let template { hosted.skills = template.template.skills }
        if let skills {
            hosted.skills = skills.map(\.0)
            secrets.skills = skills.map(\.1)
        }
        if let files {
            let placed = try HostedFileParam.place(files, fileSizes: fileSizes, param: "\(paramPrefix).files")
            hosted.files = placed.files.map { HostedFile(id: IDGenerator.make(.file), path: $0.path, sizeBytes: $0.sizeBytes, fileID: $0.fileID) }
            secrets.files = placed.contents
        }
        hosted.networkAccess = policy.access
        hosted.allowedDomains = policy.allowedDomains
        secrets.blockedDomains = policy.blockedDomains
        return (hosted, secrets)
    }

    /// Every Files API file the parameters name.
    public var referencedFileIDs: [String] {
        (files ?? []).compactMap { if case .fileID(let id) = $0.source { return id } else { return nil } }
    }
}

// MARK: - Templates

/// `object: "agent.environment.template"`: reusable hosted configuration. The confidential
/// inputs are in `EnvironmentTemplateRecord.secrets` and never returned.
public struct EnvironmentTemplate: Sendable, Equatable, JSONCodable {
    public struct File: Sendable, Equatable {
        public var path: String
        public var sizeBytes: Int64
        public var fileID: String?

        public init(path: String, sizeBytes: Int64, fileID: String? = nil) {
            self.path = path
            self.sizeBytes = sizeBytes
            self.fileID = fileID
        }

        public var json: JSONValue {
            if let fileID { return ["type": "file_id", "file_id": .string(fileID), "path": .string(path)] }
            return ["type": "inline", "path": .string(path), "size_bytes": .int(sizeBytes)]
        }
    }

    public var id: String
    public var createdAt: Int64
    public var updatedAt: Int64
    public var name: String?
    public var network: NetworkPolicy
    public var packages: PackageSet
    public var files: [File]
    public var skills: [HostedSkill] = []

    public init(id: String, createdAt: Int64, updatedAt: Int64, name: String? = nil, network: NetworkPolicy = .disabled, packages: PackageSet = PackageSet(), files: [File] = []) {
        self.id = id
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.name = name
        self.network = network
        self.packages = packages
        self.files = files
    }

    public var json: JSONValue {
        var o: JSONObject = [
            "id": .string(id), "object": "agent.environment.template", "capability_directories": [], "created_at": .int(createdAt),
            "updated_at": .int(updatedAt), "files": .array(files.map(\.json)), "network": network.publicJSON, "packages": packages.json,
            "plugins": [], "skills": .array(skills.map(\.json)),
        ]
        if let name { o["name"] = .string(name) }
        return .object(o)
    }

    /// The stored form keeps the blocked domains too.
    public var storedJSON: JSONValue {
        var o = json.objectValue ?? [:]
        o["network"] = network.storedJSON
        return .object(o)
    }

    public init(json: JSONValue) throws(ValidationError) {
        let r = try JSONReader(json)
        id = try r.string("id")
        createdAt = try r.int("created_at")
        updatedAt = try r.int("updated_at")
        name = try r.optionalString("name")
        network = NetworkPolicy(stored: json["network"])
        packages = PackageSet(json: json["packages"])
        files = (json["files"]?.arrayValue ?? []).compactMap { f in
            guard let path = f["path"]?.stringValue else { return nil }
            return File(path: path, sizeBytes: f["size_bytes"]?.intValue ?? 0, fileID: f["file_id"]?.stringValue)
        }
        skills = HostedSkill.list(json["skills"])
    }

    /// Applies a create or update request (§5.5: the lists are replacements; `network: null`
    /// resets the policy; `name: null` clears the name).
    public mutating func apply(_ p: HostedEnvironmentParams, secrets: inout HostedEnvironmentSecrets, fileSizes: [String: Int64]) throws(ValidationError) {
        switch p.name {
        case .absent: break
        case .null: name = nil
        case .value(let v): name = v
        }
        switch p.network {
        case .absent: break
        case .null: network = .disabled
        case .value(let v): network = v
        }
        if let packages = p.packages { self.packages = packages }
        if let env = p.env { secrets.env = env }
        if let commands = p.setupCommands { secrets.setupCommands = commands }
        if let list = p.files {
            (files, secrets.files) = try HostedFileParam.place(list, fileSizes: fileSizes, param: "files")
        }
        if let list = p.skills {
            skills = list.map(\.0)
            secrets.skills = list.map(\.1)
        }
        secrets.blockedDomains = network.blockedDomains
    }
}

/// A template with its confidential inputs, as stored.
public struct EnvironmentTemplateRecord: Sendable, Equatable {
    public var template: EnvironmentTemplate
    public var secrets: HostedEnvironmentSecrets

    public init(template: EnvironmentTemplate, secrets: HostedEnvironmentSecrets) {
        self.template = template
        self.secrets = secrets
    }
}

// MARK: - Prewarmed environments, environment files, Files API

/// `object: "agent.environment"`: safe metadata of an environment.
public struct EnvironmentInfo: Sendable, Equatable, JSONCodable {
    public var id: String
    public var status: EnvironmentStatus
    public var files: [HostedFile]
    public var skills: [HostedSkill]

    public init(id: String, status: EnvironmentStatus, files: [HostedFile], skills: [HostedSkill] = []) {
        self.id = id
        self.status = status
        self.files = files
        self.skills = skills
    }

    public var json: JSONValue {
        [
            "id": .string(id), "object": "agent.environment", "type": "openai_hosted", "status": .string(status.rawValue),
            "files": .array(files.map(\.json)), "plugins": [], "skills": .array(skills.map(\.json)),
        ]
    }

    public init(json: JSONValue) throws(ValidationError) {
        let r = try JSONReader(json)
        id = try r.string("id")
        status = try r.requiredEnum("status", EnvironmentStatus.self)
        var files: [HostedFile] = []
        for f in try r.arrayField("files").value ?? [] {
            let fr = try JSONReader(f)
            files.append(HostedFile(id: try fr.string("id"), path: try fr.string("path"), sizeBytes: try fr.intField("size_bytes").value ?? 0, fileID: try fr.optionalString("file_id")))
        }
        self.files = files
        skills = HostedSkill.list(r["skills"])
    }
}

/// `object: "agent.environment.file"`: a live file of an environment's workspace.
public struct EnvironmentFileInfo: Sendable, Equatable, JSONEncodable {
    public var environmentID: String
    public var path: String
    public var sizeBytes: Int64

    public init(environmentID: String, path: String, sizeBytes: Int64) {
        self.environmentID = environmentID
        self.path = path
        self.sizeBytes = sizeBytes
    }

    public var json: JSONValue {
        ["environment_id": .string(environmentID), "object": "agent.environment.file", "path": .string(path), "size_bytes": .int(sizeBytes)]
    }
}

/// `object: "file"`: an upload of the Files API (the minimal part the SDK's helpers use).
public struct FileObject: Sendable, Equatable, JSONCodable {
    public var id: String
    public var bytes: Int64
    public var createdAt: Int64
    public var filename: String
    public var purpose: String

    public init(id: String, bytes: Int64, createdAt: Int64, filename: String, purpose: String) {
        self.id = id
        self.bytes = bytes
        self.createdAt = createdAt
        self.filename = filename
        self.purpose = purpose
    }

    public var json: JSONValue {
        [
            "id": .string(id), "object": "file", "bytes": .int(bytes), "created_at": .int(createdAt), "expires_at": .null,
            "filename": .string(filename), "purpose": .string(purpose), "status": "processed", "status_details": .null,
        ]
    }

    public init(json: JSONValue) throws(ValidationError) {
        let r = try JSONReader(json)
        id = try r.string("id")
        bytes = try r.int("bytes")
        createdAt = try r.int("created_at")
        filename = try r.optionalString("filename") ?? ""
        purpose = try r.optionalString("purpose") ?? "user_data"
    }
}
