import AgentsAPI
import Foundation
import Logging
import ModelProviders
import Runtime
import Sandbox
import Storage
import Synchronization
import TestSupport
import Testing

/// A runtime on a real SQLite file, calling the scripted model server over real HTTP.
final class RuntimeHarness: Sendable {
    let model: ScriptedModelServer
    let store: SQLiteStore
    let runtime: AgentRuntime
    let directory: URL
    let projectID: String
    private let runTask: Task<Void, any Error>
    /// A model client with its own HTTP client (as `cma serve` has), shut down with the harness.
    private let ownedClient: OpenAIResponsesClient?

    private init(
        model: ScriptedModelServer, store: SQLiteStore, runtime: AgentRuntime, directory: URL, projectID: String, runTask: Task<Void, any Error>,
        ownedClient: OpenAIResponsesClient? = nil
    ) {
        self.ownedClient = ownedClient
        self.model = model
        self.store = store
        self.runtime = runtime
        self.directory = directory
        self.projectID = projectID
        self.runTask = runTask
    }

    static func makeDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cma-runtime-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Starts a runtime. Pass `directory` to reopen an existing database (a restart).
    /// The package's executables sit next to the test executable.
    static let buildDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path

    static func start(
        model: ScriptedModelServer,
        directory: URL? = nil,
        retry: RetryPolicy = RetryPolicy(maxRetries: 2, initialBackoff: .milliseconds(5), maxBackoff: .milliseconds(20)),
        sandboxes: Bool = false,
        sandboxIdleTimeout: Duration? = .seconds(600),
        modelCatalog: ModelCatalog = .builtIn,
        timeReminderInterval: Duration = .seconds(300),
        readTimeout: Duration = .seconds(30),
        modelBaseURL: String? = nil,
        shutdownGrace: Duration = .zero,
        mcpSettings: MCPSettings = .init(),
        webSettings: WebSettings = .init()
    ) async throws -> RuntimeHarness {
        let dir = try directory ?? makeDirectory()
        let store = try SQLiteStore(path: dir.appendingPathComponent("cma.sqlite").path)
        let projectID: String
        if let existing = try await store.anyProjectID() {
            projectID = existing
        } else {
            projectID = try await store.createProject(name: "test")
        }
        var logger = Logger(label: "test.runtime")
        logger.logLevel = .critical
        var configuration = model.clientConfiguration(retry: retry, readTimeout: readTimeout)
        var ownedClient: OpenAIResponsesClient?
        if let modelBaseURL {
            // Another provider address: the production client (its own HTTP client, no
            // connection retries of its own).
            configuration.baseURL = modelBaseURL
            ownedClient = .dedicated(configuration: configuration, logger: logger)
        }
        let client = ownedClient ?? OpenAIResponsesClient(configuration: configuration, logger: logger)
        var sandboxHost: SandboxHost?
        if sandboxes {
            let root = dir.appendingPathComponent("sandboxes").path
            try FileManager.default.createDirectory(atPath: root + "/workspaces", withIntermediateDirectories: true)
            // Private, as the server's data directory is: the launcher stages what bubblewrap needs.
            for path in [dir.path, root, root + "/workspaces"] { _ = chmod(path, 0o700) }
            var configuration = SandboxHost.Configuration(agentBinary: buildDirectory + "/cma-sandbox", launcherBinary: buildDirectory + "/cma-launch", root: root)
            // The test MCP server, for stdio servers in sandboxes.
            configuration.readOnlyBinds = [(buildDirectory + "/mcp-test-server", mcpTestServerPath)]
            sandboxHost = SandboxHost(configuration: configuration, logger: logger)
        }
        let runtime = AgentRuntime(store: store, model: client, logger: logger, heartbeatInterval: .seconds(3600), sandboxHost: sandboxHost,
            sandboxIdleTimeout: sandboxIdleTimeout, modelCatalog: modelCatalog, timeReminderInterval: timeReminderInterval, shutdownGrace: shutdownGrace,
            mcpSettings: mcpSettings, webSettings: webSettings)
        let task = Task { try await runtime.run() }
        return RuntimeHarness(model: model, store: store, runtime: runtime, directory: dir, projectID: projectID, runTask: task, ownedClient: ownedClient)
    }

    /// Stops the runtime as a graceful shutdown would (it does not remove the database).
    func stop() async {
        runtime.shutdown()
        _ = try? await runTask.value
        try? store.close()
        try? await ownedClient?.shutdown()
    }

    func removeFiles() {
        try? FileManager.default.removeItem(at: directory)
    }

    // MARK: Sessions

    /// Creates a session with an inline agent; returns it with a recorder subscribed before creation.
    func createSession(
        input: String? = "Hello",
        tools: [JSONValue] = [],
        agent extra: JSONObject = [:],
        metadata: JSONObject = [:],
        environment: JSONValue = ["type": "none"]
    ) async throws -> (AgentSession, EventRecorder) {
        var agent: JSONObject = ["model": "gpt-test", "tools": .array(tools)]
        for (k, v) in extra { agent[k] = v }
        var body: JSONObject = ["agent": .object(agent), "environment": environment, "metadata": .object(metadata)]
        if let input { body["input"] = .string(input) }
        let request = try SessionCreateRequest(json: .object(body))
        let sessionID = IDGenerator.make(.session)
        let recorder = EventRecorder(runtime.subscribe(sessionID: sessionID))
        let session = try await runtime.createSession(projectID: projectID, sessionID: sessionID, request: request)
        return (session, recorder)
    }

    func send(_ sessionID: String, _ inputs: [SessionInput], key: String? = nil) async throws {
        let hash = Hashing.sha256Hex(Array(inputs.map { "\($0)" }.joined(separator: "|").utf8))
        try await runtime.submit(projectID: projectID, sessionID: sessionID, inputs: inputs, idempotencyKey: key, requestHash: hash)
    }

    func message(_ sessionID: String, _ text: String) async throws {
        try await send(sessionID, [.message([InputMessage(text: text)])])
    }

    func session(_ id: String) async throws -> AgentSession {
        try #require(try await store.session(projectID: projectID, id: id)).session
    }

    func items(_ sessionID: String) async throws -> [SessionItem] {
        try await store.items(sessionID: sessionID).map(\.item)
    }

    func turns(_ sessionID: String) async throws -> [Turn] {
        try await store.listTurns(projectID: projectID, sessionID: sessionID, query: ListQuery(limit: 100, order: .asc)).rows.map {
            try Turn(jsonString: $0.json)
        }
    }
}

/// Runs `body` with a scripted model server and a runtime, and cleans both up.
func withRuntime(
    sandboxes: Bool = false, sandboxIdleTimeout: Duration? = .seconds(600), modelCatalog: ModelCatalog = .builtIn,
    timeReminderInterval: Duration = .seconds(300), readTimeout: Duration = .seconds(30), modelBaseURL: String? = nil,
    mcpSettings: MCPSettings = .init(), webSettings: WebSettings = .init(),
    _ body: (RuntimeHarness) async throws -> Void
) async throws {
    let model = try await ScriptedModelServer.start()
    let harness = try await RuntimeHarness.start(
        model: model, sandboxes: sandboxes, sandboxIdleTimeout: sandboxIdleTimeout, modelCatalog: modelCatalog, timeReminderInterval: timeReminderInterval,
        readTimeout: readTimeout, modelBaseURL: modelBaseURL, mcpSettings: mcpSettings, webSettings: webSettings)
    do {
        try await body(harness)
    } catch {
        await harness.stop()
        await model.shutdown()
        harness.removeFiles()
        throw error
    }
    await harness.stop()
    await model.shutdown()
    harness.removeFiles()
}

/// Records a subscription's events in the background.
final class EventRecorder: Sendable {
    let subscription: Broadcaster.Subscription
    private let box: Box
    private let task: Task<Void, Never>

    final class Box: Sendable {
        let events = Mutex<[SessionEvent]>([])
        func append(_ e: SessionEvent) { events.withLock { $0.append(e) } }
    }

    init(_ subscription: Broadcaster.Subscription) {
        self.subscription = subscription
        let box = Box()
        self.box = box
        self.task = Task {
            for await delivery in subscription.events {
                if case .event(let stored) = delivery, let event = try? SessionEvent(jsonBytes: stored.json) {
                    box.append(event)
                }
            }
        }
    }

    var all: [SessionEvent] { box.events.withLock { $0 } }
    var types: [String] { all.map(\.type) }

    /// Waits until `predicate` holds for the events recorded so far.
    @discardableResult
    func wait(timeout: Duration = .seconds(10), _ what: String = "events", until predicate: ([SessionEvent]) -> Bool) async throws -> [SessionEvent] {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            let snapshot = all
            if predicate(snapshot) { return snapshot }
            if clock.now >= deadline {
                Issue.record("timed out waiting for \(what); got: \(snapshot.map(\.type))")
                throw TimeoutError()
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Waits until `count` events of `type` have arrived.
    @discardableResult
    func wait(for type: String, count: Int = 1, timeout: Duration = .seconds(10)) async throws -> [SessionEvent] {
        try await wait(timeout: timeout, "\(count)× \(type)") { events in events.filter { $0.type == type }.count >= count }
    }

    func cancel() {
        subscription.cancel()
        task.cancel()
    }

    deinit {
        subscription.cancel()
    }
}

struct TimeoutError: Error {}

/// Event types with runs of the same delta type collapsed to one, for order assertions.
func collapsed(_ types: [String]) -> [String] {
    var out: [String] = []
    for t in types where !(t.hasSuffix(".delta") && out.last == t) {
        out.append(t)
    }
    return out
}

extension JSONValue {
    /// Input items of a recorded model request.
    static func inputItems(_ request: RecordedRequest) -> [JSONValue] {
        request.body["input"]?.arrayValue ?? []
    }
}

/// The output the model was sent for `callID` in a recorded request.
func callOutput(_ request: RecordedRequest, callID: String) -> String? {
    request.body["input"]?.arrayValue?.first { $0["type"]?.stringValue == "function_call_output" && $0["call_id"]?.stringValue == callID }?["output"]?.stringValue
}

func functionTool(_ name: String) -> JSONValue {
    ["type": "function", "name": .string(name), "description": "A test function.", "parameters": ["type": "object", "properties": [:]]]
}

#if canImport(Glibc)
import Glibc
#endif

let sandboxesAvailable: Bool = {
    access("/usr/bin/bwrap", X_OK) == 0 && access(RuntimeHarness.buildDirectory + "/cma-sandbox", X_OK) == 0
        && access(RuntimeHarness.buildDirectory + "/cma-launch", X_OK) == 0
}()

/// Where sandboxes of the tests see the stdio MCP test server.
let mcpTestServerPath = "/opt/cma-test/mcp-test-server"

/// A scripted shell call.
func shellCall(_ command: String, callID: String = "call_\(Int.random(in: 0...1_000_000))", extra: JSONObject = [:]) -> ScriptOutput {
    var arguments: JSONObject = ["command": .string(command)]
    for (k, v) in extra { arguments[k] = v }
    return .functionCall(name: "shell_command", arguments: JSONWriter.string(.object(arguments)), callID: callID)
}

/// Polls `condition` until it holds or `timeout` passes (then records an issue and throws).
func poll(timeout: Duration, _ what: String, _ condition: () async throws -> Bool) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while try await !condition() {
        if clock.now >= deadline {
            Issue.record("timed out waiting for \(what)")
            throw TimeoutError()
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}
