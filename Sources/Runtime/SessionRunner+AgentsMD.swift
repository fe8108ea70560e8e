import AgentsAPI
import Foundation
import Sandbox
import Storage

/// AGENTS.md: at the start of each turn of a hosted session, the project instructions in
/// `/workspace/AGENTS.md` are given to the model as Codex gives them, as a user message
/// (`# AGENTS.md instructions for /workspace` … `<INSTRUCTIONS>…</INSTRUCTIONS>`), when they are
/// new or changed since they were last given. The message joins the end of the history, so the
/// cached prefix of earlier turns holds; an `agents_md` item records it in the items list.
extension SessionRunner {
    static let agentsMDPath = "/workspace/AGENTS.md"
    /// At most this much of the file reaches the model.
    static let agentsMDLimit = 32 * 1024

    /// Gives the model the workspace's AGENTS.md if it changed since it was last given. Failing
    /// to read it is logged and does not stop the turn.
    func deliverAgentsMD(turnID: String, sandbox: BubblewrapSandbox) async -> Bool {
        guard agentsMDCheckedTurn != turnID else { return true }
        agentsMDCheckedTurn = turnID
        let read: (data: [UInt8], size: Int64, truncated: Bool)
        do {
            read = try await sandbox.readFile(Self.agentsMDPath, maxBytes: Self.agentsMDLimit)
        } catch let error as SandboxError where error.code == "not_found" {
            return true
        } catch {
            logger.warning("could not read AGENTS.md", metadata: ["error": "\(error)"])
            return true
        }
        var text = String(decoding: read.data, as: UTF8.self)
        if read.truncated || read.size > Int64(read.data.count) {
            text += "\n[AGENTS.md is \(read.size) bytes; only the first \(read.data.count) are shown.]"
        }
        let digest = Hashing.sha256Hex(Array(text.utf8))
        guard runtimeValue("agents_md_digest")?.stringValue != digest else { return true }
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return true }

        let message = Self.userMessage("# AGENTS.md instructions for /workspace\n\n<INSTRUCTIONS>\n\(text)\n</INSTRUCTIONS>")
        let item: JSONObject = [
            "type": "agents_md", "id": .string(IDGenerator.make(.item)), "turn_id": .string(turnID), "status": "completed",
            "path": .string(Self.agentsMDPath), "bytes": .int(read.size), "content": .string(text),
        ]
        setRuntimeValue("agents_md_digest", .string(digest))
        var change = Change()
        recordRuntimeItem(item, modelItem: ["message": message], into: &change)
        guard await commitInLoop(change) else { return false }
        history.append(message)
        return true
    }
}
