public import AgentsAPI
import Foundation
import Sandbox
import Synchronization
public import Storage

/// A prewarmed environment's sandbox: being provisioned, or running and waiting for a session.
final class PrewarmedSandbox: Sendable {
    let provisioning: Task<RunningSandbox?, Never>
    let lastUse = Mutex(ContinuousClock.now)

    init(provisioning: Task<RunningSandbox?, Never>) {
        self.provisioning = provisioning
    }

    func touch() { lastUse.withLock { $0 = .now } }

    func stop() async {
        provisioning.cancel()
        await provisioning.value?.stop()
    }
}

/// Environments (prewarmed, and those of hosted sessions), environment files, templates and the
/// Files API.
extension AgentRuntime {
    public static let maxUploadBytes = 64 << 20

    // MARK: Resolution

    /// Applies the named template and sizes the named Files API files.
    func resolve(projectID: String, params: HostedEnvironmentParams, paramPrefix: String) async throws -> (HostedEnvironment, HostedEnvironmentSecrets) {
        var template: EnvironmentTemplateRecord?
        if let id = params.templateID {
            guard let found = try await store.template(projectID: projectID, id: id) else {
                throw RuntimeError.notFound("No environment template found with id '\(id.prefix(128))'.", param: "\(paramPrefix).environment_template_id")
            }
            template = found
        }
        let sizes = try await fileSizes(projectID: projectID, ids: params.referencedFileIDs)
        do {
            return try params.resolve(template: template, fileSizes: sizes, paramPrefix: paramPrefix)
        } catch {
            throw RuntimeError.invalid(error)
        }
    }

    func fileSizes(projectID: String, ids: [String]) async throws -> [String: Int64] {
        var sizes: [String: Int64] = [:]
        for id in Set(ids) {
            if let file = try await store.file(projectID: projectID, id: id) { sizes[id] = file.bytes }
        }
        return sizes
    }

    // MARK: Prewarmed environments

    /// `POST /agents/environments`: records the environment and provisions its sandbox in the
    /// background (`pending` → `ready`, or `failed`).
    public func createEnvironment(projectID: String, id: String? = nil, params: HostedEnvironmentParams) async throws -> EnvironmentInfo {
        guard let host = sandboxHost else {
            throw RuntimeError.invalid(.notAvailable("Hosted environments need bubblewrap on the server (see the README); they are", param: "environment.type"))
        }
        var (hosted, secrets) = try await resolve(projectID: projectID, params: params, paramPrefix: "environment")
        if let id { hosted.id = id }
        let record = EnvironmentRecord(projectID: projectID, hosted: hosted, secrets: secrets, status: .pending)
        try await store.insertEnvironment(record)
        startProvisioning(record, host: host)
        return record.info
    }

    private func startProvisioning(_ record: EnvironmentRecord, host: SandboxHost) {
        let store = self.store
        let logger = self.logger
        let task = Task<RunningSandbox?, Never> {
            do {
                let slot = try await store.sandboxSlot(sessionID: record.id)
                let limits = EnvironmentSetup.limits(record.hosted)
                let layers = try await EnvironmentSetup.layers(record.hosted, host: host)
                let running = try await host.start(
                    key: record.id, slot: slot, limits: limits, layers: layers, egress: EnvironmentSetup.egress(record.hosted, secrets: record.secrets),
                    readOnlyBinds: try EnvironmentSetup.skillBinds(record.secrets, host: host, key: record.id))
                do {
                    if record.runtime["setup_done"]?.boolValue != true {
                        try await EnvironmentSetup.apply(
                            running.sandbox, secrets: record.secrets, hosted: record.hosted, limits: limits, store: store, projectID: record.projectID)
                    }
                    let updated = try await store.updateEnvironment(projectID: record.projectID, id: record.id) { row in
                        row.status = .ready
                        var runtime = row.runtime.objectValue ?? [:]
                        runtime["sandbox_slot"] = .int(slot)
                        runtime["setup_done"] = true
                        row.runtime = .object(runtime)
                    }
                    if Task.isCancelled || updated == nil {
                        await running.stop()
                        return nil
                    }
                    return running
                } catch {
                    await running.stop()
                    throw error
                }
            } catch {
                let message = (error as? SandboxError)?.message ?? "\(error)"
                logger.warning("prewarmed environment failed", metadata: ["environment": "\(record.id)", "error": "\(message)"])
                _ = try? await store.updateEnvironment(projectID: record.projectID, id: record.id) { row in
                    if row.sessionID == nil { row.status = .failed }
                }
                return nil
            }
        }
        let entry = PrewarmedSandbox(provisioning: task)
        prewarmed.withLock { $0[record.id] = entry }
        if let timeout = sandboxIdleTimeout {
            Task { await self.suspendWhenIdle(record, entry: entry, timeout: timeout) }
        }
    }

    /// Stops a prewarmed environment's sandbox that no session took and nobody used for the idle
    /// timeout (`suspended`; the next use starts it again around its workspace).
    private func suspendWhenIdle(_ record: EnvironmentRecord, entry: PrewarmedSandbox, timeout: Duration) async {
        guard await entry.provisioning.value != nil else { return }
        entry.touch()  // the idle time counts from when it was ready
        while true {
            let due = entry.lastUse.withLock { $0 } + timeout
            try? await Task.sleep(until: due, clock: .continuous)
            guard prewarmed.withLock({ $0[record.id] === entry }) else { return }  // taken or stopped
            guard entry.lastUse.withLock({ $0 }) + timeout <= .now else { continue }
            guard prewarmed.withLock({ p in p[record.id] === entry ? p.removeValue(forKey: record.id) : nil }) != nil else { return }
            await entry.stop()
            _ = try? await store.updateEnvironment(projectID: record.projectID, id: record.id) { row in
                if row.sessionID == nil, row.status == .ready { row.status = .suspended }
            }
            logger.info("suspended an idle prewarmed environment", metadata: ["environment": "\(record.id)"])
            return
        }
    }

    /// The prewarmed sandbox of `id`, if one is running, handed over to the caller.
    func takePrewarmed(_ id: String) async -> RunningSandbox? {
        guard let entry = prewarmed.withLock({ $0.removeValue(forKey: id) }) else { return nil }
        return await entry.provisioning.value
    }

    /// Marks a prewarmed environment as used by `sessionID`, waiting for its provisioning to
    /// finish first. One session at a time: a second claim is a conflict. The confidential
    /// inputs move to the session (the row no longer keeps them).
    func claimEnvironment(projectID: String, id: String, sessionID: String) async throws -> EnvironmentRecord {
        if let entry = prewarmed.withLock({ $0[id] }) { _ = await entry.provisioning.value }
        guard let before = try await store.environment(projectID: projectID, id: id) else {
            throw RuntimeError.notFound("No environment found with id '\(id.prefix(128))'.", param: "environment.environment_id")
        }
        let record = try await store.updateEnvironment(projectID: projectID, id: id) { row in
            guard row.sessionID == nil else {
                throw RuntimeError.conflict("The environment '\(id.prefix(128))' is already used by a session.", code: "environment_in_use")
            }
            guard row.status != .failed, row.status != .expired else {
                throw RuntimeError.invalid(.invalid("The environment '\(id.prefix(128))' is \(row.status.rawValue) and cannot be used.", param: "environment.environment_id"))
            }
            row.sessionID = sessionID
            row.secrets = HostedEnvironmentSecrets()
        }
        guard var claimed = record else {
            throw RuntimeError.notFound("No environment found with id '\(id.prefix(128))'.", param: "environment.environment_id")
        }
        claimed.secrets = before.secrets
        return claimed
    }

    func releaseEnvironment(_ record: EnvironmentRecord, sessionID: String) async {
        _ = try? await store.updateEnvironment(projectID: record.projectID, id: record.id) { row in
            if row.sessionID == sessionID {
                row.sessionID = nil
                row.secrets = record.secrets
            }
        }
    }

    public func environmentInfo(projectID: String, id: String) async throws -> EnvironmentInfo {
        guard let record = try await store.environment(projectID: projectID, id: id) else { throw Self.environmentNotFound(id) }
        return record.info
    }

    static func environmentNotFound(_ id: String) -> RuntimeError {
        .notFound("No environment found with id '\(id.prefix(128))'.", param: nil)
    }

    // MARK: Environment files

    /// The environment's running sandbox: its session's, or the prewarmed one.
    private func liveSandbox(projectID: String, environmentID: String) async throws -> BubblewrapSandbox {
        guard let record = try await store.environment(projectID: projectID, id: environmentID) else { throw Self.environmentNotFound(environmentID) }
        if let sessionID = record.sessionID {
            let runner = try await requireRunner(projectID: projectID, sessionID: sessionID)
            do {
                return try await runner.environmentSandbox()
            } catch {
                throw RuntimeError.conflict("The environment is not connected: \((error as? SandboxError)?.message ?? "\(error)")", code: "environment_not_connected")
            }
        }
        if let entry = prewarmed.withLock({ $0[environmentID] }), let running = await entry.provisioning.value, running.sandbox.isRunning {
            entry.touch()
            return running.sandbox
        }
        guard record.status == .ready || record.status == .suspended, let host = sandboxHost else {
            throw RuntimeError.conflict("The environment is \(record.status.rawValue), not connected.", code: "environment_not_connected")
        }
        // Ready but not running (e.g. after a restart): start it again around its workspace.
        startProvisioning(record, host: host)
        if let entry = prewarmed.withLock({ $0[environmentID] }), let running = await entry.provisioning.value {
            return running.sandbox
        }
        throw RuntimeError.conflict("The environment could not be started.", code: "environment_not_connected")
    }

    /// `POST /agents/environments/{id}/files`: writes (or replaces) a regular file in the live
    /// workspace, never through a symlink.
    public func writeEnvironmentFile(projectID: String, environmentID: String, file: HostedFileParam) async throws -> EnvironmentFileInfo {
        let bytes: [UInt8]
        switch file.source {
        case .inline(let base64):
            guard let data = Data(base64Encoded: base64) else { throw RuntimeError.invalid(.init("'data' must be standard base64.", param: "data", code: "invalid_value")) }
            bytes = Array(data)
        case .fileID(let id):
            guard let content = try await store.fileContent(projectID: projectID, id: id) else {
                throw RuntimeError.invalid(.init("No file found with id '\(id.prefix(128))'.", param: "file_id", code: "invalid_value"))
            }
            bytes = content
        }
        let sandbox = try await liveSandbox(projectID: projectID, environmentID: environmentID)
        do {
            try await sandbox.writeFile(file.path, bytes)
        } catch let error as SandboxError {
            throw RuntimeError.invalid(.init("The file could not be written: \(error.message)", param: "path", code: "invalid_value"))
        }
        return EnvironmentFileInfo(environmentID: environmentID, path: file.path, sizeBytes: Int64(bytes.count))
    }

    /// `GET /agents/environments/{id}/files`: the live regular files under `directory`, sorted
    /// by path components, one page after `after` (exclusive).
    public func listEnvironmentFiles(
        projectID: String, environmentID: String, directory: String, ascending: Bool, limit: Int, after: String?
    ) async throws -> (files: [EnvironmentFileInfo], next: String?) {
        let sandbox = try await liveSandbox(projectID: projectID, environmentID: environmentID)
        let listing: (entries: [BubblewrapSandbox.Entry], truncated: Bool)
        do {
            listing = try await sandbox.list(directory, recursive: true, limit: 100_000)
        } catch let error as SandboxError where error.code == "not_found" {
            return ([], nil)
        } catch let error as SandboxError {
            throw RuntimeError.invalid(.init("The directory cannot be listed: \(error.message)", param: "path", code: "invalid_value"))
        }
        // Case-sensitive path-component order is byte order with "/" below every other byte.
        let key = { (path: String) -> [UInt8] in path.utf8.map { $0 == UInt8(ascii: "/") ? 0 : $0 } }
        let afterKey = after.map(key)
        let files = listing.entries.filter { $0.type == "file" && !$0.path.hasPrefix("/workspace/.cma/") }
            .map { (key: key($0.path), entry: $0) }
            .sorted { ascending ? $0.key.lexicographicallyPrecedes($1.key) : $1.key.lexicographicallyPrecedes($0.key) }
            .filter { file in afterKey.map { ascending ? $0.lexicographicallyPrecedes(file.key) : file.key.lexicographicallyPrecedes($0) } ?? true }
            .map(\.entry)
        let page = files.prefix(limit)
        let next = files.count > limit ? page.last?.path : nil
        return (page.map { EnvironmentFileInfo(environmentID: environmentID, path: $0.path, sizeBytes: $0.size) }, next)
    }

    // MARK: Templates

    public func createTemplate(projectID: String, id: String? = nil, params: HostedEnvironmentParams) async throws -> EnvironmentTemplate {
        let now = currentUnixSeconds()
        var template = EnvironmentTemplate(id: id ?? IDGenerator.make(.template), createdAt: now, updatedAt: now)
        var secrets = HostedEnvironmentSecrets()
        let sizes = try await fileSizes(projectID: projectID, ids: params.referencedFileIDs)
        do {
            try template.apply(params, secrets: &secrets, fileSizes: sizes)
        } catch {
            throw RuntimeError.invalid(error)
        }
        try await store.insertTemplate(projectID: projectID, record: EnvironmentTemplateRecord(template: template, secrets: secrets))
        return template
    }

    public func updateTemplate(projectID: String, id: String, params: HostedEnvironmentParams) async throws -> EnvironmentTemplate {
        let sizes = try await fileSizes(projectID: projectID, ids: params.referencedFileIDs)
        let now = currentUnixSeconds()
        let updated = try await store.updateTemplate(projectID: projectID, id: id) { record in
            do {
                try record.template.apply(params, secrets: &record.secrets, fileSizes: sizes)
            } catch let error as ValidationError {
                throw RuntimeError.invalid(error)
            }
            record.template.updatedAt = now
        }
        guard let updated else { throw RuntimeError.notFound("No environment template found with id '\(id.prefix(128))'.", param: nil) }
        return updated.template
    }

    // MARK: Files API

    public func uploadFile(projectID: String, id: String? = nil, filename: String, purpose: String, content: [UInt8]) async throws -> FileObject {
        let file = FileObject(id: id ?? IDGenerator.make(.file), bytes: Int64(content.count), createdAt: currentUnixSeconds(), filename: filename, purpose: purpose)
        try await store.insertFile(projectID: projectID, file: file, content: content)
        return file
    }
}
