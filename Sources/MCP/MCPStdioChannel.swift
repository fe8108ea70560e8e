public import CMAJSON
public import Sandbox
import Synchronization

/// MCP's stdio transport: newline-delimited JSON-RPC on the stdin and stdout of a server process
/// running inside a sandbox (never on the host). Its stderr goes to a log file in the sandbox.
public final class MCPStdioChannel: MCPChannel {
    private let label: String
    private let process: BubblewrapSandbox.InteractiveCommand
    private let reader: Task<Void, Never>
    /// Writes go out one at a time, in order.
    private let writeLock = AsyncLock()
    /// Why the process ended, once the reader saw it.
    private let ended = EndReason()

    /// The longest line accepted from the server.
    static let maxLineBytes = 16 << 20

    /// Starts `argv` in `sandbox` and reads its stdout.
    public init(label: String, sandbox: BubblewrapSandbox, argv: [String], cwd: String, env: [String: String], logPath: String?, events: MCPChannelEvents) {
        self.label = label
        let process = sandbox.execInteractive(argv, cwd: cwd, env: env, logPath: logPath)
        self.process = process
        let ended = self.ended
        let events = MCPChannelEvents(
            deliver: events.deliver,
            closed: { error in
                ended.value.withLock { if $0 == nil { $0 = error } }
                events.closed(error)
            })
        reader = Task {
            var line: [UInt8] = []
            var overflow = false
            do {
                for try await event in process.command.events {
                    switch event {
                    case .output(let bytes):
                        for byte in bytes {
                            if byte == UInt8(ascii: "\n") {
                                if !overflow, !line.isEmpty, let value = try? JSONParser.parse(line) { events.deliver(value) }
                                line.removeAll(keepingCapacity: true)
                                overflow = false
                            } else if line.count < Self.maxLineBytes {
                                line.append(byte)
                            } else {
                                overflow = true
                            }
                        }
                    case .exit(let result):
                        let how = result.exitCode.map { "exited with status \($0)" } ?? "was killed by signal \(result.signal ?? 0)"
                        events.closed(MCPError(.connection, "The MCP server '\(label)' \(how)."))
                        return
                    }
                }
                events.closed(MCPError(.connection, "The MCP server '\(label)' stopped."))
            } catch {
                let message = (error as? SandboxError)?.message ?? "\(error)"
                events.closed(MCPError(.connection, "The MCP server '\(label)' could not run: \(message)"))
            }
        }
    }

    public func send(_ message: JSONValue) async throws(MCPError) {
        var bytes = JSONWriter.bytes(message)
        bytes.append(UInt8(ascii: "\n"))
        await writeLock.lock()
        defer { writeLock.unlock() }
        do {
            try await process.write(bytes)
        } catch {
            // Most often the process has just exited: say why, once the reader has seen it.
            for _ in 0..<50 {
                if let reason = ended.value.withLock({ $0 }) { throw reason }
                try? await Task.sleep(for: .milliseconds(20))
            }
            let message = (error as? SandboxError)?.message ?? "\(error)"
            throw MCPError(.connection, "Writing to the MCP server '\(label)' failed: \(message)")
        }
    }

    public func close() async {
        try? await process.write([], eof: true)
        // A server that ignores the end of its input is stopped.
        try? await Task.sleep(for: .milliseconds(200))
        try? await process.command.signal()
        reader.cancel()
    }
}

/// Why a server process ended.
final class EndReason: Sendable {
    let value = Mutex<MCPError?>(nil)
}

/// A FIFO async mutex.
final class AsyncLock: Sendable {
    private struct State {
        var locked = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    func lock() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let acquired = state.withLock { s -> Bool in
                if !s.locked {
                    s.locked = true
                    return true
                }
                s.waiters.append(c)
                return false
            }
            if acquired { c.resume() }
        }
    }

    func unlock() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if s.waiters.isEmpty {
                s.locked = false
                return nil
            }
            return s.waiters.removeFirst()
        }
        next?.resume()
    }
}
