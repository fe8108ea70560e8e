import CMAJSON
import Foundation
public import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One session's long-lived sandbox: bubblewrap around the `cma-sandbox` agent. Commands and
/// file operations are requests to the agent, so running a command costs no sandbox start.
public final class BubblewrapSandbox: Sendable {
    public let configuration: SandboxConfiguration
    private let process: SpawnedProcess
    private let connection: AgentConnection
    private let logger: Logger
    private let reaped = Mutex<Int32?>(nil)

    private init(configuration: SandboxConfiguration, process: SpawnedProcess, connection: AgentConnection, logger: Logger) {
        self.configuration = configuration
        self.process = process
        self.connection = connection
        self.logger = logger
    }

    /// Starts the sandbox and waits until its agent is ready.
    public static func start(
        _ configuration: SandboxConfiguration, launcher: [String] = [], logger: Logger = Logger(label: "cma.sandbox"),
        readyTimeout: Duration = .seconds(10)
    ) async throws -> BubblewrapSandbox {
        // The host prepares the state before it builds the launcher's arguments; a sandbox
        // started on its own prepares it here.
        if launcher.isEmpty { try prepareState(configuration) }
        let argv = launcher + BubblewrapArguments.make(configuration)
        let process = try await ProcessSpawner.spawnFromStableThread(
            argv: argv, environment: ["PATH": "/usr/bin:/bin"], stderrPath: configuration.stateHostPath + "/sandbox.log")
        StepTrace.mark("sandbox launcher spawned")
        do {
            let connection = try await AgentConnection.connect(stdoutFD: process.stdoutFD, stdinFD: process.stdinFD, readyTimeout: readyTimeout)
            StepTrace.mark("sandbox agent ready")
            logger.debug("sandbox started", metadata: ["pid": "\(process.pid)", "workspace": "\(configuration.workspaceHostPath)"])
            return BubblewrapSandbox(configuration: configuration, process: process, connection: connection, logger: logger)
        } catch {
            kill(process.pid, SIGKILL)
            _ = await waitForExit(process.pid, timeout: .seconds(2))
            let log = (try? String(contentsOfFile: configuration.stateHostPath + "/sandbox.log", encoding: .utf8)) ?? ""
            throw SandboxError(
                code: "sandbox_failed",
                message: "The sandbox could not start: \((error as? SandboxError)?.message ?? "\(error)") \(log.suffix(500))")
        }
    }

    /// Creates the state directory and the sandbox's generated `/etc` files.
    static func prepareState(_ configuration: SandboxConfiguration) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: configuration.stateHostPath + "/etc", withIntermediateDirectories: true)
        for (name, contents) in BubblewrapArguments.etcFiles(configuration) {
            // Plain writes (the launcher opens these files only after this returns; a sandbox
            // already running has its own copies).
            let path = configuration.stateHostPath + "/etc/" + name
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw SandboxError(code: "io", message: "cannot write \(path)") }
            defer { close(fd) }
            let written = contents.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
            guard written == contents.utf8.count else { throw SandboxError(code: "io", message: "cannot write \(path)") }
        }
        try fm.createDirectory(atPath: configuration.workspaceHostPath, withIntermediateDirectories: true)
    }

    public var isRunning: Bool { !connection.isClosed }

    public var pid: Int32 { process.pid }

    // MARK: Commands

    /// A running command: its events, and a way to signal it.
    public struct Command: Sendable {
        public let events: AsyncThrowingStream<ExecEvent, any Error>
        let id: Int64
        let sandbox: BubblewrapSandbox

        /// Sends `signal` to the command's process group (default SIGKILL).
        public func signal(_ signal: Int32 = SIGKILL) async throws {
            _ = try await sandbox.connection.request("signal", ["target": .int(id), "signal": .int(Int64(signal))])
        }

        /// Runs a command made with `hold: true`; its output and exit then arrive on `events`.
        public func start() {
            sandbox.connection.notify("start", ["target": .int(id)])
        }

        /// Drops a command made with `hold: true` without running it: `events` ends with a
        /// `discarded` error.
        public func discard() {
            sandbox.connection.notify("discard", ["target": .int(id)])
        }
    }

    /// Starts `argv` in the sandbox. `env` is the command's complete environment. With `hold`,
    /// the agent only prepares it (checks the request, opens the log file: a failure ends
    /// `events` at once) and runs it on ``Command/start()``: the preparation overlaps whatever
    /// the caller must finish first (the runtime's record that the command starts).
    public func exec(
        _ argv: [String], cwd: String = SandboxConfiguration.workspacePath, env: [String: String], timeout: Duration?, logPath: String? = nil,
        hold: Bool = false
    ) -> Command {
        var fields: JSONObject = [
            "argv": .array(argv.map { .string($0) }),
            "cwd": .string(cwd),
            "env": .object(JSONObject(env.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) })),
            "timeout_ms": .int(timeout.map { Int64($0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000) } ?? 0),
        ]
        if let logPath { fields["log_path"] = .string(logPath) }
        if hold { fields["hold"] = true }
        let (id, events) = connection.exec(fields)
        return Command(events: events, id: id, sandbox: self)
    }

    /// A command whose stdin the runtime writes (an MCP server over stdio). Its stdout arrives
    /// as `output` events; its stderr goes to `logPath` only.
    public struct InteractiveCommand: Sendable {
        public let command: Command

        /// Queues `bytes` for the command's stdin (`eof`: then close it).
        public func write(_ bytes: [UInt8], eof: Bool = false) async throws {
            _ = try await command.sandbox.connection.request(
                "write_stdin", ["target": .int(command.id), "data": .string(Data(bytes).base64EncodedString()), "eof": .bool(eof)])
        }
    }

    /// Starts `argv` with its stdin fed by `InteractiveCommand.write` (protocol: `stdin_pipe`,
    /// `stderr: "log"`).
    public func execInteractive(_ argv: [String], cwd: String, env: [String: String], logPath: String?) -> InteractiveCommand {
        var fields: JSONObject = [
            "argv": .array(argv.map { .string($0) }),
            "cwd": .string(cwd),
            "env": .object(JSONObject(env.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) })),
            "stdin_pipe": true,
            "stderr": "log",
        ]
        if let logPath { fields["log_path"] = .string(logPath) }
        let (id, events) = connection.exec(fields)
        return InteractiveCommand(command: Command(events: events, id: id, sandbox: self))
    }

    /// Runs a command to completion and returns its output and result.
    public func run(_ argv: [String], cwd: String = SandboxConfiguration.workspacePath, env: [String: String], timeout: Duration? = nil) async throws -> (output: [UInt8], result: ExecResult) {
        var output: [UInt8] = []
        for try await event in exec(argv, cwd: cwd, env: env, timeout: timeout).events {
            switch event {
            case .output(let bytes): output += bytes
            case .exit(let result): return (output, result)
            }
        }
        throw SandboxError(code: "protocol", message: "The command ended without an exit status.")
    }

    /// Kills every process in the sandbox except its agent.
    public func killAll() async throws {
        _ = try await connection.request("kill_all")
    }

    // MARK: Files

    public func writeFile(_ path: String, _ data: [UInt8], mode: Int = 0o644, createDirectories: Bool = true) async throws {
        _ = try await connection.request(
            "write_file", ["path": .string(path), "data": .string(Data(data).base64EncodedString()), "mode": .int(Int64(mode)), "mkdirs": .bool(createDirectories)])
    }

    /// Reads the whole file (in as many requests as it takes), up to `limit` bytes.
    public func readWholeFile(_ path: String, limit: Int64) async throws -> [UInt8] {
        var data: [UInt8] = []
        while true {
            let (chunk, size, truncated) = try await readFile(path, offset: Int64(data.count), maxBytes: 512 * 1024)
            guard size <= limit else { throw SandboxError(code: "too_large", message: "\(path) is larger than \(limit) bytes") }
            data += chunk
            if !truncated || chunk.isEmpty { return data }
            guard Int64(data.count) <= limit else { throw SandboxError(code: "too_large", message: "\(path) is larger than \(limit) bytes") }
        }
    }

    public func readFile(_ path: String, offset: Int64 = 0, maxBytes: Int = 512 * 1024) async throws -> (data: [UInt8], size: Int64, truncated: Bool) {
        let reply = try await connection.request("read_file", ["path": .string(path), "offset": .int(offset), "max_bytes": .int(Int64(maxBytes))])
        guard let encoded = reply["data"]?.stringValue, let data = Data(base64Encoded: encoded) else {
            throw SandboxError(code: "protocol", message: "read_file returned no data")
        }
        return (Array(data), reply["size"]?.intValue ?? Int64(data.count), reply["truncated"]?.boolValue ?? false)
    }

    public func delete(_ path: String, recursive: Bool = false) async throws {
        _ = try await connection.request("delete", ["path": .string(path), "recursive": .bool(recursive)])
    }

    public func rename(_ from: String, to: String, createDirectories: Bool = true) async throws {
        _ = try await connection.request("rename", ["from": .string(from), "to": .string(to), "mkdirs": .bool(createDirectories)])
    }

    public struct Entry: Sendable, Equatable {
        public var path: String
        public var type: String
        public var size: Int64
    }

    public func list(_ path: String = SandboxConfiguration.workspacePath, recursive: Bool = true, limit: Int = 10_000) async throws -> (entries: [Entry], truncated: Bool) {
        let reply = try await connection.request("list", ["path": .string(path), "recursive": .bool(recursive), "limit": .int(Int64(limit))])
        let entries = (reply["entries"]?.arrayValue ?? []).compactMap { e -> Entry? in
            guard let path = e["path"]?.stringValue, let type = e["type"]?.stringValue else { return nil }
            return Entry(path: path, type: type, size: e["size"]?.intValue ?? 0)
        }
        return (entries, reply["truncated"]?.boolValue ?? false)
    }

    /// The type and size of `path`, or nil when it does not exist.
    public func stat(_ path: String) async throws -> (type: String, size: Int64)? {
        do {
            let reply = try await connection.request("stat", ["path": .string(path)])
            return (reply["type"]?.stringValue ?? "other", reply["size"]?.intValue ?? 0)
        } catch let error as SandboxError where error.code == "not_found" {
            return nil
        }
    }

    public func ping() async throws {
        _ = try await connection.request("ping")
    }

    // MARK: Lifecycle

    /// Stops the sandbox: the agent kills everything it started and exits; if it does not within
    /// `grace`, bubblewrap is killed. Returns once the process has been reaped.
    public func stop(grace: Duration = .seconds(2)) async {
        connection.close()
        if await Self.waitForExit(process.pid, timeout: grace) == nil {
            kill(process.pid, SIGKILL)
            _ = await Self.waitForExit(process.pid, timeout: .seconds(5))
        }
    }

    /// Polls for the exit of `pid`; returns its wait status, or nil on timeout.
    static func waitForExit(_ pid: pid_t, timeout: Duration) async -> Int32? {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var delay = Duration.milliseconds(1)
        while true {
            if let status = ProcessSpawner.reap(pid) { return status }
            if clock.now >= deadline { return nil }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .milliseconds(50))
        }
    }
}
