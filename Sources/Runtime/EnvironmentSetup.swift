import AgentsAPI
import Archive
import Foundation
import Sandbox
import Storage
import Tools

/// Provisioning a hosted environment's sandbox: the files, then the setup commands, and the
/// environment every command runs with. Shared by sessions and prewarmed environments.
enum EnvironmentSetup {
    /// Files first (inline or from the Files API), then the setup commands in order; a failing
    /// command fails the environment.
    static func apply(
        _ sandbox: BubblewrapSandbox, secrets: HostedEnvironmentSecrets, hosted: HostedEnvironment, limits: SandboxLimits, store: any Store, projectID: String
    ) async throws {
        for file in secrets.files {
            let bytes: [UInt8]
            if let id = file.fileID {
                guard let content = try await store.fileContent(projectID: projectID, id: id) else {
                    throw SandboxError(code: "setup_failed", message: "The file '\(id)' for \(file.path) no longer exists.")
                }
                bytes = content
            } else if let base64 = file.base64, let data = Data(base64Encoded: base64) {
                bytes = Array(data)
            } else {
                continue
            }
            try await sandbox.writeFile(file.path, bytes)
        }
        let env = commandEnvironment(secrets: secrets, hosted: hosted)
        for (i, command) in secrets.setupCommands.enumerated() {
            let (output, result) = try await sandbox.run(ShellTool.argv(for: command.command), cwd: command.cwd, env: env, timeout: limits.maxCommandTimeout)
            guard result.exitCode == 0 else {
                // The command itself is confidential: name it by position only.
                let tail = String(decoding: output.suffix(1000), as: UTF8.self)
                throw SandboxError(
                    code: "setup_failed",
                    message: "Setup command \(i + 1) failed (\(result.timedOut ? "timed out" : "exit code \(result.exitCode.map(String.init) ?? "none")")): \(tail)")
            }
        }
    }

    /// The environment of every command: a sane base, the package layer's paths, then the
    /// environment's `env`.
    static func commandEnvironment(secrets: HostedEnvironmentSecrets, hosted: HostedEnvironment) -> [String: String] {
        var env = [
            "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/home/agent", "LANG": "C.UTF-8", "TERM": "dumb", "PAGER": "cat",
            "GIT_PAGER": "cat", "USER": "agent", "SHELL": "/bin/bash",
        ]
        if !hosted.packages.isEmpty { env = PackageLayers.environment(mountPoint: PackageLayers.mountPoint(0), base: env) }
        // With network access, programs reach out through the runtime's egress proxy.
        if hosted.networkAccess != .disabled { env.merge(EgressProxy.sandboxEnvironment) { _, proxy in proxy } }
        for (name, value) in secrets.env { env[name] = value }
        return env
    }

    /// The package layer of the environment (built now if no sandbox has needed it before).
    static func layers(_ hosted: HostedEnvironment, host: SandboxHost) async throws -> [String] {
        guard !hosted.packages.isEmpty else { return [] }
        let set = hosted.packages.canonical
        return [try await host.packageLayers.layer(key: layerKey(set), packages: PackageLayers.Packages(system: set.system, python: set.python, npm: set.npm))]
    }

    /// Identifies a package set's layer: the set itself and the system it was built for.
    static func layerKey(_ set: PackageSet) -> String {
        let system = (try? String(contentsOfFile: "/etc/debian_version", encoding: .utf8)) ?? ""
        #if arch(arm64)
        let arch = "arm64"
        #else
        let arch = "x86_64"
        #endif
        return String(Hashing.sha256Hex(Array(("layer-v1\n" + arch + "\n" + system + "\n" + JSONWriter.string(set.json)).utf8)).prefix(32))
    }

    /// The sandbox's egress policy: nil (no network at all) unless the environment allows access.
    static func egress(_ hosted: HostedEnvironment, secrets: HostedEnvironmentSecrets) -> EgressPolicy? {
        switch hosted.networkAccess {
        case .disabled: return nil
        case .enabled: return .enabled
        case .restricted: return .restricted(allowed: hosted.allowedDomains, blocked: secrets.blockedDomains)
        }
    }

    /// Unpacks the environment's skills into `<state>/skills/<name>/`, which the sandbox shows
    /// read-only at `/skills`. Returns the bind to give the sandbox (none without skills).
    static func skillBinds(_ secrets: HostedEnvironmentSecrets, host: SandboxHost, key: String) throws -> [(source: String, destination: String)] {
        let root = host.statePath(for: key) + "/skills"
        let fm = FileManager.default
        try? fm.removeItem(atPath: root)
        guard !secrets.skills.isEmpty else { return [] }
        for skill in secrets.skills {
            let base = root + "/" + skill.name
            try fm.createDirectory(atPath: base, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            let entries: [ZipEntry]
            do {
                entries = try skill.files()
            } catch {
                throw SandboxError(code: "setup_failed", message: "The skill '\(skill.name)' cannot be unpacked: \(error.message)")
            }
            // Paths were checked when the archive was accepted (relative, no '..', no links).
            for entry in entries {
                let path = base + "/" + entry.path
                if entry.isDirectory {
                    try fm.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
                } else {
                    let parent = (path as NSString).deletingLastPathComponent
                    try fm.createDirectory(atPath: parent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
                    let executable = (entry.mode ?? 0) & 0o111 != 0
                    guard fm.createFile(atPath: path, contents: Data(entry.data), attributes: [.posixPermissions: executable ? 0o755 : 0o644]) else {
                        throw SandboxError(code: "setup_failed", message: "The skill '\(skill.name)' cannot be unpacked: writing \(entry.path) failed.")
                    }
                }
            }
        }
        _ = chmod(root, 0o755)
        return [(root, Skills.mountPoint)]
    }

    static func limits(_ hosted: HostedEnvironment) -> SandboxLimits {
        SandboxLimits.forSize(SandboxLimits.Size(rawValue: hosted.containerSize.rawValue) ?? .medium)
    }
}
