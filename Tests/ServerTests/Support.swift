import AgentsAPI
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import ModelProviders
import NIOCore
import NIOHTTP1
import Runtime
import Server
import ServiceLifecycle
import Storage
import Synchronization
import TestSupport
import Testing

/// The whole server on a loopback port: real HTTP in, scripted model server out, a real SQLite file.
final class ServerHarness: Sendable {
    let model: ScriptedModelServer
    let store: SQLiteStore
    let runtime: AgentRuntime
    let port: Int
    let key: String
    let projectID: String
    let directory: URL
    let client: HTTPClient
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    private init(
        model: ScriptedModelServer, store: SQLiteStore, runtime: AgentRuntime, port: Int, key: String, projectID: String, directory: URL,
        client: HTTPClient, group: ServiceGroup, task: Task<Void, any Error>
    ) {
        self.group = group
        self.model = model
        self.store = store
        self.runtime = runtime
        self.port = port
        self.key = key
        self.projectID = projectID
        self.directory = directory
        self.client = client
        self.task = task
    }

    static func start(heartbeat: Duration = .seconds(3600), rateLimit: RateLimit? = .standard, shutdownGrace: Duration = .zero) async throws -> ServerHarness {
        let model = try await ScriptedModelServer.start(fallback: .echo)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cma-server-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: directory.appendingPathComponent("cma.sqlite").path)
        let (key, projectID) = try await APIKeys.create(in: store)
        var logger = Logger(label: "test.server")
        logger.logLevel = .critical
        let modelClient = OpenAIResponsesClient(
            configuration: model.clientConfiguration(retry: RetryPolicy(maxRetries: 1, initialBackoff: .milliseconds(5))), logger: logger)
        let runtime = AgentRuntime(store: store, model: modelClient, logger: logger, heartbeatInterval: heartbeat, shutdownGrace: shutdownGrace)
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = buildApplication(
            runtime: runtime, configuration: ServerConfiguration(host: "127.0.0.1", port: 0, rateLimit: rateLimit), logger: logger,
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            })
        let group = ServiceGroup(configuration: .init(services: [app, runtime], logger: logger))
        let task = Task { try await group.run() }
        var iterator = portStream.makeAsyncIterator()
        let port = try #require(await iterator.next())
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        return ServerHarness(
            model: model, store: store, runtime: runtime, port: port, key: key, projectID: projectID, directory: directory, client: client, group: group,
            task: task)
    }

    /// Starts a graceful shutdown as SIGTERM does (the runtime first, then the HTTP server).
    func beginShutdown() {
        let group = self.group
        Task { await group.triggerGracefulShutdown() }
    }

    func stop() async {
        try? await client.shutdown()
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        await model.shutdown()
        try? store.close()
        try? FileManager.default.removeItem(at: directory)
    }

    var base: String { "http://127.0.0.1:\(port)" }

    struct Reply: Sendable {
        var status: Int
        var headers: [(String, String)]
        var body: [UInt8]

        var json: JSONValue? { try? JSONParser.parse(body) }
        var error: JSONValue? { json?["error"] }

        func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
    }

    /// One request. `key: nil` sends no Authorization header; the default is the harness's key.
    func request(
        _ method: HTTPMethod, _ path: String, json: JSONValue? = nil, raw: [UInt8]? = nil, key: String?? = .none,
        headers: [(String, String)] = []
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        let useKey: String? = key ?? self.key
        if let useKey { request.headers.add(name: "Authorization", value: "Bearer \(useKey)") }
        request.headers.add(name: "OpenAI-Beta", value: "agents=v1")
        for (n, v) in headers { request.headers.add(name: n, value: v) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: JSONWriter.bytes(json)))
        } else if let raw {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: raw))
        }
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 64 * 1024 * 1024)
        return Reply(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) }, body: Array(body.readableBytesView))
    }

    /// Opens an SSE response and records its raw frames.
    func openStream(_ method: HTTPMethod, _ path: String, json: JSONValue? = nil) async throws -> SSEReader {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(key)")
        request.headers.add(name: "Accept", value: "text/event-stream")
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: JSONWriter.bytes(json)))
        }
        let response = try await client.execute(request, timeout: .seconds(60))
        return SSEReader(response: response)
    }

    func createAgent(_ body: JSONValue = ["model": "gpt-test"]) async throws -> JSONValue {
        let reply = try await request(.POST, "/v1/agents", json: body)
        #expect(reply.status == 200)
        return try #require(reply.json)
    }

    func createSession(input: String = "hi", extra: JSONObject = [:]) async throws -> JSONValue {
        var body: JSONObject = ["agent": ["model": "gpt-test"], "environment": ["type": "none"], "input": .string(input)]
        for (k, v) in extra { body[k] = v }
        let reply = try await request(.POST, "/v1/agents/sessions", json: .object(body))
        #expect(reply.status == 200, "\(String(decoding: reply.body, as: UTF8.self))")
        return try #require(reply.json)
    }

    func waitForStatus(_ sessionID: String, _ status: String, timeout: Duration = .seconds(10)) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            let reply = try await request(.GET, "/v1/agents/sessions/\(sessionID)")
            if reply.json?["status"]?.stringValue == status { return }
            if clock.now >= deadline {
                Issue.record("session \(sessionID) did not reach \(status); last: \(reply.json?["status"] ?? .null)")
                throw TimeoutError()
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}

struct TimeoutError: Error {}

func withServer(
    heartbeat: Duration = .seconds(3600), rateLimit: RateLimit? = .standard, shutdownGrace: Duration = .zero, _ body: (ServerHarness) async throws -> Void
) async throws {
    let server = try await ServerHarness.start(heartbeat: heartbeat, rateLimit: rateLimit, shutdownGrace: shutdownGrace)
    do {
        try await body(server)
    } catch {
        await server.stop()
        throw error
    }
    await server.stop()
}

/// Reads SSE frames from a streaming response into a list, in the background.
final class SSEReader: Sendable {
    let status: Int
    let headers: [(String, String)]
    private let task: Task<Void, Never>

    init(response: HTTPClientResponse) {
        status = Int(response.status.code)
        headers = response.headers.map { ($0.name, $0.value) }
        let state = Box()
        self.box = state
        task = Task {
            var pending = ""
            do {
                for try await buffer in response.body {
                    pending += String(buffer: buffer)
                    state.appendRaw(String(buffer: buffer))
                    while let range = pending.range(of: "\n\n") {
                        state.appendFrame(String(pending[..<range.lowerBound]))
                        pending = String(pending[range.upperBound...])
                    }
                }
            } catch {}
            state.end()
        }
    }

    private let box: Box

    final class Box: Sendable {
        let value = Mutex<(frames: [String], raw: String, ended: Bool)>(([], "", false))
        func appendFrame(_ f: String) { value.withLock { $0.frames.append(f) } }
        func appendRaw(_ r: String) { value.withLock { $0.raw += r } }
        func end() { value.withLock { $0.ended = true } }
    }

    var frames: [String] { box.value.withLock { $0.frames } }
    var raw: String { box.value.withLock { $0.raw } }
    var ended: Bool { box.value.withLock { $0.ended } }

    /// The JSON payloads of data frames (not comments, not [DONE]).
    var events: [JSONValue] {
        frames.compactMap { frame in
            guard let line = frame.split(separator: "\n").first(where: { $0.hasPrefix("data: ") }) else { return nil }
            let payload = line.dropFirst("data: ".count)
            guard payload != "[DONE]" else { return nil }
            return try? JSONParser.parse(String(payload))
        }
    }

    var types: [String] { events.compactMap { $0["type"]?.stringValue } }

    func wait(timeout: Duration = .seconds(10), _ what: String, until predicate: (SSEReader) -> Bool) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while !predicate(self) {
            if clock.now >= deadline {
                Issue.record("timed out waiting for \(what); frames: \(types)")
                throw TimeoutError()
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    func close() {
        task.cancel()
    }
}
