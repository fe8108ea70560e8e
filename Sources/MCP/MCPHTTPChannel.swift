public import AsyncHTTPClient
public import CMAJSON
import ModelProviders
import NIOCore
import NIOHTTP1
import Synchronization

/// MCP's streamable HTTP transport, on async-http-client (the MCP Swift SDK's HTTP transport
/// does not stream on Linux).
///
/// Every message is a `POST` to the server URL with `Accept: application/json,
/// text/event-stream`. A notification or response gets `202`. A request gets either one JSON
/// message or an event stream, which may carry the server's own requests and notifications
/// before the answer; the stream is read while it lasts. The `Mcp-Session-Id` the server gives
/// at initialisation is sent with every later message, together with `MCP-Protocol-Version`.
/// After initialisation a `GET` stream is opened for messages the server sends on its own
/// (`tools/list_changed`); a server without one answers `405`, which is fine. `close` ends the
/// session with `DELETE`.
///
/// Headers and authorization are sent, never logged, and never part of an error message.
public final class MCPHTTPChannel: MCPChannel {
    private struct State {
        var sessionID: String?
        var protocolVersion: String?
        var listener: Task<Void, Never>?
        var closed = false
    }

    let url: String
    let label: String
    let headers: [(String, String)]
    let httpClient: HTTPClient
    let events: MCPChannelEvents
    /// Longest wait for a response's head, and longest silence in a stream.
    let readTimeout: Duration
    private let state = Mutex(State())
    /// The largest single message accepted (a runaway server cannot exhaust memory).
    static let maxMessageBytes = 16 << 20

    public init(url: String, label: String, headers: [(String, String)], authorization: String?, httpClient: HTTPClient, events: MCPChannelEvents, readTimeout: Duration = .seconds(300)) {
        self.url = url
        self.label = label
        var all = headers
        if let authorization {
            // A bare token is sent as a bearer token; a value with a scheme as it is.
            all.append(("Authorization", authorization.contains(" ") ? authorization : "Bearer " + authorization))
        }
        self.headers = all
        self.httpClient = httpClient
        self.events = events
        self.readTimeout = readTimeout
    }

    private func request(method: HTTPMethod) -> HTTPClientRequest {
        var r = HTTPClientRequest(url: url)
        r.method = method
        for (name, value) in headers { r.headers.add(name: name, value: value) }
        let (session, version) = state.withLock { ($0.sessionID, $0.protocolVersion) }
        if let session { r.headers.replaceOrAdd(name: "Mcp-Session-Id", value: session) }
        if let version { r.headers.replaceOrAdd(name: "MCP-Protocol-Version", value: version) }
        return r
    }

    public func send(_ message: JSONValue) async throws(MCPError) {
        if state.withLock({ $0.closed }) { throw MCPError(.connection, "The connection to the MCP server '\(label)' was closed.") }
        var r = request(method: .POST)
        r.headers.replaceOrAdd(name: "Content-Type", value: "application/json")
        r.headers.replaceOrAdd(name: "Accept", value: "application/json, text/event-stream")
        r.body = .bytes(ByteBuffer(bytes: JSONWriter.bytes(message)))
        let isInitialize = message["method"]?.stringValue == "initialize"
        let response: HTTPClientResponse
        do {
            response = try await httpClient.execute(r, deadline: .now() + TimeAmount(readTimeout))
        } catch {
            throw MCPError(.connection, "The MCP server '\(label)' could not be reached: \(Self.describe(error)).")
        }
        if isInitialize, let session = response.headers.first(name: "Mcp-Session-Id") {
            state.withLock { $0.sessionID = session }
        }
        switch response.status.code {
        case 202, 204:
            return
        case 200..<300:
            break
        case 404 where state.withLock({ $0.sessionID != nil }) && !isInitialize:
            let error = MCPError(.connection, "The MCP server '\(label)' ended the session.")
            events.closed(error)
            throw error
        case 401, 403:
            throw MCPError(.connection, "The MCP server '\(label)' refused the credentials (HTTP \(response.status.code)).")
        default:
            throw MCPError(.connection, "The MCP server '\(label)' answered HTTP \(response.status.code).")
        }
        let contentType = response.headers.first(name: "Content-Type")?.lowercased() ?? ""
        if contentType.hasPrefix("text/event-stream") {
            try await readStream(response.body)
        } else {
            var body: [UInt8] = []
            do {
                for try await chunk in response.body {
                    body.append(contentsOf: chunk.readableBytesView)
                    if body.count > Self.maxMessageBytes { throw MCPError(.protocolViolation, "The MCP server '\(label)' sent a message over 16 MiB.") }
                }
            } catch let error as MCPError {
                throw error
            } catch {
                throw MCPError(.connection, "The response of the MCP server '\(label)' broke off: \(Self.describe(error)).")
            }
            guard !body.isEmpty else { return }
            guard let value = try? JSONParser.parse(body) else {
                throw MCPError(.protocolViolation, "The MCP server '\(label)' sent a response that is not JSON.")
            }
            if isInitialize, let version = value["result"]?["protocolVersion"]?.stringValue { state.withLock { $0.protocolVersion = version } }
            events.deliver(value)
        }
        if isInitialize { startListener() }
    }

    /// Reads an event stream, delivering each message.
    private func readStream(_ body: HTTPClientResponse.Body) async throws(MCPError) {
        var parser = ServerSentEventParser()
        var pending = 0
        do {
            for try await chunk in body {
                pending += chunk.readableBytes
                if pending > Self.maxMessageBytes { throw MCPError(.protocolViolation, "The MCP server '\(label)' sent an event over 16 MiB.") }
                try parser.feed(chunk) { data in
                    pending = 0
                    guard !data.isEmpty, let value = try? JSONParser.parse(data) else { return }
                    if let version = value["result"]?["protocolVersion"]?.stringValue, state.withLock({ $0.protocolVersion == nil }) {
                        state.withLock { $0.protocolVersion = version }
                    }
                    events.deliver(value)
                }
            }
        } catch let error as MCPError {
            throw error
        } catch {
            throw MCPError(.connection, "The event stream of the MCP server '\(label)' broke off: \(Self.describe(error)).")
        }
    }

    /// The `GET` stream for messages the server sends on its own. Reopened after it ends, with a
    /// pause; given up once the server says it has none.
    private func startListener() {
        let task = Task { [weak self] in
            var failures = 0
            while let self, !Task.isCancelled, !self.state.withLock({ $0.closed }) {
                var r = self.request(method: .GET)
                r.headers.replaceOrAdd(name: "Accept", value: "text/event-stream")
                do {
                    let response = try await self.httpClient.execute(r, deadline: .now() + .seconds(30))
                    guard response.status.code == 200, response.headers.first(name: "Content-Type")?.lowercased().hasPrefix("text/event-stream") == true else {
                        return
                    }
                    failures = 0
                    try await self.readStream(response.body)
                } catch {
                    failures += 1
                    if failures > 5 { return }
                }
                try? await Task.sleep(for: .seconds(1))
            }
        }
        state.withLock { $0.listener = task }
    }

    public func close() async {
        let (listener, session, wasClosed) = state.withLock { s -> (Task<Void, Never>?, String?, Bool) in
            defer { s.closed = true }
            return (s.listener, s.sessionID, s.closed)
        }
        listener?.cancel()
        guard !wasClosed, session != nil else { return }
        let r = request(method: .DELETE)
        _ = try? await httpClient.execute(r, deadline: .now() + .seconds(5))
    }

    /// An error's description without anything of the request (AsyncHTTPClient's errors name
    /// the failure, not headers).
    static func describe(_ error: any Error) -> String {
        if let e = error as? HTTPClientError {
            switch e {
            case .connectTimeout: return "connection timed out"
            case .readTimeout, .deadlineExceeded: return "timed out"
            case .remoteConnectionClosed: return "the connection was closed"
            default: return "\(e)"
            }
        }
        return "\(error)".prefix(300).description
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let c = duration.components
        self = .nanoseconds(c.seconds * 1_000_000_000 + c.attoseconds / 1_000_000_000)
    }
}
