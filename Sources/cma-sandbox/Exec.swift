#if canImport(Glibc)
import Glibc
#endif

/// Where a command's stderr goes (`exec`'s `"stderr"` field).
enum StderrMode: String {
    /// Onto the output pipe, with stdout.
    case merge
    /// To the log file only (or /dev/null without one): the output pipe carries stdout alone,
    /// so a protocol spoken on stdout (MCP over stdio) is not interleaved with diagnostics.
    case log
}

/// A validated `exec` request.
struct ExecRequest {
    var id: Int64
    var argv: [String]
    var env: [(String, String)]
    var cwd: String
    var timeoutMs: Int64
    var logPath: String?
    var stdinPipe = false
    var stderr = StderrMode.merge
}

/// An `exec` checked and with its log file open, not yet spawned (`"hold": true` keeps it until
/// `start`).
struct HeldExec {
    var request: ExecRequest
    /// -1 without a log file.
    var logFD: Int32
}

/// A running (or finishing) `exec`.
final class Job {
    let id: Int64
    /// The main process; also the id of its session and process group (it was started with
    /// `setsid`).
    let pid: pid_t
    /// The read end of the output pipe (stdout, and stderr when merged); -1 once closed.
    var pipeFD: Int32
    /// The agent's end of the command's stdin pipe (`stdin_pipe`), non-blocking; -1 when there
    /// is none or once it is closed.
    private(set) var stdinFD: Int32
    /// Whether the command was started with `stdin_pipe` (its pipe may since have closed).
    let hasStdinPipe: Bool
    /// `write_stdin` data not yet written to the pipe: `stdinBuffer[stdinOffset...]`. Written
    /// bytes are dropped lazily, so a partial write does not move the whole buffer.
    private var stdinBuffer: [UInt8] = []
    private var stdinOffset = 0
    /// Set by `write_stdin` with `eof`: the pipe is closed once the buffer is written.
    private(set) var stdinEOF = false
    var logFD: Int32
    let logPath: String?
    var logError: String?
    let started: UInt64
    let deadline: UInt64?
    /// The wait status of the main process, once reaped.
    var status: Int32?
    var exitedAt: UInt64 = 0
    var timedOut = false
    var outputBytes: Int64 = 0

    init(id: Int64, pid: pid_t, pipeFD: Int32, stdinFD: Int32 = -1, logFD: Int32, logPath: String?, started: UInt64, deadline: UInt64?) {
        self.id = id
        self.pid = pid
        self.pipeFD = pipeFD
        self.stdinFD = stdinFD
        self.hasStdinPipe = stdinFD >= 0
        self.logFD = logFD
        self.logPath = logPath
        self.started = started
        self.deadline = deadline
    }

    func closePipe() {
        Sys.closeFD(pipeFD)
        pipeFD = -1
    }

    func closeLog() {
        Sys.closeFD(logFD)
        logFD = -1
    }

    // MARK: Stdin

    /// The most `write_stdin` data buffered per command: a command that stops reading makes
    /// the runtime's writes fail (`too_large`) instead of growing the agent without bound.
    static let maxStdinBuffer = 8 << 20

    /// Buffered stdin bytes not yet written.
    var stdinPending: Int { stdinBuffer.count - stdinOffset }

    /// Whether the loop should poll the stdin pipe for POLLOUT: only while there is something
    /// to write (an idle pipe is always writable and would spin the loop).
    var wantsStdinWrite: Bool { stdinFD >= 0 && stdinPending > 0 }

    /// Queues `data` for the command's stdin (dropped if the pipe is already closed: the command
    /// closed its stdin, so there is no reader left); `eof` closes the pipe once all is written.
    func appendStdin(_ data: [UInt8], eof: Bool) {
        if eof { stdinEOF = true }
        guard stdinFD >= 0, !data.isEmpty else { return }
        if stdinOffset > 0 && stdinOffset >= stdinBuffer.count / 2 {
            stdinBuffer.removeFirst(stdinOffset)
            stdinOffset = 0
        }
        stdinBuffer.append(contentsOf: data)
    }

    /// Writes as much of the buffer as the pipe takes without blocking, and closes the pipe
    /// once the buffer is drained after `eof`. When the command has closed its end (EPIPE;
    /// SIGPIPE is ignored by the agent) or the write fails otherwise, nothing more can reach
    /// it: the buffer is dropped and the pipe closed, silently (the command's exit tells the rest).
    func flushStdin() {
        while stdinFD >= 0 && stdinPending > 0 {
            let n = stdinBuffer.withUnsafeBytes { bytes in
                write(stdinFD, bytes.baseAddress!.advanced(by: stdinOffset), stdinPending)
            }
            if n > 0 {
                stdinOffset += n
                continue
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return }
            closeStdin()
            return
        }
        if stdinPending == 0 {
            stdinBuffer.removeAll(keepingCapacity: false)
            stdinOffset = 0
            if stdinEOF { closeStdin() }
        }
    }

    /// Closes the stdin pipe and drops whatever was not written. Also done when the main
    /// process exits: the exec is over for the runtime, and processes it left behind that
    /// still read the pipe see EOF instead of waiting forever.
    func closeStdin() {
        Sys.closeFD(stdinFD)
        stdinFD = -1
        stdinBuffer = []
        stdinOffset = 0
    }
}

enum Spawner {
    /// `POSIX_SPAWN_SETSID` on glibc (not imported by Swift's Glibc module).
    static let setsidFlag: Int32 = 0x80

    /// Finds the executable for `argv0`: a name containing "/" is used as is (relative to the
    /// command's cwd); otherwise it is looked up in the absolute directories of the request's
    /// own `PATH` (the agent's environment plays no part).
    static func resolveExecutable(_ argv0: String, env: [(String, String)]) throws(Failure) -> String {
        if argv0.utf8.contains(UInt8(ascii: "/")) { return argv0 }
        let path = env.last(where: { $0.0 == "PATH" })?.1 ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") where dir.hasPrefix("/") {
            let candidate = (dir.hasSuffix("/") ? String(dir) : dir + "/") + argv0
            var st = stat()
            if stat(candidate, &st) == 0, Sys.isReg(st), access(candidate, X_OK) == 0 {
                return candidate
            }
        }
        throw Failure("not_found", "\(argv0): command not found in PATH")
    }

    /// A new pipe, both ends close-on-exec (so no other command inherits them), the agent's end
    /// (`nonblocking`: 0 for the read end, 1 for the write end) non-blocking.
    static func makePipe(nonblocking end: Int) throws(Failure) -> [Int32] {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw Failure("io", "cannot create a pipe: \(Sys.describe(errno))") }
        Sys.setCloexec(fds[0])
        Sys.setCloexec(fds[1])
        Sys.setNonblocking(fds[end], true)
        return fds
    }

    /// Starts the command in a new session with stdout (and, with `StderrMode.merge`, stderr)
    /// on a new pipe, whose (non-blocking) read end is returned. Stdin is /dev/null, or with
    /// `stdinPipe` another pipe whose (non-blocking) write end is returned as `stdinFD` (else
    /// -1). With `StderrMode.log`, stderr goes to `logFD` (the open `log_path`), or to /dev/null
    /// when it is -1.
    static func spawn(_ request: ExecRequest, logFD: Int32, extras: LinuxExtras) throws(Failure) -> (pid: pid_t, pipeFD: Int32, stdinFD: Int32) {
        let executable = try resolveExecutable(request.argv[0], env: request.env)

        let cwdFD = Sys.openAt(AT_FDCWD, request.cwd, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard cwdFD >= 0 else { throw Failure.errno(-cwdFD, request.cwd, "cwd") }
        defer { Sys.closeFD(cwdFD) }

        let fds = try makePipe(nonblocking: 0)
        var stdinFDs: [Int32] = [-1, -1]
        if request.stdinPipe {
            do {
                stdinFDs = try makePipe(nonblocking: 1)
            } catch {
                Sys.closeFD(fds[0])
                Sys.closeFD(fds[1])
                throw error
            }
        }
        /// Closes every descriptor made here; on failure, before throwing.
        func closeAll() {
            for fd in fds + stdinFDs { Sys.closeFD(fd) }
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }

        var setupError: Int32 = 0
        func check(_ r: Int32) { if r != 0 && setupError == 0 { setupError = r } }
        if request.stdinPipe {
            check(posix_spawn_file_actions_adddup2(&actions, stdinFDs[0], 0))
        } else {
            check(posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0))
        }
        check(posix_spawn_file_actions_adddup2(&actions, fds[1], 1))
        switch request.stderr {
        case .merge:
            check(posix_spawn_file_actions_adddup2(&actions, fds[1], 2))
        case .log where logFD >= 0:
            check(posix_spawn_file_actions_adddup2(&actions, logFD, 2))
        case .log:
            check(posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0))
        }
        if let addFchdir = extras.addFchdir {
            check(addFchdir(&actions, cwdFD))
        } else {
            check(ENOSYS)
        }
        // Everything else the agent holds is O_CLOEXEC too; this also covers descriptors it
        // may have inherited.
        if let addCloseFrom = extras.addCloseFrom {
            check(addCloseFrom(&actions, 3))
        }

        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        // The agent blocks SIGCHLD and ignores SIGPIPE: the command gets an empty mask and every
        // signal at its default disposition.
        check(posix_spawnattr_setflags(&attr, Int16(truncatingIfNeeded: setsidFlag | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)))
        check(posix_spawnattr_setsigmask(&attr, &noSignals))
        check(posix_spawnattr_setsigdefault(&attr, &allSignals))

        if setupError != 0 {
            closeAll()
            throw Failure("io", "cannot prepare the command: \(Sys.describe(setupError))")
        }

        var argv: [UnsafeMutablePointer<CChar>?] = request.argv.map { strdup($0) }
        var envp: [UnsafeMutablePointer<CChar>?] = request.env.map { strdup($0.0 + "=" + $0.1) }
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        if argv.contains(where: { $0 == nil }) || envp.contains(where: { $0 == nil }) {
            closeAll()
            throw Failure("io", "out of memory")
        }
        argv.append(nil)
        envp.append(nil)

        var pid: pid_t = 0
        let r = posix_spawn(&pid, executable, &actions, &attr, argv, envp)
        // The command's ends: only the command holds them now, so it sees EOF on stdin when
        // the agent closes its end, and the agent sees EOF on output when the command exits.
        Sys.closeFD(fds[1])
        Sys.closeFD(stdinFDs[0])
        if r != 0 {
            Sys.closeFD(fds[0])
            Sys.closeFD(stdinFDs[1])
            switch r {
            case ENOENT: throw Failure("not_found", "\(executable): \(Sys.describe(r))")
            case ENOTDIR: throw Failure("not_a_directory", "\(executable): \(Sys.describe(r))")
            case E2BIG: throw Failure("too_large", "\(executable): \(Sys.describe(r))")
            default: throw Failure("io", "cannot start \(executable): \(Sys.describe(r))")
            }
        }
        return (pid, fds[0], stdinFDs[1])
    }
}

extension Workspace {
    /// Opens (creating, with parent directories, or truncating) the log file of an `exec`,
    /// under the same path rules as `write_file`.
    func openLog(path: String) throws(Failure) -> Int32 {
        let components = try resolve(path)
        let (dirFD, name) = try openParent(components, create: true, path: path)
        defer { Sys.closeFD(dirFD) }
        // O_NONBLOCK: opening a FIFO planted by a command must not block the agent. No O_TRUNC
        // before the type is known.
        let fd = Sys.openAt(dirFD, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0o644)
        if fd == -ENXIO { throw Failure("io", "\(path) is not a regular file") }
        guard fd >= 0 else { throw Failure.errno(-fd, path) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = errno
            Sys.closeFD(fd)
            throw Failure.errno(e, path)
        }
        guard Sys.isReg(st) else {
            Sys.closeFD(fd)
            throw Failure("io", "\(path) is not a regular file")
        }
        var t = ftruncate(fd, 0)
        while t != 0 && errno == EINTR { t = ftruncate(fd, 0) }
        if t != 0 {
            let e = errno
            Sys.closeFD(fd)
            throw Failure.errno(e, path, "cannot truncate")
        }
        Sys.setNonblocking(fd, false)
        return fd
    }
}
