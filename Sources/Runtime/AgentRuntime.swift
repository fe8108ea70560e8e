public import AgentsAPI
public import Logging
public import ModelProviders
public import Sandbox
public import ServiceLifecycle
public import Storage
import Synchronization

/// The harness: owns the session runners, the event log and its broadcaster.
///
/// Run it as a `Service` (or call `run()` in a task): `run()` drives the event log's group
/// commit loop, resumes sessions that were active when the process stopped, and sends
/// heartbeats to stream subscribers.
public final class AgentRuntime: Service {
    public let store: any Store
    public let log: EventLog
    public var broadcaster: Broadcaster { log.broadcaster }
    let model: any ModelClient
    let logger: Logger
    private let heartbeatInterval: Duration
    let runners = Mutex<[String: SessionRunner]>([:])
    /// Prewarmed environments' running sandboxes and provisioning tasks, until a session takes them.
    let prewarmed = Mutex<[String: PrewarmedSandbox]>([:])
    /// Runs hosted sessions' sandboxes; nil when this server cannot (no bubblewrap).
    public let sandboxHost: SandboxHost?
    /// How long an unused session sandbox keeps running before it is suspended (nil: never).
    public let sandboxIdleTimeout: Duration?
    /// Context windows and compaction thresholds of the models sessions use.
    public let modelCatalog: ModelCatalog
    /// With `experimental.time_awareness`: how often the model is reminded of the time within a turn.
    public let timeReminderInterval: Duration
    /// How long running turns get to reach a safe point at shutdown.
    public let shutdownGrace: Duration
    /// Timeouts of MCP servers.
    public let mcpSettings: MCPSettings
    /// The web tool's searches and fetches, shared by every session.
    let web: WebClient
    private let accepting = Mutex(true)
    /// Models not in the catalog that were already reported in the log.
    private let reportedUnknownModels = Mutex<Set<String>>([])

    public init(
        store: any Store, model: any ModelClient, logger: Logger = Logger(label: "cma.runtime"), heartbeatInterval: Duration = .seconds(15),
        sandboxHost: SandboxHost? = nil, sandboxIdleTimeout: Duration? = .seconds(600), modelCatalog: ModelCatalog = .builtIn,
        timeReminderInterval: Duration = .seconds(300), shutdownGrace: Duration = .seconds(10), mcpSettings: MCPSettings = .init(),
        webSettings: WebSettings = .init()
    ) {
        self.shutdownGrace = shutdownGrace
        self.mcpSettings = mcpSettings
        self.web = WebClient(settings: webSettings, logger: logger)
        self.sandboxIdleTimeout = sandboxIdleTimeout
        self.timeReminderInterval = timeReminderInterval
        self.modelCatalog = modelCatalog
        self.store = store
        self.model = model
        self.logger = logger
        self.heartbeatInterval = heartbeatInterval
        self.sandboxHost = sandboxHost
        self.log = EventLog(store: store, logger: logger)
    }

    // MARK: - Service

    public func run() async throws {
        await withTaskCancellationHandler {
            await runUntilShutdown()
        } onCancel: {
            self.shutdown()
        }
    }

    private func runUntilShutdown() async {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.recover() }
                group.addTask { await self.heartbeats() }
                group.addTask { await self.purgeExpiredKeys() }
                // The writer loop runs until `shutdown()` has stopped the log and it is drained.
                await self.log.run()
                group.cancelAll()
                await self.stopSandboxes()
            }
        } onGracefulShutdown: {
            self.shutdown()
        }
    }

    /// Stops accepting work (new sessions and input get a 503), lets running turn loops reach a
    /// safe point (the current model call or command finishes, within `shutdownGrace`), then
    /// stops the loops, ends streams (with an `error` event saying so) and stops the event log.
    /// Sessions that were running resume when the runtime next starts.
    public func shutdown() {
        guard accepting.withLock({ a in
            defer { a = false }
            return a
        }) else { return }
        let all = runners.withLock { Array($0.values) }
        let grace = shutdownGrace
        let logger = self.logger
        Task {
            let clock = ContinuousClock()
            let start = clock.now
            let deadline = start + grace
            await withTaskGroup(of: Void.self) { drains in
                for runner in all { drains.addTask { await runner.drain(until: deadline) } }
            }
            if clock.now >= deadline, grace > .zero {
                logger.warning("shutdown grace period over: stopping the turns still running", metadata: ["grace": "\(grace)"])
            }
            logger.info("turn loops stopped for shutdown", metadata: ["after": "\(clock.now - start)"])
            for runner in all { await runner.halt() }
            // What the loops wrote reaches the streams before they are closed.
            await self.log.flush()
            self.broadcaster.closeAll()
            self.log.stop()
        }
    }

    /// Whether new sessions and input are accepted (false once shutdown has begun).
    var isAccepting: Bool { accepting.withLock { $0 } }

    func refuseIfShuttingDown() throws {
        guard isAccepting else { throw RuntimeError.unavailable("The server is shutting down. Retry shortly; nothing was changed.") }
    }

    private func stopSandboxes() async {
        let all = runners.withLock { Array($0.values) }
        let warm = prewarmed.withLock { p in
            defer { p.removeAll() }
            return Array(p.values)
        }
        await withTaskGroup(of: Void.self) { group in
            for runner in all { group.addTask { await runner.stopSandbox() } }
            for entry in warm { group.addTask { await entry.stop() } }
        }
        await web.shutdown()
    }

    /// Forgets idempotency keys older than 24 hours, at start and then hourly.
    private func purgeExpiredKeys() async {
        while !Task.isCancelled {
            do {
                let purged = try await store.purgeIdempotencyKeys(createdBefore: IdempotencyKeys.oldestLive)
                if purged > 0 { logger.info("purged expired idempotency keys", metadata: ["count": "\(purged)"]) }
            } catch {
                logger.warning("could not purge expired idempotency keys", metadata: ["error": "\(error)"])
            }
            do { try await Task.sleep(for: .seconds(3600)) } catch { return }
        }
    }

    private func heartbeats() async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: heartbeatInterval) } catch { return }
            broadcaster.heartbeat()
        }
    }

    /// Resumes sessions that were in progress or waiting when the process stopped.
    /// Resumes the sessions that were running when the server stopped. Each is resumed on its
    /// own (one that fails does not hold up the others) and retried with backoff, so that none
    /// stays `in_progress`.
    private func recover() async {
        // Nil: every session that was running; then only the ones that failed.
        var toResume: Set<String>?
        for attempt in 0..<6 {
            if attempt > 0 {
                do { try await Task.sleep(for: .seconds(1 << (attempt - 1))) } catch { return }
            }
            let sessions: [(projectID: String, sessionID: String)]
            do {
                sessions = try await store.activeSessions().map { ($0.projectID, $0.session.id) }.filter { toResume?.contains($0.sessionID) ?? true }
            } catch {
                logger.error("could not list the sessions to resume", metadata: ["error": "\(error)"])
                continue
            }
            var failed = Set<String>()
            for (projectID, sessionID) in sessions {
                do {
                    guard let runner = try await runner(projectID: projectID, sessionID: sessionID) else { continue }
                    let items = try await store.items(sessionID: sessionID)
                    guard await runner.resume(restartedItems: items) else {
                        failed.insert(sessionID)
                        continue
                    }
                    logger.info("resumed session after restart", metadata: ["session": "\(sessionID)"])
                } catch {
                    logger.error("could not resume a session after restart", metadata: ["session": "\(sessionID)", "error": "\(error)"])
                    failed.insert(sessionID)
                }
            }
            if failed.isEmpty { return }
            toResume = failed
        }
        if let toResume {
            logger.error("sessions could not be resumed after restart; they resume on the next start", metadata: ["sessions": "\(toResume.sorted())"])
        } else {
            logger.error("the sessions to resume could not be listed; they resume on the next start")
        }
    }

    // MARK: - Runners

    private func runner(projectID: String, sessionID: String) async throws -> SessionRunner? {
        if let existing = runners.withLock({ $0[sessionID] }) {
            if existing.projectID != projectID { return nil }
            if await !existing.isBroken { return existing }
            runners.withLock { if $0[sessionID] === existing { $0[sessionID] = nil } }
        }
        guard let record = try await store.session(projectID: projectID, id: sessionID) else { return nil }
        let items = try await store.items(sessionID: sessionID)
        let open = try await store.turns(sessionID: sessionID, statuses: [.queued, .inProgress, .waiting])
        let fresh = SessionRunner(record: record, items: items, openTurns: open, log: log, model: model, logger: logger, sandboxHost: sandboxHost,
            sandboxIdleTimeout: sandboxIdleTimeout, modelCatalog: modelCatalog, timeReminderInterval: timeReminderInterval,
            mcpSettings: mcpSettings, web: web)
        return runners.withLock { r in
            if let winner = r[sessionID] { return winner }
            r[sessionID] = fresh
            return fresh
        }
    }

    func requireRunner(projectID: String, sessionID: String) async throws -> SessionRunner {
        guard let runner = try await runner(projectID: projectID, sessionID: sessionID) else {
            throw RuntimeError.notFound("No session found with id '\(sessionID)'.", param: nil)
        }
        return runner
    }

    // MARK: - Sessions

    /// Creates a session (with the given pre-chosen ID, so that a stream can subscribe first)
    /// and starts its first turn when there is input.
    public func createSession(projectID: String, sessionID: String = IDGenerator.make(.session), request: SessionCreateRequest) async throws -> AgentSession {
        try refuseIfShuttingDown()
        var config: AgentConfig
        let agentIdentity: String
        var name: String?
        if let agentID = request.agentID {
            guard let saved = try await store.agent(projectID: projectID, id: agentID) else {
                throw RuntimeError.notFound("No agent found with id '\(agentID)'.", param: "agent_id")
            }
            config = saved.config
            agentIdentity = saved.id
            name = saved.name
        } else {
            // Validation guarantees an inline agent with a model here.
            config = AgentConfig(model: request.agent?.model ?? "")
            agentIdentity = IDGenerator.make(.agent)
            name = nil
        }
        request.agent?.apply(to: &config)
        if !modelCatalog.limits(for: config.model).known, reportedUnknownModels.withLock({ $0.insert(config.model).inserted }) {
            logger.notice(
                "model not in the catalog: assuming a \(ModelCatalog.fallbackContextWindow)-token context window (describe it with --model-catalog)",
                metadata: ["model": "\(config.model)"])
        }
        if JSONWriter.bytes(.array(config.tools.map(\.json))).count > RequestLimits.maxToolsBytes {
            throw RuntimeError.invalid(ValidationError("The resolved tool list must fit in \(RequestLimits.maxToolsBytes) bytes of compact JSON.", param: "agent.tools"))
        }
        try validateMCPTools(config, hosted: request.environment.hosted != nil)
        let mcpSecrets = SessionRunner.extractMCPSecrets(from: &config)
        var environment = request.environment
        var environmentSecrets = request.environmentSecrets
        var claimed: EnvironmentRecord?
        if environment.hosted != nil {
            guard sandboxHost != nil else {
                throw RuntimeError.invalid(
                    .notAvailable("Hosted environments need bubblewrap on the server (see the README); they are", param: "environment.type"))
            }
            if let params = request.hostedParams, let environmentID = params.environmentID {
                claimed = try await claimEnvironment(projectID: projectID, id: environmentID, sessionID: sessionID)
                environment = .hosted(claimed!.hosted)
                environmentSecrets = claimed!.secrets
            } else if let params = request.hostedParams, params.templateID != nil || !params.referencedFileIDs.isEmpty {
                let (hosted, secrets) = try await resolve(projectID: projectID, params: params, paramPrefix: "environment")
                environment = .hosted(hosted)
                environmentSecrets = secrets
            }
        }
        let now = currentUnixSeconds()
        let session = AgentSession(
            id: sessionID, agent: SessionAgent(id: agentIdentity, name: name, config: config), rootAgentID: request.agentID,
            createdAt: now, lastActiveAt: now, environment: environment, metadata: request.metadata,
            requiredActions: [], status: .idle, usage: nil, vaultIDs: request.vaultIDs, promptCacheTTL: request.promptCacheTTL,
            review: request.review)
        var runtime: JSONObject = [:]
        if mcpSecrets.objectValue?.isEmpty == false { runtime["mcp_secrets"] = mcpSecrets }
        if session.environment.hosted != nil {
            runtime["environment_secrets"] = (environmentSecrets ?? HostedEnvironmentSecrets()).json
            if let claimed {
                // The prewarmed environment's workspace, uid slot and completed setup carry over.
                runtime["sandbox_key"] = .string(claimed.id)
                if let slot = claimed.runtime["sandbox_slot"] { runtime["sandbox_slot"] = slot }
                if let done = claimed.runtime["setup_done"] { runtime["setup_done"] = done }
            }
        }
        let runner = SessionRunner(
            record: SessionRecord(projectID: projectID, session: session, runtime: .object(runtime)), items: [], openTurns: [], log: log, model: model,
            logger: logger, sandboxHost: sandboxHost, sandboxIdleTimeout: sandboxIdleTimeout, modelCatalog: modelCatalog, timeReminderInterval: timeReminderInterval,
            mcpSettings: mcpSettings, web: web)
        runners.withLock { $0[sessionID] = runner }
        var insertedEnvironment: String?
        do {
            if claimed == nil, let hosted = session.environment.hosted {
                try await store.insertEnvironment(
                    EnvironmentRecord(projectID: projectID, hosted: hosted, secrets: HostedEnvironmentSecrets(), status: .pending, sessionID: sessionID))
                insertedEnvironment = hosted.id
            }
            if let claimed, let warm = await takePrewarmed(claimed.id) {
                await runner.adopt(warm)
            }
            try await runner.create(initialInput: request.input)
        } catch {
            runners.withLock { if $0[sessionID] === runner { $0[sessionID] = nil } }
            // Nothing of a session that was not created stays behind.
            if let insertedEnvironment { _ = try? await store.deleteEnvironment(projectID: projectID, id: insertedEnvironment) }
            if let claimed {
                await runner.stopSandbox()
                await releaseEnvironment(claimed, sessionID: sessionID)
            }
            throw error
        }
        if session.environment.hosted != nil {
            if claimed != nil, await runner.hasSandbox {
                await runner.announceAdopted()
            } else {
                // Prepare the sandbox now, so that it is ready (or being readied) when the agent needs it.
                Task { _ = try? await runner.ensureSandbox(turnID: nil) }
            }
        }
        return await runner.session
    }

    public func updateSession(projectID: String, sessionID: String, request: SessionUpdateRequest) async throws -> AgentSession {
        let runner = try await requireRunner(projectID: projectID, sessionID: sessionID)
        if let tools = request.tools.value {
            try validateMCPTools(AgentConfig(model: "", tools: tools), hosted: await runner.session.environment.hosted != nil)
        }
        return try await runner.update(request)
    }

    /// MCP servers this server can run for a session: stdio servers need sandboxes, and those
    /// reached from the environment need a hosted one.
    func validateMCPTools(_ config: AgentConfig, hosted: Bool) throws {
        for (index, tool) in config.tools.enumerated() {
            guard case .mcp(let m) = tool, case .stdio = m.transport else { continue }
            if sandboxHost == nil {
                throw RuntimeError.invalid(.notAvailable("stdio MCP servers need bubblewrap on the server (see the README); they are", param: "agent.tools[\(index)].transport"))
            }
            if m.connectionOrigin == .environment, !hosted {
                throw RuntimeError.invalid(
                    .invalid(
                        "A stdio MCP server with connection_origin 'environment' runs in the session's environment, so the session needs a hosted environment ('openai_hosted').",
                        param: "agent.tools[\(index)].connection_origin"))
            }
        }
    }

    public func deleteSession(projectID: String, sessionID: String) async throws {
        let runner = try await requireRunner(projectID: projectID, sessionID: sessionID)
        try await runner.delete()
        runners.withLock { if $0[sessionID] === runner { $0[sessionID] = nil } }
        let key = await runner.sandboxKey
        await runner.stopSandbox()
        sandboxHost?.removeFiles(key: key)
    }

    /// Applies input events to a session. Returns once they are durably recorded.
    public func submit(projectID: String, sessionID: String, inputs: [SessionInput], idempotencyKey: String?, requestHash: String) async throws {
        try refuseIfShuttingDown()
        let runner = try await requireRunner(projectID: projectID, sessionID: sessionID)
        try await runner.submit(inputs, idempotencyKey: idempotencyKey, requestHash: requestHash)
    }

    /// A live subscription to a session's events from now on.
    public func subscribe(sessionID: String) -> Broadcaster.Subscription {
        broadcaster.subscribe(sessionID: sessionID)
    }
}
