import AgentsAPI
import Foundation
import ModelProviders
import Runtime
import Storage
import TestSupport
import Testing

@Suite("Skills in sessions")
struct SkillsRuntimeTests {
    static let skillMD = "---\nname: pdf-tools\ndescription: Work with PDF files\n---\n# PDF tools\nRun scripts/extract.sh FILE.\n"

    @Test(.enabled(if: sandboxesAvailable)) func skillsAreListedForTheModelAndReadOnlyInTheSandbox() async throws {
        try await withRuntime(sandboxes: true) { h in
            var zip = TestZip([("SKILL.md", Self.skillMD)])
            zip.add("scripts/extract.sh", "#!/bin/sh\necho extracted \"$1\"\n", mode: 0o100755)
            let other = TestZip([("SKILL.md", "---\nname: notes\n---\nWrite notes.\n")])
            let environment: JSONValue = [
                "type": "openai_hosted",
                "skills": [zip.skill(name: "pdf-tools", description: "Work with PDF files"), other.skill(name: "notes", description: "Take notes\nin Markdown")],
            ]
            h.model.enqueue(
                .response(outputs: [
                    shellCall("cat /skills/pdf-tools/SKILL.md; /skills/pdf-tools/scripts/extract.sh a.pdf; touch /skills/pdf-tools/new 2>&1; echo rc=$?", callID: "call_skill")
                ]),
                .message("done"))
            let (session, recorder) = try await h.createSession(input: "Use the PDF skill", environment: environment)
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(60))
            let requests = h.model.requests()
            try #require(requests.count == 2)
            // The first input item lists the skills (name, description, file), before the environment context.
            let first = try #require(requests[0].body["input"]?.arrayValue?.first)
            #expect(first["role"] == "developer")
            let text = first["content"]?.arrayValue?.first?["text"]?.stringValue ?? ""
            #expect(text.contains("- pdf-tools: Work with PDF files (file: /skills/pdf-tools/SKILL.md)"))
            #expect(text.contains("- notes: Take notes in Markdown (file: /skills/notes/SKILL.md)"))
            #expect(!text.contains("Run scripts/extract.sh"))  // the body is read on demand
            // Same prefix on the next request.
            #expect(requests[1].body["input"]?.arrayValue?.first == first)

            let out = try #require(callOutput(requests[1], callID: "call_skill"))
            #expect(out.contains("# PDF tools"))
            #expect(out.contains("extracted a.pdf"))
            #expect(out.contains("Read-only file system"))
            #expect(out.contains("rc=1"))
            #expect(try await h.session(session.id).environment.json["skills"] == [
                ["type": "inline", "name": "pdf-tools", "description": "Work with PDF files"],
                ["type": "inline", "name": "notes", "description": "Take notes\nin Markdown"],
            ])
        }
    }
}
