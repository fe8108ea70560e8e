import Foundation
@testable import Sandbox
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif


/// Runs `body` with a sandbox started with `egress`, then stops it and removes its files.
func withEgressSandbox(
    _ egress: EgressPolicy?, allowLoopback: Bool = false, slot: Int64 = Int64.random(in: 1...1_000_000),
    _ body: (RunningSandbox, SandboxFixture) async throws -> Void
) async throws {
    let fixture = try SandboxFixture(egressAddressFilter: allowLoopback ? allowingLoopbackForTests : nil)
    defer { fixture.cleanUp() }
    let running = try await fixture.host.start(key: "sess_egress", slot: slot, limits: .forSize(.small), egress: egress)
    do {
        try await body(running, fixture)
    } catch {
        await running.stop()
        throw error
    }
    await running.stop()
}

@Suite("Sandbox egress", .enabled(if: hostConfigurationAvailable, "needs /usr/bin/bwrap and the built cma-sandbox and cma-launch"))
struct SandboxEgressTests {
    static let proxy = "-x \(EgressProxy.sandboxProxyURL)"

    @Test func withoutEgressThereIsNoNetworkAtAll() async throws {
        let origin = try TestHTTPServer()
        defer { origin.stop() }
        try await withEgressSandbox(nil) { running, fixture in
            let sandbox = running.sandbox
            #expect(running.egress == nil)
            #expect(try await sandbox.sh("test -e /run/cma/egress.sock && echo present || echo absent").output == "absent\n")
            #expect(access(fixture.host.egressSocketPath(for: "sess_egress"), F_OK) != 0)
            let viaProxy = try await sandbox.sh("curl -sS -m 5 \(Self.proxy) http://example.com/ 2>&1; echo rc=$?")
            #expect(viaProxy.output.contains("rc=7"), "\(viaProxy.output)")
            let direct = try await sandbox.sh("curl -sS -m 5 --noproxy '*' http://127.0.0.1:\(origin.port)/direct 2>&1; echo rc=$?")
            #expect(direct.output.contains("rc=7"), "\(direct.output)")
            let outside = try await sandbox.sh(
                "python3 -c 'import socket; s=socket.socket(); s.settimeout(2); s.connect((\"1.1.1.1\", 443))' 2>&1 | tail -1", timeout: .seconds(10))
            #expect(outside.output.contains("unreachable"), "\(outside.output)")
        }
        #expect(origin.connections == 0)
    }

    @Test func aRestrictedPolicyRefusesOtherDomains() async throws {
        try await withEgressSandbox(.restricted(allowed: ["pypi.org"])) { running, fixture in
            let sandbox = running.sandbox
            // Still no interface but loopback, and no direct route anywhere.
            #expect(try await sandbox.sh("cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '").output == "lo\n")
            let tls = try await sandbox.sh("curl -sS -m 10 \(Self.proxy) https://not-allowed.example/ -o /dev/null -w 'connect=%{http_connect}' 2>&1; echo ' rc='$?")
            #expect(tls.output.contains("connect=403"), "\(tls.output)")
            #expect(!tls.output.contains("rc=0"), "\(tls.output)")
            let plain = try await sandbox.sh("curl -sS -m 10 \(Self.proxy) http://not-allowed.example/path -w ' status=%{http_code}'")
            #expect(plain.output == "blocked by network policy: not-allowed.example\n status=403", "\(plain.output)")
            // The environment the runtime gives commands points at the proxy.
            var env = BubblewrapSandbox.testEnvironment
            env.merge(EgressProxy.sandboxEnvironment) { _, new in new }
            let (output, _) = try await sandbox.run(["/bin/sh", "-c", "curl -sS -m 10 http://not-allowed.example/ 2>&1"], env: env, timeout: .seconds(30))
            #expect(String(decoding: output, as: UTF8.self) == "blocked by network policy: not-allowed.example\n")
            // An IP literal is not an allowed domain.
            let literal = try await sandbox.sh("curl -sS -m 10 \(Self.proxy) http://169.254.169.254/latest/meta-data/")
            #expect(literal.output == "blocked by network policy: 169.254.169.254\n", "\(literal.output)")
            let direct = try await sandbox.sh(
                "python3 -c 'import socket; s=socket.socket(); s.settimeout(2); s.connect((\"1.1.1.1\", 443))' 2>&1 | tail -1", timeout: .seconds(10))
            #expect(direct.output.contains("unreachable"), "\(direct.output)")
            if runningAsRoot {
                // The socket belongs to the sandbox's own user, and only it can connect.
                var st = stat()
                #expect(stat(fixture.host.egressSocketPath(for: "sess_egress"), &st) == 0)
                #expect(st.st_uid >= 2_000_000)
                #expect(st.st_mode & 0o777 == 0o600)
            }
        }
    }

    @Test func theProxyAlwaysRefusesInternalAddresses() async throws {
        let origin = try TestHTTPServer()
        defer { origin.stop() }
        try await withEgressSandbox(.enabled) { running, _ in
            let sandbox = running.sandbox
            for url in ["http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:\(origin.port)/", "http://localhost:\(origin.port)/", "http://10.0.0.1/"] {
                let r = try await sandbox.sh("curl -sS -m 10 \(Self.proxy) \(url)")
                #expect(r.output == "destination address not allowed\n", "\(url): \(r.output)")
            }
            let tunnel = try await sandbox.sh("curl -sS -m 10 -p \(Self.proxy) http://127.0.0.1:\(origin.port)/ -w 'connect=%{http_connect}' 2>&1")
            #expect(tunnel.output.contains("connect=403"), "\(tunnel.output)")
        }
        #expect(origin.connections == 0)
    }

    @Test func requestsThroughTheRelayReachAnAllowedOrigin() async throws {
        let origin = try TestHTTPServer()
        defer { origin.stop() }
        let port = origin.port
        try await withEgressSandbox(.enabled, allowLoopback: true) { running, fixture in
            let sandbox = running.sandbox
            // Plain HTTP (absolute form) and a CONNECT tunnel.
            let plain = try await sandbox.sh("curl -sS -m 10 \(Self.proxy) http://127.0.0.1:\(port)/from-sandbox")
            #expect(plain.output == "hello from origin /from-sandbox\n", "\(plain.output)")
            let tunnel = try await sandbox.sh("curl -sS -m 10 -p \(Self.proxy) http://127.0.0.1:\(port)/through-connect")
            #expect(tunnel.output == "hello from origin /through-connect\n", "\(tunnel.output)")
            // Large transfers both ways, and several connections at once.
            let download = try await sandbox.sh("curl -sS -m 30 \(Self.proxy) 'http://127.0.0.1:\(port)/big?size=6000000' | md5sum", timeout: .seconds(60))
            let expected = try await sandbox.sh("python3 -c 'import sys; sys.stdout.buffer.write(bytes(i % 251 for i in range(6000000)))' | md5sum")
            #expect(download.output == expected.output)
            let upload = try await sandbox.sh(
                "head -c 3000000 /dev/zero | curl -sS -m 30 \(Self.proxy) --data-binary @- http://127.0.0.1:\(port)/upload", timeout: .seconds(60))
            #expect(upload.output == "hello from origin /upload body=3000000 bytes\n", "\(upload.output)")
            let parallel = try await sandbox.sh(
                "for i in 1 2 3 4 5 6 7 8; do curl -sS -m 20 \(Self.proxy) -p http://127.0.0.1:\(port)/p$i > /tmp/p$i & done; wait; cat /tmp/p* | sort",
                timeout: .seconds(60))
            #expect(parallel.output == (1...8).map { "hello from origin /p\($0)\n" }.joined(), "\(parallel.output)")

            // A client that stops reading stalls only its own connection, never the agent.
            let stalled = sandbox.exec(
                ["/bin/sh", "-c", "curl -sS -m 60 \(Self.proxy) 'http://127.0.0.1:\(port)/big?size=30000000' | (sleep 3; wc -c)"],
                env: BubblewrapSandbox.testEnvironment, timeout: .seconds(60))
            try await Task.sleep(for: .milliseconds(800))
            let clock = ContinuousClock()
            let started = clock.now
            #expect(try await sandbox.sh("echo alive").output == "alive\n")
            #expect(clock.now - started < .seconds(2))
            var stalledOutput: [UInt8] = []
            for try await event in stalled.events {
                if case .output(let bytes) = event { stalledOutput += bytes }
            }
            #expect(String(decoding: stalledOutput, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == "30000000")

            // Bypassing the proxy still reaches nothing.
            let direct = try await sandbox.sh("curl -sS -m 5 --noproxy '*' http://127.0.0.1:\(port)/direct 2>&1; echo rc=$?")
            #expect(direct.output.contains("rc=7"), "\(direct.output)")
            #expect(!origin.heads.contains { $0.hasPrefix("GET /direct ") })
            #expect(origin.heads.contains { $0.hasPrefix("GET /from-sandbox ") })
            _ = fixture
        }
    }

    @Test func theProxyStopsWithTheSandbox() async throws {
        let fixture = try SandboxFixture()
        defer { fixture.cleanUp() }
        let running = try await fixture.host.start(key: "sess_stop", slot: 4242, limits: .forSize(.small), egress: .restricted(allowed: ["pypi.org"]))
        let socket = fixture.host.egressSocketPath(for: "sess_stop")
        #expect(access(socket, F_OK) == 0)
        #expect(try await running.sandbox.sh("test -S /run/cma/egress.sock && echo socket").output == "socket\n")
        await running.stop()
        #expect(access(socket, F_OK) != 0)
        // A restart without egress has no network again.
        let again = try await fixture.host.start(key: "sess_stop", slot: 4242, limits: .forSize(.small))
        #expect(try await again.sandbox.sh("curl -sS -m 5 \(Self.proxy) http://pypi.org/ 2>&1; echo rc=$?").output.contains("rc=7"))
        await again.stop()
    }

    @Test(.enabled(if: internetAvailable, "needs internet access to pypi.org"))
    func anEnabledPolicyReachesTheInternet() async throws {
        try await withEgressSandbox(.enabled) { running, _ in
            let r = try await running.sandbox.sh(
                "curl -sS -m 30 \(Self.proxy) https://pypi.org/simple/ -o /dev/null -w '%{http_code}'", timeout: .seconds(60))
            #expect(r.output == "200", "\(r.output)")
        }
    }
}
