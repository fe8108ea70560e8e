import AgentsAPI
import Testing

@Suite("Hosted configuration: network narrowing, packages, templates")
struct HostedConfigTests {
    static let disabled = NetworkPolicy.disabled
    static let enabled = NetworkPolicy(access: .enabled)
    static func allow(_ d: String...) -> NetworkPolicy { NetworkPolicy(access: .restricted, allowedDomains: d) }
    static func block(_ d: String...) -> NetworkPolicy { NetworkPolicy(access: .restricted, blockedDomains: d) }

    @Test func aSessionMayNarrowButNeverBroadenItsTemplatesNetwork() {
        // Anything is within "enabled"; only "disabled" is within "disabled".
        #expect(Self.allow("a.com").isWithin(Self.enabled))
        #expect(Self.disabled.isWithin(Self.allow("a.com")))
        #expect(!Self.enabled.isWithin(Self.disabled))
        #expect(!Self.allow("a.com").isWithin(Self.disabled))
        // Allow lists: subsets and subdomains only.
        #expect(Self.allow("api.a.com").isWithin(Self.allow("a.com")))
        #expect(!Self.allow("a.com").isWithin(Self.allow("api.a.com")))
        #expect(!Self.allow("a.com", "b.com").isWithin(Self.allow("a.com")))
        #expect(!Self.allow("xa.com").isWithin(Self.allow("a.com")))
        #expect(!Self.block("x.com").isWithin(Self.allow("a.com")))
        #expect(!Self.enabled.isWithin(Self.allow("a.com")))
        // Block lists: block at least as much, or allow only what is not blocked.
        #expect(Self.block("x.com", "y.com").isWithin(Self.block("x.com")))
        #expect(Self.block("com").isWithin(Self.block("x.com")))
        #expect(!Self.block("y.com").isWithin(Self.block("x.com")))
        #expect(Self.allow("a.com").isWithin(Self.block("x.com")))
        #expect(!Self.allow("api.x.com").isWithin(Self.block("x.com")))
        #expect(!Self.allow("x.com").isWithin(Self.block("evil.x.com")))
    }

    @Test func domainsAreNormalisedAndMatchedByLabel() {
        #expect(NetworkPolicy.normalizedDomain("API.Example.COM.") == "api.example.com")
        for bad in ["", ".", "a..b", "-a.com", "a-.com", "a b.com", "a/b", "1.2.3.4:80", String(repeating: "a", count: 64) + ".com"] {
            #expect(NetworkPolicy.normalizedDomain(bad) == nil, "\(bad)")
        }
        #expect(NetworkPolicy.domain("api.example.com", isWithin: "example.com"))
        #expect(!NetworkPolicy.domain("badexample.com", isWithin: "example.com"))
    }

    @Test func templatesApplyUpdatesAsReplacementsAndKeepSecretsApart() throws {
        let create = try HostedEnvironmentParams.parse(
            JSONReader([
                "name": "base", "env": ["TOKEN": "s3cret"], "setup_commands": [["command": "make setup"]],
                "files": [["type": "inline", "path": "/workspace/a.txt", "data": "aGk="]], "network": ["access": "restricted", "allowed_domains": ["pypi.org"]],
                "packages": ["python": ["rich==13.7.1"], "system": ["jq"]],
            ]), context: .template)
        var template = EnvironmentTemplate(id: "tmpl_1", createdAt: 1, updatedAt: 1)
        var secrets = HostedEnvironmentSecrets()
        try template.apply(create, secrets: &secrets, fileSizes: [:])
        #expect(template.name == "base" && template.network.allowedDomains == ["pypi.org"] && template.packages.system == ["jq"])
        #expect(template.files == [EnvironmentTemplate.File(path: "/workspace/a.txt", sizeBytes: 2)])
        #expect(!JSONWriter.string(template.json).contains("s3cret") && !JSONWriter.string(template.json).contains("make setup"))
        #expect(secrets.env.map(\.value) == ["s3cret"] && secrets.setupCommands.map(\.command) == ["make setup"])

        // network: null resets; name: null clears; omitted fields stay.
        let update = try HostedEnvironmentParams.parse(JSONReader(["name": .null, "network": .null]), context: .template)
        try template.apply(update, secrets: &secrets, fileSizes: [:])
        #expect(template.name == nil && template.network == .disabled && template.packages.python == ["rich==13.7.1"])
        #expect(secrets.env.map(\.value) == ["s3cret"])

        // A session from the template inherits it; its own fields win; file IDs must exist.
        let session = try HostedEnvironmentParams.parse(
            JSONReader(["type": "openai_hosted", "environment_template_id": "tmpl_1", "env": ["OTHER": "1"], "container_size": "large"]), context: .session)
        let (hosted, resolved) = try session.resolve(template: EnvironmentTemplateRecord(template: template, secrets: secrets), fileSizes: [:])
        #expect(hosted.containerSize == .large && hosted.files.map(\.path) == ["/workspace/a.txt"] && hosted.packages == template.packages)
        #expect(resolved.env.map(\.name) == ["OTHER"] && resolved.setupCommands.map(\.command) == ["make setup"])
        let withFile = try HostedEnvironmentParams.parse(
            JSONReader(["type": "openai_hosted", "files": [["type": "file_id", "file_id": "file_x", "path": "/workspace/x"]]]), context: .session)
        #expect(throws: ValidationError.self) { try withFile.resolve(template: nil, fileSizes: [:]) }
        let placed = try withFile.resolve(template: nil, fileSizes: ["file_x": 42]).0.files
        #expect(placed.map(\.fileID) == ["file_x"] && placed.map(\.sizeBytes) == [42])
    }
}
