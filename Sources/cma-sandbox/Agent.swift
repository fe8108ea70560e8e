#if canImport(Glibc)
import Glibc
#endif
import CMAJSON

/// The agent: a single-threaded `poll(2)` loop over stdin (requests), the output pipes of
/// running commands, the stdin pipes of commands with `write_stdin` data waiting, and a
/// signalfd for SIGCHLD. See docs/SANDBOX_PROTOCOL.md.
final class Agent {
    static let maxLine = 1 << 20
    static let chunkSize = 64 * 1024
    /// How long after the main process exits the agent waits for the pipe to close.
    static let graceNanos: UInt64 = 250_000_000

    let workspace: Workspace
    let extras: LinuxExtras
    /// -1 when signalfd is unavailable: then children are reaped on a short poll timeout.
    let signalFD: Int32
    /// The egress relay (`--egress-relay`), served by the same loop.
    let relay: EgressRelay?
    /// `--warm-up`: the commands' log directory, created right after `ready`.
    let warmUpLogDirectory: String?

    private var jobs: [Job] = []
    /// Execs sent with `"hold": true`: checked, log file open, waiting for `start` (or
    /// `discard`). Nothing has run yet.
    private var held: [Int64: HeldExec] = [:]
    private var stdinOpen = true
    private var lineBuffer: [UInt8] = []
    private var discardingLine = false
    private var stdoutBroken = false
    private var readBuffer = [UInt8](repeating: 0, count: Agent.chunkSize)

    init(workspace: Workspace, extras: LinuxExtras, signalFD: Int32, relay: EgressRelay? = nil, warmUpLogDirectory: String? = nil) {
        self.workspace = workspace
        self.extras = extras
        self.signalFD = signalFD
        self.relay = relay
        self.warmUpLogDirectory = warmUpLogDirectory
    }

    // MARK: Output

    private func send(_ value: JSONValue) {
        var bytes = JSONWriter.bytes(value)
        bytes.append(UInt8(ascii: "\n"))
        write(bytes)
    }

    private func write(_ bytes: [UInt8]) {
        guard !stdoutBroken else { return }
        if Sys.writeAll(1, bytes) != 0 { stdoutBroken = true }
    }

    private func sendError(_ id: Int64?, _ failure: Failure) {
        send(.object(["ev": "error", "id": id.map { .int($0) } ?? .null, "code": .string(failure.code), "message": .string(failure.message)]))
    }

    private func sendOK(_ id: Int64, _ extra: [(String, JSONValue)] = []) {
        var o: JSONObject = ["ev": "ok", "id": .int(id)]
        for (k, v) in extra { o[k] = v }
        send(.object(o))
    }

    // MARK: Loop

    /// Right after `ready`, while the runtime is still busy starting the session (a real model
    /// takes far longer to answer): creates the commands' log directory, so the first command
    /// of a fresh sandbox does not pay for the first allocations of its new file system
    /// (~0.5 ms here). (The host runs one `exec` through the new sandbox for the rest.) A
    /// failure is ignored: the first command's log creates the directory itself.
    private func warmUp(logDirectory: String) {
        if let components = try? workspace.resolve(logDirectory + "/log"),
            let parent = try? workspace.openParent(components, create: true, path: logDirectory)
        {
            Sys.closeFD(parent.fd)
        }
    }

    func run() -> Never {
        var ready: JSONObject = ["ev": "ready", "version": 1, "pid": .int(Int64(getpid()))]
        if let relay { ready["egress_port"] = .int(Int64(relay.port)) }
        send(.object(ready))
        if let warmUpLogDirectory { warmUp(logDirectory: warmUpLogDirectory) }
        while true {
            if stdoutBroken {
                Sys.diagnostic("stdout is closed; exiting")
                shutdown(1)
            }
            var fds: [pollfd] = []
            var polledJobs: [Job] = []
            if stdinOpen { fds.append(pollfd(fd: 0, events: Int16(POLLIN), revents: 0)) }
            if signalFD >= 0 { fds.append(pollfd(fd: signalFD, events: Int16(POLLIN), revents: 0)) }
            for job in jobs where job.pipeFD >= 0 {
                fds.append(pollfd(fd: job.pipeFD, events: Int16(POLLIN), revents: 0))
                polledJobs.append(job)
            }
            var writingJobs: [Job] = []
            for job in jobs where job.wantsStdinWrite {
                fds.append(pollfd(fd: job.stdinFD, events: Int16(POLLOUT), revents: 0))
                writingJobs.append(job)
            }
            let relayStart = fds.count
            relay?.appendPollFDs(&fds)
            let n = poll(&fds, nfds_t(fds.count), pollTimeout())
            if n < 0 {
                if errno != EINTR {
                    Sys.diagnostic("poll: \(Sys.describe(errno))")
                    usleep(10_000)
                }
                continue
            }
            var index = 0
            var stdinReady = false
            if stdinOpen {
                stdinReady = fds[0].revents != 0
                index += 1
            }
            if signalFD >= 0 {
                if fds[index].revents != 0 { drainSignalFD() }
                index += 1
            }
            reap()
            for job in polledJobs {
                if fds[index].revents != 0 { readOutput(job) }
                index += 1
            }
            // POLLERR here means the command closed its stdin: the write then fails with EPIPE.
            // (`reap` may have closed the pipe already; flushing a closed one does nothing.)
            for job in writingJobs {
                if fds[index].revents != 0 { job.flushStdin() }
                index += 1
            }
            relay?.handle(fds[relayStart...])
            if stdinReady { readInput() }
            checkTimers()
            finishJobs()
        }
    }

    private func pollTimeout() -> Int32 {
        let now = Sys.now()
        var earliest: UInt64?
        func consider(_ t: UInt64) { earliest = min(earliest ?? t, t) }
        for job in jobs {
            if job.status == nil {
                if let d = job.deadline, !job.timedOut { consider(d) }
            } else if job.pipeFD >= 0 {
                consider(job.exitedAt &+ Agent.graceNanos)
            }
        }
        if signalFD < 0 && !jobs.isEmpty { consider(now &+ 50_000_000) }
        guard let earliest else { return -1 }
        if earliest <= now { return 0 }
        let ms = (earliest - now) / 1_000_000 + 1
        return Int32(min(ms, 3_600_000))
    }

    private func drainSignalFD() {
        var buffer = [UInt8](repeating: 0, count: 128 * 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(signalFD, $0.baseAddress, $0.count) }
            if n > 0 { continue }
            if n < 0 && errno == EINTR { continue }
            break
        }
    }

    /// Reaps every exited child, including orphans reparented to the agent. When a command's
    /// main process has exited, its process group is SIGKILLed while the zombie still pins the
    /// group id (so the id cannot have been reused), then it is reaped.
    private func reap() {
        for job in jobs where job.status == nil {
            var info = siginfo_t()
            guard waitid(P_PID, id_t(job.pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0,
                  info._sifields._sigchld.si_pid == job.pid else { continue }
            _ = killpg(job.pid, SIGKILL)
            var status: Int32 = 0
            var w: pid_t
            repeat { w = waitpid(job.pid, &status, WNOHANG) } while w < 0 && errno == EINTR
            if w == job.pid { recordExit(job, status) }
        }
        while true {
            var status: Int32 = 0
            let w = waitpid(-1, &status, WNOHANG)
            if w > 0 {
                if let job = jobs.first(where: { $0.pid == w && $0.status == nil }) {
                    _ = killpg(w, SIGKILL)
                    recordExit(job, status)
                }
                continue
            }
            if w < 0 && errno == EINTR { continue }
            break
        }
    }

    private func recordExit(_ job: Job, _ status: Int32) {
        job.status = status
        job.exitedAt = Sys.now()
        job.closeStdin()
    }

    private func readOutput(_ job: Job) {
        let n = readBuffer.withUnsafeMutableBytes { read(job.pipeFD, $0.baseAddress, $0.count) }
        if n > 0 {
            deliver(job, count: n)
        } else if n == 0 {
            job.closePipe()
        } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
            job.closePipe()
        }
    }

    /// Sends the first `count` bytes of `readBuffer` as an `output` event and to the log.
    private func deliver(_ job: Job, count: Int) {
        var frame: [UInt8] = []
        frame.reserveCapacity(64 + Base64.encodedCount(count))
        frame.append(contentsOf: "{\"ev\":\"output\",\"id\":".utf8)
        frame.append(contentsOf: String(job.id).utf8)
        frame.append(contentsOf: ",\"data\":\"".utf8)
        readBuffer.withUnsafeBytes { Base64.encode(UnsafeRawBufferPointer(rebasing: $0[0..<count]), into: &frame) }
        frame.append(contentsOf: "\"}\n".utf8)
        write(frame)
        job.outputBytes &+= Int64(count)
        if job.logFD >= 0 {
            let e = readBuffer.withUnsafeBytes { Sys.writeAll(job.logFD, UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            if e != 0 {
                job.logError = "cannot write \(job.logPath ?? "the log"): \(Sys.describe(e))"
                job.closeLog()
            }
        }
    }

    private func checkTimers() {
        let now = Sys.now()
        for job in jobs {
            if job.status == nil {
                if let d = job.deadline, !job.timedOut, now >= d {
                    _ = killpg(job.pid, SIGKILL)
                    job.timedOut = true
                }
            } else if job.pipeFD >= 0, now >= job.exitedAt &+ Agent.graceNanos {
                // Background processes outside the group still hold the pipe: take what is
                // already buffered (bounded), drop the rest.
                var taken = 0
                while taken < Agent.maxLine {
                    let n = readBuffer.withUnsafeMutableBytes { read(job.pipeFD, $0.baseAddress, $0.count) }
                    if n > 0 {
                        deliver(job, count: n)
                        taken += n
                    } else if n < 0 && errno == EINTR {
                        continue
                    } else {
                        break
                    }
                }
                job.closePipe()
            }
        }
    }

    private func finishJobs() {
        guard jobs.contains(where: { $0.status != nil && $0.pipeFD < 0 }) else { return }
        var remaining: [Job] = []
        for job in jobs {
            guard let status = job.status, job.pipeFD < 0 else {
                remaining.append(job)
                continue
            }
            job.closeLog()
            let low = status & 0x7F
            var o: JSONObject = ["ev": "exit", "id": .int(job.id)]
            o["exit_code"] = low == 0 ? .int(Int64((status >> 8) & 0xFF)) : .null
            o["signal"] = (low != 0 && low != 0x7F) ? .int(Int64(low)) : .null
            o["timed_out"] = .bool(job.timedOut)
            let nanos = job.exitedAt &- job.started
            o["duration_ms"] = .int(Int64(truncatingIfNeeded: nanos / 1_000_000))
            o["duration_us"] = .int(Int64(truncatingIfNeeded: nanos / 1_000))
            o["output_bytes"] = .int(job.outputBytes)
            if let logError = job.logError { o["log_error"] = .string(logError) }
            send(.object(o))
        }
        jobs = remaining
    }

    // MARK: Input

    private func readInput() {
        let n = readBuffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
        if n == 0 {
            shutdown(0)
        }
        if n < 0 {
            let e = errno
            if e == EINTR || e == EAGAIN || e == EWOULDBLOCK { return }
            Sys.diagnostic("stdin: \(Sys.describe(e))")
            shutdown(0)
        }
        let chunk = Array(readBuffer[0..<n])
        var start = 0
        while start < chunk.count {
            if let newline = chunk[start...].firstIndex(of: UInt8(ascii: "\n")) {
                if discardingLine {
                    discardingLine = false
                } else if lineBuffer.count + (newline - start) > Agent.maxLine {
                    lineTooLong()
                } else {
                    lineBuffer.append(contentsOf: chunk[start..<newline])
                    let line = lineBuffer
                    lineBuffer.removeAll(keepingCapacity: false)
                    handleLine(line)
                }
                lineBuffer.removeAll(keepingCapacity: false)
                start = newline + 1
            } else {
                if !discardingLine {
                    if lineBuffer.count + (chunk.count - start) > Agent.maxLine {
                        lineTooLong()
                        discardingLine = true
                        lineBuffer.removeAll(keepingCapacity: false)
                    } else {
                        lineBuffer.append(contentsOf: chunk[start...])
                    }
                }
                start = chunk.count
            }
        }
    }

    private func lineTooLong() {
        sendError(nil, .badRequest("request line longer than \(Agent.maxLine) bytes; discarded"))
    }

    /// Kills every command and everything else in the sandbox, then exits.
    func shutdown(_ code: Int32) -> Never {
        for job in jobs where job.status == nil { _ = killpg(job.pid, SIGKILL) }
        Procs.killAll(extras: extras, reap: { self.reapQuietly() })
        exit(code)
    }

    private func reapQuietly() {
        var status: Int32 = 0
        while true {
            let w = waitpid(-1, &status, WNOHANG)
            if w > 0 || (w < 0 && errno == EINTR) { continue }
            break
        }
    }

    // MARK: Requests

    /// The most object keys a request may have in all. CMAJSON's objects look keys up linearly,
    /// so parsing is quadratic in the number of keys: a 1 MiB line of tiny keys would stall
    /// the agent for many seconds.
    static let maxKeys = 4096

    /// The number of object keys in a JSON text (colons outside strings).
    static func keyCount(_ line: [UInt8]) -> Int {
        var count = 0
        var inString = false
        var escaped = false
        for byte in line {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
            } else if byte == UInt8(ascii: ":") {
                count += 1
            }
        }
        return count
    }

    func handleLine(_ line: [UInt8]) {
        if Agent.keyCount(line) > Agent.maxKeys {
            sendError(nil, .badRequest("request has more than \(Agent.maxKeys) object keys"))
            return
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(line)
        } catch {
            sendError(nil, .badRequest("invalid JSON: \(error.description)"))
            return
        }
        guard case .object(let request) = value else {
            sendError(nil, .badRequest("a request must be a JSON object"))
            return
        }
        guard case .int(let id)? = request["id"] else {
            sendError(nil, .badRequest("a request needs an integer \"id\""))
            return
        }
        guard case .string(let op)? = request["op"] else {
            sendError(id, .badRequest("a request needs a string \"op\""))
            return
        }
        do {
            try dispatch(op, id, Fields(request))
        } catch {
            sendError(id, error)
        }
    }

    private func dispatch(_ op: String, _ id: Int64, _ f: Fields) throws(Failure) {
        switch op {
        case "ping":
            send(["ev": "pong", "id": .int(id)])

        case "exec":
            try exec(id, f)

        case "start":
            try startHeld(id, f)

        case "discard":
            try discardHeld(id, f)

        case "write_stdin":
            try writeStdin(id, f)

        case "signal":
            let target = try f.int("target")
            let signal = try f.int("signal")
            guard (0...64).contains(signal) else { throw .badRequest("\"signal\" must be a signal number (0–64)") }
            if let job = jobs.first(where: { $0.id == target }), job.status == nil {
                _ = killpg(job.pid, Int32(signal))
            }
            sendOK(id)

        case "kill_all":
            for job in jobs where job.status == nil { _ = killpg(job.pid, SIGKILL) }
            Procs.killAll(extras: extras, reap: { self.reap() })
            sendOK(id)

        case "write_file":
            let path = try f.string("path")
            let encoded = try f.string("data")
            let mode = try f.optionalInt("mode") ?? 0o644
            guard (0...0o7777).contains(mode) else { throw .badRequest("\"mode\" must be between 0 and 0o7777") }
            let mkdirs = try f.optionalBool("mkdirs") ?? false
            guard let data = Base64.decode(encoded) else { throw .badRequest("\"data\" is not valid base64") }
            let size = try workspace.writeFile(path: path, data: data, mode: mode, mkdirs: mkdirs)
            sendOK(id, [("size", .int(Int64(size)))])

        case "read_file":
            let path = try f.string("path")
            let maxBytes = try f.optionalInt("max_bytes") ?? Int64(Workspace.maxReadBytes)
            guard maxBytes >= 0 else { throw .badRequest("\"max_bytes\" must not be negative") }
            let offset = try f.optionalInt("offset") ?? 0
            guard offset >= 0 else { throw .badRequest("\"offset\" must not be negative") }
            let result = try workspace.readFile(path: path, offset: offset, maxBytes: Int(clamping: maxBytes))
            var frame: [UInt8] = []
            frame.reserveCapacity(128 + Base64.encodedCount(result.data.count))
            frame.append(contentsOf: "{\"ev\":\"file\",\"id\":\(id),\"data\":\"".utf8)
            result.data.withUnsafeBytes { Base64.encode($0, into: &frame) }
            frame.append(contentsOf: "\",\"size\":\(result.size),\"truncated\":\(result.truncated)}\n".utf8)
            write(frame)

        case "delete":
            let path = try f.string("path")
            let recursive = try f.optionalBool("recursive") ?? false
            try workspace.delete(path: path, recursive: recursive)
            sendOK(id)

        case "rename":
            let from = try f.string("from")
            let to = try f.string("to")
            let mkdirs = try f.optionalBool("mkdirs") ?? false
            try workspace.rename(from: from, to: to, mkdirs: mkdirs)
            sendOK(id)

        case "list":
            let path = try f.string("path")
            let recursive = try f.optionalBool("recursive") ?? false
            let limit = try f.optionalInt("limit") ?? 10_000
            guard limit >= 0 else { throw .badRequest("\"limit\" must not be negative") }
            let result = try workspace.list(path: path, recursive: recursive, limit: Int(clamping: limit))
            send(.object(["ev": "list", "id": .int(id), "entries": .array(result.entries), "truncated": .bool(result.truncated)]))

        case "stat":
            let path = try f.string("path")
            let result = try workspace.statPath(path: path)
            sendOK(id, [("type", .string(result.type)), ("size", .int(result.size))])

        default:
            throw .badRequest("unknown op \"\(op.prefix(64))\"")
        }
    }

    /// `exec`: starts the command now, or with `"hold": true` prepares it (everything but the
    /// spawn, errors included) and keeps it for `start`.
    private func exec(_ id: Int64, _ f: Fields) throws(Failure) {
        if jobs.contains(where: { $0.id == id }) {
            throw .badRequest("id \(id) is already in use by a running exec")
        }
        if held[id] != nil {
            throw .badRequest("id \(id) is already in use by a held exec")
        }
        let hold = try f.optionalBool("hold") ?? false
        let prepared = try prepareExec(id, f)
        if hold {
            held[id] = prepared
        } else {
            try launch(prepared)
        }
    }

    /// `start`: runs the held exec `target`; its output and `exit` follow as for any exec (or
    /// its `error`, if it cannot be spawned).
    private func startHeld(_ id: Int64, _ f: Fields) throws(Failure) {
        let (target, prepared) = try takeHeld(f)
        do {
            try launch(prepared)
        } catch {
            sendError(target, error)
        }
        sendOK(id)
    }

    /// `discard`: drops the held exec `target` without running it; it ends with a `discarded`
    /// error.
    private func discardHeld(_ id: Int64, _ f: Fields) throws(Failure) {
        let (target, prepared) = try takeHeld(f)
        Sys.closeFD(prepared.logFD)
        sendError(target, Failure("discarded", "the exec was discarded before it started"))
        sendOK(id)
    }

    /// Removes the held exec named by the request's `target`.
    private func takeHeld(_ f: Fields) throws(Failure) -> (target: Int64, prepared: HeldExec) {
        let target = try f.int("target")
        guard let prepared = held.removeValue(forKey: target) else {
            throw Failure("not_found", "no held exec with id \(target); send \"exec\" with \"hold\": true first")
        }
        return (target, prepared)
    }

    /// Checks an `exec` request and opens its log file: everything before the spawn.
    private func prepareExec(_ id: Int64, _ f: Fields) throws(Failure) -> HeldExec {
        guard let argvValue = f.object["argv"], case .array(let items) = argvValue else {
            throw .badRequest("\"argv\" must be a non-empty array of strings")
        }
        var argv: [String] = []
        for item in items {
            guard case .string(let s) = item else { throw .badRequest("\"argv\" must be a non-empty array of strings") }
            if s.utf8.contains(0) { throw .badRequest("\"argv\" strings must not contain NUL") }
            argv.append(s)
        }
        guard let first = argv.first, !first.isEmpty else { throw .badRequest("\"argv\" must be a non-empty array of strings and argv[0] must not be empty") }

        var env: [(String, String)] = []
        switch f.object["env"] {
        case nil, .null?: break
        case .object(let o)?:
            for (key, value) in o {
                guard case .string(let v) = value else { throw .badRequest("\"env\" values must be strings") }
                if key.isEmpty || key.utf8.contains(UInt8(ascii: "=")) || key.utf8.contains(0) {
                    throw .badRequest("invalid environment variable name \"\(key.prefix(64))\"")
                }
                if v.utf8.contains(0) { throw .badRequest("environment variable \(key) contains NUL") }
                env.append((key, v))
            }
        default:
            throw .badRequest("\"env\" must be an object of strings")
        }

        let cwd = try f.optionalString("cwd") ?? workspace.rootPath
        if cwd.utf8.contains(0) || cwd.utf8.first != UInt8(ascii: "/") {
            throw .invalidPath("\"cwd\" must be an absolute path")
        }
        let timeoutMs = try f.optionalInt("timeout_ms") ?? 0
        guard timeoutMs >= 0 else { throw .badRequest("\"timeout_ms\" must not be negative") }
        let logPath = try f.optionalString("log_path")
        let stdinPipe = try f.optionalBool("stdin_pipe") ?? false
        let stderrName = try f.optionalString("stderr") ?? StderrMode.merge.rawValue
        guard let stderr = StderrMode(rawValue: stderrName) else {
            throw .badRequest("\"stderr\" must be \"merge\" or \"log\"")
        }

        let request = ExecRequest(id: id, argv: argv, env: env, cwd: cwd, timeoutMs: timeoutMs, logPath: logPath, stdinPipe: stdinPipe, stderr: stderr)
        // The cwd is checked (by opening it) before the log file is created.
        var st = stat()
        if stat(cwd, &st) != 0 { throw Failure.errno(errno, cwd, "cwd") }
        if !Sys.isDir(st) { throw Failure("not_a_directory", "cwd \(cwd) is not a directory") }

        var logFD: Int32 = -1
        if let logPath { logFD = try workspace.openLog(path: logPath) }
        return HeldExec(request: request, logFD: logFD)
    }

    /// Spawns a prepared exec (taking its log descriptor) and adds it to the running jobs.
    private func launch(_ prepared: HeldExec) throws(Failure) {
        let request = prepared.request
        var logFD = prepared.logFD
        let id = request.id, timeoutMs = request.timeoutMs, logPath = request.logPath
        let started = Sys.now()
        let spawned: (pid: pid_t, pipeFD: Int32, stdinFD: Int32)
        do {
            spawned = try Spawner.spawn(request, logFD: logFD, extras: extras)
        } catch {
            Sys.closeFD(logFD)
            throw error
        }
        if request.stderr == .log {
            // The command writes its stderr to the log itself; the agent copies nothing there.
            Sys.closeFD(logFD)
            logFD = -1
        }
        var deadline: UInt64?
        if timeoutMs > 0 {
            // At most ~30 days: keeps the arithmetic far from overflow.
            let ms = UInt64(min(timeoutMs, 30 * 24 * 3_600_000))
            deadline = started &+ ms &* 1_000_000
        }
        jobs.append(Job(id: id, pid: spawned.pid, pipeFD: spawned.pipeFD, stdinFD: spawned.stdinFD, logFD: logFD, logPath: logPath, started: started, deadline: deadline))
    }

    /// `write_stdin`: buffers the data for the command's stdin pipe and replies at once; the
    /// loop writes it as the pipe takes it, so a command that reads slowly (or never) cannot
    /// block the agent.
    private func writeStdin(_ id: Int64, _ f: Fields) throws(Failure) {
        let target = try f.int("target")
        let encoded = try f.optionalString("data") ?? ""
        let eof = try f.optionalBool("eof") ?? false
        guard let data = Base64.decode(encoded) else { throw .badRequest("\"data\" is not valid base64") }
        // A finishing job (main process exited, output still draining) no longer has a stdin.
        guard let job = jobs.first(where: { $0.id == target }), job.status == nil else {
            throw Failure("not_found", "no running exec with id \(target)")
        }
        guard job.hasStdinPipe else {
            throw Failure("not_found", "exec \(target) was not started with \"stdin_pipe\"")
        }
        if job.stdinEOF && !data.isEmpty {
            throw .badRequest("the stdin of exec \(target) was already closed with \"eof\"")
        }
        // Once the command has closed its stdin the data is dropped anyway: never too large.
        if job.stdinFD >= 0 && job.stdinPending + data.count > Job.maxStdinBuffer {
            throw Failure("too_large", "exec \(target) has \(job.stdinPending) bytes of stdin not yet written; at most \(Job.maxStdinBuffer) may wait")
        }
        job.appendStdin(data, eof: eof)
        sendOK(id)
        // Whatever the pipe takes now need not wait for the next poll; this also closes it at
        // once for an `eof` with nothing left to write.
        job.flushStdin()
    }
}

/// Typed access to a request's fields; a field that is present with the wrong type (or missing
/// when required) is a `bad_request`. An explicit `null` counts as absent for optional fields.
struct Fields {
    let object: JSONObject

    init(_ object: JSONObject) { self.object = object }

    func string(_ key: String) throws(Failure) -> String {
        guard case .string(let s)? = object[key] else { throw .badRequest("\"\(key)\" must be a string") }
        return s
    }

    func optionalString(_ key: String) throws(Failure) -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let s)?: return s
        default: throw .badRequest("\"\(key)\" must be a string")
        }
    }

    func int(_ key: String) throws(Failure) -> Int64 {
        guard case .int(let i)? = object[key] else { throw .badRequest("\"\(key)\" must be an integer") }
        return i
    }

    func optionalInt(_ key: String) throws(Failure) -> Int64? {
        switch object[key] {
        case nil, .null?: return nil
        case .int(let i)?: return i
        default: throw .badRequest("\"\(key)\" must be an integer")
        }
    }

    func optionalBool(_ key: String) throws(Failure) -> Bool? {
        switch object[key] {
        case nil, .null?: return nil
        case .bool(let b)?: return b
        default: throw .badRequest("\"\(key)\" must be a boolean")
        }
    }
}
