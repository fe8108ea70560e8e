import CMAJSON
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `exec`, `signal` and `kill_all`.
@Suite struct ExecTests {
    /// `--warm-up`: the log directory exists once the agent answers its first request, and
    /// commands then log into it as usual.
    @Test func warmUpPreparesTheLogDirectory() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace, arguments: ["--workspace", dirs.workspace, "--warm-up", dirs.workspace + "/.cma/logs"])
        defer { agent.close() }
        let stat = try agent.request(["op": "stat", "path": .string(dirs.workspace + "/.cma/logs")])
        #expect(stat["type"] == "dir")
        let id = try agent.startExec(["/bin/sh", "-c", "echo ok"], logPath: dirs.workspace + "/.cma/logs/a.log")
        let result = try agent.finishExec(id)
        #expect(result.text == "ok\n")
        #expect(try String(contentsOfFile: dirs.workspace + "/.cma/logs/a.log", encoding: .utf8) == "ok\n")
    }

    @Test func outputIsStreamedBeforeExit() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        let id = try agent.startExec(["/bin/sh", "-c", "printf first; sleep 0.3; printf second"])
        // The first chunk arrives while the command is still running.
        let early = try agent.wait("the first output") { $0.contains { $0["id"] == .int(id) && $0["ev"] == "output" } }
        #expect(!early.contains { $0["id"] == .int(id) && $0["ev"] == "exit" })
        let result = try agent.finishExec(id)
        #expect(result.outputEvents.count >= 2)
        #expect(result.text == "firstsecond")
        #expect(result.exitCode == 0)
        #expect(result.exit["signal"] == .null)
        #expect(result.exit["timed_out"] == false)
        #expect(result.exit["output_bytes"] == 11)
        let ms = result.exit["duration_ms"]?.intValue ?? 0
        let us = result.exit["duration_us"]?.intValue ?? 0
        #expect(ms >= 250)
        // The same time in microseconds (from the same two clock reads).
        #expect(us / 1000 == ms)
    }

    @Test func exitCodesAndSignals() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        let seven = try agent.sh("exit 7")
        #expect(seven.exitCode == 7)
        #expect(seven.exit["signal"] == .null)

        let term = try agent.sh("kill -TERM $$")
        #expect(term.exit["exit_code"] == .null)
        #expect(term.signal == 15)
        #expect(term.exit["timed_out"] == false)

        // SIGPIPE is at its default disposition in commands even though the agent ignores it.
        let pipe = try agent.sh("yes | head -c 10 >/dev/null; kill -0 $$ && echo done")
        #expect(pipe.text == "done\n")
        let sigpipe = try agent.exec(["/bin/bash", "-c", "trap - PIPE; (sleep 0.2; yes) | true; echo \"${PIPESTATUS[0]}\""])
        #expect(sigpipe.text == "141\n")
    }

    @Test func missingExecutableAndCwd() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        let missing = try agent.request(["op": "exec", "argv": ["/nonexistent/program"], "env": .object(AgentClient.defaultEnv)])
        #expect(missing["ev"] == "error")
        #expect(missing["code"] == "not_found")
        let notInPath = try agent.request(["op": "exec", "argv": ["no-such-command-xyz"], "env": .object(AgentClient.defaultEnv)])
        #expect(notInPath["code"] == "not_found")
        let badCwd = try agent.request(["op": "exec", "argv": ["/bin/true"], "cwd": .string(dirs.ws("nope"))])
        #expect(badCwd["code"] == "not_found")
        try Data().write(to: URL(fileURLWithPath: dirs.ws("file")))
        let fileCwd = try agent.request(["op": "exec", "argv": ["/bin/true"], "cwd": .string(dirs.ws("file"))])
        #expect(fileCwd["code"] == "not_a_directory")
        // argv[0] without a slash is looked up in the request's PATH.
        let found = try agent.exec(["echo", "hi"])
        #expect(found.text == "hi\n")
    }

    @Test func environmentIsExactlyTheGivenOne() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        let result = try agent.exec(["/usr/bin/env"], env: ["FOO": "bar baz", "EMPTY": "", "UNICODE": "é✓"])
        let lines = Set(result.text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init))
        #expect(lines == ["FOO=bar baz", "EMPTY=", "UNICODE=é✓"])

        let none = try agent.exec(["/usr/bin/env"], env: [:])
        #expect(none.output.isEmpty)
        #expect(none.exitCode == 0)
    }

    @Test func cwdAndStdin() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        try FileManager.default.createDirectory(atPath: dirs.ws("sub dir"), withIntermediateDirectories: false)
        let pwd = try agent.exec(["/bin/pwd"], cwd: dirs.ws("sub dir"))
        #expect(pwd.text == dirs.ws("sub dir") + "\n")
        // Without cwd: the workspace root.
        let root = try agent.exec(["/bin/pwd"])
        #expect(root.text == dirs.workspace + "\n")

        // stdin is /dev/null: cat ends at once.
        let cat = try agent.exec(["/bin/cat"], timeoutMs: 5000)
        #expect(cat.exitCode == 0)
        #expect(cat.output.isEmpty)
        #expect(cat.exit["timed_out"] == false)
        let link = try agent.exec(["/bin/readlink", "/proc/self/fd/0"])
        #expect(link.text == "/dev/null\n")

        // stdout and stderr are the same pipe, and no other descriptor leaks in.
        let fds = try agent.sh("echo out; echo err >&2; ls /proc/self/fd | sort -n | tr '\\n' ' '")
        #expect(fds.text == "out\nerr\n0 1 2 3 ")  // 3 is ls's own directory descriptor
    }

    @Test func largeBinaryOutputArrivesCompleteAndInOrder() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        let size = 5_000_000
        let log = dirs.ws(".cma/logs/big.log")
        let result = try agent.exec(["/bin/sh", "-c", "head -c \(size) /dev/urandom | tee \(dirs.ws("expected.bin"))"], logPath: log, timeout: 60)
        let expected = try #require(fileBytes(dirs.ws("expected.bin")))
        #expect(expected.count == size)
        #expect(result.output.count == size)
        #expect(result.output == expected)
        #expect(result.exit["output_bytes"]?.intValue == Int64(size))
        #expect(result.exitCode == 0)
        #expect(result.exit["log_error"] == nil)
        #expect(fileBytes(log) == expected)
        for event in result.outputEvents {
            let chunk = decodeData(event) ?? []
            #expect(chunk.count > 0 && chunk.count <= 65536)
        }

        // Text: deterministic and in order.
        let seq = try agent.exec(["/usr/bin/seq", "1", "300000"], timeout: 60)
        let expectedText = (1...300_000).map(String.init).joined(separator: "\n") + "\n"
        #expect(seq.text == expectedText)
    }

    @Test func nonUTF8OutputIsPreserved() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        let result = try agent.exec(["/usr/bin/printf", "\\377\\376\\000\\001\\200A\\n"])
        #expect(result.output == [0xFF, 0xFE, 0x00, 0x01, 0x80, 0x41, 0x0A])
    }

    @Test func logPathGetsExactlyTheOutput() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        let log = dirs.ws(".cma/logs/deep/call_1.log")
        let result = try agent.sh("echo one; echo two >&2; printf three", logPath: log)
        #expect(result.text == "one\ntwo\nthree")
        #expect(fileBytes(log) == result.output)

        // An existing log is truncated.
        try Data(repeating: 0x41, count: 10_000).write(to: URL(fileURLWithPath: log))
        let again = try agent.sh("printf short", logPath: log)
        #expect(again.text == "short")
        #expect(fileBytes(log) == Array("short".utf8))

        // A directory or a FIFO at the log path is refused (and the FIFO does not hang the agent).
        let dirLog = try agent.request(["op": "exec", "argv": ["/bin/true"], "log_path": .string(dirs.ws(".cma/logs"))])
        #expect(dirLog["code"] == "is_a_directory")
        #expect(mkfifo(dirs.ws("fifo.log"), 0o644) == 0)
        let fifoLog = try agent.request(["op": "exec", "argv": ["/bin/true"], "log_path": .string(dirs.ws("fifo.log"))], timeout: 5)
        #expect(fifoLog["code"] == "io")
    }

    @Test func timeoutKillsTheCommandPromptly() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        let result = try agent.exec(["/bin/sleep", "100"], timeoutMs: 300)
        #expect(result.exit["timed_out"] == true)
        #expect(result.exit["exit_code"] == .null)
        #expect(result.signal == 9)
        #expect(result.elapsed < 5)
        #expect((result.exit["duration_ms"]?.intValue ?? 0) >= 290)

        // A command that finishes in time is not marked.
        let quick = try agent.exec(["/bin/true"], timeoutMs: 10_000)
        #expect(quick.exit["timed_out"] == false)
        #expect(quick.exitCode == 0)
    }

    @Test func backgroundChildrenDieWithTheMainProcess() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        // The background sleep keeps the pipe open; it is killed with the group, so the exit
        // event still comes promptly.
        let result = try agent.sh("sleep 1000 & echo $!; echo started")
        let lines = result.text.split(separator: "\n")
        #expect(lines.last == "started")
        let pid = try #require(lines.first.flatMap { Int32($0) })
        #expect(result.exitCode == 0)
        #expect(result.elapsed < 5)
        #expect(waitUntilDead(pid))
    }

    @Test func escapedProcessHoldsThePipeForTheGraceThenKillAll() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        // setsid leaves the group; it keeps the output pipe open, so the exit comes ~250 ms
        // after the main process ends, and later output is dropped.
        let result = try agent.sh("setsid sh -c 'trap \"\" PIPE; echo $$ > \(dirs.ws("escaped.pid")); sleep 0.6; echo late; exec sleep 1000' & sleep 0.3; echo main-done")
        #expect(result.exitCode == 0)
        #expect(result.text == "main-done\n")
        let duration = Double(result.exit["duration_ms"]?.intValue ?? 0) / 1000
        #expect(result.elapsed >= duration + 0.2)
        #expect(result.elapsed < duration + 3)
        let pidText = String(decoding: fileBytes(dirs.ws("escaped.pid")) ?? [], as: UTF8.self)
        let pid = try #require(Int32(pidText.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(processAlive(pid))

        // "late" must not show up anywhere, even after the escaped process printed it.
        usleep(800_000)
        #expect(processAlive(pid))
        #expect(!agent.allEvents.contains { $0["ev"] == "output" && $0["id"] == result.exit["id"] && decodeData($0) == Array("late\n".utf8) })

        let reply = try agent.request(["op": "kill_all"])
        #expect(reply["ev"] == "ok")
        #expect(waitUntilDead(pid))
        // The agent itself survives kill_all.
        #expect(try agent.request(["op": "ping"])["ev"] == "pong")
    }

    @Test func killAllEndsRunningExecsWithExitEvents() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        let a = try agent.startExec(["/bin/sleep", "1000"])
        let b = try agent.startExec(["/bin/sh", "-c", "sleep 1000 & sleep 1000"])
        usleep(200_000)
        let started = Date()
        #expect(try agent.request(["op": "kill_all"])["ev"] == "ok")
        let ra = try agent.finishExec(a, timeout: 10)
        let rb = try agent.finishExec(b, timeout: 10)
        #expect(ra.signal == 9)
        #expect(rb.signal == 9)
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test func signalReachesTheProcessGroup() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        let id = try agent.startExec(["/bin/sh", "-c", "sleep 1000 & echo $!; wait"])
        let events = try agent.wait("the child pid") { $0.contains { $0["id"] == .int(id) && $0["ev"] == "output" } }
        let text = String(decoding: events.first { $0["id"] == .int(id) && $0["ev"] == "output" }.flatMap(decodeData) ?? [], as: UTF8.self)
        let child = try #require(Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)))

        let reply = try agent.request(["op": "signal", "target": .int(id), "signal": 15])
        #expect(reply["ev"] == "ok")
        let result = try agent.finishExec(id, timeout: 10)
        #expect(result.signal == 15)
        #expect(waitUntilDead(child))

        // Unknown or finished targets still get ok.
        #expect(try agent.request(["op": "signal", "target": .int(id), "signal": 9])["ev"] == "ok")
        #expect(try agent.request(["op": "signal", "target": 424242, "signal": 9])["ev"] == "ok")
    }

    @Test func concurrentExecsKeepTheirOutputsApart() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        let script = { (tag: String) in "for i in $(seq 1 300); do echo \(tag)$i; [ $((i % 50)) -eq 0 ] && sleep 0.05; done; true" }
        let a = try agent.startExec(["/bin/sh", "-c", script("A")])
        let b = try agent.startExec(["/bin/sh", "-c", script("B")])
        let ra = try agent.finishExec(a)
        let rb = try agent.finishExec(b)
        #expect(ra.text == (1...300).map { "A\($0)\n" }.joined())
        #expect(rb.text == (1...300).map { "B\($0)\n" }.joined())
        // They did run at the same time: their events interleave.
        let order = agent.allEvents.filter { $0["ev"] == "output" }.compactMap { $0["id"]?.intValue }.filter { $0 == a || $0 == b }
        let firstB = order.firstIndex(of: b) ?? Int.max
        let lastA = order.lastIndex(of: a) ?? -1
        #expect(firstB < lastA)

        // A duplicate id of a running exec is refused.
        let running = try agent.startExec(["/bin/sleep", "5"])
        try agent.send(["op": "exec", "id": .int(running), "argv": ["/bin/true"]])
        let dup = try agent.wait("the duplicate error") { $0.contains { $0["id"] == .int(running) && $0["ev"] == "error" } }
        #expect(dup.contains { $0["id"] == .int(running) && $0["code"] == "bad_request" })
        #expect(try agent.request(["op": "signal", "target": .int(running), "signal": 9])["ev"] == "ok")
        let killed = try agent.wait("the killed exec") { $0.contains { $0["id"] == .int(running) && $0["ev"] == "exit" } }
        #expect(killed.contains { $0["id"] == .int(running) && $0["signal"] == 9 })
    }
}
