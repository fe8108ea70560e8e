/// Resource limits of one sandbox, derived from the environment's `container_size`.
public struct SandboxLimits: Sendable, Equatable {
    /// CPU bandwidth, in cores.
    public var cpus: Double
    public var memoryBytes: Int64
    public var maxProcesses: Int
    /// Size of the workspace (enforced where the host allows it; see the README).
    public var diskBytes: Int64
    /// Size of the private `/tmp`.
    public var tmpBytes: Int64
    /// Largest single file a command may write.
    public var maxFileBytes: Int64
    public var maxOpenFiles: Int
    /// Default and maximum per-command timeout.
    public var defaultCommandTimeout: Duration
    public var maxCommandTimeout: Duration

    public init(
        cpus: Double, memoryBytes: Int64, maxProcesses: Int, diskBytes: Int64, tmpBytes: Int64, maxFileBytes: Int64,
        maxOpenFiles: Int, defaultCommandTimeout: Duration, maxCommandTimeout: Duration
    ) {
        self.cpus = cpus
        self.memoryBytes = memoryBytes
        self.maxProcesses = maxProcesses
        self.diskBytes = diskBytes
        self.tmpBytes = tmpBytes
        self.maxFileBytes = maxFileBytes
        self.maxOpenFiles = maxOpenFiles
        self.defaultCommandTimeout = defaultCommandTimeout
        self.maxCommandTimeout = maxCommandTimeout
    }

    public enum Size: String, Sendable, CaseIterable {
        case small, medium, large
    }

    private static let GiB: Int64 = 1 << 30
    private static let MiB: Int64 = 1 << 20

    public static func forSize(_ size: Size) -> SandboxLimits {
        switch size {
        case .small:
            return SandboxLimits(
                cpus: 1, memoryBytes: 1 * GiB, maxProcesses: 256, diskBytes: 2 * GiB, tmpBytes: 256 * MiB, maxFileBytes: 1 * GiB,
                maxOpenFiles: 1024, defaultCommandTimeout: .seconds(120), maxCommandTimeout: .seconds(600))
        case .medium:
            return SandboxLimits(
                cpus: 2, memoryBytes: 4 * GiB, maxProcesses: 512, diskBytes: 10 * GiB, tmpBytes: 1 * GiB, maxFileBytes: 4 * GiB,
                maxOpenFiles: 4096, defaultCommandTimeout: .seconds(300), maxCommandTimeout: .seconds(1800))
        case .large:
            return SandboxLimits(
                cpus: 4, memoryBytes: 8 * GiB, maxProcesses: 1024, diskBytes: 20 * GiB, tmpBytes: 2 * GiB, maxFileBytes: 8 * GiB,
                maxOpenFiles: 8192, defaultCommandTimeout: .seconds(600), maxCommandTimeout: .seconds(3600))
        }
    }
}

/// Everything needed to start one session's sandbox.
public struct SandboxConfiguration: Sendable {
    /// The `cma-sandbox` agent binary on the host (statically linked against the Swift runtime).
    public var agentBinary: String
    public var bubblewrap: String
    /// The session's persistent workspace directory on the host, mounted at `/workspace`.
    public var workspaceHostPath: String
    /// A directory on the host for this sandbox's generated files (passwd, group, logs).
    public var stateHostPath: String
    /// Read-only package layers, mounted in order (later ones win), e.g. `usr/local` trees.
    public var layers: [String]
    public var limits: SandboxLimits
    /// The user the sandboxed processes see (and, when the server runs as root, the host uid
    /// they run as).
    public var uid: UInt32
    public var gid: UInt32
    public var hostname: String
    /// Where bubblewrap finds the workspace and the agent binary: the host paths, or the launcher's
    /// staged copies (`/tmp/workspace`, `/tmp/cma-sandbox`) when it runs as another user.
    public var workspaceSource: String
    public var agentSource: String
    /// A descriptor bubblewrap keeps open while the sandbox runs (the workspace image's lock).
    public var syncFD: Int32?
    /// The socket of the sandbox's egress proxy (`EgressProxy`) on the host; nil: no network at
    /// all. The sandbox always has its own network namespace (loopback only); with a socket, the
    /// socket is bind-mounted at `egressSocketPath` and the agent relays `127.0.0.1:3128` to it.
    public var egressSocket: String?
    /// Where bubblewrap finds the egress socket: `egressSocket`, or the launcher's staged
    /// `/tmp/egress.sock` when it runs as another user.
    public var egressSocketSource: String?
    /// Host paths mounted read-only, as (source, destination in the sandbox).
    public var readOnlyBinds: [(source: String, destination: String)] = []
    /// The host `/etc` entries copied into the sandbox's root rather than mounted
    /// (`BubblewrapArguments.etcCopies()`, chosen once per start so that the launcher's opens and
    /// bubblewrap's arguments agree).
    public var etcCopies: [String] = []

    public init(
        agentBinary: String, bubblewrap: String = "/usr/bin/bwrap", workspaceHostPath: String, stateHostPath: String,
        layers: [String] = [], limits: SandboxLimits = .forSize(.medium), uid: UInt32 = 1000, gid: UInt32 = 1000,
        hostname: String = "sandbox", egressSocket: String? = nil
    ) {
        self.agentBinary = agentBinary
        self.bubblewrap = bubblewrap
        self.workspaceHostPath = workspaceHostPath
        self.stateHostPath = stateHostPath
        self.layers = layers
        self.limits = limits
        self.uid = uid
        self.gid = gid
        self.hostname = hostname
        self.workspaceSource = workspaceHostPath
        self.agentSource = agentBinary
        self.egressSocket = egressSocket
        self.egressSocketSource = egressSocket
    }

    /// Mount points inside the sandbox.
    public static let workspacePath = "/workspace"
    /// Where the runtime has the agent keep commands' full output (`SandboxPaths.logs`): the
    /// agent prepares it as soon as it is ready (`--warm-up`).
    public static let commandLogsPath = "/workspace/.cma/logs"
    static let agentPath = "/.cma/cma-sandbox"
    /// Where the egress proxy's socket appears inside the sandbox.
    public static let egressSocketPath = "/run/cma/egress.sock"
}
