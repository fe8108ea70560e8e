import AgentsAPI
import Foundation
import Hummingbird
import Runtime
import Storage

/// `/v1/agents/environments`: prewarmed environments, their live files, and templates.
struct EnvironmentsController {
    let runtime: AgentRuntime
    var store: any Store { runtime.store }

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.post("agents/environments/templates", use: createTemplate)
        group.get("agents/environments/templates", use: listTemplates)
        group.get("agents/environments/templates/:environment_template_id", use: getTemplate)
        group.post("agents/environments/templates/:environment_template_id", use: updateTemplate)
        group.delete("agents/environments/templates/:environment_template_id", use: deleteTemplate)

        group.post("agents/environments", use: create)
        group.get("agents/environments", use: list)
        group.get("agents/environments/:environment_id", use: get)
        group.post("agents/environments/:environment_id/files", use: uploadFile)
        group.get("agents/environments/:environment_id/files", use: listFiles)
    }

    // MARK: Environments

    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> Response {
        var request = request
        let body = try await request.jsonBody()
        let r = try JSONReader(body.value)
        try r.rejectUnknown(["environment", "vault_ids"])
        if !(try r.stringArrayField("vault_ids").value ?? []).isEmpty {
            throw APIError.invalid(.notAvailable("Vaults are", param: "vault_ids"))
        }
        let params = try HostedEnvironmentParams.parse(try r.object("environment"), context: .prewarm)
        return try await Idempotency(store: store).run(
            request, context: context, scope: "environments.create", requestHash: Hashing.sha256Hex(body.canonical),
            makeID: { IDGenerator.make(.environment) },
            existing: { id in try await store.environment(projectID: context.projectID, id: id).map { $0.info.jsonBytes } }
        ) { id in
            .json(try await runtime.createEnvironment(projectID: context.projectID, id: id, params: params).jsonBytes)
        }
    }

    @Sendable func get(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.parameters.id("environment_id")
        return JSONResponse.make(try await runtime.environmentInfo(projectID: context.projectID, id: id))
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        if let type = request.queryValue("type"), type != "openai_hosted" {
            throw APIError(status: .badRequest, message: "Invalid value for 'type': '\(type.prefix(64))'. Supported values are: 'openai_hosted'.", param: "type", code: "invalid_value")
        }
        let query = try ListQuery(after: request.queryValue("after"), limit: request.queryValue("limit"), order: request.queryValue("order"))
        return JSONResponse.page(try await store.listEnvironments(projectID: context.projectID, query: query))
    }

    // MARK: Files

    @Sendable func uploadFile(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.parameters.id("environment_id")
        var request = request
        let body = try await request.jsonBody()
        let file = try HostedFileParam.parse(try JSONReader(body.value))
        // Writing the same file again changes nothing, so a request cut short is simply redone.
        return try await Idempotency(store: store).run(
            request, context: context, scope: "environment_files.create:\(id)", requestHash: Hashing.sha256Hex(body.canonical), makeID: { "" },
            existing: { _ in nil }
        ) { _ in
            .json(try await runtime.writeEnvironmentFile(projectID: context.projectID, environmentID: id, file: file).jsonBytes)
        }
    }

    /// A token page (§1.3): `page` is an opaque token bound to the same path and order.
    @Sendable func listFiles(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.parameters.id("environment_id")
        let query = try ListQuery(after: nil, limit: request.queryValue("limit"), order: request.queryValue("order"))
        let directory = request.queryValue("path") ?? HostedEnvironment.workspaceRoot
        if directory != HostedEnvironment.workspaceRoot {
            try HostedEnvironment.validateWorkspacePath(directory, param: "path")
        }
        var after: String?
        if let token = request.queryValue("page"), !token.isEmpty {
            guard let decoded = PageToken.decode(token), decoded.directory == directory, decoded.ascending == (query.order == .asc) else {
                throw APIError(status: .badRequest, message: "Invalid 'page' token: keep the same path, order and limit as the listing it came from.", param: "page", code: "invalid_value")
            }
            after = decoded.after
        }
        let result = try await runtime.listEnvironmentFiles(
            projectID: context.projectID, environmentID: id, directory: directory, ascending: query.order == .asc, limit: query.limit, after: after)
        let next = result.next.map { PageToken(directory: directory, ascending: query.order == .asc, after: $0).encoded }
        let page: JSONValue = [
            "object": "list", "data": .array(result.files.map(\.json)), "has_more": .bool(next != nil), "next": next.map { .string($0) } ?? .null,
        ]
        return JSONResponse.make(bytes: JSONWriter.bytes(page))
    }

    // MARK: Templates

    @Sendable func createTemplate(_ request: Request, context: APIRequestContext) async throws -> Response {
        var request = request
        let body = try await request.jsonBody()
        let params = try HostedEnvironmentParams.parse(try JSONReader(body.value), context: .template)
        return try await Idempotency(store: store).run(
            request, context: context, scope: "templates.create", requestHash: Hashing.sha256Hex(body.canonical), makeID: { IDGenerator.make(.template) },
            existing: { id in try await store.template(projectID: context.projectID, id: id)?.template.jsonBytes }
        ) { id in
            .json(try await runtime.createTemplate(projectID: context.projectID, id: id, params: params).jsonBytes)
        }
    }

    @Sendable func getTemplate(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.parameters.id("environment_template_id")
        guard let record = try await store.template(projectID: context.projectID, id: id) else { throw Self.templateNotFound(id) }
        return JSONResponse.make(record.template)
    }

    @Sendable func updateTemplate(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.parameters.id("environment_template_id")
        var request = request
        let body = try await request.jsonBody()
        let params = try HostedEnvironmentParams.parse(try JSONReader(body.value), context: .template)
        return JSONResponse.make(try await runtime.updateTemplate(projectID: context.projectID, id: id, params: params))
    }

    @Sendable func listTemplates(_ request: Request, context: APIRequestContext) async throws -> Response {
        let query = try ListQuery(after: request.queryValue("after"), limit: request.queryValue("limit"), order: request.queryValue("order"))
        return JSONResponse.page(try await store.listTemplates(projectID: context.projectID, query: query))
    }

    @Sendable func deleteTemplate(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.parameters.id("environment_template_id")
        guard try await store.deleteTemplate(projectID: context.projectID, id: id) else { throw Self.templateNotFound(id) }
        return JSONResponse.make(DeletedObject(id: id, object: "agent.environment.template.deleted"))
    }

    static func templateNotFound(_ id: String) -> APIError {
        .notFound("No environment template found with id '\(id.prefix(128))'.")
    }
}

/// The opaque `page` token of environment file listings: the last path, bound to the listing's
/// directory and order.
struct PageToken: Equatable {
    var directory: String
    var ascending: Bool
    var after: String

    var encoded: String {
        let json: JSONValue = ["d": .string(directory), "o": .string(ascending ? "asc" : "desc"), "a": .string(after)]
        return Data(JSONWriter.bytes(json)).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ token: String) -> PageToken? {
        var text = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while text.count % 4 != 0 { text += "=" }
        guard token.utf8.count <= 8192, let data = Data(base64Encoded: text), let json = try? JSONParser.parse(Array(data)),
            let directory = json["d"]?.stringValue, let order = json["o"]?.stringValue, let after = json["a"]?.stringValue
        else { return nil }
        return PageToken(directory: directory, ascending: order == "asc", after: after)
    }
}
