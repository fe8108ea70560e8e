import Foundation
import LoopDevice
import Sandbox
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Bubblewrap sandbox", .enabled(if: hostConfigurationAvailable, "needs /usr/bin/bwrap and the built cma-sandbox and cma-launch"))
struct SandboxTests {
    @Test func commandsRunAndStreamInAWarmSandbox() async throws {
        try await withSandbox { (sandbox: BubblewrapSandbox, _: SandboxFixture) async throws in
            let hello = try await sandbox.sh("echo hello; echo oops >&2; exit 3")
            #expect(hello.output == "hello\noops\n")
            #expect(hello.code == 3)

            // Output arrives while the command still runs.
            var chunks: [String] = []
            var sawExit = false
            for try await event in sandbox.exec(["/bin/sh", "-c", "echo one; sleep 0.3; echo two"], env: BubblewrapSandbox.testEnvironment, timeout: .seconds(10)).events {
                switch event {
                case .output(let bytes): chunks.append(String(decoding: bytes, as: UTF8.self))
                case .exit(let result):
                    sawExit = true
                    #expect(result.exitCode == 0)
                }
            }
            #expect(sawExit)
            #expect(chunks.count >= 2)
            #expect(chunks.joined() == "one\ntwo\n")

            // Many commands, no sandbox start each time.
            for i in 0..<20 {
                #expect(try await sandbox.sh("echo \(i)").output == "\(i)\n")
            }
        }
    }

    @Test func theSandboxSeesOnlyWhatItShould() async throws {
        try await withSandbox { (sandbox: BubblewrapSandbox, fixture: SandboxFixture) async throws in
            let identity = try await sandbox.sh("id -u; id -g; hostname; pwd")
            #expect(identity.output == "1000\n1000\nsandbox\n/workspace\n")
            // The server's data (and the fixture root holding it) is not there, nor home directories,
            // nor host secrets.
            for path in [fixture.root, "/root", "/home/agent/..", "/etc/shadow", "/opt", "/var/lib", "/work", "/proc/1/root/etc/shadow"] {
                let r = try await sandbox.sh("cat \(path)/* \(path) 2>/dev/null | head -c 100; ls \(path) 2>/dev/null | head -5")
                #expect(!r.output.contains("root:"), "\(path) leaked: \(r.output)")
            }
            #expect(try await sandbox.sh("test -e \(fixture.root) && echo visible || echo hidden").output == "hidden\n")
            #expect(try await sandbox.sh("ls /home").output.trimmingCharacters(in: .whitespacesAndNewlines) == "agent")
            // Own PID namespace: only the sandbox's processes are visible.
            let processes = try await sandbox.sh("ls /proc | grep -c '^[0-9]'")
            #expect(Int(processes.output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 99 < 10)
            // No capabilities, no_new_privs, no new user namespaces.
            let status = try await sandbox.sh("grep -E '^(CapEff|CapPrm|NoNewPrivs)' /proc/self/status")
            #expect(status.output.contains("CapEff:\t0000000000000000"))
            #expect(status.output.contains("NoNewPrivs:\t1"))
            #expect(try await sandbox.sh("unshare -U true 2>/dev/null").code != 0)
            #expect(try await sandbox.sh("unshare -m true 2>/dev/null").code != 0)
            // The generated /etc files are there, readable and read-only.
            #expect(try await sandbox.sh("grep -c '^agent:x:1000:1000:' /etc/passwd; cat /etc/hostname; stat -c %a /etc/passwd /etc/group /etc/hosts").output == "1\nsandbox\n644\n644\n644\n")
            for change in ["echo x >> /etc/passwd", "rm -f /etc/hosts", "chmod 666 /etc/group", "mv /etc/profile /etc/profile.old", "touch /etc/new"] {
                #expect(try await sandbox.sh(change + " 2>/dev/null").code != 0, "\(change) succeeded")
            }
            #expect(try await sandbox.sh("grep -c '^agent:' /etc/passwd; test -e /etc/hosts && echo hosts").output == "1\nhosts\n")
            // The host's readable /etc files are copies (no mount each), read-only like the rest.
            for entry in ["nsswitch.conf", "ld.so.cache", "bash.bashrc"] where FileManager.default.isReadableFile(atPath: "/etc/" + entry) {
                let host = try Data(contentsOf: URL(fileURLWithPath: "/etc/" + entry))
                let copy = try await sandbox.sh("base64 -w0 /etc/\(entry)").output
                #expect(Data(base64Encoded: copy) == host, "/etc/\(entry) differs")
                #expect(try await sandbox.sh("grep -c ' /etc/\(entry) ' /proc/self/mountinfo").output == "0\n", "/etc/\(entry) is a mount")
                #expect(try await sandbox.sh("echo x >> /etc/\(entry) 2>/dev/null").code != 0, "/etc/\(entry) is writable")
            }
            // Host links into /usr are the same links, and lead to the same files.
            for entry in ["localtime", "os-release"] {
                guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/etc/" + entry) else { continue }
                #expect(try await sandbox.sh("readlink /etc/\(entry)").output == target + "\n")
                let host = try Data(contentsOf: URL(fileURLWithPath: "/etc/" + entry))
                #expect(Data(base64Encoded: try await sandbox.sh("base64 -w0 /etc/\(entry)").output) == host)
            }
        }
    }

    @Test func commandsCannotKillTheAgent() async throws {
        try await withSandbox { (sandbox: BubblewrapSandbox, _: SandboxFixture) async throws in
            _ = try await sandbox.sh("kill -9 1; kill -9 -1; true")
            #expect(try await sandbox.sh("echo still here").output == "still here\n")
            #expect(sandbox.isRunning)
        }
    }

    @Test func writesStayInsideTheWorkspace() async throws {
        try await withSandbox { (sandbox: BubblewrapSandbox, fixture: SandboxFixture) async throws in
            for path in ["/usr/bin/evil", "/etc/evil", "/evil", "/opt/evil"] {
                #expect(try await sandbox.sh("echo x > \(path)").code != 0, "\(path) was writable")
            }
            #expect(try await sandbox.sh("echo data > /workspace/kept.txt && cat /workspace/kept.txt").output == "data\n")
            #expect(try await sandbox.sh("echo t > /tmp/t && cat /tmp/t").output == "t\n")
            if fixture.host.usesWorkspaceImages {
                // The workspace is an image the host never mounts; the file is inside it.
                #expect(FileManager.default.fileExists(atPath: fixture.host.workspaceImagePath(for: "sess_test")))
                #expect(!FileManager.default.fileExists(atPath: fixture.host.workspacePath(for: "sess_test") + "/kept.txt"))
                #expect(try await sandbox.sh("stat -c %u /workspace/kept.txt").output == "1000\n")
            } else {
                let hostFile = fixture.host.workspacePath(for: "sess_test") + "/kept.txt"
                #expect(try String(contentsOfFile: hostFile, encoding: .utf8) == "data\n")
                if runningAsRoot {
                    var st = stat()
                    #expect(lstat(hostFile, &st) == 0)
                    #expect(st.st_uid >= 2_000_000)
                    #expect(st.st_uid != geteuid())
                }
            }
        }
    }

    @Test func noNetworkAtAll() async throws {
        try await withSandbox { (sandbox: BubblewrapSandbox, _: SandboxFixture) async throws in
            let interfaces = try await sandbox.sh("cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '")
            #expect(interfaces.output == "lo\n")
            // Not even the host's loopback services: this namespace's loopback is its own (and down).
            let probe = try await sandbox.sh("bash -c '(exec 3<>/dev/tcp/127.0.0.1/22) 2>&1; echo rc=$?'", timeout: .seconds(10))
            #expect(probe.output.contains("rc=1"), "\(probe.output)")
            let python = try await sandbox.sh(
                "python3 -c 'import socket; s=socket.socket(); s.settimeout(2); s.connect((\"1.1.1.1\", 53))' 2>&1 | tail -1", timeout: .seconds(10))
            #expect(python.output.contains("unreachable") || python.output.contains("Errno"), "\(python.output)")
        }
    }

    @Test func theWorkspacePersistsAcrossSandboxRestarts() async throws {
        let fixture = try SandboxFixture()
        defer { fixture.cleanUp() }
        let first = try await fixture.host.start(key: "sess_p", slot: 7, limits: .forSize(.small))
        _ = try await first.sandbox.sh("mkdir -p src && echo 'print(1)' > src/main.py && echo temp > /tmp/gone")
        await first.stop()
        #expect(!first.sandbox.isRunning)
        let second = try await fixture.host.start(key: "sess_p", slot: 7, limits: .forSize(.small))
        #expect(try await second.sandbox.sh("cat src/main.py").output == "print(1)\n")
        #expect(try await second.sandbox.sh("cat /tmp/gone 2>/dev/null || echo missing").output == "missing\n")
        await second.stop()
    }

    @Test func sessionsCannotSeeEachOther() async throws {
        let fixture = try SandboxFixture()
        defer { fixture.cleanUp() }
        let a = try await fixture.host.start(key: "sess_a", slot: 11, limits: .forSize(.small))
        let b = try await fixture.host.start(key: "sess_b", slot: 12, limits: .forSize(.small))
        _ = try await a.sandbox.sh("echo secret-a > /workspace/secret.txt; sleep 30 & echo started")
        let fromB = try await b.sandbox.sh("cat /workspace/secret.txt 2>&1; ls /proc | grep -c '^[0-9]'; find / -name secret.txt 2>/dev/null")
        #expect(!fromB.output.contains("secret-a"))
        await a.stop()
        await b.stop()
    }

    @Test func timeoutsAndKillsTakeTheWholeProcessGroup() async throws {
        try await withSandbox { (sandbox: BubblewrapSandbox, _: SandboxFixture) async throws in
            let slow = try await sandbox.sh("sleep 100 & sleep 100", timeout: .milliseconds(300))
            #expect(slow.result.timedOut)
            let leftovers = try await sandbox.sh("pgrep -c sleep || true")
            #expect(leftovers.output.trimmingCharacters(in: .whitespacesAndNewlines) == "0")

            // A running command can be killed.
            let command = sandbox.exec(["/bin/sh", "-c", "echo go; sleep 100"], env: BubblewrapSandbox.testEnvironment, timeout: nil)
            var result: ExecResult?
            for try await event in command.events {
                if case .output = event { try await command.signal() }
                if case .exit(let r) = event { result = r }
            }
            #expect(result?.signal == 9)
        }
    }

    @Test(.enabled(if: runningAsRoot, "per-sandbox limits need root (own uid and cgroups)"))
    func aForkBombIsContained() async throws {
        try await withSandbox(limits: .forSize(.small)) { (sandbox: BubblewrapSandbox, _: SandboxFixture) async throws in
            let bomb = try await sandbox.sh("bomb() { bomb | bomb & }; bomb; sleep 2; echo survived", timeout: .seconds(20))
            _ = bomb
            try await sandbox.killAll()
            // The sandbox still answers, and so does the host.
            #expect(try await sandbox.sh("echo alive").output == "alive\n")
            #expect(try await sandbox.sh("ls /proc | grep -c '^[0-9]'").code == 0)
        }
    }

    @Test(.enabled(if: runningAsRoot, "per-sandbox memory limits need cgroups (root)"))
    func aMemoryBombIsContained() async throws {
        var limits = SandboxLimits.forSize(.small)
        limits.memoryBytes = 256 << 20
        try await withSandbox(limits: limits) { (sandbox: BubblewrapSandbox, _: SandboxFixture) async throws in
            // Allocate far more than the limit.
            // Touch every page (b"x" * n writes them all), so the memory is really used.
            let bomb = try await sandbox.sh("python3 -c 'x = b\"x\" * (2 << 30); print(len(x))' 2>&1; echo rc=$?", timeout: .seconds(60))
            #expect(!bomb.output.contains("2147483648"), "\(bomb.output)")
            // Killed by the kernel's OOM killer (SIGKILL: 137) or refused (MemoryError: 1).
            #expect(bomb.output.contains("rc=137") || bomb.output.contains("MemoryError"), "\(bomb.output)")
            #expect(try await sandbox.sh("echo alive").output == "alive\n")
        }
    }
}

@Suite("Workspace quota", .enabled(if: hostConfigurationAvailable && runningAsRoot, "needs root for workspace images"))
struct WorkspaceQuotaTests {
    @Test func aDiskFillStopsAtTheWorkspaceQuota() async throws {
        var limits = SandboxLimits.forSize(.small)
        limits.diskBytes = 64 << 20
        let fixture = try SandboxFixture()
        defer { fixture.cleanUp() }
        guard fixture.host.usesWorkspaceImages else { return }
        let running = try await fixture.host.start(key: "sess_fill", slot: 9001, limits: limits)
        let fill = try await running.sandbox.sh("dd if=/dev/zero of=/workspace/big bs=1M count=500 2>&1 | tail -1; df -k /workspace | tail -1", timeout: .seconds(60))
        #expect(fill.output.contains("No space left") || !fill.output.contains("524288000"), "\(fill.output)")
        // The sandbox still works, and the host only ever holds the image's bounded size.
        #expect(try await running.sandbox.sh("rm /workspace/big; echo ok > /workspace/after && cat /workspace/after").output == "ok\n")
        var st = stat()
        #expect(stat(fixture.host.workspaceImagePath(for: "sess_fill"), &st) == 0)
        #expect(Int64(st.st_blocks) * 512 <= 64 << 20)
        // The workspace survives a restart of the sandbox.
        await running.stop()
        let again = try await fixture.host.start(key: "sess_fill", slot: 9001, limits: limits)
        #expect(try await again.sandbox.sh("cat /workspace/after").output == "ok\n")
        await again.stop()
    }

    @Test func aSpareImageComesWithItsLoopDeviceAttached() async throws {
        var limits = SandboxLimits.forSize(.small)
        limits.diskBytes = 64 << 20
        let fixture = try SandboxFixture()
        defer { fixture.cleanUp() }
        guard fixture.host.usesWorkspaceImages else { return }
        // The first start formats its own image and has spares made (and attached) behind it.
        let first = try await fixture.host.start(key: "sess_a", slot: 9002, limits: limits)
        let deadline = ContinuousClock.now + .seconds(60)
        // Both spares made and attached (so the next start cannot race the refill).
        while fixture.host.attachedSpareDevices.count < 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        let waiting = fixture.host.attachedSpareDevices
        #expect(waiting.count == 2)
        // The next start takes a spare with its device: the workspace is mounted from it.
        let second = try await fixture.host.start(key: "sess_b", slot: 9003, limits: limits)
        let image = fixture.host.workspaceImagePath(for: "sess_b")
        let backing = ((try? FileManager.default.contentsOfDirectory(atPath: "/sys/block")) ?? []).filter { name in
            guard name.hasPrefix("loop"), let file = try? String(contentsOfFile: "/sys/block/\(name)/loop/backing_file", encoding: .utf8) else { return false }
            return file.trimmingCharacters(in: .whitespacesAndNewlines) == image
        }
        #expect(backing.count == 1)
        #expect(backing.allSatisfy { waiting.contains("/dev/" + $0) }, "\(backing) not among \(waiting)")
        #expect(try await second.sandbox.sh("echo b > /workspace/f && cat /workspace/f").output == "b\n")
        await second.stop()
        // Restarted (the device was detached with the unmount; a new one is attached), the data is there.
        let again = try await fixture.host.start(key: "sess_b", slot: 9003, limits: limits)
        #expect(try await again.sandbox.sh("cat /workspace/f").output == "b\n")
        await again.stop()
        await first.stop()
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/dev/loop-control"), "needs loop devices"))
    func aLoopDeviceIsUsedOnlyForTheImageBehindIt() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("loop-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func image(_ name: String) -> Int32 {
            let fd = open(directory + "/" + name, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            _ = ftruncate(fd, 1 << 20)
            return fd
        }
        let a = image("a.img")
        let b = image("b.img")
        defer { close(a); close(b) }
        let device = try LoopDevice.attach(imageFD: a)
        defer { close(device.fd) }
        let same = LoopDevice.open(device.path, backing: a)
        #expect(same != nil)
        if let same { close(same) }
        // Another image, a path that is not a loop device, or a crafted path: refused.
        #expect(LoopDevice.open(device.path, backing: b) == nil)
        #expect(LoopDevice.open("/dev/null", backing: a) == nil)
        #expect(LoopDevice.open(device.path + "/..", backing: a) == nil)
        #expect(LoopDevice.open("/dev/loop", backing: a) == nil)
    }
}
