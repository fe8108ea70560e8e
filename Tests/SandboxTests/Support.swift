import Foundation
import Logging
@testable import Sandbox
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The directory of the running test executable, where SwiftPM also puts the package's
/// executables (`cma-sandbox`, `cma-launch`).
let buildDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path

let hostConfigurationAvailable: Bool = {
    access("/usr/bin/bwrap", X_OK) == 0 && access(buildDirectory + "/cma-sandbox", X_OK) == 0 && access(buildDirectory + "/cma-launch", X_OK) == 0
}()

let runningAsRoot = geteuid() == 0

/// A sandbox host on a fresh directory; sandboxes started through it are stopped at the end.
final class SandboxFixture: Sendable {
    let host: SandboxHost
    let root: String

    /// `egressAddressFilter` replaces the egress proxies' strict address check (tests only).
    init(egressAddressFilter: (@Sendable (EgressPolicy.Address) -> Bool)? = nil) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("cma-sandbox-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        // Private, as the server's data directory is.
        _ = chmod(root, 0o700)
        var logger = Logger(label: "test.sandbox")
        logger.logLevel = .critical
        host = SandboxHost(
            configuration: .init(agentBinary: buildDirectory + "/cma-sandbox", launcherBinary: buildDirectory + "/cma-launch", root: root),
            logger: logger, egressAddressFilter: egressAddressFilter ?? EgressPolicy.isForbidden(address:))
    }

    func cleanUp() {
        try? FileManager.default.removeItem(atPath: root)
    }
}

/// Runs `body` with a started sandbox, then stops it and removes its files.
func withSandbox(
    key: String = "sess_test", slot: Int64 = Int64.random(in: 1...1_000_000), limits: SandboxLimits = .forSize(.small), fixture: SandboxFixture? = nil,
    _ body: (BubblewrapSandbox, SandboxFixture) async throws -> Void
) async throws {
    let fixture = try fixture ?? SandboxFixture()
    let running = try await fixture.host.start(key: key, slot: slot, limits: limits)
    do {
        try await body(running.sandbox, fixture)
    } catch {
        await running.stop()
        fixture.cleanUp()
        throw error
    }
    await running.stop()
    fixture.cleanUp()
}

extension BubblewrapSandbox {
    static let testEnvironment = ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/home/agent", "LANG": "C.UTF-8"]

    /// Runs a shell command and returns (output as text, exit code).
    func sh(_ script: String, timeout: Duration = .seconds(30)) async throws -> (output: String, code: Int?, result: ExecResult) {
        let (output, result) = try await run(["/bin/sh", "-c", script], env: Self.testEnvironment, timeout: timeout)
        return (String(decoding: output, as: UTF8.self), result.exitCode, result)
    }
}
