import AgentsAPI
import Foundation
import Sandbox
import Storage
import Tools

#if canImport(Glibc)
import Glibc
#endif

/// Hosted sessions: the sandbox's lifecycle, and the built-in shell tool.
extension SessionRunner {
    // MARK: Runtime state kept with the session (confidential: never part of the API object)

    var environmentSecrets: HostedEnvironmentSecrets {
        HostedEnvironmentSecrets(json: record.runtime["environment_secrets"] ?? [:])
    }

    func runtimeValue(_ key: String) -> JSONValue? {
        record.runtime[key]
    }

    func setRuntimeValue(_ key: String, _ value: JSONValue) {
        var object = record.runtime.objectValue ?? [:]
        object[key] = value
        record.runtime = .object(object)
    }

    private func environmentEvent(_ status: EnvironmentStatus, turnID: String?, error: (code: String, message: String)? = nil) -> SessionEvent? {
        guard let hosted = record.session.environment.hosted else { return nil }
        return SessionEvent(.environment(sessionID: sessionID, turnID: turnID, state: EnvironmentState(id: hosted.id, status: status, error: error)))
    }

    // MARK: Lifecycle

    /// The session's sandbox, started (or restarted) when needed. The first start places the
    /// environment's files and runs its setup commands.
    func ensureSandbox(turnID: String?) async throws -> BubblewrapSandbox {
        sandboxLastUse = .now
        if let running = sandbox {
            if running.sandbox.isRunning { return running.sandbox }
            // It died (e.g. killed by the kernel): replace it. Processes and /tmp are gone; the
            // workspace is kept.
            sandbox = nil
            await running.stop()
            var change = Change()
            announceReset(turnID: turnID, into: &change)
            try await commit(change)
        }
        if let starting = sandboxStart {
            return try await starting.value.sandbox
        }
        let task = Task { try await self.startSandbox(turnID: turnID) }
        sandboxStart = task
        do {
            let running = try await task.value
            sandboxStart = nil
            return running.sandbox
        } catch {
            sandboxStart = nil
            throw error
        }
    }

    /// `agent.session.environment.reset`: the sandbox's processes (and /tmp) were lost; the
    /// workspace is kept.
    private func announceReset(turnID: String?, into change: inout Change) {
        let count = (runtimeValue("reset_count")?.intValue ?? 0) + 1
        setRuntimeValue("reset_count", .int(count))
        setRuntimeValue("sandbox_live", false)
        change.session = true
        if let hosted = record.session.environment.hosted {
            change.events.append(SessionEvent(.environmentReset(sessionID: sessionID, turnID: turnID, environmentID: hosted.id, resetCount: count)))
        }
    }

    private func startSandbox(turnID: String?) async throws -> RunningSandbox {
        guard let host = sandboxHost, let hosted = record.session.environment.hosted else {
            throw SandboxError(code: "sandbox_unavailable", message: "This server cannot run hosted environments.")
        }
        var pending = Change()
        // The sandbox was running when the server stopped: its processes are gone.
        if runtimeValue("sandbox_live")?.boolValue == true { announceReset(turnID: turnID, into: &pending) }
        if let event = environmentEvent(.pending, turnID: turnID) { pending.events.append(event) }
        try await commit(pending)

        let slot: Int64
        if let existing = runtimeValue("sandbox_slot")?.intValue {
            slot = existing
        } else {
            slot = try await log.store.sandboxSlot(sessionID: sandboxKey)
            setRuntimeValue("sandbox_slot", .int(slot))
        }
        let limits = EnvironmentSetup.limits(hosted)
        let clock = ContinuousClock()
        let began = clock.now
        do {
            let layers = try await EnvironmentSetup.layers(hosted, host: host)
            let layered = clock.now
            let running = try await host.start(
                key: sandboxKey, slot: slot, limits: limits, layers: layers, egress: EnvironmentSetup.egress(hosted, secrets: environmentSecrets),
                readOnlyBinds: try EnvironmentSetup.skillBinds(environmentSecrets, host: host, key: sandboxKey))
            let started = clock.now
            defer {
                logger.debug(
                    "sandbox started",
                    metadata: ["session": "\(sessionID)", "layers": "\(layered - began)", "start": "\(started - layered)", "setup": "\(clock.now - started)"])
            }
            if runtimeValue("setup_done")?.boolValue != true {
                do {
                    try await EnvironmentSetup.apply(
                        running.sandbox, secrets: environmentSecrets, hosted: hosted, limits: limits, store: log.store, projectID: projectID)
                } catch {
                    await running.stop()
                    throw error
                }
                setRuntimeValue("setup_done", true)
            }
            sandbox = running
            setRuntimeValue("sandbox_live", true)
            var ready = Change()
            ready.session = true
            if let event = environmentEvent(.ready, turnID: turnID) { ready.events.append(event) }
            if let event = environmentEvent(.connected, turnID: turnID) { ready.events.append(event) }
            try await commit(ready)
            return running
        } catch {
            let message = (error as? SandboxError)?.message ?? "\(error)"
            var failed = Change()
            failed.session = true
            if let event = environmentEvent(.failed, turnID: turnID, error: ("sandbox_error", message)) { failed.events.append(event) }
            try? await commit(failed)
            throw error
        }
    }

    /// The environment of every command: a sane base plus the environment's `env`.
    func commandEnvironment() -> [String: String] {
        guard let hosted = record.session.environment.hosted else { return [:] }
        return EnvironmentSetup.commandEnvironment(secrets: environmentSecrets, hosted: hosted)
    }

    /// Where the sandbox's workspace and state live: the session's own ID, or the prewarmed
    /// environment's it took over.
    var sandboxKey: String { runtimeValue("sandbox_key")?.stringValue ?? sessionID }

    /// Takes over a sandbox that was started (and set up) for a prewarmed environment. Called
    /// before the session's first turn can start, so that the turn uses it.
    func adopt(_ running: RunningSandbox) async {
        guard sandbox == nil, sandboxStart == nil, running.sandbox.isRunning else {
            await running.stop()
            return
        }
        sandbox = running
    }

    var hasSandbox: Bool { sandbox != nil }

    /// Announces an adopted sandbox once the session exists.
    func announceAdopted() async {
        guard sandbox != nil else { return }
        setRuntimeValue("sandbox_live", true)
        var ready = Change()
        ready.session = true
        if let event = environmentEvent(.ready, turnID: nil) { ready.events.append(event) }
        if let event = environmentEvent(.connected, turnID: nil) { ready.events.append(event) }
        try? await commit(ready)
    }

    /// The running sandbox, started if needed (for environment file uploads and listings).
    func environmentSandbox() async throws -> BubblewrapSandbox {
        try await ensureSandbox(turnID: nil)
    }

    // MARK: Idle suspension

    /// Whether nothing is running that could need the sandbox soon.
    private var isQuiet: Bool {
        guard active == nil || active?.phase == .waiting else { return false }
        return record.session.status != .inProgress
    }

    /// Arms the suspension of an idle sandbox (after `sandboxIdleTimeout` without use).
    func scheduleSuspensionIfIdle() {
        guard let timeout = sandboxIdleTimeout, sandbox != nil, isQuiet else { return }
        guard suspendTask == nil else { return }
        let due = sandboxLastUse + timeout
        suspendTask = Task { [weak self] in
            try? await Task.sleep(until: due, clock: .continuous)
            guard !Task.isCancelled else { return }
            await self?.suspendIfStillIdle()
        }
    }

    /// Stops a sandbox nobody used for the idle timeout (`agent.session.environment.suspended`);
    /// its workspace stays, and the next use starts it again.
    func suspendIfStillIdle() async {
        suspendTask = nil
        guard let timeout = sandboxIdleTimeout, let running = sandbox, sandboxStart == nil, isQuiet else { return }
        if ContinuousClock.now < sandboxLastUse + timeout {
            scheduleSuspensionIfIdle()
            return
        }
        sandbox = nil
        await running.stop()
        // Stopped on purpose: starting it again is not a reset.
        setRuntimeValue("sandbox_live", false)
        var change = Change()
        change.session = true
        if let event = environmentEvent(.suspended, turnID: nil) { change.events.append(event) }
        try? await commit(change)
        logger.info("suspended an idle sandbox", metadata: ["session": "\(sessionID)"])
    }

    /// Stops the sandbox (shutdown, deletion).
    func stopSandbox() async {
        await stopMCP()
        suspendTask?.cancel()
        suspendTask = nil
        sandboxStart?.cancel()
        if let running = sandbox {
            sandbox = nil
            await running.stop()
        }
    }

    // MARK: The shell tool

    /// Runs the built-in calls of the last response, in order. Returns false when the turn was
    /// cancelled or its state could not be saved.
    func runBuiltinCalls(turnID: String) async -> Bool {
        while let a = active, a.turn.id == turnID, let call = a.builtins.first {
            if a.cancelRequested || Task.isCancelled || draining { return false }
            // Shell, web and MCP calls made together run together (apply_patch, history searches
            // and calls that need approval one at a time).
            let batch = Array(a.builtins.prefix { runsConcurrently($0) })
            if batch.count > 1 {
                guard await runCallsConcurrently(batch, turnID: turnID) else { return false }
                continue
            }
            let ran: Bool
            if call.name == HistorySearch.name {
                ran = await runHistorySearch(call, turnID: turnID)
            } else if call.name == WebTool.name {
                ran = await runWebCall(call, turnID: turnID)
            } else if call.name.hasPrefix("mcp__") {
                ran = await runMCPCall(call, turnID: turnID)
            } else {
                ran = await runBuiltin(call, turnID: turnID)
            }
            guard ran else { return false }
        }
        return true
    }

    func removeBuiltin(_ call: BuiltinCall) {
        guard var a = active else { return }
        a.builtins.removeAll { $0.callID == call.callID }
        active = a
    }

    /// Records a built-in call that did not run (bad arguments, no sandbox, turn ended) as its
    /// kind of item (a failed command, MCP or web call, or a function call output) with
    /// `output` for the model.
    func closeBuiltin(_ call: BuiltinCall, turnID: String, output: String, into change: inout Change, status: FunctionCallStatus = .incomplete) {
        if call.name == HistorySearch.name {
            // A function call of the runtime's: its result is a function call output.
            appendBuiltinResult(call, turnID: turnID, error: output, into: &change)
            return
        }
        if call.name == WebTool.name || call.name.hasPrefix("mcp__") {
            let item = call.name == WebTool.name
                ? Self.webSearchCallItem(id: call.itemID, turnID: turnID, action: ["type": "other"], status: .incomplete)
                : Self.mcpCallItem(
                    id: call.itemID, turnID: turnID, tool: offeredMCPTool(named: call.name) ?? ExposedMCPTool.unknown(call.name),
                    arguments: call.arguments, status: status, output: nil, error: .string(output))
            appendRuntimeCallResult(call.raw, item: item, outputIndex: call.outputIndex, modelText: output, announce: true, into: &change)
            return
        }
        let command = (try? ShellTool.parseArguments(call.arguments).get())?.command ?? ""
        let item = CommandExecutionItem(id: call.itemID, turnID: turnID, command: command, cwd: nil, status: status, exitCode: nil, output: output, durationMs: 0)
        change.items.append(commandResult(item, call: call, output: output))
        change.events.append(SessionEvent(.itemAdded(sessionID: sessionID, item: .commandExecution(item), outputIndex: call.outputIndex)))
        change.events.append(SessionEvent(.itemDone(sessionID: sessionID, item: .commandExecution(item), outputIndex: call.outputIndex)))
    }

    /// The finished command's record, whose output (and the note on it, if any) joins the history.
    private func commandResult(_ item: CommandExecutionItem, call: BuiltinCall, output: String) -> ItemRecord {
        let record = withTimeReminder(ItemRecord(item: .commandExecution(item), modelItem: ["call": call.raw, "output": .string(output)]))
        history.append(ModelInput.callOutput(for: call.raw, output: record.modelItem?["output"]?.stringValue ?? output))
        return record
    }

    /// Ends a built-in call that could not run, telling the model why.
    private func failBuiltin(_ call: BuiltinCall, turnID: String, output: String) async -> Bool {
        var change = Change()
        removeBuiltin(call)
        closeBuiltin(call, turnID: turnID, output: output, into: &change, status: .failed)
        return await commitInLoop(change)
    }

    /// What the model is told when a call found no sandbox to run in.
    static func sandboxUnavailable(_ error: any Error) -> String {
        "The sandbox is not available: \((error as? SandboxError)?.message ?? "\(error)")"
    }

    /// The sandbox for a built-in call. Without one, the call is ended (`committed` says whether
    /// that was saved).
    private func sandboxForBuiltin(_ call: BuiltinCall, turnID: String) async -> (sandbox: BubblewrapSandbox?, committed: Bool) {
        do {
            return (try await ensureSandbox(turnID: turnID), true)
        } catch {
            return (nil, await failBuiltin(call, turnID: turnID, output: Self.sandboxUnavailable(error)))
        }
    }

    private func runBuiltin(_ call: BuiltinCall, turnID: String) async -> Bool {
        if call.name == ApplyPatch.name { return await runApplyPatch(call, turnID: turnID) }
        return await finishShell(await executeShell(call, turnID: turnID), call: call, turnID: turnID)
    }

    /// What running one shell call produced, before it is recorded.
    enum ShellOutcome: Sendable {
        /// It ran (or was cancelled or broke off): the finished item and what the model is told.
        case ran(CommandExecutionItem, modelText: String, cancelled: Bool)
        /// It could not run (bad arguments, no sandbox): what the model is told.
        case notRun(String)
        case storageFailed
    }

    /// Whether a call may run at the same time as its neighbours.
    private func runsConcurrently(_ call: BuiltinCall) -> Bool {
        if call.name == ShellTool.name || call.name == WebTool.name { return true }
        if let tool = offeredMCPTool(named: call.name) { return !tool.info.destructive }
        return false
    }

    /// What one call of a concurrent batch produced, before it is recorded.
    private enum BatchOutcome: Sendable {
        case shell(ShellOutcome)
        case runtime(RuntimeCallOutcome)
    }

    /// Several calls of one response run at once; their results join the history, and their
    /// items finish, in the order the model made the calls. Returns false when the turn was
    /// cancelled or its state could not be saved.
    func runCallsConcurrently(_ calls: [BuiltinCall], turnID: String) async -> Bool {
        let outcomes = await withTaskGroup(of: (Int, BatchOutcome).self) { group in
            for (index, call) in calls.enumerated() {
                group.addTask {
                    if call.name == ShellTool.name { return (index, .shell(await self.executeShell(call, turnID: turnID))) }
                    if call.name == WebTool.name { return (index, .runtime(await self.executeWeb(call, turnID: turnID))) }
                    return (index, .runtime(await self.executeMCP(call, turnID: turnID)))
                }
            }
            var outcomes = [BatchOutcome](repeating: .shell(.storageFailed), count: calls.count)
            for await (index, outcome) in group { outcomes[index] = outcome }
            return outcomes
        }
        var ok = true
        for (call, outcome) in zip(calls, outcomes) {
            switch outcome {
            case .shell(let shell):
                if !(await finishShell(shell, call: call, turnID: turnID)) { ok = false }
            case .runtime(let runtime):
                removeBuiltin(call)
                if !(await recordRuntimeCall(runtime, call: call)) { ok = false }
            }
        }
        return ok
    }

    /// Records a shell call's outcome (its item, and its output in the history).
    private func finishShell(_ outcome: ShellOutcome, call: BuiltinCall, turnID: String) async -> Bool {
        switch outcome {
        case .storageFailed:
            return false
        case .notRun(let output):
            return await failBuiltin(call, turnID: turnID, output: output)
        case .ran(let item, let modelText, let cancelled):
            var done = Change()
            removeBuiltin(call)
            done.items.append(commandResult(item, call: call, output: modelText))
            done.events.append(SessionEvent(.itemDone(sessionID: sessionID, item: .commandExecution(item), outputIndex: call.outputIndex)))
            // Written with the step's end (or the next call's start).
            stage(done)
            return !cancelled
        }
    }

    /// Runs a shell call in the sandbox, streaming its output; records only its start.
    private func executeShell(_ call: BuiltinCall, turnID: String) async -> ShellOutcome {
        let arguments: ShellTool.Arguments
        switch ShellTool.parseArguments(call.arguments) {
        case .failure(let error):
            return .notRun("The call could not run: \(error.message)")
        case .success(let parsed):
            arguments = parsed
        }
        let sandbox: BubblewrapSandbox
        do {
            sandbox = try await ensureSandbox(turnID: turnID)
        } catch {
            return .notRun(Self.sandboxUnavailable(error))
        }
        let limits = sandbox.configuration.limits
        let timeout = arguments.timeoutMs.map { min(Duration.milliseconds($0), limits.maxCommandTimeout) } ?? limits.defaultCommandTimeout
        let logPath = SandboxPaths.logs + "/" + Self.safeFileName(call.callID) + ".log"

        var item = CommandExecutionItem(id: call.itemID, turnID: turnID, command: arguments.command, cwd: arguments.workdir, status: .inProgress)
        var started = Change()
        started.items.append(ItemRecord(item: .commandExecution(item), modelItem: ["call": call.raw]))
        started.events.append(SessionEvent(.itemAdded(sessionID: sessionID, item: .commandExecution(item), outputIndex: call.outputIndex)))
        // The sandbox prepares the command (request checked, log file open) while its start is
        // written, and runs it only once that is durable: a crash never runs it twice.
        let environment = commandEnvironment()
        var held: BubblewrapSandbox.Command?
        let written = await commitInLoop(started) {
            held = sandbox.exec(ShellTool.argv(for: arguments.command), cwd: arguments.workdir, env: environment, timeout: timeout, logPath: logPath, hold: true)
        }
        guard written, let command = held else {
            held?.discard()
            return .storageFailed
        }

        let location = PartLocation(sessionID: sessionID, turnID: turnID, itemID: call.itemID, outputIndex: call.outputIndex, index: 0)
        var decoder = UTF8ChunkDecoder()
        var buffer = HeadTailBuffer(half: 512 * 1024)
        var result: ExecResult?
        var failure: String?
        StepTrace.mark("command started")
        command.start()
        do {
            for try await event in command.events {
                switch event {
                case .output(let bytes):
                    buffer.append(bytes)
                    let text = decoder.decode(bytes)
                    if !text.isEmpty {
                        log.enqueueDetached(SessionWrite(projectID: projectID, sessionID: sessionID, events: [SessionEvent(.commandOutputDelta(location, delta: text))]))
                    }
                case .exit(let r):
                    result = r
                }
                if active?.cancelRequested == true || Task.isCancelled {
                    // Cancel kills the command's whole process group.
                    try? await command.signal(SIGKILL)
                }
            }
        } catch {
            failure = (error as? SandboxError)?.message ?? "\(error)"
        }
        let cancelled = active?.cancelRequested == true || Task.isCancelled
        if result == nil, cancelled {
            // The stream ended because this task was cancelled: make sure nothing keeps running.
            try? await command.signal(SIGKILL)
        }
        let tail = decoder.finish()
        if !tail.isEmpty {
            log.enqueueDetached(SessionWrite(projectID: projectID, sessionID: sessionID, events: [SessionEvent(.commandOutputDelta(location, delta: tail))]))
        }

        StepTrace.mark("command finished")
        if let result { StepTrace.record("command", .microseconds(result.durationMicros)) }
        let capped = CappedOutput(buffer.bytes, totalBytes: buffer.total)
        let modelText: String
        if let result {
            modelText = ShellTool.modelOutput(
                exitCode: result.exitCode, signal: result.signal, timedOut: result.timedOut, durationMs: result.durationMs, output: capped,
                logPath: logPath)
            item.status = result.exitCode == 0 ? .completed : .failed
            item.exitCode = result.exitCode.map { Int64($0) }
            item.durationMs = result.durationMs
        } else if cancelled {
            modelText = "The command was cancelled.\nOutput:\n" + capped.text
            item.status = .incomplete
        } else {
            modelText = "The command could not be completed: \(failure ?? "the sandbox stopped").\nOutput:\n" + capped.text
            item.status = .failed
        }
        let stored = CappedOutput(buffer.bytes, totalBytes: buffer.total, maxBytes: 1 << 20, maxLines: Int.max)
        item.output = stored.text
        return .ran(item, modelText: modelText, cancelled: cancelled)
    }

    /// `apply_patch`: recorded as a command (`apply_patch`) whose output is the result.
    private func runApplyPatch(_ call: BuiltinCall, turnID: String) async -> Bool {
        // The freeform tool's input, or the function variant's `input` argument.
        guard let patch = (try? ToolError.decodeArguments(call.arguments).get())?["input"]?.stringValue else {
            return await failBuiltin(call, turnID: turnID, output: "The call could not run: give the whole patch as 'input'.")
        }
        let (available, committed) = await sandboxForBuiltin(call, turnID: turnID)
        guard let sandbox = available else { return committed }
        let command = "apply_patch <<'PATCH'\n\(patch)\nPATCH"
        var item = CommandExecutionItem(id: call.itemID, turnID: turnID, command: command, cwd: SandboxPaths.workspace, status: .inProgress)
        var started = Change()
        started.items.append(ItemRecord(item: .commandExecution(item), modelItem: ["call": call.raw]))
        started.events.append(SessionEvent(.itemAdded(sessionID: sessionID, item: .commandExecution(item), outputIndex: call.outputIndex)))
        guard await commitInLoop(started) else { return false }

        let clock = ContinuousClock()
        let began = clock.now
        let output: String
        do {
            output = try await ApplyPatch.apply(patch, fileSystem: SandboxPatchFileSystem(sandbox: sandbox))
            item.status = .completed
            item.exitCode = 0
        } catch {
            output = "apply_patch failed: \(error.message)"
            item.status = .failed
            item.exitCode = 1
        }
        let elapsed = clock.now - began
        item.durationMs = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
        item.output = output
        var done = Change()
        removeBuiltin(call)
        done.items.append(commandResult(item, call: call, output: output))
        done.events.append(SessionEvent(.commandOutputDelta(
            PartLocation(sessionID: sessionID, turnID: turnID, itemID: call.itemID, outputIndex: call.outputIndex, index: 0), delta: output)))
        done.events.append(SessionEvent(.itemDone(sessionID: sessionID, item: .commandExecution(item), outputIndex: call.outputIndex)))
        return await commitInLoop(done)
    }

    // MARK: Artifacts

    static let outputsPath = "/workspace/outputs"
    static let maxArtifactBytes: Int64 = 32 << 20
    static let maxArtifactsBytesPerTurn: Int64 = 128 << 20
    static let maxArtifactsPerTurn = 200

    /// Publishes what the turn left under `/workspace/outputs/` (new or changed files since the
    /// last publication) as immutable artifacts of `turnID`. Files that are too large are skipped
    /// (and logged); a sandbox that is gone publishes nothing.
    func publishOutputs(turnID: String) async {
        guard let hosted = record.session.environment.hosted, let running = sandbox, running.sandbox.isRunning else { return }
        let entries: [BubblewrapSandbox.Entry]
        do {
            entries = try await running.sandbox.list(Self.outputsPath, recursive: true, limit: 10_000).entries
        } catch {
            return  // no outputs directory (or it is not a directory): nothing to publish
        }
        var published = record.runtime["published_outputs"]?.objectValue ?? [:]
        var total: Int64 = 0
        var count = 0
        for entry in entries where entry.type == "file" {
            guard entry.size <= Self.maxArtifactBytes, total + entry.size <= Self.maxArtifactsBytesPerTurn, count < Self.maxArtifactsPerTurn else {
                logger.info("artifact not published: too large", metadata: ["path": "\(entry.path)", "size": "\(entry.size)"])
                continue
            }
            do {
                let data = try await running.sandbox.readWholeFile(entry.path, limit: Self.maxArtifactBytes)
                let sha = Hashing.sha256Hex(data)
                if published[entry.path]?.stringValue == sha { continue }
                let artifact = SessionArtifact(
                    id: IDGenerator.make(.artifact), createdAt: currentUnixSeconds(), environmentID: hosted.id, path: entry.path, sessionID: sessionID,
                    sizeBytes: Int64(data.count), turnID: turnID)
                try await log.store.insertArtifact(projectID: projectID, artifact: artifact, sha256: sha, content: data)
                published[entry.path] = .string(sha)
                total += Int64(data.count)
                count += 1
            } catch {
                logger.info("artifact not published", metadata: ["path": "\(entry.path)", "error": "\(error)"])
            }
        }
        var object = record.runtime.objectValue ?? [:]
        object["published_outputs"] = .object(published)
        record.runtime = .object(object)
    }

    static func safeFileName(_ id: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-".unicodeScalars)
        let cleaned = String(String.UnicodeScalarView(id.unicodeScalars.filter { allowed.contains($0) }.prefix(100)))
        return cleaned.isEmpty ? "call" : cleaned
    }
}

/// Patches read and write through the sandbox's agent, which refuses paths outside the
/// workspace and any path through a symlink.
struct SandboxPatchFileSystem: ApplyPatch.FileSystem {
    let sandbox: BubblewrapSandbox

    func read(_ path: String) async throws -> String? {
        do {
            let data = try await sandbox.readWholeFile(path, limit: 4 << 20)
            return String(decoding: data, as: UTF8.self)
        } catch let error as SandboxError where error.code == "not_found" {
            return nil
        } catch let error as SandboxError where error.code == "too_large" {
            throw ToolError("\(path) is too large to patch (over 4 MiB); edit it with a command instead.")
        }
    }

    func write(_ path: String, _ contents: String) async throws {
        try await sandbox.writeFile(path, Array(contents.utf8))
    }

    func delete(_ path: String) async throws {
        try await sandbox.delete(path)
    }
}
