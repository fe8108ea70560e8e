import CMAJSON
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Drives a `cma-sandbox` binary over its stdin/stdout, as the runtime does.
final class AgentClient: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let process = Process()
    let workspace: String
    private let stdinFD: Int32
    private let stdoutFD: Int32
    private let condition = NSCondition()
    private var events: [JSONValue] = []
    private var unparsed: [String] = []
    private var eof = false
    private var nextID: Int64 = 1000

    /// The agent binary: `$CMA_SANDBOX_BIN`, else next to the test executable.
    static func binaryPath() throws -> String {
        if let path = ProcessInfo.processInfo.environment["CMA_SANDBOX_BIN"], !path.isEmpty { return path }
        var candidates: [String] = []
        let argv0 = CommandLine.arguments.first ?? ""
        candidates.append(URL(fileURLWithPath: argv0).deletingLastPathComponent().appendingPathComponent("cma-sandbox").path)
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            let dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
            candidates.append(dir.appendingPathComponent("cma-sandbox").path)
            // …/debug/cmaPackageTests.xctest can be a directory bundle on some platforms.
            candidates.append(dir.deletingLastPathComponent().appendingPathComponent("cma-sandbox").path)
        }
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw Failure(description: "cma-sandbox binary not found (set CMA_SANDBOX_BIN); tried \(candidates)")
    }

    init(workspace: String, arguments: [String]? = nil) throws {
        signal(SIGPIPE, SIG_IGN)
        self.workspace = workspace
        process.executableURL = URL(fileURLWithPath: try AgentClient.binaryPath())
        process.arguments = arguments ?? ["--workspace", workspace]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        stdinFD = input.fileHandleForWriting.fileDescriptor
        stdoutFD = output.fileHandleForReading.fileDescriptor
        // Keep the handles alive for the life of the client.
        handles = [input, output]
        let thread = Thread { [self] in readLoop() }
        thread.start()
    }

    private var handles: [Pipe] = []

    private func readLoop() {
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(stdoutFD, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            pending.append(contentsOf: buffer[0..<n])
            var lines: [[UInt8]] = []
            var start = 0
            while let newline = pending[start...].firstIndex(of: 0x0A) {
                lines.append(Array(pending[start..<newline]))
                start = newline + 1
            }
            pending.removeFirst(start)
            if lines.isEmpty { continue }
            condition.lock()
            for line in lines {
                if let value = try? JSONParser.parse(line) {
                    events.append(value)
                } else {
                    unparsed.append(String(decoding: line, as: UTF8.self))
                }
            }
            condition.broadcast()
            condition.unlock()
        }
        condition.lock()
        eof = true
        condition.broadcast()
        condition.unlock()
    }

    // MARK: Sending

    func sendRaw(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(stdinFD, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Failure(description: "write to the agent failed: errno \(errno)") }
            offset += n
        }
    }

    func send(_ request: JSONValue) throws {
        var bytes = JSONWriter.bytes(request)
        bytes.append(0x0A)
        try sendRaw(bytes)
    }

    private var stdinClosed = false

    func closeStdin() {
        condition.lock()
        let already = stdinClosed
        stdinClosed = true
        condition.unlock()
        if !already { handles[0].fileHandleForWriting.closeFileIfPossible() }
    }

    func makeID() -> Int64 {
        condition.lock()
        defer { condition.unlock() }
        nextID += 1
        return nextID
    }

    // MARK: Receiving

    /// Waits until `predicate` holds for the events received so far; returns them.
    @discardableResult
    func wait(timeout: TimeInterval = 20, _ what: String, until predicate: ([JSONValue]) -> Bool) throws -> [JSONValue] {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while !predicate(events) {
            if eof { throw Failure(description: "agent closed stdout while waiting for \(what); events: \(events.suffix(5))") }
            if !condition.wait(until: deadline) {
                throw Failure(description: "timed out waiting for \(what); last events: \(events.suffix(5))")
            }
        }
        return events
    }

    var allEvents: [JSONValue] {
        condition.lock()
        defer { condition.unlock() }
        return events
    }

    var unparsedLines: [String] {
        condition.lock()
        defer { condition.unlock() }
        return unparsed
    }

    static let finalEvents: Set<String> = ["ok", "error", "exit", "file", "list", "pong"]

    /// The events with `id`, once its final event has arrived.
    func events(for id: Int64, timeout: TimeInterval = 20) throws -> [JSONValue] {
        let all = try wait(timeout: timeout, "the reply to request \(id)") { events in
            events.contains { $0["id"] == .int(id) && AgentClient.finalEvents.contains($0["ev"]?.stringValue ?? "") }
        }
        return all.filter { $0["id"] == .int(id) }
    }

    /// Sends a request (adding an id) and returns its final reply.
    @discardableResult
    func request(_ fields: JSONObject, timeout: TimeInterval = 20) throws -> JSONValue {
        let id = makeID()
        var request = fields
        request["id"] = .int(id)
        try send(.object(request))
        let events = try self.events(for: id, timeout: timeout)
        guard let last = events.last else { throw Failure(description: "no reply") }
        return last
    }

    struct ExecResult {
        var output: [UInt8]
        var outputEvents: [JSONValue]
        var exit: JSONValue
        var elapsed: TimeInterval
        var exitCode: Int64? { exit["exit_code"]?.intValue }
        var signal: Int64? { exit["signal"]?.intValue }
        var text: String { String(decoding: output, as: UTF8.self) }
    }

    static let defaultEnv: JSONObject = ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "LC_ALL": "C"]

    func startExec(_ argv: [String], env: JSONObject = AgentClient.defaultEnv, cwd: String? = nil, timeoutMs: Int64? = nil, logPath: String? = nil, stdinPipe: Bool = false, stderr: String? = nil) throws -> Int64 {
        let id = makeID()
        var request: JSONObject = ["op": "exec", "id": .int(id), "argv": .array(argv.map { .string($0) }), "env": .object(env)]
        if let cwd { request["cwd"] = .string(cwd) }
        if let timeoutMs { request["timeout_ms"] = .int(timeoutMs) }
        if let logPath { request["log_path"] = .string(logPath) }
        if stdinPipe { request["stdin_pipe"] = true }
        if let stderr { request["stderr"] = .string(stderr) }
        try send(.object(request))
        return id
    }

    /// Sends `write_stdin` for the exec `target` and returns the reply.
    @discardableResult
    func writeStdin(_ target: Int64, _ bytes: [UInt8], eof: Bool = false, timeout: TimeInterval = 20) throws -> JSONValue {
        var request: JSONObject = ["op": "write_stdin", "target": .int(target), "data": b64(bytes)]
        if eof { request["eof"] = true }
        return try self.request(request, timeout: timeout)
    }

    func finishExec(_ id: Int64, started: Date = Date(), timeout: TimeInterval = 30) throws -> ExecResult {
        let events = try self.events(for: id, timeout: timeout)
        guard let last = events.last else { throw Failure(description: "no events") }
        guard last["ev"]?.stringValue == "exit" else { throw Failure(description: "exec \(id) failed: \(last)") }
        var output: [UInt8] = []
        let outputs = events.filter { $0["ev"]?.stringValue == "output" }
        for event in outputs {
            guard let data = event["data"]?.stringValue, let bytes = Data(base64Encoded: data) else {
                throw Failure(description: "bad output event \(event)")
            }
            output += bytes
        }
        return ExecResult(output: output, outputEvents: outputs, exit: last, elapsed: Date().timeIntervalSince(started))
    }

    func exec(_ argv: [String], env: JSONObject = AgentClient.defaultEnv, cwd: String? = nil, timeoutMs: Int64? = nil, logPath: String? = nil, stderr: String? = nil, timeout: TimeInterval = 30) throws -> ExecResult {
        let started = Date()
        let id = try startExec(argv, env: env, cwd: cwd, timeoutMs: timeoutMs, logPath: logPath, stderr: stderr)
        return try finishExec(id, started: started, timeout: timeout)
    }

    func sh(_ script: String, timeoutMs: Int64? = nil, logPath: String? = nil) throws -> ExecResult {
        try exec(["/bin/sh", "-c", script], timeoutMs: timeoutMs, logPath: logPath)
    }

    // MARK: Lifecycle

    /// Waits for the agent to exit; returns its status or nil on timeout.
    func waitForExit(timeout: TimeInterval) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline { return nil }
            usleep(10_000)
        }
        return process.terminationStatus
    }

    func close() {
        closeStdin()
        if waitForExit(timeout: 5) == nil {
            process.terminate()
            kill(process.processIdentifier, SIGKILL)
            _ = waitForExit(timeout: 5)
        }
    }
}

extension FileHandle {
    func closeFileIfPossible() {
        try? close()
    }
}

/// A temporary workspace (and a separate "outside" directory) for one test.
final class TestDirs {
    let root: String
    let workspace: String
    let outside: String

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/cma-sandbox-test-XXXXXX").utf8CString)
        let made: String? = template.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress, let result = mkdtemp(base) else { return nil }
            return String(cString: result)
        }
        guard let path = made else { throw AgentClient.Failure(description: "mkdtemp failed") }
        // Resolve symlinks (e.g. /tmp) so paths compare with what commands print.
        guard let resolved = realpath(path, nil) else { throw AgentClient.Failure(description: "realpath failed") }
        root = String(cString: resolved)
        free(resolved)
        workspace = root + "/ws"
        outside = root + "/outside"
        try FileManager.default.createDirectory(atPath: workspace, withIntermediateDirectories: false)
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: false)
        try Data("secret\n".utf8).write(to: URL(fileURLWithPath: outside + "/secret.txt"))
    }

    func ws(_ relative: String) -> String { workspace + "/" + relative }

    /// A description of the outside directory's whole content (names, types, contents).
    func outsideSnapshot() -> [String] {
        var result: [String] = []
        let fm = FileManager.default
        guard let enumerator = fm.enumerator(atPath: outside) else { return ["<unreadable>"] }
        while let name = enumerator.nextObject() as? String {
            let path = outside + "/" + name
            let content = (try? Data(contentsOf: URL(fileURLWithPath: path))).map { String(decoding: $0, as: UTF8.self) } ?? "<dir>"
            result.append(name + "=" + content)
        }
        return result.sorted()
    }

    func cleanup() {
        // Undo anything that would stop removal (e.g. unreadable directories).
        _ = try? Process.run(URL(fileURLWithPath: "/bin/chmod"), arguments: ["-R", "u+rwx", root]).waitUntilExit()
        try? FileManager.default.removeItem(atPath: root)
    }
}

/// Whether a process is alive (not gone and not a zombie).
func processAlive(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
    guard let close = stat.lastIndex(of: ")") else { return false }
    let rest = stat[stat.index(after: close)...].split(separator: " ")
    return rest.first.map { $0 != "Z" && $0 != "X" } ?? false
}

/// Polls until `pid` is dead; false if it is still alive after `timeout`.
func waitUntilDead(_ pid: Int32, timeout: TimeInterval = 5) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while processAlive(pid) {
        if Date() > deadline { return false }
        usleep(20_000)
    }
    return true
}

func b64(_ bytes: [UInt8]) -> JSONValue { .string(Data(bytes).base64EncodedString()) }
func b64(_ text: String) -> JSONValue { b64(Array(text.utf8)) }

func decodeData(_ reply: JSONValue) -> [UInt8]? {
    guard let s = reply["data"]?.stringValue, let d = Data(base64Encoded: s) else { return nil }
    return Array(d)
}

func fileBytes(_ path: String) -> [UInt8]? {
    (try? Data(contentsOf: URL(fileURLWithPath: path))).map { Array($0) }
}
