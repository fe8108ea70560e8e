import Hummingbird

/// Resources of the Agents API that this version does not serve yet. Every request to them gets
/// a 400 `feature_not_available` (after authentication), rather than a confusing 404.
struct UnavailableController {
    private static let resources: [(paths: [String], what: String)] = [
        (["vaults", "vaults/**"], "Vaults are"),
        (["agents/automations", "agents/automations/**"], "Automations are"),
    ]

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        for resource in Self.resources {
            let what = resource.what
            let handler: @Sendable (Request, APIRequestContext) async throws -> Response = { _, _ in
                throw APIError.notAvailable(what)
            }
            for path in resource.paths {
                group.get(RouterPath(path), use: handler)
                group.post(RouterPath(path), use: handler)
                group.delete(RouterPath(path), use: handler)
            }
        }
    }
}
