import AgentsAPI
import TestSupport
import Testing

@Suite("Skills: inline archives")
struct SkillsTests {
    static let skillMD = "---\nname: pdf-tools\ndescription: Work with PDF files\n---\n# PDF tools\nRun scripts/extract.sh FILE.\n"

    static func session(_ skills: [JSONValue]) -> JSONValue {
        ["agent": ["model": "m"], "environment": ["type": "openai_hosted", "skills": .array(skills)], "input": "hi"]
    }

    static func error(_ skills: [JSONValue]) -> ValidationError? {
        do {
            _ = try SessionCreateRequest(json: session(skills))
            return nil
        } catch {
            return error
        }
    }

    @Test func aValidSkillIsAcceptedAndEchoedWithoutItsArchive() throws {
        var zip = TestZip([("SKILL.md", Self.skillMD)])
        zip.add("scripts/extract.sh", "#!/bin/sh\necho extracted\n", mode: 0o100755)
        let request = try SessionCreateRequest(json: Self.session([zip.skill(name: "pdf-tools", description: "Work with PDF files")]))
        let params = try #require(request.hostedParams)
        let (hosted, secrets) = try params.resolve(template: nil, fileSizes: [:])
        #expect(hosted.skills == [HostedSkill(name: "pdf-tools", description: "Work with PDF files")])
        #expect(hosted.json["skills"] == [["type": "inline", "name": "pdf-tools", "description": "Work with PDF files"]])
        #expect(!JSONWriter.string(hosted.json).contains(zip.base64))
        let files = try #require(try secrets.skills.first?.files())
        #expect(files.map(\.path).sorted() == ["SKILL.md", "scripts/extract.sh"])
        #expect(files.first { $0.path == "scripts/extract.sh" }?.mode.map { $0 & 0o111 != 0 } == true)
    }

    @Test func aSingleTopLevelFolderIsStripped() throws {
        let zip = TestZip([("pdf-tools/SKILL.md", Self.skillMD), ("pdf-tools/notes.txt", "n")])
        let request = try SessionCreateRequest(json: Self.session([zip.skill(name: "pdf-tools", description: "d")]))
        let (_, secrets) = try #require(request.hostedParams).resolve(template: nil, fileSizes: [:])
        #expect(try secrets.skills[0].files().map(\.path).sorted() == ["SKILL.md", "notes.txt"])
    }

    @Test(arguments: [
        ("../ entry", TestZip([("SKILL.md", skillMD), ("../evil.sh", "x")]), "escapes"),
        ("absolute entry", TestZip([("SKILL.md", skillMD), ("/etc/cron.d/x", "x")]), "absolute"),
        ("no SKILL.md", TestZip([("README.md", "x")]), "SKILL.md"),
        ("SKILL.md naming another skill", TestZip([("SKILL.md", "---\nname: other\n---\n")]), "names it 'other'"),
    ])
    func badArchivesAreRefusedWithAClearError(_ name: String, _ zip: TestZip, _ message: String) throws {
        let error = try #require(Self.error([zip.skill(name: "pdf-tools", description: "d")]))
        #expect(error.code == "invalid_value")
        #expect(error.param?.hasPrefix("environment.skills[0]") == true)
        #expect(error.message.contains(message), "\(error.message)")
    }

    @Test func symlinksGarbageAndReferencesAreRefused() throws {
        var link = TestZip([("SKILL.md", Self.skillMD)])
        link.add("passwd", "/etc/passwd", mode: 0o120777)
        #expect(Self.error([link.skill(name: "s", description: "d")])?.param == "environment.skills[0].source.data")

        var garbage = Self.skillSource("UEsDBAoAAAAAAA==")
        #expect(Self.error([garbage])?.param == "environment.skills[0].source.data")
        garbage = Self.skillSource("not base64!")
        #expect(Self.error([garbage])?.param == "environment.skills[0].source.data")

        let reference: JSONValue = ["type": "skill_reference", "skill_id": "skill_1"]
        #expect(Self.error([reference])?.code == "feature_not_available")

        let zip = TestZip([("SKILL.md", Self.skillMD)])
        let twice = [zip.skill(name: "pdf-tools", description: "d"), zip.skill(name: "pdf-tools", description: "d")]
        #expect(Self.error(twice)?.param == "environment.skills[1].name")
    }

    @Test func anOversizedArchiveIsRefused() throws {
        // 7 MiB of stored data: over the 6 MiB archive limit.
        let zip = TestZip([("SKILL.md", Self.skillMD), ("big.bin", String(repeating: "x", count: 7 << 20))])
        let error = try #require(Self.error([zip.skill(name: "pdf-tools", description: "d")]))
        #expect(error.param == "environment.skills[0].source.data")
        #expect(error.message.contains("at most"))
    }

    @Test func templatesKeepSkillsAndSessionsInheritOrReplaceThem() throws {
        let zip = TestZip([("SKILL.md", Self.skillMD)])
        let params = try HostedEnvironmentParams.parse(
            try JSONReader(["skills": [zip.skill(name: "pdf-tools", description: "PDFs")]]), context: .template)
        var template = EnvironmentTemplate(id: "tmpl_1", createdAt: 1, updatedAt: 1)
        var secrets = HostedEnvironmentSecrets()
        try template.apply(params, secrets: &secrets, fileSizes: [:])
        #expect(template.json["skills"] == [["type": "inline", "name": "pdf-tools", "description": "PDFs"]])
        #expect(try EnvironmentTemplate(json: template.storedJSON).skills == template.skills)
        #expect(HostedEnvironmentSecrets(json: secrets.json).skills == secrets.skills)
        let record = EnvironmentTemplateRecord(template: template, secrets: secrets)

        // Inherited when the session says nothing about skills…
        let inherit = try HostedEnvironmentParams.parse(try JSONReader(["type": "openai_hosted", "environment_template_id": "tmpl_1"]), context: .session)
        let (hosted, hostedSecrets) = try inherit.resolve(template: record, fileSizes: [:])
        #expect(hosted.skills.map(\.name) == ["pdf-tools"])
        #expect(hostedSecrets.skills.map(\.name) == ["pdf-tools"])
        // …replaced when it gives a list.
        let replace = try HostedEnvironmentParams.parse(
            try JSONReader(["type": "openai_hosted", "environment_template_id": "tmpl_1", "skills": []]), context: .session)
        let (replaced, replacedSecrets) = try replace.resolve(template: record, fileSizes: [:])
        #expect(replaced.skills.isEmpty)
        #expect(replacedSecrets.skills.isEmpty)
    }

    static func skillSource(_ data: String) -> JSONValue {
        ["type": "inline", "name": "s", "description": "d", "source": ["type": "base64", "media_type": "application/zip", "data": .string(data)]]
    }
}
