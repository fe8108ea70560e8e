public import AgentsAPI
import Sandbox

/// The built-in shell tool of hosted sessions, in the shape Codex models are trained on
/// (`shell_command`: one command string run by the user's shell).
public enum ShellTool {
    public static let name = "shell_command"

    /// The function tool definition offered to the model.
    public static let definition: JSONValue = [
        "type": "function",
        "name": .string(name),
        "description": """
            Runs a shell command in the session's sandbox (bash, as the sandbox user) and returns its exit code and \
            output. The workspace is /workspace and persists across turns; /tmp does not. There is no network access.
            """,
        "parameters": [
            "type": "object",
            "properties": [
                "command": ["type": "string", "description": "The shell command to run."],
                "workdir": ["type": "string", "description": "The working directory (default /workspace)."],
                "timeout_ms": ["type": "number", "description": "Stop the command after this many milliseconds."],
                "justification": ["type": "string", "description": "Why the command is needed (optional)."],
            ],
            "required": ["command"],
            "additionalProperties": false,
        ],
        "strict": false,
    ]

    public struct Arguments: Sendable, Equatable {
        public var command: String
        public var workdir: String
        public var timeoutMs: Int64?

        public init(command: String, workdir: String, timeoutMs: Int64?) {
            self.command = command
            self.workdir = workdir
            self.timeoutMs = timeoutMs
        }
    }

    /// Parses the model's arguments (a JSON string). Returns a message for the model when they
    /// are unusable.
    public static func parseArguments(_ arguments: JSONValue) -> Result<Arguments, ToolError> {
        let value: JSONValue
        switch ToolError.decodeArguments(arguments) {
        case .failure(let error): return .failure(error)
        case .success(let decoded): value = decoded
        }
        guard let command = value["command"]?.stringValue ?? value["cmd"]?.stringValue, !command.isEmpty else {
            return .failure(ToolError("Missing 'command': give the shell command to run as a string."))
        }
        guard !command.utf8.contains(0) else { return .failure(ToolError("The command must not contain NUL characters.")) }
        var workdir = value["workdir"]?.stringValue ?? SandboxPaths.workspace
        if workdir.isEmpty { workdir = SandboxPaths.workspace }
        if !workdir.hasPrefix("/") { workdir = SandboxPaths.workspace + "/" + workdir }
        let timeout = value["timeout_ms"]?.intValue ?? value["timeout"]?.intValue
        return .success(Arguments(command: command, workdir: workdir, timeoutMs: timeout.map { max(1, $0) }))
    }

    /// The command line run in the sandbox.
    public static func argv(for command: String) -> [String] {
        ["/bin/bash", "-lc", command]
    }

    /// What the model gets back: exit code, wall time and the (capped) output, as Codex reports it.
    public static func modelOutput(exitCode: Int?, signal: Int?, timedOut: Bool, durationMs: Int64, output: CappedOutput, logPath: String?) -> String {
        var lines: [String] = []
        if timedOut {
            lines.append("Exit code: \(exitCode.map(String.init) ?? "none") (the command timed out and was killed)")
        } else if let exitCode {
            lines.append("Exit code: \(exitCode)")
        } else {
            lines.append("Exit code: none (killed by signal \(signal ?? 0))")
        }
        lines.append("Wall time: \(Self.seconds(durationMs)) seconds")
        if output.omittedBytes > 0, let logPath {
            lines.append("Full output: \(logPath)")
        }
        lines.append("Output:")
        return lines.joined(separator: "\n") + "\n" + output.text
    }

    static func seconds(_ ms: Int64) -> String {
        let whole = ms / 1000
        let tenths = (ms % 1000) / 100
        return "\(whole).\(tenths)"
    }
}

/// A message for the model about why a tool call could not run.
public struct ToolError: Error, Sendable, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }

    /// A function call's arguments as JSON: the model sends them as a JSON string.
    public static func decodeArguments(_ arguments: JSONValue) -> Result<JSONValue, ToolError> {
        guard case .string(let text) = arguments else { return .success(arguments) }
        guard let parsed = try? JSONParser.parse(text) else { return .failure(ToolError("The arguments are not valid JSON.")) }
        return .success(parsed)
    }
}

public enum SandboxPaths {
    public static let workspace = "/workspace"
    /// Where full command outputs are kept (the model is told when its copy was cut).
    public static let logs = SandboxConfiguration.commandLogsPath
}

/// Output reduced to a head and a tail, with a marker saying how much was left out.
public struct CappedOutput: Sendable, Equatable {
    public var text: String
    public var omittedBytes: Int
    public var totalBytes: Int

    /// Caps `bytes` to at most `maxBytes` and `maxLines` (half from the start, half from the end).
    public init(_ bytes: [UInt8], totalBytes: Int? = nil, maxBytes: Int = 10 * 1024, maxLines: Int = 256) {
        let total = totalBytes ?? bytes.count
        self.totalBytes = total
        let lineCount = bytes.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
        if bytes.count <= maxBytes && lineCount <= maxLines && total == bytes.count {
            text = String(decoding: bytes, as: UTF8.self)
            omittedBytes = 0
            return
        }
        let head = Self.prefix(bytes, maxBytes: maxBytes / 2, maxLines: maxLines / 2)
        let tail = Self.suffix(bytes[head.count...], maxBytes: maxBytes / 2, maxLines: maxLines / 2)
        let omitted = total - head.count - tail.count
        omittedBytes = omitted
        text = String(decoding: head, as: UTF8.self) + "\n[… \(omitted) bytes omitted …]\n" + String(decoding: tail, as: UTF8.self)
    }

    private static func prefix(_ bytes: [UInt8], maxBytes: Int, maxLines: Int) -> ArraySlice<UInt8> {
        var end = min(bytes.count, maxBytes)
        var lines = 0
        for i in 0..<end where bytes[i] == UInt8(ascii: "\n") {
            lines += 1
            if lines == maxLines {
                end = i + 1
                break
            }
        }
        // Do not cut a UTF-8 sequence.
        while end > 0, end < bytes.count, bytes[end] & 0xC0 == 0x80 { end -= 1 }
        return bytes[0..<end]
    }

    private static func suffix(_ bytes: ArraySlice<UInt8>, maxBytes: Int, maxLines: Int) -> ArraySlice<UInt8> {
        var start = max(bytes.startIndex, bytes.endIndex - maxBytes)
        var lines = 0
        var i = bytes.endIndex - 1
        while i >= start {
            if bytes[i] == UInt8(ascii: "\n"), i != bytes.endIndex - 1 {
                lines += 1
                if lines == maxLines {
                    start = i + 1
                    break
                }
            }
            i -= 1
        }
        while start < bytes.endIndex, bytes[start] & 0xC0 == 0x80 { start += 1 }
        return bytes[start...]
    }
}

/// Turns a stream of byte chunks into valid UTF-8 text chunks, holding back a sequence split
/// across chunks (invalid bytes become U+FFFD).
public struct UTF8ChunkDecoder: Sendable {
    private var pending: [UInt8] = []

    public init() {}

    public mutating func decode(_ chunk: [UInt8]) -> String {
        var bytes = pending + chunk
        pending = []
        // Hold back an incomplete trailing sequence (at most 3 bytes).
        var cut = bytes.count
        var i = bytes.count - 1
        var checked = 0
        while i >= 0, checked < 4 {
            let b = bytes[i]
            if b & 0xC0 == 0x80 {
                i -= 1
                checked += 1
                continue
            }
            let length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
            if bytes.count - i < length { cut = i }
            break
        }
        if cut < bytes.count {
            pending = Array(bytes[cut...])
            bytes.removeSubrange(cut...)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whatever is left at the end (an incomplete sequence becomes U+FFFD).
    public mutating func finish() -> String {
        defer { pending = [] }
        return pending.isEmpty ? "" : String(decoding: pending, as: UTF8.self)
    }
}

/// Keeps the first and last `half` bytes of a stream of any length (for items and the model),
/// counting the total.
public struct HeadTailBuffer: Sendable {
    public let half: Int
    public private(set) var head: [UInt8] = []
    private var tail: [UInt8] = []
    public private(set) var total = 0

    public init(half: Int) {
        self.half = half
    }

    public mutating func append(_ chunk: [UInt8]) {
        total += chunk.count
        var rest = chunk[...]
        if head.count < half {
            let take = min(half - head.count, rest.count)
            head += rest.prefix(take)
            rest = rest.dropFirst(take)
        }
        guard !rest.isEmpty else { return }
        tail += rest
        if tail.count > 2 * half { tail.removeFirst(tail.count - half) }
    }

    /// The retained bytes: everything when nothing was dropped, else head + tail.
    public var bytes: [UInt8] {
        let tailBytes = tail.count > half ? Array(tail.suffix(half)) : tail
        return head + tailBytes
    }

    public var droppedBytes: Int { total - bytes.count }
}
