import Foundation
public import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Read-only package layers, built once per distinct package set and shared by every sandbox
/// that asks for it.
///
/// A layer is built in a throwaway bubblewrap sandbox that has the network (package installation
/// may use it; the sessions afterwards follow their own policy) but sees only the system's
/// `/usr`, the package manager's configuration and indexes, and the layer directory it fills:
/// - `system`: Debian packages missing from the host (with their dependencies, as
///   `apt-get install --simulate` resolves them) are downloaded by apt, which verifies them
///   against the signed indexes, and unpacked with `dpkg-deb -x` (no maintainer scripts run);
/// - `python`: wheels only (`pip install --only-binary=:all: --target`), so no package code runs
///   at install time;
/// - `npm`: `npm install -g --ignore-scripts` into the layer's prefix.
/// Sandboxes mount the layer read-only at `/opt/cma/layers/N` and find it through `PATH`,
/// `LD_LIBRARY_PATH`, `PYTHONPATH` and `NODE_PATH` (`environment(mountPoint:)`).
public final class PackageLayers: Sendable {
    public struct Packages: Sendable, Equatable {
        public var system: [String]
        public var python: [String]
        public var npm: [String]

        public init(system: [String] = [], python: [String] = [], npm: [String] = []) {
            self.system = system
            self.python = python
            self.npm = npm
        }

        public var isEmpty: Bool { system.isEmpty && python.isEmpty && npm.isEmpty }
    }

    public let root: String
    private let bubblewrap: String
    private let logger: Logger
    private let timeout: Duration
    private let builds = Mutex<[String: Task<String, any Error>]>([:])

    public init(root: String, bubblewrap: String = "/usr/bin/bwrap", timeout: Duration = .seconds(900), logger: Logger = Logger(label: "cma.layers")) {
        self.root = root
        self.bubblewrap = bubblewrap
        self.timeout = timeout
        self.logger = logger
    }

    /// The directory of the layer `key` (a digest of the canonical package set), built now if
    /// it does not exist yet. Concurrent requests for one key share one build.
    public func layer(key: String, packages: Packages) async throws -> String {
        precondition(!key.isEmpty && key.allSatisfy { $0.isLetter || $0.isNumber })
        let path = root + "/" + key
        if access(path + "/.complete", F_OK) == 0 { return path }
        let task = builds.withLock { builds -> Task<String, any Error> in
            if let running = builds[key] { return running }
            let task = Task { try await self.build(key: key, packages: packages, into: path) }
            builds[key] = task
            return task
        }
        defer { builds.withLock { _ = $0.removeValue(forKey: key) } }
        return try await task.value
    }

    private func build(key: String, packages: Packages, into path: String) async throws -> String {
        if access(path + "/.complete", F_OK) == 0 { return path }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let work = root + "/.build-" + key + "-" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let log = work + "/.build.log"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        defer { try? FileManager.default.removeItem(atPath: work) }
        let clock = ContinuousClock()
        let started = clock.now
        // From the stable thread: the builder runs bwrap with --die-with-parent.
        let process = try await ProcessSpawner.spawnFromStableThread(
            argv: builderArguments(layer: work) + ["/bin/bash", "-c", Self.script],
            environment: [
                "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "DEBIAN_FRONTEND": "noninteractive",
                "CMA_SYSTEM": packages.system.joined(separator: " "), "CMA_PYTHON": packages.python.joined(separator: " "),
                "CMA_NPM": packages.npm.joined(separator: " "),
            ], stderrPath: nil)
        close(process.stdinFD)
        close(process.stdoutFD)
        let status = await BubblewrapSandbox.waitForExit(process.pid, timeout: timeout)
        if status == nil {
            kill(-process.pid, SIGKILL)
            _ = await BubblewrapSandbox.waitForExit(process.pid, timeout: .seconds(5))
        }
        guard let status, status == 0 else {
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            let tail = String(output.suffix(1500))
            logger.warning("package layer build failed", metadata: ["layer": "\(key)", "output": "\(tail)"])
            throw SandboxError(
                code: "packages_failed", message: status == nil ? "Package installation timed out." : "Package installation failed: \(tail)")
        }
        try? FileManager.default.removeItem(atPath: log)
        FileManager.default.createFile(atPath: work + "/.complete", contents: Data())
        // Another process may have finished the same layer meanwhile: keep the first.
        if rename(work, path) != 0, access(path + "/.complete", F_OK) != 0 {
            throw SandboxError(code: "io", message: "cannot place the package layer")
        }
        let elapsed = clock.now - started
        logger.info("package layer built", metadata: ["layer": "\(key)", "seconds": "\(elapsed.components.seconds)"])
        return path
    }

    /// A builder sandbox: read-only system, the package managers' configuration and indexes, the
    /// network, and only the layer directory writable.
    private func builderArguments(layer: String) -> [String] {
        var a = [bubblewrap, "--die-with-parent", "--new-session", "--unshare-all", "--share-net", "--cap-drop", "ALL"]
        a += ["--uid", "1000", "--gid", "1000", "--ro-bind", "/usr", "/usr"]
        for top in ["bin", "sbin", "lib", "lib32", "lib64", "libx32"] {
            let path = "/" + top
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path) {
                a += ["--symlink", target, path]
            } else if FileManager.default.fileExists(atPath: path) {
                a += ["--ro-bind", path, path]
            }
        }
        a += ["--dir", "/etc"]
        for entry in BubblewrapArguments.etcEntries + ["apt", "resolv.conf", "hosts", "pip.conf", "npmrc", "gai.conf", "host.conf"]
        where FileManager.default.fileExists(atPath: "/etc/" + entry) {
            a += ["--ro-bind", "/etc/" + entry, "/etc/" + entry]
        }
        for dir in ["/var/lib/apt/lists", "/var/lib/dpkg"] where FileManager.default.fileExists(atPath: dir) {
            a += ["--ro-bind", dir, dir]
        }
        a += ["--tmpfs", "/tmp", "--tmpfs", "/var/cache", "--tmpfs", "/var/log", "--proc", "/proc", "--dev", "/dev"]
        a += ["--bind", layer, "/layer", "--chdir", "/tmp", "--"]
        return a
    }

    /// Everything goes to the build log in the layer (removed once the layer is built). Package names were validated by the API (no
    /// options, paths or URLs) and are split on spaces on purpose.
    static let script = #"""
        exec >/layer/.build.log 2>&1 </dev/null
        set -eu
        if [ -n "$CMA_SYSTEM" ]; then
            mkdir -p /tmp/debs /layer/system
            cd /tmp/debs
            apt_opts="-q -o Debug::NoLocking=1 -o Dir::Cache=/tmp/aptcache -o APT::Sandbox::User=root"
            plan=$(apt-get $apt_opts -s install --no-install-recommends $CMA_SYSTEM 2>&1) || { printf '%s\n' "$plan" | tail -n 20; exit 10; }
            missing=$(printf '%s\n' "$plan" | sed -n 's/^Inst \([^ ]*\) .*/\1/p')
            if [ -n "$missing" ]; then
                apt-get $apt_opts download $missing
                for deb in ./*.deb; do dpkg-deb -x "$deb" /layer/system; done
            fi
            cd /tmp
        fi
        if [ -n "$CMA_PYTHON" ]; then
            python3 -m pip install -q --target /layer/python --only-binary=:all: --no-cache-dir --disable-pip-version-check --no-input $CMA_PYTHON
        fi
        if [ -n "$CMA_NPM" ]; then
            command -v npm >/dev/null || { echo "npm is not installed on this server"; exit 11; }
            npm install -g --prefix /layer/npm --ignore-scripts --no-audit --no-fund $CMA_NPM
        fi
        chmod -R a+rX,go-w /layer
        """#

    /// Where the `index`th layer is mounted inside a sandbox.
    public static func mountPoint(_ index: Int) -> String { "/opt/cma/layers/\(index)" }

    /// Where a layer mounted at `mountPoint` is found by programs.
    public static func environment(mountPoint m: String, base: [String: String]) -> [String: String] {
        #if arch(arm64)
        let triplet = "aarch64-linux-gnu"
        #else
        let triplet = "x86_64-linux-gnu"
        #endif
        var env = base
        let paths = ["\(m)/npm/bin", "\(m)/system/usr/local/bin", "\(m)/system/usr/bin", "\(m)/system/bin", "\(m)/python/bin"]
        env["PATH"] = (paths + [base["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"]).joined(separator: ":")
        env["LD_LIBRARY_PATH"] = ["\(m)/system/usr/lib/\(triplet)", "\(m)/system/lib/\(triplet)", "\(m)/system/usr/lib"].joined(separator: ":")
        env["PYTHONPATH"] = "\(m)/python"
        env["NODE_PATH"] = "\(m)/npm/lib/node_modules"
        return env
    }
}
