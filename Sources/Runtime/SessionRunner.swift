import AgentsAPI
import Logging
import ModelProviders
import Sandbox
import Storage
import Tools

/// One active session: owns its in-memory state, runs its turns, and is the only writer of its
/// event log. Every state change is built synchronously on the actor and committed through the
/// `EventLog` together with the events that announce it.
actor SessionRunner {
    nonisolated let projectID: String
    nonisolated let sessionID: String
    var record: SessionRecord
    let log: EventLog
    let model: any ModelClient
    /// Context windows and compaction thresholds.
    let modelCatalog: ModelCatalog
    /// Input tokens of the last model response (the next request carries at least as many).
    var lastInputTokens = 0
    /// The turn whose context overflow was already answered by a compaction (one retry per turn).
    var overflowRecoveredTurn: String?
    /// A compaction summary being written in the background (`compaction.async`).
    var backgroundCompaction: BackgroundCompaction?
    var backgroundCompactionCounter = 0
    /// Counts compactions of `history` (a background summary is for one epoch only).
    var historyEpoch = 0
    /// The turn whose AGENTS.md was last looked at (once per turn).
    var agentsMDCheckedTurn: String?
    /// `experimental.time_awareness`: the interval between time reminders within a turn, and
    /// when the last one was given (in memory: after a restart the next item carries one).
    let timeReminderInterval: Duration
    var lastTimeReminder: ContinuousClock.Instant?
    let logger: Logger
    /// Where hosted sessions get their sandbox (nil: this server cannot run them).
    let sandboxHost: SandboxHost?
    /// The session's running sandbox, if any.
    var sandbox: RunningSandbox?
    /// The session's MCP servers, and the tools of theirs offered to the model now.
    let mcp: MCPServers
    var offeredMCPTools: [ExposedMCPTool] = []
    /// Set once MCP servers were configured for this session (until then there is nothing to close).
    var mcpConfigured = false
    /// Searches and page fetches (nil: this runtime offers no web tool).
    let web: WebClient?
    /// Pages the web tool opened in this session, most recent last (for find_in_page).
    var openedPages: [(key: String, page: WebPage)] = []
    /// A start in progress, which concurrent callers share.
    var sandboxStart: Task<RunningSandbox, any Error>?
    /// How long an unused sandbox keeps running before it is suspended (nil: never).
    let sandboxIdleTimeout: Duration?
    /// When the sandbox was last asked for.
    var sandboxLastUse = ContinuousClock.now
    /// The pending suspension of an idle sandbox.
    var suspendTask: Task<Void, Never>?

    /// Responses input items for the whole history, in order.
    var history: [JSONValue]
    var active: ActiveTurn?
    private var queued: [TurnRecord]
    private var stepTask: Task<Void, Never>?
    /// Identifies the current step task, so a finishing task never clears its successor.
    private var stepGeneration = 0
    /// Idempotency keys accepted by this runner (key → request hash), most recent last.
    private var recentKeys: [(key: String, hash: String, at: Int64)] = []
    private(set) var deleting = false
    /// A change held back to be written with the next commit (see ``stage(_:)``).
    private var staged = Change()
    /// Writes enqueued without waiting (``commitPipelined(_:)``), checked by the next commit.
    private var unconfirmed: [CommitTicket] = []
    /// Set when a commit failed: in-memory state may differ from storage, so the runtime drops
    /// this runner and reloads the session from storage on next use.
    private(set) var isBroken = false
    /// Set at shutdown: nothing more is written, so the session resumes from storage on restart.
    private var halted = false
    /// Set when shutdown begins: the turn loop stops at its next safe point.
    private(set) var draining = false
    /// Set once there is nothing of a previous process to resume (a new session, or after
    /// `resume`).
    private var resumed = false

    struct PendingCall: Sendable {
        var callID: String
        var name: String
        var arguments: JSONValue
        var itemID: String
        var resolved: Bool
        /// Set for an MCP call waiting for the user's approval (see SessionRunner+MCP).
        var approval: MCPApproval? = nil
    }

    /// A call of a built-in tool (the shell), run by the runtime in the session's sandbox.
    struct BuiltinCall: Sendable {
        var itemID: String
        var outputIndex: Int
        var callID: String
        var name: String
        var arguments: JSONValue
        var raw: JSONValue
    }

    enum Phase: Sendable {
        /// The loop is (or is about to be) calling the model.
        case running
        /// Waiting for client tool results.
        case waiting
    }

    struct ActiveTurn: Sendable {
        var record: TurnRecord
        var phase: Phase
        var pendingCalls: [PendingCall]
        var steers: [InputMessage]
        var nextOutputIndex: Int
        var acceptsSteering: Bool
        var cancelRequested: Bool
        /// Calls of built-in tools from the last model response, not yet run (in memory only: a
        /// restart re-asks the model instead).
        var builtins: [BuiltinCall] = []
        /// The encoded model input of the turn's last request: the next one encodes only what
        /// is new. Gone with the turn, so an idle session holds none of it.
        let inputEncoding = JSONArrayEncodingCache()

        var turn: Turn {
            get { record.turn }
            set { record.turn = newValue }
        }

        var unresolvedCalls: [PendingCall] { pendingCalls.filter { !$0.resolved } }

        /// Persisted alongside the turn so a restart can pick up where it was.
        var runtimeJSON: JSONValue {
            [
                "pending_calls": .array(
                    pendingCalls.map {
                        var o: JSONObject = [
                            "call_id": .string($0.callID), "name": .string($0.name), "arguments": $0.arguments, "item_id": .string($0.itemID), "resolved": .bool($0.resolved),
                        ]
                        o.set("approval", $0.approval?.json)
                        return .object(o)
                    }),
                "steers": .array(steers.map(\.json)),
                "next_output_index": .int(Int64(nextOutputIndex)),
            ]
        }

        init(record: TurnRecord, phase: Phase) {
            self.record = record
            self.phase = phase
            pendingCalls = []
            steers = []
            nextOutputIndex = 0
            acceptsSteering = true
            cancelRequested = false
            if case .object(let o) = record.runtime {
                for c in o["pending_calls"]?.arrayValue ?? [] {
                    guard let callID = c["call_id"]?.stringValue, let name = c["name"]?.stringValue, let itemID = c["item_id"]?.stringValue else { continue }
                    pendingCalls.append(
                        PendingCall(
                            callID: callID, name: name, arguments: c["arguments"] ?? .null, itemID: itemID, resolved: c["resolved"]?.boolValue ?? false,
                            approval: c["approval"].flatMap(MCPApproval.init(json:))))
                }
                for s in o["steers"]?.arrayValue ?? [] {
                    if let m = try? InputMessage(json: s) { steers.append(m) }
                }
                nextOutputIndex = Int(o["next_output_index"]?.intValue ?? 0)
            }
        }
    }

    /// What one state change writes.
    struct Change {
        var session = false
        var turns: [TurnRecord] = []
        var items: [ItemRecord] = []
        var events: [SessionEvent] = []
        var startStep = false

        var isEmpty: Bool { !session && turns.isEmpty && items.isEmpty && events.isEmpty }

        /// Adds a later change: written together, the later versions of a turn or an item win,
        /// as they would in two writes.
        mutating func absorb(_ later: Change) {
            session = session || later.session
            turns += later.turns
            items += later.items
            events += later.events
            startStep = startStep || later.startStep
        }
    }

    init(
        record: SessionRecord, items: [ItemRecord], openTurns: [TurnRecord], log: EventLog, model: any ModelClient, logger: Logger,
        sandboxHost: SandboxHost? = nil, sandboxIdleTimeout: Duration? = nil, modelCatalog: ModelCatalog = .builtIn,
        timeReminderInterval: Duration = .seconds(300), mcpSettings: MCPSettings = .init(), web: WebClient? = nil
    ) {
        self.web = web
        self.timeReminderInterval = timeReminderInterval
        self.sandboxIdleTimeout = sandboxIdleTimeout
        self.modelCatalog = modelCatalog
        self.projectID = record.projectID
        self.sessionID = record.session.id
        self.record = record
        self.log = log
        self.model = model
        self.sandboxHost = sandboxHost
        var logger = logger
        logger[metadataKey: "session"] = "\(record.session.id)"
        self.logger = logger
        self.mcp = MCPServers(settings: mcpSettings, logger: logger)
        self.history = Self.history(from: items)
        self.queued = []
        for t in openTurns {
            switch t.turn.status {
            case .queued:
                queued.append(t)
            case .inProgress:
                active = ActiveTurn(record: t, phase: .running)
            case .waiting:
                active = ActiveTurn(record: t, phase: .waiting)
            default:
                break
            }
        }
    }

    var session: AgentSession { record.session }

    // MARK: - Commit

    /// `whileWriting` runs once the change is enqueued, before the wait for it to be durable
    /// (work that may overlap the write but must not take effect before it), or at once when
    /// there is nothing to write; not when the commit is refused before that.
    func commit(_ change: Change, idempotency: IdempotencyRecord? = nil, whileWriting: (() -> Void)? = nil) async throws {
        guard !halted else { throw RuntimeError.internalError("The server is shutting down. Try again shortly.") }
        // Nothing is written for a session being deleted (a late write would bring its row back).
        guard !deleting else { throw RuntimeError.notFound("No session found with id '\(sessionID)'.", param: nil) }
        let change = takeStaged(then: change)
        guard !change.isEmpty || idempotency != nil else {
            whileWriting?()
            // Nothing to write, but the loop may still have to run (a resumed turn).
            if change.startStep { startStepTask() }
            return
        }
        // Enqueued synchronously, on this actor, so the log sees writes in the order we make them.
        StepTrace.mark("commit enqueued")
        let ticket = log.enqueue(write(change, idempotency: idempotency))
        whileWriting?()
        let earlier = unconfirmed
        unconfirmed = []
        try await confirm([ticket])
        StepTrace.mark("commit durable")
        // Pipelined writes went before this one (the log keeps order): they are settled now.
        try await confirm(earlier)
        if change.startStep { startStepTask() }
        scheduleSuspensionIfWritten(change)
        // The environment's row follows its lifecycle events (for `GET /agents/environments`).
        var environmentState: EnvironmentState?
        for event in change.events {
            if case .environment(_, _, let state) = event.body { environmentState = state }
        }
        if let state = environmentState {
            let sessionID = self.sessionID
            _ = try? await log.store.updateEnvironment(projectID: projectID, id: state.id) { row in
                if row.sessionID == sessionID { row.status = state.status }
            }
        }
    }

    /// Holds `change` back to be written with the next commit, in the same transaction (one
    /// fsync for both). For a change the loop follows at once with a commit of its own (the
    /// call's start before a command runs, the step's end after it); whatever is still staged
    /// when the loop stops is written then.
    func stage(_ change: Change) {
        staged.absorb(change)
    }

    /// What is staged, followed by `change`.
    private func takeStaged(then change: Change) -> Change {
        guard !staged.isEmpty || staged.startStep else { return change }
        var merged = staged
        staged = Change()
        merged.absorb(change)
        return merged
    }

    /// Enqueues `change` (and whatever is staged) without waiting for it to be durable: for the
    /// end of a step, so the next model request is sent while the log commits. The log keeps
    /// order, so everything the next response produces is written after it, and the next
    /// commit reports a failure of this write. A crash before it lands loses nothing the API
    /// acknowledged (its events are published only once committed); a command it records as
    /// finished is recovered as interrupted, never run again.
    func commitPipelined(_ change: Change) -> Bool {
        guard !halted, !deleting, !isBroken else { return false }
        let change = takeStaged(then: change)
        guard !change.isEmpty else { return true }
        unconfirmed.append(log.enqueue(write(change)))
        scheduleSuspensionIfWritten(change)
        return true
    }

    /// Waits for `tickets`; a failed write breaks the runner (its state may differ from storage).
    private func confirm(_ tickets: [CommitTicket]) async throws {
        do {
            for t in tickets { try await t.value() }
        } catch {
            isBroken = true
            logger.error("could not persist session state", metadata: ["error": "\(error)"])
            throw RuntimeError.internalError("The session's state could not be saved. Try again.")
        }
    }

    /// Waits for the writes enqueued without waiting (normally none are left by then: the
    /// commit of the call being answered waited for them), for a read of the store that must
    /// see them. False when one failed.
    func settlePipelinedWrites() async -> Bool {
        let pending = unconfirmed
        unconfirmed = []
        do {
            try await confirm(pending)
            return true
        } catch {
            return false
        }
    }

    /// The items of the change staged for the next commit.
    var stagedItems: [ItemRecord] { staged.items }

    /// The log write of `change` (the session row as it is now, if the change touched it).
    private func write(_ change: Change, idempotency: IdempotencyRecord? = nil) -> SessionWrite {
        SessionWrite(
            projectID: projectID, sessionID: sessionID, session: change.session ? record : nil, turns: change.turns,
            items: change.items, events: change.events, idempotency: idempotency)
    }

    /// A written session row may have become idle: its sandbox's suspension is scheduled.
    private func scheduleSuspensionIfWritten(_ change: Change) {
        if change.session, sandbox != nil, sandboxIdleTimeout != nil { scheduleSuspensionIfIdle() }
    }

    /// Commits from inside the turn loop, where a failure stops the loop.
    func commitInLoop(_ change: Change, whileWriting: (() -> Void)? = nil) async -> Bool {
        do {
            try await commit(change, whileWriting: whileWriting)
            return true
        } catch {
            return false
        }
    }

    private func touch() {
        record.session.lastActiveAt = currentUnixSeconds()
    }

    // MARK: - Creation

    /// Writes the new session and, when there is initial input, starts its first turn.
    func create(initialInput: [InputMessage]?) async throws {
        resumed = true
        var change = Change()
        change.session = true
        change.events.append(SessionEvent(.sessionCreated(record.session)))
        if let initialInput {
            acceptMessages(initialInput, into: &change)
        }
        try await commit(change)
    }

    // MARK: - Input

    /// Applies a batch of input events atomically: every event is validated before any is
    /// applied, and all their effects are committed in one transaction.
    func submit(_ inputs: [SessionInput], idempotencyKey: String?, requestHash: String) async throws {
        guard !deleting else { throw RuntimeError.notFound("No session found with id '\(sessionID)'.", param: nil) }
        if let key = idempotencyKey {
            if try replayed(key: key, hash: requestHash) { return }
            if let stored = try await log.store.idempotencyRecord(projectID: projectID, scope: idempotencyScope, key: key) {
                guard stored.requestHash == requestHash else { throw Self.keyReuse() }
                return
            }
            // Another request with this key may have been accepted while we looked.
            if try replayed(key: key, hash: requestHash) { return }
        }

        try validate(inputs)

        // Inputs apply in order: `[cancel, message]` cancels the running turn and queues the
        // message as the next one.
        var change = Change()
        for input in inputs {
            switch input {
            case .message(let messages):
                acceptMessages(messages, into: &change)
            case .cancel:
                requestCancel(into: &change)
            case .toolResult(let turnID, let callID, let success, let output, let error):
                acceptToolResult(turnID: turnID, callID: callID, success: success, output: output, error: error, into: &change)
            case .mcpApprovalResult(let requestID, let decision):
                acceptApproval(requestID: requestID, decision: decision, into: &change)
            case .computerUseApprovalResult:
                break  // rejected by validate
            }
        }
        touch()
        change.session = true

        var idempotency: IdempotencyRecord?
        if let key = idempotencyKey {
            remember(key: key, hash: requestHash)
            idempotency = IdempotencyRecord(scope: idempotencyScope, key: key, requestHash: requestHash, status: 202, response: "")
        }
        try await commit(change, idempotency: idempotency)
    }

    private var idempotencyScope: String { "events:\(sessionID)" }

    private static func keyReuse() -> RuntimeError {
        .invalid(
            ValidationError(
                "This Idempotency-Key was already used with a different request body. Use a new key for a different request.",
                param: "Idempotency-Key", code: "idempotency_key_reused"))
    }

    private func replayed(key: String, hash: String) throws -> Bool {
        guard let previous = recentKeys.last(where: { $0.key == key && $0.at >= IdempotencyKeys.oldestLive }) else { return false }
        guard previous.hash == hash else { throw Self.keyReuse() }
        return true
    }

    private func remember(key: String, hash: String) {
        recentKeys.append((key, hash, currentUnixSeconds()))
        if recentKeys.count > 1024 { recentKeys.removeFirst(recentKeys.count - 1024) }
    }

    private func validate(_ inputs: [SessionInput]) throws {
        var seenCalls = Set<String>()
        for (index, input) in inputs.enumerated() {
            switch input {
            case .toolResult(let turnID, let callID, _, _, _):
                guard let active, active.turn.id == turnID,
                    active.pendingCalls.contains(where: { $0.callID == callID && !$0.resolved }),
                    seenCalls.insert(callID).inserted
                else {
                    throw RuntimeError.unknownPendingToolCall(callID: callID)
                }
            case .mcpApprovalResult(let requestID, _):
                if let active, active.phase == .waiting,
                    active.pendingCalls.contains(where: { $0.approval?.requestID == requestID && !$0.resolved }),
                    seenCalls.insert("approval:" + requestID).inserted
                {
                    continue
                }
                throw RuntimeError.invalid(
                    ValidationError("Unknown pending approval request: \(requestID)", param: "events[\(index)].request_id", code: "invalid_request_error"))
            case .computerUseApprovalResult(let requestID):
                throw RuntimeError.invalid(
                    ValidationError("Unknown pending approval request: \(requestID)", param: "events[\(index)].request_id", code: "invalid_request_error"))
            case .message, .cancel:
                break
            }
        }
    }

    /// A user message steers the running turn, or starts (or queues) a new one.
    private func acceptMessages(_ messages: [InputMessage], into change: inout Change) {
        if var a = active, a.acceptsSteering, !a.cancelRequested {
            a.steers.append(contentsOf: messages)
            a.record.runtime = a.runtimeJSON
            active = a
            change.turns.append(a.record)
            return
        }
        let now = currentUnixSeconds()
        let turn = Turn(
            id: IDGenerator.make(.turn), sessionID: sessionID, agentID: record.session.agent.id, status: .queued, createdAt: now,
            promptCacheTTL: record.session.promptCacheTTL)
        let turnRecord = TurnRecord(turn: turn, input: messages)
        change.events.append(SessionEvent(.turnCreated(turn)))
        if active == nil && queued.isEmpty {
            start(turnRecord, into: &change)
        } else {
            queued.append(turnRecord)
            change.turns.append(turnRecord)
        }
    }

    /// Moves a queued turn to in-progress and records its user messages.
    private func start(_ turnRecord: TurnRecord, into change: inout Change) {
        var t = turnRecord
        let now = currentUnixSeconds()
        t.turn.status = .inProgress
        t.turn.startedAt = now
        let input = t.input
        t.input = []
        var a = ActiveTurn(record: t, phase: .running)

        record.session.status = .inProgress
        record.session.requiredActions = []
        record.session.lastActiveAt = now
        change.session = true
        change.events.append(SessionEvent(.sessionInProgress(record.session)))
        change.events.append(SessionEvent(.turnInProgress(t.turn)))
        appendUserMessages(input, turnID: t.turn.id, startsTurn: true, into: &change)
        a.record.runtime = a.runtimeJSON
        active = a
        change.turns.append(a.record)
        change.startStep = true
    }

    private func appendUserMessages(_ messages: [InputMessage], turnID: String, startsTurn: Bool = false, into change: inout Change) {
        for (index, m) in messages.enumerated() {
            let item = SessionItem.message(MessageItem(id: IDGenerator.make(.item), turnID: turnID, role: .user, content: m.content, phase: nil, status: .completed))
            let itemRecord = withTimeReminder(ItemRecord(item: item), startsTurn: startsTurn && index == messages.count - 1)
            change.items.append(itemRecord)
            change.events.append(SessionEvent(.itemAdded(sessionID: sessionID, item: item, outputIndex: nil)))
            if let modelItem = ModelInput.modelItem(for: itemRecord) { history.append(modelItem) }
        }
    }

    /// The user's answer to an MCP approval request; the call runs (or is refused) when the
    /// turn continues.
    private func acceptApproval(requestID: String, decision: String, into change: inout Change) {
        guard var a = active, let index = a.pendingCalls.firstIndex(where: { $0.approval?.requestID == requestID && !$0.resolved }) else { return }
        a.pendingCalls[index].resolved = true
        a.pendingCalls[index].approval?.decision = decision
        resumeIfAnswered(&a, into: &change)
    }

    private func acceptToolResult(turnID: String, callID: String, success: Bool, output: FunctionOutput?, error: String?, into change: inout Change) {
        guard var a = active, let index = a.pendingCalls.firstIndex(where: { $0.callID == callID && !$0.resolved }) else { return }
        a.pendingCalls[index].resolved = true
        let item = SessionItem.functionCallOutput(
            FunctionCallOutputItem(
                id: IDGenerator.make(.item), turnID: turnID, callID: callID, output: output,
                error: success ? nil : (error ?? "The tool call failed."), status: success ? .completed : .failed))
        let itemRecord = withTimeReminder(ItemRecord(item: item))
        change.items.append(itemRecord)
        change.events.append(SessionEvent(.itemAdded(sessionID: sessionID, item: item, outputIndex: nil)))
        if let modelItem = ModelInput.modelItem(for: itemRecord) { history.append(modelItem) }
        resumeIfAnswered(&a, into: &change)
    }

    /// A waiting turn continues once every call it waits for is answered.
    private func resumeIfAnswered(_ a: inout ActiveTurn, into change: inout Change) {
        if a.phase == .waiting {
            if a.unresolvedCalls.isEmpty {
                a.phase = .running
                a.turn.status = .inProgress
                record.session.status = .inProgress
                record.session.requiredActions = []
                change.events.append(SessionEvent(.sessionInProgress(record.session)))
                change.startStep = true
            } else {
                record.session.requiredActions = requiredActions(for: a)
            }
            change.session = true
        }
        a.record.runtime = a.runtimeJSON
        active = a
        change.turns.append(a.record)
    }

    private func requiredActions(for a: ActiveTurn) -> [RequiredAction] {
        a.unresolvedCalls.map {
            Self.approvalAction($0, turnID: a.turn.id) ?? .functionCall(callID: $0.callID, name: $0.name, arguments: $0.arguments, turnID: a.turn.id)
        }
    }

    // MARK: - Cancel

    private func requestCancel(into change: inout Change) {
        guard var a = active, !a.cancelRequested else { return }
        a.cancelRequested = true
        a.acceptsSteering = false
        active = a
        if let stepTask {
            // The loop finalises the turn once its model request has stopped.
            stepTask.cancel()
        } else {
            finishTurn(.cancelled, error: nil, into: &change)
        }
    }

    // MARK: - Update and delete

    func update(_ request: SessionUpdateRequest) async throws -> AgentSession {
        guard !deleting else { throw RuntimeError.notFound("No session found with id '\(sessionID)'.", param: nil) }
        request.apply(to: &record.session)
        if !request.tools.isAbsent {
            // The new tools replace the old ones, secrets included.
            setRuntimeValue("mcp_secrets", Self.extractMCPSecrets(from: &record.session.agent.config))
        }
        var change = Change()
        change.session = true
        try await commit(change)
        return record.session
    }

    /// Deletes the session, refusing while a turn is open.
    func delete() async throws {
        guard !deleting else { throw RuntimeError.notFound("No session found with id '\(sessionID)'.", param: nil) }
        if active != nil || !queued.isEmpty {
            throw RuntimeError.conflict(
                "Session '\(sessionID)' has a turn in progress. Cancel it (agent.session.input.cancel) and wait for the session to become idle before deleting it.",
                code: "session_active")
        }
        deleting = true
        discardBackgroundCompaction()
        do {
            // Writes already queued (a concurrent update) land first: the delete comes after them.
            try await log.enqueue(SessionWrite(projectID: projectID, sessionID: sessionID)).value()
            _ = try await log.store.deleteSession(projectID: projectID, id: sessionID)
        } catch {
            deleting = false
            throw RuntimeError.internalError("The session could not be deleted. Try again.")
        }
        log.broadcaster.close(sessionID: sessionID, reason: .sessionDeleted)
    }

    /// Shutdown's first step: no new model call or command starts; the one running finishes.
    /// Returns once the turn loop has stopped at such a safe point (its state is saved; the
    /// turn resumes on restart).
    func drain(until deadline: ContinuousClock.Instant) async {
        draining = true
        while stepTask != nil, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Stops the turn loop without recording anything more (shutdown).
    func halt() {
        halted = true
        isBroken = true
        stepTask?.cancel()
        discardBackgroundCompaction()
    }

    // MARK: - Recovery

    /// After a restart: a turn that was calling the model re-issues its request; a turn waiting
    /// for tool results keeps waiting; queued turns run in order.
    @discardableResult
    func resume(restartedItems items: [ItemRecord]) async -> Bool {
        // A runner made in this process (a new session), or one already resumed, has nothing
        // of a previous process to pick up: recovery can meet it when a request came first.
        guard !resumed, stepTask == nil else { return true }
        var change = Change()
        // Items that were being streamed when the process stopped are incomplete.
        for record in items {
            switch record.item {
            case .message(var m) where m.status == .inProgress:
                m.status = .incomplete
                change.items.append(ItemRecord(item: .message(m), modelItem: record.modelItem))
                change.events.append(SessionEvent(.itemDone(sessionID: sessionID, item: .message(m), outputIndex: Self.outputIndex(of: record, in: items))))
            case .reasoning(var r) where r.status == .inProgress:
                r.status = .incomplete
                change.items.append(ItemRecord(item: .reasoning(r), modelItem: record.modelItem))
                change.events.append(SessionEvent(.itemDone(sessionID: sessionID, item: .reasoning(r), outputIndex: Self.outputIndex(of: record, in: items))))
            case .commandExecution(var c) where c.status == .inProgress:
                // The command was running when the process stopped: it is not run again, and the
                // model is told its outcome is unknown (the history already says so).
                c.status = .failed
                c.output = (c.output ?? "") + "\n" + ModelInput.interruptedCommandOutput
                var modelItem = record.modelItem?.objectValue ?? [:]
                modelItem["output"] = .string(ModelInput.interruptedCommandOutput)
                change.items.append(ItemRecord(item: .commandExecution(c), modelItem: .object(modelItem)))
                change.events.append(SessionEvent(.itemDone(sessionID: sessionID, item: .commandExecution(c), outputIndex: Self.outputIndex(of: record, in: items))))
            default:
                break
            }
        }
        // Runtime function calls (history search) that never got to run are answered, so the
        // history stays valid for the model.
        let answered = Set(items.compactMap { record -> String? in
            if case .functionCallOutput(let o) = record.item { return o.callID }
            return nil
        })
        for record in items {
            guard case .functionCall(let f) = record.item, f.name == HistorySearch.name, !answered.contains(f.callID) else { continue }
            let output = SessionItem.functionCallOutput(
                FunctionCallOutputItem(
                    id: IDGenerator.make(.item), turnID: f.turnID, callID: f.callID, output: nil,
                    error: "The runtime restarted before this search ran. Call it again if you still need it.", status: .incomplete))
            let outputRecord = ItemRecord(item: output)
            change.items.append(outputRecord)
            change.events.append(SessionEvent(.itemAdded(sessionID: sessionID, item: output, outputIndex: nil)))
            if let modelItem = ModelInput.modelItem(for: outputRecord) { history.append(modelItem) }
        }
        if let a = active {
            if a.cancelRequested {
                finishTurn(.cancelled, error: nil, into: &change)
            } else if a.phase == .running && !a.unresolvedCalls.isEmpty {
                // The interrupted response had already produced complete function calls: the model
                // cannot be asked again until they have results, so wait for them.
                waitForToolResults(into: &change)
            } else if a.phase == .running {
                change.startStep = true
            }
        } else if !queued.isEmpty {
            start(queued.removeFirst(), into: &change)
        } else if record.session.status != .idle && record.session.status != .failed {
            record.session.status = .idle
            record.session.requiredActions = []
            change.session = true
            change.events.append(SessionEvent(.sessionIdle(record.session)))
        }
        guard await commitInLoop(change) else { return false }
        resumed = true
        return true
    }

    /// The output index of a stored item: how many output items of its turn come before it
    /// (indices are given to output items in that order).
    static func outputIndex(of record: ItemRecord, in items: [ItemRecord]) -> Int {
        var index = 0
        for other in items {
            if other.item.id == record.item.id { break }
            guard other.item.turnID == record.item.turnID else { continue }
            switch other.item {
            case .message(let m) where m.role == .assistant: index += 1
            case .reasoning, .functionCall, .commandExecution, .other: index += 1
            default: break
            }
        }
        return index
    }

    // MARK: - The turn loop

    private func startStepTask() {
        guard stepTask == nil, !draining, let a = active, a.phase == .running else { return }
        let turnID = a.turn.id
        stepGeneration += 1
        let generation = stepGeneration
        stepTask = Task { await self.runSteps(turnID: turnID, generation: generation) }
    }

    /// Calls the model until the turn completes, fails, is cancelled or waits for tool results.
    private func runSteps(turnID: String, generation: Int) async {
        defer {
            // A change staged for a commit that did not come (the loop stopped first).
            _ = commitPipelined(Change())
            if stepGeneration == generation { stepTask = nil }
        }
        while let a = active, a.turn.id == turnID, a.phase == .running {
            // Shutting down: stop here, between steps, with everything saved.
            if draining { return }
            if a.cancelRequested || Task.isCancelled {
                var change = Change()
                finishTurn(.cancelled, error: nil, into: &change)
                _ = await commitInLoop(change)
                return
            }
            if !a.steers.isEmpty {
                var change = Change()
                deliverSteers(into: &change)
                guard await commitInLoop(change) else { return }
            }
            if record.session.environment.hosted != nil {
                do {
                    let sandbox = try await ensureSandbox(turnID: turnID)
                    guard await deliverAgentsMD(turnID: turnID, sandbox: sandbox) else { return }
                } catch {
                    var change = Change()
                    let message = (error as? SandboxError)?.message ?? "\(error)"
                    finishTurn(.failed, error: TurnError(code: .sandboxError, message: "The session's environment is not available: \(message)"), into: &change)
                    _ = await commitInLoop(change)
                    return
                }
            }
            guard await runAnsweredApprovals(turnID: turnID) else {
                if active?.cancelRequested == true || Task.isCancelled {
                    continue
                }
                return
            }
            if let error = await prepareMCP(turnID: turnID) {
                var change = Change()
                finishTurn(.failed, error: error, into: &change)
                _ = await commitInLoop(change)
                return
            }
            switch await compactBeforeModelCall(turnID: turnID) {
            case nil, .compacted?: break
            case .failed(let error)?:
                var change = Change()
                finishTurn(.failed, error: error, into: &change)
                _ = await commitInLoop(change)
                return
            case .cancelled?:
                var change = Change()
                finishTurn(.cancelled, error: nil, into: &change)
                _ = await commitInLoop(change)
                return
            case .storageFailed?:
                return
            }
            var outcome = await callModel(turnID: turnID)
            var streamRetries = 0
            while case .interrupted(let error) = outcome {
                guard streamRetries < Self.maxStreamRetries, active?.cancelRequested != true, !Task.isCancelled else {
                    outcome = .failed(error)
                    break
                }
                streamRetries += 1
                logger.warning("the model's stream broke; sending the request again", metadata: ["error": "\(error.message)", "retry": "\(streamRetries)"])
                do {
                    try await Task.sleep(for: Self.streamRetryDelay(streamRetries))
                } catch {
                    outcome = .cancelled
                    break
                }
                outcome = await callModel(turnID: turnID)
            }
            if case .failed(let error) = outcome, error.code == .contextLengthExceeded, overflowRecoveredTurn != turnID {
                // The context overflowed: compact, then try once more.
                overflowRecoveredTurn = turnID
                switch await compactAfterOverflow(turnID: turnID) {
                case .compacted: continue
                case .failed: break  // the turn fails with the overflow
                case .cancelled: outcome = .cancelled
                case .storageFailed: return
                }
            }
            if case .completed = outcome, let a = active, a.turn.id == turnID, !a.builtins.isEmpty {
                if await !runBuiltinCalls(turnID: turnID) {
                    outcome = active?.cancelRequested == true || Task.isCancelled ? .cancelled : .storageFailed
                }
            }
            guard var a = active, a.turn.id == turnID else { return }
            var change = Change()
            switch outcome {
            case .cancelled:
                finishTurn(.cancelled, error: nil, into: &change)
            case .failed(let error), .interrupted(let error):
                finishTurn(.failed, error: error, into: &change)
            case .storageFailed:
                return
            case .completed(let calledTools):
                if a.cancelRequested {
                    finishTurn(.cancelled, error: nil, into: &change)
                } else if !a.unresolvedCalls.isEmpty {
                    waitForToolResults(into: &change)
                } else if calledTools || !a.steers.isEmpty {
                    // Results are in (or new user input arrived): call the model again, while
                    // the log writes the step's end.
                    a.record.runtime = a.runtimeJSON
                    active = a
                    change.turns.append(a.record)
                    guard commitPipelined(change) else { return }
                    continue
                } else {
                    // What the turn wrote under /workspace/outputs/ is published before it completes.
                    if record.session.environment.hosted != nil {
                        await publishOutputs(turnID: turnID)
                    }
                    if var fresh = active, fresh.turn.id == turnID, !fresh.steers.isEmpty, !fresh.cancelRequested {
                        // A message arrived while publishing: the turn answers it first.
                        fresh.record.runtime = fresh.runtimeJSON
                        active = fresh
                        change.turns.append(fresh.record)
                        change.session = true
                    } else {
                        finishTurn(.completed, error: nil, into: &change)
                    }
                }
            }
            guard await commitInLoop(change) else { return }
            // Still running: the loop goes on (or, cancelled meanwhile, ends the turn at its top).
            if let a = active, a.turn.id == turnID, a.phase == .running {
                continue
            }
            return
        }
    }

    /// The turn waits for the application to submit the results of its function calls.
    private func waitForToolResults(into change: inout Change) {
        guard var a = active else { return }
        a.phase = .waiting
        a.turn.status = .waiting
        a.record.runtime = a.runtimeJSON
        active = a
        record.session.status = .requiresAction
        record.session.requiredActions = requiredActions(for: a)
        change.session = true
        change.turns.append(a.record)
        change.events.append(SessionEvent(.sessionRequiresAction(record.session)))
    }

    private func deliverSteers(into change: inout Change) {
        guard var a = active, !a.steers.isEmpty else { return }
        let steers = a.steers
        a.steers = []
        a.record.runtime = a.runtimeJSON
        active = a
        appendUserMessages(steers, turnID: a.turn.id, into: &change)
        change.turns.append(a.record)
    }

    enum ModelOutcome {
        case completed(calledTools: Bool)
        case failed(TurnError)
        /// The stream broke before anything of the response joined the history: the request
        /// can be sent again.
        case interrupted(TurnError)
        case cancelled
        case storageFailed
    }

    /// How often a model call whose stream broke is sent again before the turn fails.
    static let maxStreamRetries = 2

    /// The pause before stream retry `n` (1-based): 250 ms doubling, ±25 % jitter.
    static func streamRetryDelay(_ n: Int) -> Duration {
        let base = 0.25 * Double(1 << min(n - 1, 4))
        return .milliseconds(Int(base * Double.random(in: 0.75...1.25) * 1000))
    }

    /// Mid-stream failures worth another attempt: the connection, a stall, a truncated or
    /// garbled stream, a server-side failure.
    static func isTransient(_ error: ModelError) -> Bool {
        switch error.kind {
        case .connection, .timeout, .protocolViolation, .server, .overloaded: return true
        default: return false
        }
    }

    /// The state of one provider output item while it streams.
    private struct StreamingItem {
        var itemID: String
        var outputIndex: Int
        var kind: Kind
        var texts: [Int: String] = [:]
        var announced: Bool

        enum Kind { case message, reasoning, functionCall, customToolCall, other }
    }

    /// A completed assistant message whose `item.done` waits until we know whether the response
    /// also calls tools (which makes the message commentary rather than the final answer).
    private struct HeldMessage {
        var item: MessageItem
        var outputIndex: Int
        var modelItem: JSONValue
        var explicitPhase: Bool
    }

    private func callModel(turnID: String) async -> ModelOutcome {
        let request = modelRequest(history: history)
        StepTrace.mark("model request built")
        let historyAtStart = history.count
        var streaming = false
        var items: [Int: StreamingItem] = [:]
        var held: [HeldMessage] = []
        var calledTools = false
        var usage: ModelUsage?
        var finished = false
        var incompleteReason: String?

        func location(_ s: StreamingItem, _ index: Int) -> PartLocation {
            PartLocation(sessionID: sessionID, turnID: turnID, itemID: s.itemID, outputIndex: s.outputIndex, index: index)
        }

        do {
            let stream = try await model.stream(request)
            StepTrace.mark("model response started")
            streaming = true
            for try await event in stream {
                if active?.cancelRequested ?? true { break }
                switch event {
                case .outputItemAdded(let index, let raw):
                    let kind = Self.kind(of: raw)
                    guard kind != .other else { continue }
                    var s = StreamingItem(itemID: IDGenerator.make(.item), outputIndex: takeOutputIndex(), kind: kind, announced: false)
                    if kind == .message || kind == .reasoning {
                        let item = kind == .message
                            ? SessionItem.message(MessageItem(id: s.itemID, turnID: turnID, role: .assistant, content: [], phase: Self.phase(of: raw), status: .inProgress))
                            : SessionItem.reasoning(ReasoningItem(id: s.itemID, turnID: turnID, summary: [], status: .inProgress))
                        s.announced = true
                        var change = Change()
                        change.items.append(ItemRecord(item: item))
                        change.events.append(SessionEvent(.itemAdded(sessionID: sessionID, item: item, outputIndex: s.outputIndex)))
                        guard await commitInLoop(change) else { return .storageFailed }
                    }
                    items[index] = s

                case .contentPartAdded(_, let index, let contentIndex, let part):
                    guard let s = items[index], s.kind == .message else { continue }
                    emitDetached(.contentPartAdded(location(s, contentIndex), text: part["text"]?.stringValue ?? ""))
                case .outputTextDelta(_, let index, let contentIndex, let delta):
                    guard var s = items[index], s.kind == .message else { continue }
                    s.texts[contentIndex, default: ""] += delta
                    items[index] = s
                    emitDetached(.outputTextDelta(location(s, contentIndex), delta: delta))
                case .outputTextDone(_, let index, let contentIndex, let text):
                    guard var s = items[index], s.kind == .message else { continue }
                    s.texts[contentIndex] = text
                    items[index] = s
                    emitDetached(.outputTextDone(location(s, contentIndex), text: text))
                case .contentPartDone(_, let index, let contentIndex, let part):
                    guard let s = items[index], s.kind == .message else { continue }
                    emitDetached(.contentPartDone(location(s, contentIndex), text: part["text"]?.stringValue ?? s.texts[contentIndex] ?? ""))
                case .reasoningSummaryPartAdded(_, let index, let summaryIndex, let part):
                    guard let s = items[index], s.kind == .reasoning else { continue }
                    emitDetached(.reasoningSummaryPartAdded(location(s, summaryIndex), text: part["text"]?.stringValue ?? ""))
                case .reasoningSummaryTextDelta(_, let index, let summaryIndex, let delta):
                    guard var s = items[index], s.kind == .reasoning else { continue }
                    s.texts[summaryIndex, default: ""] += delta
                    items[index] = s
                    emitDetached(.reasoningSummaryTextDelta(location(s, summaryIndex), delta: delta))
                case .reasoningSummaryTextDone(_, let index, let summaryIndex, let text):
                    guard var s = items[index], s.kind == .reasoning else { continue }
                    s.texts[summaryIndex] = text
                    items[index] = s
                    emitDetached(.reasoningSummaryTextDone(location(s, summaryIndex), text: text))
                case .reasoningSummaryPartDone(_, let index, let summaryIndex, let part):
                    guard let s = items[index], s.kind == .reasoning else { continue }
                    emitDetached(.reasoningSummaryPartDone(location(s, summaryIndex), text: part["text"]?.stringValue ?? s.texts[summaryIndex] ?? "", incomplete: false))

                case .outputItemDone(let index, let raw):
                    let kind = Self.kind(of: raw)
                    guard kind != .other else { continue }
                    var s = items[index] ?? StreamingItem(itemID: IDGenerator.make(.item), outputIndex: takeOutputIndex(), kind: kind, announced: false)
                    items[index] = nil
                    var change = Change()
                    switch kind {
                    case .message:
                        let message = MessageItem(
                            id: s.itemID, turnID: turnID, role: .assistant, content: Self.outputContent(of: raw, fallback: s.texts),
                            phase: Self.phase(of: raw), status: Self.outputStatus(of: raw))
                        if !s.announced {
                            var announced = message
                            announced.status = .inProgress
                            announced.content = []
                            change.items.append(ItemRecord(item: .message(announced)))
                            change.events.append(SessionEvent(.itemAdded(sessionID: sessionID, item: .message(announced), outputIndex: s.outputIndex)))
                            s.announced = true
                        }
                        held.append(HeldMessage(item: message, outputIndex: s.outputIndex, modelItem: raw, explicitPhase: message.phase != nil))
                    case .reasoning:
                        let summary = Self.summary(of: raw, fallback: s.texts)
                        let reasoning = ReasoningItem(id: s.itemID, turnID: turnID, summary: summary, status: Self.outputStatus(of: raw))
                        if !s.announced {
                            var announced = reasoning
                            announced.status = .inProgress
                            announced.summary = []
                            change.events.append(SessionEvent(.itemAdded(sessionID: sessionID, item: .reasoning(announced), outputIndex: s.outputIndex)))
                        }
                        change.items.append(ItemRecord(item: .reasoning(reasoning), modelItem: raw))
                        change.events.append(SessionEvent(.itemDone(sessionID: sessionID, item: .reasoning(reasoning), outputIndex: s.outputIndex)))
                        history.append(ModelInput.replayable(raw))
                    case .functionCall:
                        calledTools = true
                        // Messages before a tool call in the same response are commentary.
                        releaseHeld(&held, finalAnswer: false, into: &change)
                        recordFunctionCall(raw, streaming: s, turnID: turnID, into: &change)
                    case .customToolCall:
                        // The freeform apply_patch offered to Codex-family models.
                        if raw["name"]?.stringValue == ApplyPatch.name, record.session.environment.hosted != nil, var a = active {
                            calledTools = true
                            releaseHeld(&held, finalAnswer: false, into: &change)
                            a.builtins.append(
                                BuiltinCall(
                                    itemID: s.itemID, outputIndex: s.outputIndex, callID: raw["call_id"]?.stringValue ?? IDGenerator.make(.call),
                                    name: ApplyPatch.name, arguments: ["input": raw["input"] ?? ""], raw: raw))
                            active = a
                            history.append(ModelInput.replayable(raw))
                        } else {
                            logger.warning("ignored a call of an unknown custom tool", metadata: ["session": "\(sessionID)", "tool": "\(raw["name"]?.stringValue ?? "")"])
                        }
                    case .other:
                        break
                    }
                    guard await commitInLoop(change) else { return .storageFailed }

                case .completed(_, let u):
                    usage = u
                    finished = true
                    if let u { lastInputTokens = Int(clamping: u.inputTokens) }
                case .incomplete(_, let reason, let u):
                    usage = u
                    incompleteReason = reason ?? "incomplete"
                    finished = true
                case .created, .functionCallArgumentsDelta, .other:
                    break
                }
            }
        } catch let error as ModelError {
            var change = Change()
            abandon(items: items, held: &held, turnID: turnID, into: &change)
            addUsage(usage)
            guard await commitInLoop(change) else { return .storageFailed }
            if Task.isCancelled || active?.cancelRequested == true { return .cancelled }
            if streaming, history.count == historyAtStart, Self.isTransient(error) { return .interrupted(Self.turnError(for: error)) }
            return .failed(Self.turnError(for: error))
        } catch {
            var change = Change()
            abandon(items: items, held: &held, turnID: turnID, into: &change)
            guard await commitInLoop(change) else { return .storageFailed }
            if error is CancellationError || Task.isCancelled || active?.cancelRequested == true { return .cancelled }
            logger.error("model call failed unexpectedly", metadata: ["error": "\(error)"])
            return .failed(TurnError(code: .internalError, message: "The model call failed unexpectedly."))
        }

        StepTrace.mark("model response ended")
        var change = Change()
        if !finished || Task.isCancelled || active?.cancelRequested == true {
            abandon(items: items, held: &held, turnID: turnID, into: &change)
            addUsage(usage)
            guard await commitInLoop(change) else { return .storageFailed }
            if Task.isCancelled || active?.cancelRequested == true { return .cancelled }
            let error = TurnError(code: .serverError, message: "The model's response ended before it was complete.")
            return history.count == historyAtStart ? .interrupted(error) : .failed(error)
        }
        if let incompleteReason {
            abandon(items: items, held: &held, turnID: turnID, into: &change)
            addUsage(usage)
            guard await commitInLoop(change) else { return .storageFailed }
            if incompleteReason == "max_output_tokens" {
                return .failed(TurnError(code: .maxOutputTokens, message: "The model reached its maximum output length before finishing."))
            }
            return .failed(TurnError(code: .serverError, message: "The model's response was incomplete (\(incompleteReason))."))
        }
        releaseHeld(&held, finalAnswer: !calledTools, into: &change)
        addUsage(usage)
        if var a = active {
            a.record.runtime = a.runtimeJSON
            active = a
            change.turns.append(a.record)
        }
        change.session = true
        if calledTools, active?.builtins.isEmpty == false {
            // The runtime's calls run next, and each first commits its start: written together.
            stage(change)
            return .completed(calledTools: calledTools)
        }
        guard await commitInLoop(change) else { return .storageFailed }
        return .completed(calledTools: calledTools)
    }

    /// The request for the model with `history` as its input (everything else fixed per session).
    func modelRequest(history: [JSONValue]) -> ModelRequest {
        var request = ModelInput.request(
            sessionID: sessionID, config: record.session.agent.config, ttl: active?.turn.promptCacheTTL, history: history,
            hosted: record.session.environment.hosted != nil, networkAccess: record.session.environment.hosted?.networkAccess ?? .disabled,
            extraTools: offeredMCPTools.map(\.definition) + (offeredWebTool != nil ? [WebTool.definition] : []),
            skills: record.session.environment.hosted?.skills ?? [])
        request.inputEncoding = active?.inputEncoding
        return request
    }

    private func emitDetached(_ body: SessionEvent.Body) {
        log.enqueueDetached(SessionWrite(projectID: projectID, sessionID: sessionID, events: [SessionEvent(body)]))
    }

    func takeOutputIndex() -> Int {
        guard var a = active else { return 0 }
        let index = a.nextOutputIndex
        a.nextOutputIndex += 1
        active = a
        return index
    }

    /// Adds a response's usage to the active turn (if any) and to the session.
    func addUsage(_ usage: ModelUsage?) {
        guard let usage else { return }
        let u = TokenUsage(
            inputTokens: usage.inputTokens, cachedTokens: usage.cachedTokens, outputTokens: usage.outputTokens,
            reasoningTokens: usage.reasoningTokens, totalTokens: usage.totalTokens)
        if var a = active {
            a.turn.usage = (a.turn.usage ?? .zero) + u
            active = a
        }
        record.session.usage = (record.session.usage ?? .zero) + u
    }

    private func releaseHeld(_ held: inout [HeldMessage], finalAnswer: Bool, into change: inout Change) {
        for var h in held {
            if !h.explicitPhase { h.item.phase = finalAnswer ? .finalAnswer : .commentary }
            change.items.append(ItemRecord(item: .message(h.item), modelItem: h.modelItem))
            change.events.append(SessionEvent(.itemDone(sessionID: sessionID, item: .message(h.item), outputIndex: h.outputIndex)))
            if let modelItem = ModelInput.modelItem(for: ItemRecord(item: .message(h.item), modelItem: h.modelItem)) {
                history.append(modelItem)
            }
        }
        held = []
    }

    /// Ends items that were still streaming when the response stopped: they are incomplete and
    /// are not sent back to the model.
    private func abandon(items: [Int: StreamingItem], held: inout [HeldMessage], turnID: String, into change: inout Change) {
        for h in held {
            var m = h.item
            m.status = .incomplete
            change.items.append(ItemRecord(item: .message(m)))
            change.events.append(SessionEvent(.itemDone(sessionID: sessionID, item: .message(m), outputIndex: h.outputIndex)))
        }
        held = []
        for s in items.values.sorted(by: { $0.outputIndex < $1.outputIndex }) where s.announced {
            switch s.kind {
            case .message:
                let content = s.texts.keys.sorted().map { ContentPart.outputText(s.texts[$0] ?? "") }
                let m = MessageItem(id: s.itemID, turnID: turnID, role: .assistant, content: content, phase: nil, status: .incomplete)
                change.items.append(ItemRecord(item: .message(m)))
                change.events.append(SessionEvent(.itemDone(sessionID: sessionID, item: .message(m), outputIndex: s.outputIndex)))
            case .reasoning:
                let r = ReasoningItem(id: s.itemID, turnID: turnID, summary: s.texts.keys.sorted().map { s.texts[$0] ?? "" }, status: .incomplete)
                change.items.append(ItemRecord(item: .reasoning(r)))
                change.events.append(SessionEvent(.itemDone(sessionID: sessionID, item: .reasoning(r), outputIndex: s.outputIndex)))
            default:
                break
            }
        }
    }

    private func recordFunctionCall(_ raw: JSONValue, streaming s: StreamingItem, turnID: String, into change: inout Change) {
        let callID = raw["call_id"]?.stringValue ?? IDGenerator.make(.call)
        let name = raw["name"]?.stringValue ?? ""
        let arguments: JSONValue = raw["arguments"] ?? .string("{}")
        if name == ShellTool.name || name == ApplyPatch.name, record.session.environment.hosted != nil, var a = active {
            // Run by the runtime once the response is complete; announced as a command then.
            a.builtins.append(BuiltinCall(itemID: s.itemID, outputIndex: s.outputIndex, callID: callID, name: name, arguments: arguments, raw: raw))
            active = a
            history.append(ModelInput.replayable(raw))
            return
        }
        if offeredMCPTool(named: name) != nil || (name == WebTool.name && offeredWebTool != nil),
            !record.session.agent.config.functionTools.contains(where: { $0.name == name }), var a = active
        {
            // Run by the runtime once the response is complete, as an `mcp_call` or
            // `web_search_call` item.
            a.builtins.append(BuiltinCall(itemID: s.itemID, outputIndex: s.outputIndex, callID: callID, name: name, arguments: arguments, raw: raw))
            active = a
            history.append(ModelInput.replayable(raw))
            return
        }
        var call = FunctionCallItem(id: s.itemID, turnID: turnID, callID: callID, name: name, arguments: arguments, status: .inProgress)
        change.events.append(SessionEvent(.itemAdded(sessionID: sessionID, item: .functionCall(call), outputIndex: s.outputIndex)))
        call.status = .completed
        change.items.append(ItemRecord(item: .functionCall(call), modelItem: raw))
        change.events.append(SessionEvent(.itemDone(sessionID: sessionID, item: .functionCall(call), outputIndex: s.outputIndex)))
        history.append(ModelInput.replayable(raw))

        let isClientTool = record.session.agent.config.functionTools.contains { $0.name == name }
        guard var a = active else { return }
        if name == HistorySearch.name, !isClientTool {
            // Answered by the runtime once the response is complete.
            a.builtins.append(BuiltinCall(itemID: s.itemID, outputIndex: s.outputIndex, callID: callID, name: name, arguments: arguments, raw: raw))
            active = a
            return
        }
        if isClientTool {
            a.pendingCalls.append(PendingCall(callID: callID, name: name, arguments: arguments, itemID: s.itemID, resolved: false))
        } else {
            // The model called a tool that does not exist: tell it, as Codex does.
            let output = SessionItem.functionCallOutput(
                FunctionCallOutputItem(
                    id: IDGenerator.make(.item), turnID: turnID, callID: callID, output: nil,
                    error: "Unknown tool '\(name)'. Only the tools listed in this request can be called.", status: .failed))
            let outputRecord = ItemRecord(item: output)
            change.items.append(outputRecord)
            change.events.append(SessionEvent(.itemAdded(sessionID: sessionID, item: output, outputIndex: nil)))
            if let modelItem = ModelInput.modelItem(for: outputRecord) { history.append(modelItem) }
        }
        a.record.runtime = a.runtimeJSON
        active = a
        change.turns.append(a.record)
    }

    // MARK: - Ending a turn

    private enum Ending { case completed, failed, cancelled }

    private func finishTurn(_ ending: Ending, error: TurnError?, into change: inout Change) {
        guard var a = active else { return }
        let now = currentUnixSeconds()
        // Calls that will never get a result are closed, so the history stays valid for the model.
        // MCP calls waiting for approval (or approved but not run) did not run.
        for call in a.pendingCalls where call.approval?.done == false {
            closeUnansweredApproval(call, turnID: a.turn.id, into: &change)
        }
        for call in a.unresolvedCalls where call.approval == nil {
            let output = SessionItem.functionCallOutput(
                FunctionCallOutputItem(
                    id: IDGenerator.make(.item), turnID: a.turn.id, callID: call.callID, output: nil,
                    error: "The turn ended before a result was submitted for this call.", status: .incomplete))
            let outputRecord = ItemRecord(item: output)
            change.items.append(outputRecord)
            change.events.append(SessionEvent(.itemAdded(sessionID: sessionID, item: output, outputIndex: nil)))
            if let modelItem = ModelInput.modelItem(for: outputRecord) { history.append(modelItem) }
        }
        for i in a.pendingCalls.indices { a.pendingCalls[i].resolved = true }
        // Built-in calls that never ran are recorded as such, so the history stays valid too.
        for call in a.builtins {
            closeBuiltin(call, turnID: a.turn.id, output: "The command was not run: the turn ended first.", into: &change)
        }
        a.builtins = []
        // Steers that never reached the model are kept in the history as user messages.
        if !a.steers.isEmpty {
            appendUserMessages(a.steers, turnID: a.turn.id, into: &change)
            a.steers = []
        }
        a.turn.completedAt = now
        a.turn.usage = a.turn.usage ?? .zero
        switch ending {
        case .completed:
            a.turn.status = .completed
            a.turn.error = nil
        case .failed:
            a.turn.status = .failed
            a.turn.error = error ?? TurnError(code: .internalError, message: "The turn failed.")
            let e = a.turn.error!
            change.events.append(
                SessionEvent(
                    .error(
                        sessionID: sessionID,
                        error: SessionError(type: Self.errorType(for: e.code), message: e.message, code: e.code.rawValue, param: nil))))
        case .cancelled:
            a.turn.status = .cancelled
        }
        a.record.runtime = a.runtimeJSON
        change.turns.append(a.record)
        switch ending {
        case .completed: change.events.append(SessionEvent(.turnCompleted(a.turn)))
        case .failed: change.events.append(SessionEvent(.turnFailed(a.turn)))
        case .cancelled: change.events.append(SessionEvent(.turnCancelled(a.turn)))
        }
        active = nil
        stepTask = nil
        stepGeneration += 1

        record.session.status = .idle
        record.session.requiredActions = []
        record.session.lastActiveAt = now
        change.session = true
        change.events.append(SessionEvent(.sessionIdle(record.session)))
        if !queued.isEmpty {
            start(queued.removeFirst(), into: &change)
        }
    }

    // MARK: - Helpers

    private static func kind(of raw: JSONValue) -> StreamingItem.Kind {
        switch raw["type"]?.stringValue {
        case "message": return .message
        case "reasoning": return .reasoning
        case "function_call": return .functionCall
        case "custom_tool_call": return .customToolCall
        default: return .other
        }
    }

    private static func phase(of raw: JSONValue) -> MessagePhase? {
        raw["phase"]?.stringValue.flatMap(MessagePhase.init(rawValue:))
    }

    private static func outputStatus(of raw: JSONValue) -> OutputItemStatus {
        raw["status"]?.stringValue.flatMap(OutputItemStatus.init(rawValue:)) ?? .completed
    }

    private static func outputContent(of raw: JSONValue, fallback: [Int: String]) -> [ContentPart] {
        if let parts = raw["content"]?.arrayValue {
            return parts.compactMap { part in
                switch part["type"]?.stringValue {
                case "output_text": return .outputText(part["text"]?.stringValue ?? "")
                case "refusal": return .outputText(part["refusal"]?.stringValue ?? "")
                default: return nil
                }
            }
        }
        return fallback.keys.sorted().map { .outputText(fallback[$0] ?? "") }
    }

    private static func summary(of raw: JSONValue, fallback: [Int: String]) -> [String] {
        if let parts = raw["summary"]?.arrayValue {
            return parts.compactMap { $0["text"]?.stringValue }
        }
        return fallback.keys.sorted().map { fallback[$0] ?? "" }
    }

    static func turnError(for error: ModelError) -> TurnError {
        let code: TurnErrorCode
        switch error.kind {
        case .authentication: code = .authenticationError
        case .rateLimited: code = error.code == "insufficient_quota" ? .usageLimitExceeded : .rateLimitExceeded
        case .server, .protocolViolation: code = .serverError
        case .overloaded: code = .serverOverloaded
        case .contextLengthExceeded: code = .contextLengthExceeded
        case .maxOutputTokens: code = .maxOutputTokens
        case .invalidRequest: code = .invalidRequest
        case .notFound: code = .resourceNotFound
        case .connection: code = .connectionFailed
        case .timeout: code = .requestTimeout
        }
        return TurnError(code: code, message: "The model provider returned an error: \(error.message.prefix(2000))")
    }

    private static func errorType(for code: TurnErrorCode) -> String {
        switch code {
        case .invalidRequest, .contextLengthExceeded, .resourceNotFound, .maxOutputTokens: return "invalid_request_error"
        case .authenticationError: return "authentication_error"
        case .rateLimitExceeded, .usageLimitExceeded: return "rate_limit_error"
        default: return "server_error"
        }
    }
}
