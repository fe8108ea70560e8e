import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// A child process started with `posix_spawn`, with pipes to its stdin and from its stdout.
/// Its stderr goes to a file (diagnostics only).
struct SpawnedProcess: Sendable {
    let pid: pid_t
    /// Write end of the child's stdin.
    let stdinFD: Int32
    /// Read end of the child's stdout.
    let stdoutFD: Int32
}

enum ProcessSpawner {
    struct SpawnError: Error, CustomStringConvertible {
        var description: String
    }

    /// Starts `argv` with exactly `environment`. The child gets a new session (`setsid`) and
    /// only the three standard descriptors.
    static func spawn(argv: [String], environment: [String: String], stderrPath: String?) throws -> SpawnedProcess {
        guard let executable = argv.first else { throw SpawnError(description: "empty argv") }
        var stdinPipe: [Int32] = [-1, -1]
        var stdoutPipe: [Int32] = [-1, -1]
        guard GNU.pipe2(&stdinPipe, O_CLOEXEC) == 0 else { throw SpawnError(description: "pipe: \(errnoString())") }
        guard GNU.pipe2(&stdoutPipe, O_CLOEXEC) == 0 else {
            close(stdinPipe[0]); close(stdinPipe[1])
            throw SpawnError(description: "pipe: \(errnoString())")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
        if let stderrPath {
            posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        } else {
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        }
        // Everything else the server has open stays out of the child (including pipes of other
        // sandboxes being started concurrently).
        guard GNU.addclosefrom(&actions, 3) == 0 else {
            close(stdinPipe[0]); close(stdinPipe[1]); close(stdoutPipe[0]); close(stdoutPipe[1])
            throw SpawnError(description: "posix_spawn_file_actions_addclosefrom_np is not available")
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaultSignals = sigset_t()
        sigfillset(&defaultSignals)
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        let POSIX_SPAWN_SETSID: Int32 = 0x80
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSID))

        let cArgv = argv.map { strdup($0) } + [nil]
        let cEnv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in cArgv { free(p) }
            for p in cEnv { free(p) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, cArgv, cEnv)
        close(stdinPipe[0])
        close(stdoutPipe[1])
        guard rc == 0 else {
            close(stdinPipe[1])
            close(stdoutPipe[0])
            throw SpawnError(description: "posix_spawn \(executable): \(String(cString: strerror(rc)))")
        }
        return SpawnedProcess(pid: pid, stdinFD: stdinPipe[1], stdoutFD: stdoutPipe[0])
    }

    /// The thread sandboxes are started from. It lives as long as the process: bubblewrap's
    /// `--die-with-parent` (PR_SET_PDEATHSIG) kills the sandbox when the *thread* that started it
    /// exits, and the threads of Swift's global executor come and go (an idle one exits after a
    /// few seconds, which used to kill sandboxes started from it).
    private static let stableThread: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        return pool
    }()

    /// One thread at the lowest CPU priority (nice 19) for background upkeep, such as formatting
    /// spare workspace images: on Linux a nice value is per thread and a child process inherits
    /// its spawning thread's, so what is spawned from here yields to the sessions' own work (on
    /// a busy machine it still gets a small share, so it never starves).
    static let backgroundThread: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        pool.submit { _ in _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19) }
        return pool
    }()

    /// `spawn`, from ``backgroundThread``: the process runs at nice 19.
    static func spawnInBackground(argv: [String], environment: [String: String], stderrPath: String?) async throws -> SpawnedProcess {
        try await backgroundThread.runIfActive { try spawn(argv: argv, environment: environment, stderrPath: stderrPath) }
    }

    /// `spawn`, from a thread that never exits.
    static func spawnFromStableThread(argv: [String], environment: [String: String], stderrPath: String?) async throws -> SpawnedProcess {
        try await stableThread.runIfActive { try spawn(argv: argv, environment: environment, stderrPath: stderrPath) }
    }

    /// Reaps `pid` if it has exited. Returns its wait status, or nil while it runs.
    static func reap(_ pid: pid_t) -> Int32? {
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        return r == pid ? status : nil
    }

    static func errnoString() -> String {
        String(cString: strerror(errno))
    }
}

/// glibc functions that Swift's Glibc module does not expose (they need `_GNU_SOURCE`), looked
/// up once at run time.
enum GNU {
    private typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    private static func symbol<T>(_ name: String, as type: T.Type) -> T? {
        guard let handle = dlopen(nil, RTLD_NOW), let pointer = dlsym(handle, name) else { return nil }
        return unsafeBitCast(pointer, to: type)
    }

    private static let pipe2Function = symbol("pipe2", as: Pipe2.self)
    private static let addCloseFromFunction = symbol("posix_spawn_file_actions_addclosefrom_np", as: AddCloseFrom.self)

    /// `pipe2(2)`, atomically creating the descriptors with the given flags.
    static func pipe2(_ fds: UnsafeMutablePointer<Int32>, _ flags: Int32) -> Int32 {
        guard let f = pipe2Function else {
            errno = ENOSYS
            return -1
        }
        return f(fds, flags)
    }

    /// `posix_spawn_file_actions_addclosefrom_np(3)` (glibc 2.34+).
    static func addclosefrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ from: Int32) -> Int32 {
        guard let f = addCloseFromFunction else { return ENOSYS }
        return f(actions, from)
    }
}
