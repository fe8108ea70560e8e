public import CMAJSON
import HTTPTypes
import Hummingbird
import MCPTestLogic
import NIOCore
import Synchronization

/// An MCP server over streamable HTTP on loopback, for tests: the tools of `MCPTestLogic`,
/// answering requests with JSON or with an event stream (`mode`). It gives a session ID at
/// initialisation and requires it afterwards, and records the headers of every request.
public final class MCPHTTPTestServer: Sendable {
    public enum Mode: Sendable { case json, sse }

    public struct Received: Sendable {
        public var method: String
        public var rpcMethod: String?
        public var headers: [(name: String, value: String)]

        public func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
    }

    struct State {
        var received: [Received] = []
        var sessions: [String: MCPTestLogic] = [:]
        var requiredAuthorization: String?
        var mode: Mode
        var answerDelay: Duration = .zero
        /// `barrier` calls in flight.
        var atBarrier = 0
    }

    private let box: StateBox
    private let server: LoopbackServer
    public var port: Int { server.port }

    public var url: String { "http://127.0.0.1:\(port)/mcp" }

    private init(box: StateBox, server: LoopbackServer) {
        self.box = box
        self.server = server
    }

    /// Every request received so far.
    public var received: [Received] { box.state.withLock { $0.received } }

    /// Tool calls received, by name.
    public var toolCalls: [String] { box.state.withLock { $0.sessions.values.flatMap(\.calls) } }

    /// Requests need exactly this `Authorization` value (nil: any).
    public func requireAuthorization(_ value: String?) { box.state.withLock { $0.requiredAuthorization = value } }

    /// Answers wait this long (for timeout tests).
    public func setAnswerDelay(_ delay: Duration) { box.state.withLock { $0.answerDelay = delay } }

    public static func start(mode: Mode = .json) async throws -> MCPHTTPTestServer {
        let box = StateBox(mode: mode)
        let router = Router()
        router.post("mcp") { request, _ -> Response in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 20)
            let message = (try? JSONParser.parse(Array(body.readableBytesView))) ?? .null
            return await box.handlePost(request: request, message: message)
        }
        router.get("mcp") { _, _ -> Response in Response(status: .methodNotAllowed) }
        router.delete("mcp") { request, _ -> Response in
            if let id = request.headers[HTTPField.Name("Mcp-Session-Id")!] { box.state.withLock { _ = $0.sessions.removeValue(forKey: id) } }
            return Response(status: .noContent)
        }
        let server = try await LoopbackServer.start(router: router, name: "MCP test server")
        return MCPHTTPTestServer(box: box, server: server)
    }

    public func shutdown() async { await server.shutdown() }
}

private final class StateBox: Sendable {
    let state: Mutex<MCPHTTPTestServer.State>

    init(mode: MCPHTTPTestServer.Mode) { self.state = Mutex(MCPHTTPTestServer.State(mode: mode)) }

    func handlePost(request: Request, message: JSONValue) async -> Response {
        let headers = request.headers.map { (name: $0.name.rawName, value: $0.value) }
        let rpcMethod = message["method"]?.stringValue
        let (required, delay, mode) = state.withLock { s in
            s.received.append(.init(method: "POST", rpcMethod: rpcMethod, headers: headers))
            return (s.requiredAuthorization, s.answerDelay, s.mode)
        }
        if let required, request.headers[.authorization] != required {
            return Response(status: .unauthorized)
        }
        let sessionHeader = HTTPField.Name("Mcp-Session-Id")!
        var sessionID = request.headers[sessionHeader]
        var extra = HTTPFields()
        let logic: MCPTestLogic? = state.withLock { s in
            if rpcMethod == "initialize" {
                let id = "sess-\(s.sessions.count + 1)-\(UInt32.random(in: 0...UInt32.max))"
                s.sessions[id] = MCPTestLogic(sleep: { _ in })
                sessionID = id
            }
            return sessionID.flatMap { s.sessions[$0] }
        }
        guard let logic, let sessionID else { return Response(status: sessionID == nil ? .badRequest : .notFound) }
        if rpcMethod == "initialize" { extra[sessionHeader] = sessionID }
        if rpcMethod == "tools/call", message["params"]?["name"]?.stringValue == "slow" {
            let ms = Int(message["params"]?["arguments"]?["ms"]?.intValue ?? 100)
            try? await Task.sleep(for: .milliseconds(ms))
        }
        if delay > .zero { try? await Task.sleep(for: delay) }
        if rpcMethod == "tools/call", message["params"]?["name"]?.stringValue == "barrier" {
            // Answers "together" once `n` barrier calls are in flight at once, "alone" after 3 s.
            let n = Int(message["params"]?["arguments"]?["n"]?.intValue ?? 2)
            state.withLock { $0.atBarrier += 1 }
            let deadline = ContinuousClock.now + .seconds(3)
            var together = false
            while ContinuousClock.now < deadline {
                if state.withLock({ $0.atBarrier >= n }) {
                    together = true
                    break
                }
                try? await Task.sleep(for: .milliseconds(10))
            }
            let id = message["id"] ?? .null
            let text = together ? "together" : "alone"
            let reply: JSONValue = ["jsonrpc": "2.0", "id": id, "result": ["content": [["type": "text", "text": .string(text)]], "isError": false]]
            extra[.contentType] = "application/json"
            return Response(status: .ok, headers: extra, body: .init(byteBuffer: ByteBuffer(bytes: JSONWriter.bytes(reply))))
        }
        let replies = state.withLock { _ in logic.handle(message) }
        guard !replies.isEmpty else { return Response(status: .accepted, headers: extra) }
        switch mode {
        case .json:
            // Notifications cannot ride on a JSON answer: only the response is sent.
            let response = replies.last!
            extra[.contentType] = "application/json"
            return Response(status: .ok, headers: extra, body: .init(byteBuffer: ByteBuffer(bytes: JSONWriter.bytes(response))))
        case .sse:
            extra[.contentType] = "text/event-stream"
            var text: [UInt8] = []
            for reply in replies {
                text += Array("event: message\ndata: ".utf8) + JSONWriter.bytes(reply) + Array("\n\n".utf8)
            }
            return Response(status: .ok, headers: extra, body: .init(byteBuffer: ByteBuffer(bytes: text)))
        }
    }
}
