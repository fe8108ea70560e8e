import HTTPTypes
import AgentsAPI
import Hummingbird
import NIOCore
import Runtime
import Storage

/// `/v1/agents/sessions`: sessions, their input events, event streams, items and turns.
struct SessionsController {
    let runtime: AgentRuntime
    var store: any Store { runtime.store }

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.post("agents/sessions", use: create)
        group.get("agents/sessions", use: list)
        group.get("agents/sessions/:session_id", use: get)
        group.post("agents/sessions/:session_id", use: update)
        group.delete("agents/sessions/:session_id", use: delete)
        group.post("agents/sessions/:session_id/events", use: submitEvents)
        group.get("agents/sessions/:session_id/events", use: streamEvents)
        group.get("agents/sessions/:session_id/items", use: listItems)
        group.get("agents/sessions/:session_id/turns", use: listTurns)
        group.get("agents/sessions/:session_id/turns/:turn_id", use: getTurn)
        group.get("agents/sessions/:session_id/turns/:turn_id/items", use: listTurnItems)
        // Subagents and traces do not exist in this version: their listings are empty.
        group.get("agents/sessions/:session_id/subagents", use: emptyList)
        group.get("agents/sessions/:session_id/traces", use: emptyList)
        group.get("agents/sessions/:session_id/artifacts", use: listArtifacts)
        group.get("agents/sessions/:session_id/subagents/:subagent_id", use: subagentNotFound)
        group.get("agents/sessions/:session_id/subagents/:subagent_id/items", use: subagentNotFound)
        group.get("agents/sessions/:session_id/subagents/:subagent_id/turns", use: subagentNotFound)
        group.get("agents/sessions/:session_id/subagents/:subagent_id/turns/:turn_id", use: subagentNotFound)
        group.get("agents/sessions/:session_id/subagents/:subagent_id/turns/:turn_id/items", use: subagentNotFound)
        group.get("agents/sessions/:session_id/artifacts/:artifact_id", use: getArtifact)
        group.delete("agents/sessions/:session_id/artifacts/:artifact_id", use: deleteArtifact)
        group.get("agents/sessions/:session_id/artifacts/:artifact_id/content", use: artifactContent)
    }

    // MARK: Sessions

    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> Response {
        var request = request
        let body = try await request.jsonBody()
        let params = try SessionCreateRequest(json: body.value)
        return try await Idempotency(store: store).run(
            request, context: context, scope: "sessions.create", requestHash: Hashing.sha256Hex(body.canonical), makeID: { IDGenerator.make(.session) },
            existing: { id in try await store.sessionJSON(projectID: context.projectID, id: id).map { Array($0.json.utf8) } },
            replay: params.stream ? { id in replayCreateStream(request, sessionID: id, obfuscate: params.includeObfuscation) } : nil
        ) { sessionID in
            guard params.stream else {
                let session = try await runtime.createSession(projectID: context.projectID, sessionID: sessionID, request: params)
                return .json(session.jsonBytes)
            }
            // Subscribe before anything is written, so the stream starts with agent.session.created.
            let subscription = runtime.subscribe(sessionID: sessionID)
            do {
                _ = try await runtime.createSession(projectID: context.projectID, sessionID: sessionID, request: params)
            } catch {
                subscription.cancel()
                throw error
            }
            return .stream(SSE.response(request: request, subscription: subscription, terminator: .init(.initialTurn), obfuscate: params.includeObfuscation))
        }
    }

    /// A retried streamed create (same Idempotency-Key): the same stream again, from the log.
    private func replayCreateStream(_ request: Request, sessionID: String, obfuscate: Bool) -> Response {
        let subscription = runtime.subscribe(sessionID: sessionID)
        return SSE.response(
            request: request, subscription: subscription, terminator: .init(.initialTurn), obfuscate: obfuscate,
            replay: SSE.Replay(store: store, afterSequence: 0))
    }

    @Sendable func get(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.parameters.id("session_id")
        guard let session = try await store.sessionJSON(projectID: context.projectID, id: id) else { throw Self.notFound(id) }
        return JSONResponse.make(bytes: Array(session.json.utf8))
    }

    @Sendable func update(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.parameters.id("session_id")
        var request = request
        let body = try await request.jsonBody()
        let params = try SessionUpdateRequest(json: body.value)
        let session = try await runtime.updateSession(projectID: context.projectID, sessionID: id, request: params)
        return JSONResponse.make(session)
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        let query = try ListQuery(after: request.queryValue("after"), limit: request.queryValue("limit"), order: request.queryValue("order"))
        var filter = SessionFilter(agentID: request.queryValue("agent_id"))
        var metadata: [(String, String)] = []
        for (key, value) in request.decodedQuery where key.hasPrefix("metadata[") {
            guard key.hasSuffix("]") else {
                throw APIError(status: .badRequest, message: "Invalid query parameter '\(key.prefix(80))': use metadata[key]=value.", param: String(key.prefix(80)), code: "invalid_value")
            }
            let name = String(key.dropFirst("metadata[".count).dropLast())
            guard (1...Metadata.maxKeyLength).contains(name.unicodeScalars.count), value.unicodeScalars.count <= Metadata.maxValueLength else {
                throw APIError(
                    status: .badRequest, message: "Invalid metadata filter: keys must be 1 to 64 characters and values at most 512.",
                    param: String(key.prefix(80)), code: "invalid_value")
            }
            metadata.append((name, value))
        }
        guard metadata.count <= Metadata.maxPairs else {
            throw APIError(status: .badRequest, message: "At most 16 metadata filters can be given.", param: "metadata", code: "invalid_value")
        }
        filter.metadata = metadata
        return JSONResponse.page(try await store.listSessions(projectID: context.projectID, query: query, filter: filter))
    }

    @Sendable func delete(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.parameters.id("session_id")
        try await runtime.deleteSession(projectID: context.projectID, sessionID: id)
        return JSONResponse.make(DeletedObject(id: id, object: "agent.session.deleted"))
    }

    // MARK: Events

    @Sendable func submitEvents(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.parameters.id("session_id")
        var request = request
        let key = try Idempotency.key(of: request)
        let body = try await request.jsonBody()
        let inputs = try SessionInput.parseRequest(body.value)
        try await runtime.submit(
            projectID: context.projectID, sessionID: id, inputs: inputs, idempotencyKey: key, requestHash: Hashing.sha256Hex(body.canonical))
        return Response(status: .accepted)
    }

    @Sendable func streamEvents(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.parameters.id("session_id")
        var obfuscate = true
        if let value = request.queryValue("include_obfuscation") {
            switch value {
            case "true": obfuscate = true
            case "false": obfuscate = false
            default:
                throw APIError(status: .badRequest, message: "Invalid 'include_obfuscation': use true or false.", param: "include_obfuscation", code: "invalid_value")
            }
        }
        let startingAfter = request.queryValue("starting_after")
        if let startingAfter, startingAfter.isEmpty || startingAfter.utf8.count > RequestLimits.maxIDLength {
            throw APIError(status: .badRequest, message: "Invalid 'starting_after': give the event_id of an event of this session.", param: "starting_after", code: "invalid_value")
        }
        // Subscribe before checking that the session exists (and before reading the log), so
        // that nothing committed after the check can be missed.
        let subscription = runtime.subscribe(sessionID: id)
        guard try await store.sessionJSON(projectID: context.projectID, id: id) != nil else {
            subscription.cancel()
            throw Self.notFound(id)
        }
        var replay: SSE.Replay?
        if let startingAfter {
            guard let sequence = try await store.eventSequence(sessionID: id, eventID: startingAfter) else {
                subscription.cancel()
                throw APIError(
                    status: .badRequest, message: "No event '\(startingAfter)' in the log of session '\(id)'.", param: "starting_after", code: "invalid_value")
            }
            replay = SSE.Replay(store: store, afterSequence: sequence)
        }
        return SSE.response(request: request, subscription: subscription, terminator: .init(.live), obfuscate: obfuscate, replay: replay)
    }

    // MARK: Items and turns

    private func requireSession(_ id: String, context: APIRequestContext) async throws {
        guard try await store.sessionJSON(projectID: context.projectID, id: id) != nil else { throw Self.notFound(id) }
    }

    private func listQuery(_ request: Request) throws -> ListQuery {
        try ListQuery(after: request.queryValue("after"), limit: request.queryValue("limit"), order: request.queryValue("order"))
    }

    @Sendable func listItems(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.parameters.id("session_id")
        let query = try listQuery(request)
        try await requireSession(id, context: context)
        return JSONResponse.page(try await store.listItems(projectID: context.projectID, sessionID: id, turnID: nil, query: query))
    }

    @Sendable func listTurns(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.parameters.id("session_id")
        let query = try listQuery(request)
        try await requireSession(id, context: context)
        return JSONResponse.page(try await store.listTurns(projectID: context.projectID, sessionID: id, query: query))
    }

    @Sendable func getTurn(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.parameters.id("session_id")
        let turnID = try context.parameters.id("turn_id")
        try await requireSession(id, context: context)
        guard let turn = try await store.turnJSON(projectID: context.projectID, sessionID: id, id: turnID) else {
            throw APIError.notFound("No turn found with id '\(turnID.prefix(128))' in session '\(id.prefix(128))'.")
        }
        return JSONResponse.make(bytes: Array(turn.json.utf8))
    }

    @Sendable func listTurnItems(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.parameters.id("session_id")
        let turnID = try context.parameters.id("turn_id")
        let query = try listQuery(request)
        try await requireSession(id, context: context)
        guard try await store.turnJSON(projectID: context.projectID, sessionID: id, id: turnID) != nil else {
            throw APIError.notFound("No turn found with id '\(turnID.prefix(128))' in session '\(id.prefix(128))'.")
        }
        // A ConversationCursorPage: the SDK pages with `last_id`, which here is the last item's ID.
        return JSONResponse.page(try await store.listItems(projectID: context.projectID, sessionID: id, turnID: turnID, query: query))
    }

    @Sendable func emptyList(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.parameters.id("session_id")
        _ = try listQuery(request)
        try await requireSession(id, context: context)
        return JSONResponse.page(Page<StoredObject>(rows: [], hasMore: false))
    }

    @Sendable func subagentNotFound(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.parameters.id("session_id")
        try await requireSession(id, context: context)
        throw APIError.notFound("No subagent found with id '\((context.parameters.get("subagent_id") ?? "").prefix(128))'.")
    }

    // MARK: Artifacts

    @Sendable func listArtifacts(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.parameters.id("session_id")
        let query = try listQuery(request)
        try await requireSession(id, context: context)
        let environmentID = request.queryValue("environment_id")
        return JSONResponse.page(try await store.listArtifacts(projectID: context.projectID, sessionID: id, environmentID: environmentID, query: query))
    }

    @Sendable func getArtifact(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.parameters.id("session_id")
        let artifactID = try context.parameters.id("artifact_id")
        try await requireSession(id, context: context)
        guard let artifact = try await store.artifact(projectID: context.projectID, sessionID: id, id: artifactID) else { throw Self.artifactNotFound(artifactID) }
        return JSONResponse.make(bytes: Array(artifact.json.utf8))
    }

    @Sendable func deleteArtifact(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.parameters.id("session_id")
        let artifactID = try context.parameters.id("artifact_id")
        try await requireSession(id, context: context)
        guard try await store.deleteArtifact(projectID: context.projectID, sessionID: id, id: artifactID) else { throw Self.artifactNotFound(artifactID) }
        return JSONResponse.make(DeletedObject(id: artifactID, object: "agent.session.artifact.deleted"))
    }

    @Sendable func artifactContent(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.parameters.id("session_id")
        let artifactID = try context.parameters.id("artifact_id")
        try await requireSession(id, context: context)
        guard let content = try await store.artifactContent(projectID: context.projectID, sessionID: id, id: artifactID) else {
            throw Self.artifactNotFound(artifactID)
        }
        return Response(
            status: .ok, headers: [.contentType: "application/octet-stream", .contentLength: String(content.count)],
            body: .init(byteBuffer: ByteBuffer(bytes: content)))
    }

    static func artifactNotFound(_ id: String) -> APIError {
        .notFound("No artifact found with id '\(id.prefix(128))'.")
    }

    static func notFound(_ id: String) -> APIError {
        .notFound("No session found with id '\(id.prefix(128))'.")
    }
}
