import CMAJSON
import LoopDevice
import Foundation
import Synchronization
public import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Starts and stops sandboxes on this machine.
///
/// When the server runs as root, each sandbox runs as its own unprivileged host uid (so that
/// per-user limits such as the process count are per sandbox, and files it writes are owned by
/// that uid), in its own cgroups (memory, process count, CPU), through `cma-launch`. Otherwise
/// sandboxes run as the server's own uid with rlimits only, which cannot bound a sandbox's total
/// memory or process count; the server logs this once at start.
public final class SandboxHost: Sendable {
    public struct Configuration: Sendable {
        /// `cma-sandbox`, the agent that runs inside each sandbox.
        public var agentBinary: String
        /// `cma-launch`, used when running as root.
        public var launcherBinary: String
        public var bubblewrap: String
        /// Where workspaces and per-sandbox state live (inside the server's data directory, which
        /// the sandboxes never see).
        public var root: String
        /// Host files or directories every sandbox sees read-only, as (host path, sandbox path):
        /// the operator's tools (`--sandbox-ro-bind`), e.g. MCP servers installed on the host.
        public var readOnlyBinds: [(source: String, destination: String)] = []

        public init(agentBinary: String, launcherBinary: String, bubblewrap: String = "/usr/bin/bwrap", root: String) {
            self.agentBinary = agentBinary
            self.launcherBinary = launcherBinary
            self.bubblewrap = bubblewrap
            self.root = root
        }

        /// Finds the helper binaries next to the running executable (or from `CMA_SANDBOX_BIN`
        /// and `CMA_LAUNCH_BIN`).
        public static func locate(root: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> Configuration {
            let dir = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent().path
            return Configuration(
                agentBinary: environment["CMA_SANDBOX_BIN"] ?? dir + "/cma-sandbox",
                launcherBinary: environment["CMA_LAUNCH_BIN"] ?? dir + "/cma-launch",
                bubblewrap: environment["CMA_BWRAP"] ?? "/usr/bin/bwrap",
                root: root)
        }
    }

    public let configuration: Configuration
    public let isolatesUsers: Bool
    /// Package layers, shared by every sandbox of this host.
    public let packageLayers: PackageLayers
    private let logger: Logger
    /// Distinguishes this host's cgroups from those of other servers on the machine.
    private let instance: String
    /// The egress proxies' address check: always `EgressPolicy.isForbidden(address:)`, except in
    /// tests that need a server on loopback.
    let egressAddressFilter: @Sendable (EgressPolicy.Address) -> Bool

    public convenience init(configuration: Configuration, logger: Logger = Logger(label: "cma.sandbox")) {
        self.init(configuration: configuration, logger: logger, egressAddressFilter: EgressPolicy.isForbidden(address:))
    }

    init(configuration: Configuration, logger: Logger, egressAddressFilter: @escaping @Sendable (EgressPolicy.Address) -> Bool) {
        self.configuration = configuration
        self.isolatesUsers = geteuid() == 0
        self.logger = logger
        self.instance = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        self.packageLayers = PackageLayers(root: configuration.root + "/layers", bubblewrap: configuration.bubblewrap, logger: logger)
        self.egressAddressFilter = egressAddressFilter
        if isolatesUsers { Cgroups.removeEmptyGroups() }
    }

    /// Checks that bubblewrap and the helper binaries are usable. Throws a message that says
    /// what to install or configure.
    public func checkAvailable() throws {
        for (path, what) in [
            (configuration.bubblewrap, "bubblewrap (apt-get install -y bubblewrap)"), (configuration.agentBinary, "cma-sandbox"),
            (configuration.launcherBinary, "cma-launch"),
        ] where access(path, X_OK) != 0 {
            throw SandboxError(code: "sandbox_unavailable", message: "\(what) is not available at \(path).")
        }
    }

    /// The host uid a session's sandbox runs as, when running as root. Stable per session, so
    /// that the workspace stays owned by it across restarts.
    public static func hostUID(slot: Int64) -> UInt32 {
        UInt32(truncatingIfNeeded: 2_000_000 + (slot % 1_000_000_000))
    }

    public func workspacePath(for key: String) -> String { configuration.root + "/workspaces/" + key }
    /// The ext4 image holding a session's workspace when sandboxes run as their own users (it
    /// bounds the workspace's size).
    public func workspaceImagePath(for key: String) -> String { configuration.root + "/workspaces/" + key + ".img" }

    static let mkfs: String? = ["/usr/sbin/mkfs.ext4", "/sbin/mkfs.ext4"].first { (path: String) in access(path, X_OK) == 0 }

    /// Whether workspaces are size-limited images (root, loop devices and mkfs.ext4 available).
    public var usesWorkspaceImages: Bool {
        isolatesUsers && Self.mkfs != nil && access("/dev/loop-control", R_OK | W_OK) == 0
    }

    /// Formatted spare images per size, so that a new workspace does not wait for mkfs.
    static let sparesPerSize = 2
    private let refilling = Mutex<Set<Int64>>([])

    private func sparePrefix(_ bytes: Int64) -> String { configuration.root + "/workspaces/.spare-\(bytes)-" }

    /// Loop devices attached ahead of time to spare images (by image path), held open here until
    /// a sandbox has mounted them: attaching one takes ~10 ms of kernel time that a sandbox start
    /// then does not wait for. Autoclear detaches a device once it is neither open nor mounted,
    /// so nothing leaks if the server stops.
    private let attachedImages = Mutex<[String: (device: String, fd: Int32)]>([:])

    /// Moves a spare image of `bytes` (and its loop device, if attached) to `path`; false when
    /// there is none.
    private func takeSpareImage(bytes: Int64, to path: String) -> Bool {
        let directory = configuration.root + "/workspaces"
        let prefix = ".spare-\(bytes)-"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasPrefix(prefix) && name.hasSuffix(".img") {
            let taken = attachedImages.withLock { attached in
                guard rename(directory + "/" + name, path) == 0 else { return false }
                attached[path] = attached.removeValue(forKey: directory + "/" + name)
                return true
            }
            if taken { return true }
        }
        return false
    }

    deinit {
        // Spares' devices: closed, they detach (none of them is mounted).
        for attached in attachedImages.withLock({ Array($0.values) }) { close(attached.fd) }
    }

    /// The loop devices attached to spare images that wait for a sandbox (for tests).
    public var attachedSpareDevices: Set<String> {
        attachedImages.withLock { Set($0.filter { $0.key.contains("/.spare-") }.values.map(\.device)) }
    }

    /// Attaches the spare image at `path` to a loop device and keeps the device open.
    private func attachAhead(_ path: String) {
        let image = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC)
        guard image >= 0 else { return }
        defer { close(image) }
        let device: (path: String, fd: Int32)
        do {
            device = try LoopDevice.attach(imageFD: image)
        } catch {
            logger.debug("could not attach a spare workspace image ahead of time", metadata: ["error": "\(error.message)"])
            return
        }
        // Kept only if the spare is still there (not taken meanwhile).
        let kept = attachedImages.withLock { attached in
            var now = stat()
            var opened = stat()
            guard stat(path, &now) == 0, fstat(image, &opened) == 0, now.st_ino == opened.st_ino, now.st_dev == opened.st_dev else { return false }
            attached[path] = (device.path, device.fd)
            return true
        }
        if !kept { close(device.fd) }
    }

    /// Tops up the spare images of `bytes` in the background, at the lowest CPU priority: the
    /// refill starts as a new sandbox comes up, and must not slow that session's first steps.
    public func refillSpareImages(bytes: Int64) {
        guard usesWorkspaceImages, refilling.withLock({ $0.insert(bytes).inserted }) else { return }
        Task {
            defer { _ = refilling.withLock { $0.remove(bytes) } }
            let directory = configuration.root + "/workspaces"
            let prefix = ".spare-\(bytes)-"
            var count = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasPrefix(prefix) && $0.hasSuffix(".img") }.count
            while count < Self.sparesPerSize {
                let path = sparePrefix(bytes) + String(UInt64.random(in: 0...UInt64.max), radix: 36) + ".img"
                do {
                    try await createImage(at: path, bytes: bytes, uid: nil, background: true)
                    // Attaching is ~10 ms of blocking kernel time: not on the cooperative pool.
                    try await ProcessSpawner.backgroundThread.runIfActive { self.attachAhead(path) }
                } catch {
                    logger.warning("could not prepare a spare workspace image", metadata: ["error": "\(error)"])
                    return
                }
                count += 1
            }
        }
    }

    /// Creates a sparse ext4 image of `bytes`, its root owned by `uid` (by root for a spare;
    /// `cma-launch` gives it to the sandbox's uid on first use). `background`: mkfs runs at nice 19.
    private func createImage(at path: String, bytes: Int64, uid: UInt32?, background: Bool = false) async throws {
        guard let mkfs = Self.mkfs else { throw SandboxError(code: "io", message: "mkfs.ext4 is not available") }
        let temporary = path + ".new"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SandboxError(code: "io", message: "cannot create \(temporary)") }
        let sized = ftruncate(fd, off_t(bytes)) == 0
        close(fd)
        guard sized else { throw SandboxError(code: "io", message: "cannot size the workspace image") }
        // No `resize_inode` (blocks reserved for growing the file system while mounted, which
        // workspaces never do): mkfs then writes ~0.2 MB instead of ~4 MB for a 10 GiB image,
        // I/O that would otherwise compete with the sessions' commits as spares are refilled.
        let argv = [mkfs, "-q", "-F", "-m", "0", "-O", "^resize_inode", "-E", "root_owner=\(uid ?? 0):\(uid ?? 0),lazy_itable_init=1,lazy_journal_init=1", temporary]
        let environment = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"]
        let process = background
            ? try await ProcessSpawner.spawnInBackground(argv: argv, environment: environment, stderrPath: nil)
            : try ProcessSpawner.spawn(argv: argv, environment: environment, stderrPath: nil)
        close(process.stdinFD)
        close(process.stdoutFD)
        let status = await BubblewrapSandbox.waitForExit(process.pid, timeout: .seconds(60))
        guard status == 0 else {
            unlink(temporary)
            throw SandboxError(code: "io", message: "mkfs.ext4 failed for the workspace image")
        }
        guard rename(temporary, path) == 0 else { throw SandboxError(code: "io", message: "cannot place the workspace image") }
    }
    public func statePath(for key: String) -> String { configuration.root + "/state/" + key }

    /// The egress proxy's socket of a sandbox (in its state directory, which the sandbox never sees).
    public func egressSocketPath(for key: String) -> String { statePath(for: key) + "/egress.sock" }

    /// Starts the sandbox of `key` (a session's ID) around its persistent workspace.
    ///
    /// With `egress` nil the sandbox has no network at all. Otherwise it gets an `EgressProxy`
    /// with that policy, on a socket only the sandbox's user can connect to, reachable inside the
    /// sandbox as `127.0.0.1:3128` (`EgressProxy.sandboxProxyURL`); the sandbox still has no
    /// direct network. The proxy stops with the sandbox (`RunningSandbox.stop()`).
    /// `readOnlyBinds`: host paths this sandbox (besides every sandbox) sees read-only.
    public func start(
        key: String, slot: Int64, limits: SandboxLimits, layers: [String] = [], egress: EgressPolicy? = nil,
        readOnlyBinds: [(source: String, destination: String)] = []
    ) async throws -> RunningSandbox {
        var sandboxConfiguration = SandboxConfiguration(
            agentBinary: configuration.agentBinary, bubblewrap: configuration.bubblewrap, workspaceHostPath: workspacePath(for: key),
            stateHostPath: statePath(for: key), layers: layers, limits: limits)
        sandboxConfiguration.readOnlyBinds = configuration.readOnlyBinds + readOnlyBinds
        try BubblewrapSandbox.prepareState(sandboxConfiguration)
        StepTrace.mark("sandbox state prepared")

        sandboxConfiguration.etcCopies = BubblewrapArguments.etcCopies()
        var launcher = [configuration.launcherBinary] + BubblewrapArguments.launcherOpens(sandboxConfiguration)
        var heldDevice: Int32 = -1
        var refill: Int64?
        defer {
            if heldDevice >= 0 { close(heldDevice) }
            if let refill { refillSpareImages(bytes: refill) }
        }
        var cgroups = CgroupSet.none
        launcher += ["--rlimit", "core=0", "--rlimit", "nofile=\(limits.maxOpenFiles)", "--rlimit", "fsize=\(limits.maxFileBytes)"]
        if isolatesUsers {
            let uid = Self.hostUID(slot: slot)
            // The workspace belongs to the sandbox's uid. Bubblewrap runs as that uid and could not
            // traverse the server's private directories, so the launcher stages the workspace and
            // the agent binary where it can reach them. A new session's workspace is an ext4 image
            // of the size's disk quota (a directory from before images keeps working, unbounded).
            let image = workspaceImagePath(for: key)
            var isDirectory: ObjCBool = false
            let legacyDirectory = FileManager.default.fileExists(atPath: workspacePath(for: key), isDirectory: &isDirectory) && isDirectory.boolValue
                && (try? FileManager.default.contentsOfDirectory(atPath: workspacePath(for: key)).isEmpty) == false
            if usesWorkspaceImages && !legacyDirectory {
                if access(image, F_OK) != 0 {
                    if !takeSpareImage(bytes: limits.diskBytes, to: image) {
                        try await createImage(at: image, bytes: limits.diskBytes, uid: uid)
                    }
                    // Formatted again once this sandbox is up (mkfs would compete with its start).
                    refill = limits.diskBytes
                }
                StepTrace.mark("sandbox workspace image taken")
                launcher += ["--stage-image", image + ":workspace:20"]
                if let attached = attachedImages.withLock({ $0.removeValue(forKey: image) }) {
                    // Held until the sandbox has started (and so mounted it), then closed.
                    launcher += ["--image-device", "workspace=" + attached.device]
                    heldDevice = attached.fd
                }
                sandboxConfiguration.syncFD = 20
            } else {
                try chownTree(workspacePath(for: key), uid: uid)
                _ = chmod(workspacePath(for: key), 0o700)
                launcher += ["--stage", workspacePath(for: key) + ":workspace"]
                if !usesWorkspaceImages {
                    logger.warning("workspace size is not bounded (needs root, loop devices and mkfs.ext4)", metadata: ["sandbox": "\(key)"])
                }
            }
            launcher += ["--stage", configuration.agentBinary + ":cma-sandbox"]
            // Package layers live in the server's private directory too.
            for (i, layer) in layers.enumerated() {
                launcher += ["--stage", layer + ":layer\(i)"]
                sandboxConfiguration.layers[i] = "/tmp/layer\(i)"
            }
            for (i, bind) in sandboxConfiguration.readOnlyBinds.enumerated() {
                launcher += ["--stage", bind.source + ":extra\(i)"]
                sandboxConfiguration.readOnlyBinds[i].source = "/tmp/extra\(i)"
            }
            sandboxConfiguration.workspaceSource = "/tmp/workspace"
            sandboxConfiguration.agentSource = "/tmp/cma-sandbox"
            cgroups = Cgroups.create(name: "\(instance)-\(key)", limits: limits)
            StepTrace.mark("sandbox cgroups created")
            if cgroups == .none {
                logger.warning("cgroups are not available: this sandbox's memory and CPU are not bounded", metadata: ["sandbox": "\(key)"])
            }
            for file in cgroups.procsFiles { launcher += ["--cgroup-procs", file] }
            launcher += ["--rlimit", "nproc=\(limits.maxProcesses)", "--uid", String(uid), "--gid", String(uid)]
        }
        var proxy: EgressProxy?
        if let egress {
            // The socket belongs to the sandbox's user (mode 0600): when running as root, bubblewrap
            // runs as that user and reaches the socket through the launcher's staging (the state
            // directory is private to the server); otherwise it binds the host path directly.
            let socket = egressSocketPath(for: key)
            var proxyLogger = logger
            proxyLogger[metadataKey: "sandbox"] = "\(key)"
            let uid = Self.hostUID(slot: slot)
            do {
                proxy = try await EgressProxy.start(
                    socketPath: socket, policy: egress, socketOwner: isolatesUsers ? (uid, uid) : nil, logger: proxyLogger,
                    isForbidden: egressAddressFilter)
            } catch {
                Cgroups.destroy(cgroups)
                throw error
            }
            sandboxConfiguration.egressSocket = socket
            if isolatesUsers {
                launcher += ["--stage", socket + ":egress.sock"]
                sandboxConfiguration.egressSocketSource = "/tmp/egress.sock"
            } else {
                sandboxConfiguration.egressSocketSource = socket
            }
        }
        launcher.append("--")
        do {
            let sandbox = try await BubblewrapSandbox.start(sandboxConfiguration, launcher: launcher, logger: logger)
            // The first `exec` through a new sandbox takes ~0.7 ms more than later ones (the
            // first use of the exec paths at both ends). One is run now, in the background,
            // while the session's first model call is in flight, so its first command does not.
            Task { for try await _ in sandbox.exec(["/bin/true"], env: [:], timeout: .seconds(10)).events {} }
            return RunningSandbox(sandbox: sandbox, cgroups: cgroups, egress: proxy)
        } catch {
            await proxy?.stop()
            Cgroups.destroy(cgroups)
            throw error
        }
    }

    /// Removes a session's workspace and state (after its sandbox has stopped).
    public func removeFiles(key: String) {
        try? FileManager.default.removeItem(atPath: workspacePath(for: key))
        try? FileManager.default.removeItem(atPath: workspaceImagePath(for: key))
        try? FileManager.default.removeItem(atPath: statePath(for: key))
    }

    /// Gives the whole tree to `uid`, never following symlinks.
    private func chownTree(_ path: String, uid: UInt32) throws {
        var st = stat()
        guard lstat(path, &st) == 0 else { throw SandboxError(code: "io", message: "cannot stat \(path)") }
        if st.st_uid == uid { return }  // already owned: a restart, nothing to do for the common case
        guard let walker = FileManager.default.enumerator(atPath: path) else { return }
        _ = lchown(path, uid, uid)
        for case let relative as String in walker {
            _ = lchown(path + "/" + relative, uid, uid)
        }
    }
}

/// A started sandbox and the host resources that go with it.
public final class RunningSandbox: Sendable {
    public let sandbox: BubblewrapSandbox
    let cgroups: CgroupSet
    /// The sandbox's egress proxy, when it has network access.
    public let egress: EgressProxy?

    init(sandbox: BubblewrapSandbox, cgroups: CgroupSet, egress: EgressProxy? = nil) {
        self.sandbox = sandbox
        self.cgroups = cgroups
        self.egress = egress
    }

    /// Stops the sandbox and its egress proxy, and releases its cgroups.
    public func stop() async {
        await sandbox.stop()
        await egress?.stop()
        Cgroups.destroy(cgroups)
    }
}
