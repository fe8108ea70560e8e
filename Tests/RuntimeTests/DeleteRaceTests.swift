import AgentsAPI
import Runtime
import Storage
import TestSupport
import Testing

@Suite("Deleting a session")
struct DeleteRaceTests {
    @Test func anUpdateRacingTheDeleteNeverBringsTheSessionBack() async throws {
        try await withRuntime { h in
            for i in 0..<40 {
                let (session, recorder) = try await h.createSession(input: "hi \(i)")
                try await recorder.wait(for: "agent.session.idle", timeout: .seconds(20))
                let update = try SessionUpdateRequest(json: ["metadata": ["i": .string("\(i)")]])
                async let updated: Void = { _ = try? await h.runtime.updateSession(projectID: h.projectID, sessionID: session.id, request: update) }()
                async let deleted: Void = { try? await h.runtime.deleteSession(projectID: h.projectID, sessionID: session.id) }()
                _ = await (updated, deleted)
                // Whichever came first, the delete wins.
                #expect(try await h.store.session(projectID: h.projectID, id: session.id) == nil, "session \(i) came back")
            }
        }
    }
}
