import AgentsAPI
import Hummingbird
import Storage

/// `/v1/agents`: reusable agent definitions.
struct AgentsController {
    let store: any Store

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.post("agents", use: create)
        group.get("agents", use: list)
        group.get("agents/:agent_id", use: get)
        group.post("agents/:agent_id", use: update)
        group.delete("agents/:agent_id", use: delete)
    }

    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> Response {
        var request = request
        let body = try await request.jsonBody()
        let params = try AgentCreateRequest(json: body.value)
        return try await Idempotency(store: store).run(
            request, context: context, scope: "agents.create", requestHash: Hashing.sha256Hex(body.canonical), makeID: { IDGenerator.make(.agent) },
            existing: { id in try await store.agent(projectID: context.projectID, id: id)?.jsonBytes }
        ) { id in
            let now = currentUnixSeconds()
            let agent = Agent(id: id, name: params.name, createdAt: now, updatedAt: now, metadata: params.metadata, config: params.config)
            try await store.insertAgent(projectID: context.projectID, agent: agent)
            return .json(agent.jsonBytes)
        }
    }

    @Sendable func get(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.parameters.id("agent_id")
        guard let agent = try await store.agent(projectID: context.projectID, id: id) else { throw Self.notFound(id) }
        return JSONResponse.make(agent)
    }

    @Sendable func update(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.parameters.id("agent_id")
        var request = request
        let body = try await request.jsonBody()
        let params = try AgentUpdateRequest(json: body.value)
        let now = currentUnixSeconds()
        guard
            let agent = try await store.updateAgent(
                projectID: context.projectID, id: id,
                { agent in
                    params.apply(to: &agent)
                    agent.updatedAt = now
                })
        else { throw Self.notFound(id) }
        return JSONResponse.make(agent)
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        let query = try ListQuery(after: request.queryValue("after"), limit: request.queryValue("limit"), order: request.queryValue("order"))
        return JSONResponse.page(try await store.listAgents(projectID: context.projectID, query: query))
    }

    @Sendable func delete(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.parameters.id("agent_id")
        guard try await store.deleteAgent(projectID: context.projectID, id: id) else { throw Self.notFound(id) }
        return JSONResponse.make(DeletedObject(id: id, object: "agent.deleted"))
    }

    static func notFound(_ id: String) -> APIError {
        .notFound("No agent found with id '\(id.prefix(128))'.")
    }
}
