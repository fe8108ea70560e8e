import CMAJSON
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `exec` with `stdin_pipe` and `stderr`, and `write_stdin` (how MCP servers run over stdio).
@Suite struct StdinTests {
    /// Under the 1 MiB request line limit once base64-encoded.
    static let chunk = 512 * 1024

    @Test func catEchoesSeveralWritesThenEOF() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        let id = try agent.startExec(["/bin/cat"], stdinPipe: true)
        let parts: [[UInt8]] = [Array("hello ".utf8), Array("world\n".utf8), Array(0...255)]
        for part in parts {
            let reply = try agent.writeStdin(id, part)
            #expect(reply == ["ev": "ok", "id": reply["id"] ?? .null])
        }
        #expect(try agent.writeStdin(id, [], eof: true)["ev"] == "ok")
        let result = try agent.finishExec(id)
        #expect(result.exitCode == 0)
        #expect(result.output == parts.flatMap { $0 })

        // Data and eof in one request; `data` may be left out with `eof`.
        let once = try agent.startExec(["/bin/cat"], stdinPipe: true)
        #expect(try agent.writeStdin(once, Array("last".utf8), eof: true)["ev"] == "ok")
        #expect(try agent.finishExec(once).text == "last")
        let empty = try agent.startExec(["/bin/cat"], stdinPipe: true)
        #expect(try agent.request(["op": "write_stdin", "target": .int(empty), "eof": true])["ev"] == "ok")
        let emptyResult = try agent.finishExec(empty)
        #expect(emptyResult.exitCode == 0)
        #expect(emptyResult.output.isEmpty)
    }

    @Test func requestAndResponseOverStdin() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        // Each line is answered before the next is sent, as a stdio MCP server is driven.
        let id = try agent.startExec(["/bin/sed", "-u", "s/^/echo:/"], stdinPipe: true, stderr: "log")
        var expected = ""
        for n in 0..<3 {
            #expect(try agent.writeStdin(id, Array("msg\(n)\n".utf8))["ev"] == "ok")
            expected += "echo:msg\(n)\n"
            try agent.wait("the answer to line \(n)") { events in
                let bytes = events.filter { $0["id"] == .int(id) && $0["ev"] == "output" }.flatMap { decodeData($0) ?? [] }
                return String(decoding: bytes, as: UTF8.self) == expected
            }
        }
        #expect(try agent.writeStdin(id, [], eof: true)["ev"] == "ok")
        let result = try agent.finishExec(id)
        #expect(result.exitCode == 0)
        #expect(result.text == expected)
    }

    @Test func largeWriteToCatArrivesIntact() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        // Far more than a pipe holds: the agent must write as the pipe drains (POLLOUT) while
        // it keeps reading cat's output, or both sides would stall.
        let size = 3 * 1024 * 1024
        let data = (0..<size).map { _ in UInt8.random(in: 0...255) }
        let id = try agent.startExec(["/bin/cat"], stdinPipe: true)
        for start in stride(from: 0, to: size, by: StdinTests.chunk) {
            let reply = try agent.writeStdin(id, Array(data[start..<min(start + StdinTests.chunk, size)]))
            #expect(reply["ev"] == "ok")
        }
        // The agent answers other requests while stdin data is waiting.
        #expect(try agent.request(["op": "ping"])["ev"] == "pong")
        #expect(try agent.writeStdin(id, [], eof: true)["ev"] == "ok")
        let result = try agent.finishExec(id, timeout: 60)
        #expect(result.exitCode == 0)
        #expect(result.output.count == size)
        #expect(result.output == data)
        #expect(result.exit["output_bytes"]?.intValue == Int64(size))
    }

    @Test func stderrLogKeepsStderrOutOfTheOutput() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        let script = "echo out; echo err >&2; printf more; printf again >&2"
        let log = dirs.ws(".cma/logs/stderr.log")
        let logged = try agent.exec(["/bin/sh", "-c", script], logPath: log, stderr: "log")
        #expect(logged.exitCode == 0)
        #expect(logged.text == "out\nmore")
        #expect(logged.exit["output_bytes"] == 8)
        #expect(logged.exit["log_error"] == nil)
        // The log has stderr only.
        #expect(fileBytes(log) == Array("err\nagain".utf8))

        // Without log_path, stderr goes to /dev/null.
        let dropped = try agent.exec(["/bin/sh", "-c", "echo out; echo err >&2; readlink /proc/self/fd/2"], stderr: "log")
        #expect(dropped.text == "out\n/dev/null\n")

        // "merge" is the default behaviour, log included.
        let merged = try agent.exec(["/bin/sh", "-c", script], logPath: log, stderr: "merge")
        #expect(merged.text == "out\nerr\nmoreagain")
        #expect(fileBytes(log) == merged.output)

        for bad: JSONValue in ["bogus", "", 1, true] {
            let reply = try agent.request(["op": "exec", "argv": ["/bin/true"], "stderr": bad])
            #expect(reply["code"] == "bad_request")
        }
        let badPipe = try agent.request(["op": "exec", "argv": ["/bin/true"], "stdin_pipe": "yes"])
        #expect(badPipe["code"] == "bad_request")
    }

    @Test func writeStdinNeedsARunningExecWithAStdinPipe() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        let plain = try agent.startExec(["/bin/sleep", "30"])
        #expect(try agent.writeStdin(plain, Array("x".utf8))["code"] == "not_found")
        #expect(try agent.request(["op": "signal", "target": .int(plain), "signal": 9])["ev"] == "ok")
        _ = try agent.finishExec(plain)

        #expect(try agent.writeStdin(424242, Array("x".utf8))["code"] == "not_found")

        let finished = try agent.startExec(["/bin/true"], stdinPipe: true)
        _ = try agent.finishExec(finished)
        #expect(try agent.writeStdin(finished, Array("x".utf8))["code"] == "not_found")
        #expect(try agent.writeStdin(finished, [], eof: true)["code"] == "not_found")

        // Without stdin_pipe, stdin is still /dev/null.
        let devNull = try agent.exec(["/bin/readlink", "/proc/self/fd/0"])
        #expect(devNull.text == "/dev/null\n")
    }

    @Test func bufferedStdinIsCappedAt8MiB() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        // sleep never reads: after the pipe's own capacity, everything stays in the buffer.
        let id = try agent.startExec(["/bin/sleep", "60"], stdinPipe: true)
        let chunk = [UInt8](repeating: 0x61, count: StdinTests.chunk)
        var accepted = 0
        var reply: JSONValue = .null
        while accepted < 24 {
            reply = try agent.writeStdin(id, chunk)
            if reply["ev"] != "ok" { break }
            accepted += 1
        }
        #expect(reply["code"] == "too_large")
        // 16 chunks are exactly 8 MiB; the pipe itself holds a little more (64 KiB by default).
        #expect(accepted >= 16 && accepted <= 18)
        // The refused data was not appended: a small write still fits.
        #expect(try agent.writeStdin(id, Array("x".utf8))["ev"] == "ok")

        #expect(try agent.request(["op": "signal", "target": .int(id), "signal": 9])["ev"] == "ok")
        let result = try agent.finishExec(id)
        #expect(result.signal == 9)
        #expect(try agent.request(["op": "ping"])["ev"] == "pong")
    }

    @Test func malformedWriteStdinIsABadRequest() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        // The main process outlives cat, so the exec is still running after eof.
        let id = try agent.startExec(["/bin/sh", "-c", "cat; echo cat-done; sleep 1"], stdinPipe: true)
        for bad: JSONValue in ["not base64!", "QQ=", "QR==", "QUJD\n", 5] {
            let reply = try agent.request(["op": "write_stdin", "target": .int(id), "data": bad])
            #expect(reply["code"] == "bad_request")
        }
        #expect(try agent.request(["op": "write_stdin", "target": "1", "data": ""])["code"] == "bad_request")
        #expect(try agent.request(["op": "write_stdin", "data": ""])["code"] == "bad_request")
        #expect(try agent.request(["op": "write_stdin", "target": .int(id), "data": "", "eof": 1])["code"] == "bad_request")

        #expect(try agent.writeStdin(id, Array("data".utf8), eof: true)["ev"] == "ok")
        // More data after eof is refused; another empty eof is harmless.
        #expect(try agent.writeStdin(id, Array("late".utf8))["code"] == "bad_request")
        #expect(try agent.writeStdin(id, [], eof: true)["ev"] == "ok")
        let result = try agent.finishExec(id)
        #expect(result.exitCode == 0)
        #expect(result.text == "datacat-done\n")
    }

    @Test func commandsThatDoNotReadTheirStdin() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        // Data is still buffered when the command exits: the buffer is dropped with the pipe.
        let slow = try agent.startExec(["/bin/sh", "-c", "sleep 1; exit 3"], stdinPipe: true)
        let chunk = [UInt8](repeating: 0x62, count: StdinTests.chunk)
        #expect(try agent.writeStdin(slow, chunk)["ev"] == "ok")
        #expect(try agent.writeStdin(slow, chunk)["ev"] == "ok")
        #expect(try agent.finishExec(slow).exitCode == 3)

        // `true` may be gone before the data arrives: then the target is not found.
        let quick = try agent.startExec(["/bin/true"], stdinPipe: true)
        let reply = try agent.writeStdin(quick, chunk)
        #expect(reply["ev"] == "ok" || reply["code"] == "not_found")
        #expect(try agent.finishExec(quick).exitCode == 0)

        // A command that closes its stdin: the write fails with EPIPE, silently, and later
        // writes are accepted and dropped.
        let closer = try agent.startExec(["/bin/sh", "-c", "exec 0<&-; echo closed; sleep 30"], stdinPipe: true)
        try agent.wait("stdin closed") { $0.contains { $0["id"] == .int(closer) && $0["ev"] == "output" } }
        #expect(try agent.writeStdin(closer, chunk)["ev"] == "ok")
        #expect(try agent.writeStdin(closer, chunk)["ev"] == "ok")
        #expect(try agent.writeStdin(closer, [], eof: true)["ev"] == "ok")
        #expect(try agent.request(["op": "signal", "target": .int(closer), "signal": 9])["ev"] == "ok")
        let killed = try agent.finishExec(closer)
        #expect(killed.signal == 9)
        #expect(killed.text == "closed\n")

        // When the main process exits, the agent closes the stdin pipe: a process that escaped
        // the group (so is not killed with it) and still reads the stdin sees EOF.
        let marker = dirs.ws("escaped-eof")
        // (A background job's stdin is /dev/null in sh unless redirected, hence fd 3.)
        let escaped = try agent.startExec(["/bin/sh", "-c", "exec 3<&0; setsid sh -c 'cat >/dev/null; echo eof > \(marker)' <&3 3<&- >/dev/null 2>&1 & exec 3<&-; sleep 1"], stdinPipe: true)
        #expect(try agent.writeStdin(escaped, Array("x".utf8))["ev"] == "ok")
        usleep(300_000)
        #expect(fileBytes(marker) == nil)
        #expect(try agent.finishExec(escaped).exitCode == 0)
        let deadline = Date().addingTimeInterval(5)
        while fileBytes(marker) == nil && Date() < deadline { usleep(20_000) }
        #expect(fileBytes(marker) == Array("eof\n".utf8))
        #expect(try agent.request(["op": "ping"])["ev"] == "pong")
    }

    @Test func stdinPipeIsOnlyTheCommandsOwn() throws {
        let dirs = try TestDirs()
        defer { dirs.cleanup() }
        let agent = try AgentClient(workspace: dirs.workspace)
        defer { agent.close() }

        let cat = try agent.startExec(["/bin/cat"], stdinPipe: true)
        let isPipe = try agent.startExec(["/bin/sh", "-c", "readlink /proc/self/fd/0 | cut -c1-5"], stdinPipe: true)
        #expect(try agent.finishExec(isPipe).text == "pipe:\n")
        // Another command started meanwhile inherits neither end of cat's stdin pipe.
        let fds = try agent.sh("ls /proc/self/fd | sort -n | tr '\\n' ' '")
        #expect(fds.text == "0 1 2 3 ")
        #expect(try agent.writeStdin(cat, [], eof: true)["ev"] == "ok")
        #expect(try agent.finishExec(cat).exitCode == 0)
    }
}
