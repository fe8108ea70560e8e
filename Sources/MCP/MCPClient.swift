public import CMAJSON
import Synchronization

/// An error of an MCP server or of the connection to it. Its message is safe to show to the
/// model and to API clients: it never carries headers, authorization or environment values.
public struct MCPError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The server could not be reached or started, or the connection broke.
        case connection
        /// The server did not answer in time.
        case timeout
        /// The server answered with a JSON-RPC error.
        case server(code: Int64)
        /// The server broke the protocol.
        case protocolViolation
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// A tool as an MCP server lists it.
public struct MCPToolInfo: Sendable, Equatable {
    public var name: String
    public var description: String
    public var inputSchema: JSONObject
    /// `annotations.destructiveHint == true`: calls need the user's approval.
    public var destructive: Bool

    public init(name: String, description: String, inputSchema: JSONObject, destructive: Bool) {
        self.name = name
        self.description = description
        self.inputSchema = inputSchema
        self.destructive = destructive
    }
}

/// The result of `tools/call`.
public struct MCPCallResult: Sendable, Equatable {
    /// The result's `content` blocks.
    public var content: [JSONValue]
    public var structuredContent: JSONValue?
    /// `isError`: the tool ran and reports a failure.
    public var isError: Bool

    /// The text parts joined, with a placeholder for other content: what the model reads.
    public var text: String {
        var parts: [String] = []
        for block in content {
            switch block["type"]?.stringValue {
            case "text": parts.append(block["text"]?.stringValue ?? "")
            case "image": parts.append("[image: \(block["mimeType"]?.stringValue ?? "unknown type")]")
            case "audio": parts.append("[audio: \(block["mimeType"]?.stringValue ?? "unknown type")]")
            case "resource_link": parts.append("[resource: \(block["uri"]?.stringValue ?? "")]")
            case "resource":
                if let text = block["resource"]?["text"]?.stringValue { parts.append(text) } else { parts.append("[resource: \(block["resource"]?["uri"]?.stringValue ?? "")]") }
            default: parts.append(JSONWriter.string(block))
            }
        }
        if parts.isEmpty, let structuredContent { return JSONWriter.string(structuredContent) }
        return parts.joined(separator: "\n")
    }
}

/// Carries JSON-RPC messages to and from one MCP server. `send` returns once the message is on
/// its way (HTTP: once the response that carries the answer is being read); what the server
/// sends back arrives through the `deliver` callback given when the channel was made.
public protocol MCPChannel: Sendable {
    func send(_ message: JSONValue) async throws(MCPError)
    func close() async
}

/// What a channel reports to its client.
public struct MCPChannelEvents: Sendable {
    public var deliver: @Sendable (JSONValue) -> Void
    public var closed: @Sendable (MCPError) -> Void

    public init(deliver: @escaping @Sendable (JSONValue) -> Void, closed: @escaping @Sendable (MCPError) -> Void) {
        self.deliver = deliver
        self.closed = closed
    }
}

/// A client of one MCP server (protocol revision 2025-06-18): initialisation, `tools/list` with
/// paging, `tools/call`, timeouts with `notifications/cancelled`, and `tools/list_changed`.
/// Requests from the server are answered (`ping`) or refused (`method not found`): this client
/// offers no sampling, roots or elicitation.
public final class MCPClient: Sendable {
    public static let protocolVersion = "2025-06-18"

    private struct State {
        var nextID: Int64 = 1
        var pending: [Int64: CheckedContinuation<JSONValue, any Error>] = [:]
        var closed: MCPError?
        var toolsChanged = false
    }

    public let label: String
    private let state = Mutex(State())
    private let channelBox = Mutex<(any MCPChannel)?>(nil)

    public init(label: String) {
        self.label = label
    }

    /// The callbacks to give the channel made for this client.
    public var channelEvents: MCPChannelEvents {
        MCPChannelEvents(deliver: { [weak self] in self?.receive($0) }, closed: { [weak self] in self?.channelClosed($0) })
    }

    public func attach(_ channel: any MCPChannel) {
        channelBox.withLock { $0 = channel }
    }

    /// True once the server said its tool list changed (cleared by `listTools`).
    public var toolsChanged: Bool { state.withLock { $0.toolsChanged } }

    /// Why the connection ended, if it has.
    public var closedError: MCPError? { state.withLock { $0.closed } }

    /// `initialize`, then `notifications/initialized`.
    public func initialize(timeout: Duration) async throws(MCPError) {
        let result = try await request(
            "initialize",
            [
                "protocolVersion": .string(Self.protocolVersion), "capabilities": [:],
                "clientInfo": ["name": "cma", "title": "Codex managed agents runtime", "version": "1.0"],
            ], timeout: timeout)
        guard result["protocolVersion"]?.stringValue != nil else {
            throw MCPError(.protocolViolation, "The MCP server '\(label)' answered initialize without a protocol version.")
        }
        try await notify("notifications/initialized", nil)
    }

    /// Every tool of the server (all pages).
    public func listTools(timeout: Duration) async throws(MCPError) -> [MCPToolInfo] {
        state.withLock { $0.toolsChanged = false }
        var tools: [MCPToolInfo] = []
        var cursor: String?
        var pages = 0
        repeat {
            pages += 1
            guard pages <= 100 else { throw MCPError(.protocolViolation, "The MCP server '\(label)' listed more than 100 pages of tools.") }
            let result = try await request("tools/list", cursor.map { ["cursor": .string($0)] } ?? [:], timeout: timeout)
            guard let list = result["tools"]?.arrayValue else {
                throw MCPError(.protocolViolation, "The MCP server '\(label)' answered tools/list without a tool list.")
            }
            for t in list {
                guard let name = t["name"]?.stringValue, !name.isEmpty else { continue }
                tools.append(
                    MCPToolInfo(
                        name: name, description: t["description"]?.stringValue ?? t["title"]?.stringValue ?? "",
                        inputSchema: t["inputSchema"]?.objectValue ?? ["type": "object", "properties": [:]],
                        destructive: t["annotations"]?["destructiveHint"]?.boolValue == true))
            }
            cursor = result["nextCursor"]?.stringValue
        } while cursor != nil
        return tools
    }

    /// `tools/call`. A tool that reports an error (`isError`) is a result, not a thrown error.
    public func callTool(_ name: String, arguments: JSONObject, meta: JSONObject?, timeout: Duration) async throws(MCPError) -> MCPCallResult {
        var params: JSONObject = ["name": .string(name), "arguments": .object(arguments)]
        if let meta, !meta.isEmpty { params["_meta"] = .object(meta) }
        let result = try await request("tools/call", params, timeout: timeout)
        return MCPCallResult(
            content: result["content"]?.arrayValue ?? [], structuredContent: result["structuredContent"], isError: result["isError"]?.boolValue == true)
    }

    public func close() async {
        let channel = channelBox.withLock { c -> (any MCPChannel)? in
            defer { c = nil }
            return c
        }
        channelClosed(MCPError(.connection, "The connection to the MCP server '\(label)' was closed."))
        await channel?.close()
    }

    // MARK: JSON-RPC

    func request(_ method: String, _ params: JSONObject, timeout: Duration) async throws(MCPError) -> JSONValue {
        guard let channel = channelBox.withLock({ $0 }) else {
            throw state.withLock { $0.closed } ?? MCPError(.connection, "The MCP server '\(label)' is not connected.")
        }
        let id = state.withLock { s -> Int64 in
            defer { s.nextID += 1 }
            return s.nextID
        }
        let message: JSONValue = ["jsonrpc": "2.0", "id": .int(id), "method": .string(method), "params": .object(params)]
        let label = self.label
        let timer = Task { [weak self] in
            try await Task.sleep(for: timeout)
            self?.fail(id, MCPError(.timeout, "The MCP server '\(label)' did not answer \(method) within \(Self.describe(timeout))."))
            if method != "initialize" {
                try? await channel.send(["jsonrpc": "2.0", "method": "notifications/cancelled", "params": ["requestId": .int(id), "reason": "timeout"]])
            }
        }
        defer { timer.cancel() }
        do {
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<JSONValue, any Error>) in
                    let closed = state.withLock { s -> MCPError? in
                        if let closed = s.closed { return closed }
                        s.pending[id] = continuation
                        return nil
                    }
                    if let closed {
                        continuation.resume(throwing: closed)
                        return
                    }
                    Task {
                        do {
                            try await channel.send(message)
                        } catch {
                            self.fail(id, (error as? MCPError) ?? MCPError(.connection, "\(error)"))
                        }
                    }
                }
            } onCancel: {
                self.fail(id, MCPError(.connection, "The call to the MCP server '\(label)' was cancelled."))
                Task { try? await channel.send(["jsonrpc": "2.0", "method": "notifications/cancelled", "params": ["requestId": .int(id), "reason": "cancelled"]]) }
            }
        } catch let error as MCPError {
            throw error
        } catch {
            throw MCPError(.connection, "\(error)")
        }
    }

    func notify(_ method: String, _ params: JSONObject?) async throws(MCPError) {
        guard let channel = channelBox.withLock({ $0 }) else { throw MCPError(.connection, "The MCP server '\(label)' is not connected.") }
        var message: JSONObject = ["jsonrpc": "2.0", "method": .string(method)]
        if let params { message["params"] = .object(params) }
        try await channel.send(.object(message))
    }

    private func fail(_ id: Int64, _ error: MCPError) {
        state.withLock { $0.pending.removeValue(forKey: id) }?.resume(throwing: error)
    }

    private func channelClosed(_ error: MCPError) {
        let waiting = state.withLock { s -> [CheckedContinuation<JSONValue, any Error>] in
            if s.closed == nil { s.closed = error }
            defer { s.pending = [:] }
            return Array(s.pending.values)
        }
        for continuation in waiting { continuation.resume(throwing: error) }
    }

    /// One message from the server: a response, a request, or a notification (or a batch).
    func receive(_ message: JSONValue) {
        if case .array(let batch) = message {
            for m in batch { receive(m) }
            return
        }
        guard case .object(let o) = message else { return }
        if let method = o["method"]?.stringValue {
            if let id = o["id"], !id.isNull {
                // A request from the server.
                let reply: JSONValue =
                    method == "ping"
                    ? ["jsonrpc": "2.0", "id": id, "result": [:]]
                    : ["jsonrpc": "2.0", "id": id, "error": ["code": -32601, "message": "Method not found"]]
                if let channel = channelBox.withLock({ $0 }) { Task { try? await channel.send(reply) } }
            } else if method == "notifications/tools/list_changed" {
                state.withLock { $0.toolsChanged = true }
            }
            return
        }
        guard let id = o["id"]?.intValue else { return }
        guard let continuation = state.withLock({ $0.pending.removeValue(forKey: id) }) else { return }
        if let error = o["error"]?.objectValue {
            let message = error["message"]?.stringValue ?? "unknown error"
            continuation.resume(throwing: MCPError(.server(code: error["code"]?.intValue ?? 0), "The MCP server '\(label)' returned an error: \(message.prefix(2000))"))
        } else {
            continuation.resume(returning: o["result"] ?? .object([:]))
        }
    }

    static func describe(_ d: Duration) -> String {
        let ms = d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
        return ms % 1000 == 0 ? "\(ms / 1000) s" : "\(ms) ms"
    }
}
