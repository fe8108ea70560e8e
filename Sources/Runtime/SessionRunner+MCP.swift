import AgentsAPI
import MCP
import Sandbox
import Storage
import Tools

/// An MCP call waiting for (or answered by) the user's approval. Kept with the turn, so that a
/// restart still knows what was asked.
struct MCPApproval: Sendable, Equatable {
    var requestID: String
    var serverLabel: String
    var tool: String
    /// The model's call, as it is sent back in the history.
    var raw: JSONValue
    var outputIndex: Int
    /// `approve`, `deny` or `cancel`, once answered.
    var decision: String?
    /// The call has been run (or refused) and its result recorded.
    var done = false

    var json: JSONValue {
        var o: JSONObject = [
            "request_id": .string(requestID), "server_label": .string(serverLabel), "tool": .string(tool), "raw": raw,
            "output_index": .int(Int64(outputIndex)), "done": .bool(done),
        ]
        o.set("decision", decision.map { .string($0) })
        return .object(o)
    }

    init(requestID: String, serverLabel: String, tool: String, raw: JSONValue, outputIndex: Int) {
        self.requestID = requestID
        self.serverLabel = serverLabel
        self.tool = tool
        self.raw = raw
        self.outputIndex = outputIndex
    }

    init?(json: JSONValue) {
        guard let requestID = json["request_id"]?.stringValue, let label = json["server_label"]?.stringValue, let tool = json["tool"]?.stringValue,
            let raw = json["raw"]
        else { return nil }
        self.init(requestID: requestID, serverLabel: label, tool: tool, raw: raw, outputIndex: Int(json["output_index"]?.intValue ?? 0))
        decision = json["decision"]?.stringValue
        done = json["done"]?.boolValue ?? false
    }
}

/// MCP tools: the session's servers are started before a model call needs their tools, their
/// tools are offered as functions, and calls run in the runtime as `mcp_call` items. Tools the
/// server marks destructive wait for the user's approval.
extension SessionRunner {
    // MARK: Secrets (kept in the session's runtime state, never in the API object)

    /// Moves the MCP secrets out of `config` (into the returned object, by server label).
    static func extractMCPSecrets(from config: inout AgentConfig) -> JSONValue {
        var secrets = JSONObject()
        config.tools = config.tools.map { tool in
            guard case .mcp(var m) = tool else { return tool }
            if !m.secrets.isEmpty { secrets[m.serverLabel] = m.secrets.json }
            m.secrets = MCPSecrets()
            return .mcp(m)
        }
        return .object(secrets)
    }

    var mcpSecrets: [String: MCPSecrets] {
        var result: [String: MCPSecrets] = [:]
        for (label, value) in runtimeValue("mcp_secrets")?.objectValue ?? [:] {
            if let s = try? MCPSecrets(json: value) { result[label] = s }
        }
        return result
    }

    // MARK: Starting servers

    /// Starts the servers a model call needs, and refreshes the tools offered. Returns the
    /// turn's error when a required server cannot start.
    func prepareMCP(turnID: String) async -> TurnError? {
        let tools = record.session.agent.config.mcpTools
        // A session that never had MCP servers skips the servers' actor (two hops a step).
        if tools.isEmpty {
            var empty = !mcpConfigured
            if !empty { empty = await mcp.isEmpty }
            if empty {
                offeredMCPTools = []
                return nil
            }
        }
        mcpConfigured = true
        await mcp.configure(tools, secrets: mcpSecrets)
        let failures = await mcp.prepare(turnID: turnID, context: mcpContext())
        offeredMCPTools = await mcp.exposedTools()
        guard let first = failures.first else { return nil }
        return TurnError(code: .connectionFailed, message: "The required MCP server '\(first.label)' is not available: \(first.error.message)")
    }

    private func mcpContext() -> MCPServers.Context {
        let hosted = record.session.environment.hosted
        let inheritable = Dictionary(environmentSecrets.env, uniquingKeysWith: { _, last in last })
        var base = ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/home/agent", "LANG": "C.UTF-8"]
        if let hosted { base = EnvironmentSetup.commandEnvironment(secrets: HostedEnvironmentSecrets(), hosted: hosted) }
        return MCPServers.Context(
            environmentSandbox: { [self] in
                guard await self.record.session.environment.hosted != nil else {
                    throw SandboxError(code: "sandbox_unavailable", message: "The session has no hosted environment.")
                }
                return try await self.ensureSandbox(turnID: nil)
            },
            ownSandbox: { [self] label in try await self.startMCPSandbox(label: label) },
            baseEnvironment: base, inheritable: inheritable)
    }

    /// A sandbox of its own for a stdio server reached from the service: no workspace of the
    /// session's, and the public network only.
    func startMCPSandbox(label: String) async throws -> RunningSandbox {
        guard let host = sandboxHost else {
            throw SandboxError(code: "sandbox_unavailable", message: "This server cannot run sandboxes (bubblewrap is missing).")
        }
        let key = Self.mcpSandboxKey(session: sandboxKey, label: label)
        let slot = try await log.store.sandboxSlot(sessionID: key)
        return try await host.start(key: key, slot: slot, limits: SandboxLimits.forSize(.small), egress: .enabled)
    }

    static func mcpSandboxKey(session: String, label: String) -> String { session + "-mcp-" + label }

    /// Stops the servers (at deletion and shutdown).
    func stopMCP() async {
        await mcp.stopAll()
        if let host = sandboxHost {
            for tool in record.session.agent.config.mcpTools where tool.connectionOrigin == .service {
                if case .stdio = tool.transport { host.removeFiles(key: Self.mcpSandboxKey(session: sandboxKey, label: tool.serverLabel)) }
            }
        }
    }

    // MARK: Calls

    func offeredMCPTool(named name: String) -> ExposedMCPTool? {
        guard name.hasPrefix("mcp__") else { return nil }
        return offeredMCPTools.first { $0.exposedName == name }
    }

    /// Runs an MCP call of the model's, or asks for approval first.
    func runMCPCall(_ call: BuiltinCall, turnID: String) async -> Bool {
        removeBuiltin(call)
        if let tool = offeredMCPTool(named: call.name), tool.info.destructive, case .success(.object(let arguments)) = ToolError.decodeArguments(call.arguments) {
            return await requestApproval(call, tool: tool, arguments: arguments, turnID: turnID)
        }
        return await recordRuntimeCall(await executeMCP(call, turnID: turnID), call: call)
    }

    /// Runs an MCP call (without asking); records only its start.
    func executeMCP(_ call: BuiltinCall, turnID: String) async -> RuntimeCallOutcome {
        guard let tool = offeredMCPTool(named: call.name) else {
            return Self.mcpOutcome(ExposedMCPTool.unknown(call.name), itemID: call.itemID, arguments: call.arguments, turnID: turnID, announced: false,
                result: .failure(MCPError(.connection, "The tool '\(call.name)' is no longer available.")))
        }
        let arguments: JSONObject
        switch ToolError.decodeArguments(call.arguments) {
        case .success(.object(let o)): arguments = o
        case .success(.null): arguments = [:]
        case .success:
            return Self.mcpOutcome(tool, itemID: call.itemID, arguments: .null, turnID: turnID, announced: false,
                result: .failure(MCPError(.protocolViolation, "The arguments must be a JSON object.")))
        case .failure(let error):
            return Self.mcpOutcome(tool, itemID: call.itemID, arguments: call.arguments, turnID: turnID, announced: false,
                result: .failure(MCPError(.protocolViolation, error.message)))
        }
        var change = Change()
        let item = Self.mcpCallItem(id: call.itemID, turnID: turnID, tool: tool, arguments: .object(arguments), status: .inProgress, output: nil, error: nil)
        change.events.append(SessionEvent(.itemAdded(sessionID: sessionID, item: item, outputIndex: call.outputIndex)))
        guard await commitInLoop(change) else { return .storageFailed }
        let result = await mcp.call(label: tool.serverLabel, tool: tool.info.name, arguments: arguments)
        return Self.mcpOutcome(tool, itemID: call.itemID, arguments: .object(arguments), turnID: turnID, announced: true, result: result)
    }

    /// A destructive tool's call: recorded as in progress, without a result, and the turn waits
    /// for the user's decision.
    private func requestApproval(_ call: BuiltinCall, tool: ExposedMCPTool, arguments: JSONObject, turnID: String) async -> Bool {
        var change = Change()
        let item = Self.mcpCallItem(id: call.itemID, turnID: turnID, tool: tool, arguments: .object(arguments), status: .inProgress, output: nil, error: nil)
        change.events.append(SessionEvent(.itemAdded(sessionID: sessionID, item: item, outputIndex: call.outputIndex)))
        change.items.append(ItemRecord(item: item, modelItem: ["call": call.raw, "awaiting_approval": true]))
        guard var a = active else { return false }
        let requestID = "mcpr_" + IDGenerator.make(.call).drop { $0 != "_" }.dropFirst()
        let approval = MCPApproval(requestID: requestID, serverLabel: tool.serverLabel, tool: tool.info.name, raw: call.raw, outputIndex: call.outputIndex)
        a.pendingCalls.append(PendingCall(callID: call.callID, name: call.name, arguments: .object(arguments), itemID: call.itemID, resolved: false, approval: approval))
        a.record.runtime = a.runtimeJSON
        active = a
        change.turns.append(a.record)
        return await commitInLoop(change)
    }

    /// A finished (or refused) MCP call: its item's result, and the text the model reads.
    static func mcpOutcome(
        _ tool: ExposedMCPTool, itemID: String, arguments: JSONValue, turnID: String, announced: Bool, result: Result<MCPCallResult, MCPError>
    ) -> RuntimeCallOutcome {
        let item: SessionItem
        let modelText: String
        switch result {
        case .success(let r):
            let text = r.text
            if r.isError {
                item = mcpCallItem(id: itemID, turnID: turnID, tool: tool, arguments: arguments, status: .failed, output: nil, error: .string(text))
                modelText = "The tool reported an error: " + text
            } else {
                let output: JSONValue = r.content.allSatisfy({ $0["type"]?.stringValue == "text" }) ? .string(text) : .array(r.content)
                item = mcpCallItem(id: itemID, turnID: turnID, tool: tool, arguments: arguments, status: .completed, output: output, error: nil)
                modelText = text
            }
        case .failure(let error):
            item = mcpCallItem(id: itemID, turnID: turnID, tool: tool, arguments: arguments, status: .failed, output: nil, error: .string(error.message))
            modelText = error.message
        }
        return .done(item: item, modelText: ModelInput.budgeted(modelText, itemID: itemID), announced: announced)
    }

    static func mcpCallItem(id: String, turnID: String, tool: ExposedMCPTool, arguments: JSONValue, status: FunctionCallStatus, output: JSONValue?, error: JSONValue?) -> SessionItem {
        .other([
            "id": .string(id), "type": "mcp_call", "arguments": arguments, "error": error ?? .null, "name": .string(tool.info.name), "output": output ?? .null,
            "server_label": .string(tool.serverLabel), "status": .string(status.rawValue), "turn_id": .string(turnID),
        ])
    }

    // MARK: Approvals

    /// The required action for an MCP call waiting for approval.
    static func approvalAction(_ call: PendingCall, turnID: String) -> RequiredAction? {
        guard let approval = call.approval else { return nil }
        return .mcpApproval(
            requestID: approval.requestID, serverLabel: approval.serverLabel,
            message: "Allow the MCP server '\(approval.serverLabel)' to run its tool '\(approval.tool)'? The server marks it as destructive.",
            name: approval.tool, arguments: call.arguments, turnID: turnID)
    }

    /// An approval the turn ended without acting on: its call did not run.
    func closeUnansweredApproval(_ call: PendingCall, turnID: String, into change: inout Change) {
        guard let approval = call.approval else { return }
        let tool = offeredMCPTool(named: call.name) ?? ExposedMCPTool.unknown(call.name, label: approval.serverLabel, tool: approval.tool)
        let message = "The turn ended before this call ran (it was waiting for the user's approval)."
        let item = Self.mcpCallItem(id: call.itemID, turnID: turnID, tool: tool, arguments: call.arguments, status: .incomplete, output: nil, error: .string(message))
        appendRuntimeCallResult(approval.raw, item: item, outputIndex: approval.outputIndex, modelText: message, announce: false, into: &change)
    }

    /// Runs (or refuses) the approval requests the user has answered. Returns false when the
    /// turn ended or its state could not be saved.
    func runAnsweredApprovals(turnID: String) async -> Bool {
        while let a = active, a.turn.id == turnID,
            let index = a.pendingCalls.firstIndex(where: { $0.approval != nil && $0.resolved && $0.approval?.done == false })
        {
            if a.cancelRequested || Task.isCancelled || draining { return false }
            let call = a.pendingCalls[index]
            guard let approval = call.approval else { return false }
            let tool = offeredMCPTool(named: call.name)
                ?? ExposedMCPTool.unknown(call.name, label: approval.serverLabel, tool: approval.tool)
            let result: Result<MCPCallResult, MCPError>
            switch approval.decision {
            case "approve":
                if offeredMCPTool(named: call.name) == nil {
                    result = .failure(MCPError(.connection, "The MCP server '\(approval.serverLabel)' no longer offers '\(approval.tool)'."))
                } else {
                    result = await mcp.call(label: approval.serverLabel, tool: approval.tool, arguments: call.arguments.objectValue ?? [:])
                }
            case "cancel":
                result = .failure(MCPError(.connection, "The user dismissed this call without running it."))
            default:
                result = .failure(MCPError(.connection, "The user denied this call; it did not run."))
            }
            guard var fresh = active, fresh.turn.id == turnID, let i = fresh.pendingCalls.firstIndex(where: { $0.callID == call.callID }) else { return false }
            fresh.pendingCalls[i].approval?.done = true
            fresh.record.runtime = fresh.runtimeJSON
            active = fresh
            let outcome = Self.mcpOutcome(tool, itemID: call.itemID, arguments: call.arguments, turnID: turnID, announced: true, result: result)
            guard case .done(let item, let modelText, _) = outcome,
                await recordRuntimeCall(approval.raw, item: item, outputIndex: approval.outputIndex, modelText: modelText, announce: false)
            else { return false }
        }
        return true
    }
}
