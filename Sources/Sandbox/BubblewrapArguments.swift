#if canImport(Glibc)
import Glibc
#endif

/// The bubblewrap command line for one sandbox.
///
/// The sandbox sees: a read-only `/usr` (and the host's `/bin`, `/lib*`, `/sbin` links), a curated
/// read-only `/etc` (no secrets: passwd and group are generated), fresh `/proc` and `/dev`,
/// size-limited tmpfs at `/tmp` and `$HOME`, the session's workspace at `/workspace`, the
/// package layers, and the agent binary. Nothing else of the host: not the server's data
/// directory, not `/home`, `/root`, `/opt`, `/var`, `/run`. It has its own user, PID, IPC, UTS,
/// network and (where possible) cgroup namespaces, no capabilities, `no_new_privs`, and cannot
/// create further user namespaces. Its network namespace has only loopback; when the sandbox has
/// egress, the proxy's Unix socket is bind-mounted at `/run/cma/egress.sock` and the agent relays
/// `127.0.0.1:3128` to it (`--egress-relay`).
enum BubblewrapArguments {
    /// Files and directories of the host's `/etc` that programs need and that hold no secrets.
    static let etcEntries = [
        "alternatives", "ssl", "ca-certificates", "ca-certificates.conf", "ld.so.cache", "ld.so.conf", "ld.so.conf.d",
        "localtime", "timezone", "nsswitch.conf", "mime.types", "bash.bashrc", "profile.d", "inputrc",
        "debian_version", "os-release", "lsb-release", "python3", "python3.11", "perl", "gitconfig", "magic", "magic.mime",
        "protocols", "services", "login.defs", "environment", "manpath.config", "xdg",
    ]

    /// The generated `/etc` files, passed to bubblewrap on descriptors `etcFirstFD`….
    static let etcFileNames = ["passwd", "group", "hosts", "hostname", "profile"]
    static let etcFirstFD = 11
    /// The copied host `/etc` files (`etcCopies`), on descriptors `etcCopyFirstFD`….
    static let etcCopyFirstFD = 40

    /// The entries of `etcEntries` that are copied into the sandbox's root instead of mounted:
    /// regular files (not symlinks) that everyone may read, so a copy (0644, then read-only
    /// with the root) shows nothing the sandbox's user could not read anyway. Each is a mount
    /// less at every sandbox start (~0.3 ms each here). Directories, symlinks and files with
    /// narrower permissions stay read-only binds.
    static func etcCopies() -> [String] {
        etcEntries.filter { entry in
            var st = stat()
            return lstat("/etc/" + entry, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG && (st.st_mode & 0o004) != 0
        }
    }

    /// The launcher options that open the generated files and the copied host files on the
    /// descriptors `make` refers to.
    static func launcherOpens(_ config: SandboxConfiguration) -> [String] {
        etcFilesCopied(config).flatMap { ["--open-file", "\($0.fd):\($0.source)"] }
    }

    /// The files copied into the sandbox's `/etc` (0644, read-only with the root): the
    /// generated ones and `etcCopies`, each with the descriptor the launcher opens it on.
    static func etcFilesCopied(_ config: SandboxConfiguration) -> [(fd: Int, source: String, name: String)] {
        etcFileNames.enumerated().map { i, file in (etcFirstFD + i, "\(config.stateHostPath)/etc/\(file)", file) }
            + config.etcCopies.enumerated().map { i, entry in (etcCopyFirstFD + i, "/etc/" + entry, entry) }
    }

    static func make(_ config: SandboxConfiguration, home: String = "/home/agent") -> [String] {
        var a: [String] = [config.bubblewrap]
        // The agent is the namespace's init (PID 1): commands cannot kill it, and it reaps
        // every orphan.
        a += ["--die-with-parent", "--new-session", "--as-pid-1"]
        if let fd = config.syncFD { a += ["--sync-fd", String(fd)] }
        a += ["--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-net", "--unshare-cgroup-try"]
        a += ["--disable-userns"]
        a += ["--uid", String(config.uid), "--gid", String(config.gid), "--hostname", config.hostname]
        a += ["--cap-drop", "ALL"]

        // System root, read-only.
        a += ["--ro-bind", "/usr", "/usr"]
        for top in ["bin", "sbin", "lib", "lib32", "lib64", "libx32"] {
            let path = "/" + top
            if let target = symlinkTarget(path) {
                a += ["--symlink", target, path]
            } else if isDirectory(path) {
                a += ["--ro-bind", path, path]
            }
        }
        a += ["--dir", "/etc"]
        // The generated files and the copied host ones are read from descriptors the launcher
        // opened (the state directory is private to the server), copied into the root (a file
        // each, not a mount: read-only with the root's remount below).
        for file in etcFilesCopied(config) {
            a += ["--perms", "0644", "--file", String(file.fd), "/etc/" + file.name]
        }
        for entry in etcEntries where !config.etcCopies.contains(entry) && exists("/etc/" + entry) {
            if let target = symlinkTarget("/etc/" + entry), resolvesUnderUsr(target) {
                // e.g. localtime → /usr/share/zoneinfo/…: the same link, into the read-only /usr.
                a += ["--symlink", target, "/etc/" + entry]
            } else {
                a += ["--ro-bind", "/etc/" + entry, "/etc/" + entry]
            }
        }

        a += ["--proc", "/proc", "--dev", "/dev"]
        a += ["--size", String(config.limits.tmpBytes), "--tmpfs", "/tmp"]
        a += ["--size", String(config.limits.tmpBytes), "--tmpfs", "/var/tmp"]
        a += ["--size", String(64 << 20), "--tmpfs", home]
        a += ["--size", String(16 << 20), "--tmpfs", "/run"]

        for (i, layer) in config.layers.enumerated() {
            a += ["--ro-bind", layer, PackageLayers.mountPoint(i)]
        }
        for bind in config.readOnlyBinds {
            a += ["--ro-bind", bind.source, bind.destination]
        }
        a += ["--bind", config.workspaceSource, SandboxConfiguration.workspacePath]
        a += ["--ro-bind", config.agentSource, SandboxConfiguration.agentPath]
        if let socket = config.egressSocketSource {
            a += ["--dir", "/run/cma", "--ro-bind", socket, SandboxConfiguration.egressSocketPath]
        }

        // Everything not mounted writable above (the root, /etc) becomes read-only.
        a += ["--remount-ro", "/"]
        a += ["--clearenv", "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin", "--setenv", "HOME", home]
        a += ["--chdir", SandboxConfiguration.workspacePath]
        a += ["--", SandboxConfiguration.agentPath, "--workspace", SandboxConfiguration.workspacePath, "--warm-up", SandboxConfiguration.commandLogsPath]
        if config.egressSocketSource != nil {
            a += ["--egress-relay", SandboxConfiguration.egressSocketPath]
        }
        return a
    }

    /// The generated `/etc` files of a sandbox (passwd, group, hosts, hostname).
    static func etcFiles(_ config: SandboxConfiguration, home: String = "/home/agent") -> [(name: String, contents: String)] {
        [
            ("passwd", "root:x:0:0:root:/root:/usr/sbin/nologin\nagent:x:\(config.uid):\(config.gid):agent:\(home):/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"),
            ("group", "root:x:0:\nagent:x:\(config.gid):\nnogroup:x:65534:\n"),
            ("hosts", "127.0.0.1 localhost \(config.hostname)\n::1 localhost ip6-localhost ip6-loopback\n"),
            ("hostname", config.hostname + "\n"),
            // Login shells (`bash -lc`, as Codex runs commands) keep the PATH the runtime set
            // (package layers, the environment's own `env`) instead of resetting it.
            ("profile", "# Generated by cma: PATH is set by the runtime.\nif [ -d /etc/profile.d ]; then\n  for i in /etc/profile.d/*.sh; do\n    if [ -r \"$i\" ]; then . \"$i\"; fi\n  done\n  unset i\nfi\n"),
        ]
    }

    static func symlinkTarget(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink(path, &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether a symlink target found in `/etc` names a path under `/usr` (absolute, or relative
    /// to `/etc`), without `..` beyond that: such a link works unchanged in the sandbox.
    static func resolvesUnderUsr(_ target: String) -> Bool {
        let absolute = target.hasPrefix("/") ? target : "/etc/" + target
        var parts: [Substring] = []
        for part in absolute.split(separator: "/") {
            if part == "." { continue }
            if part == ".." {
                guard !parts.isEmpty else { return false }
                parts.removeLast()
            } else {
                parts.append(part)
            }
        }
        return parts.count > 1 && parts[0] == "usr"
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }
}
