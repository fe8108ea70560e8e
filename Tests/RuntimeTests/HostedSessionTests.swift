import AgentsAPI
import Foundation
import ModelProviders
import Runtime
import Storage
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Hosted sessions: sandbox and shell tool", .enabled(if: sandboxesAvailable, "needs bubblewrap and the built cma-sandbox and cma-launch"))
struct HostedSessionTests {
    static let hosted: JSONValue = ["type": "openai_hosted", "container_size": "small"]

    @Test func theModelRunsACommandAndSeesItsOutput() async throws {
        try await withRuntime(sandboxes: true) { h in
            h.model.enqueue(
                .response(outputs: [.message(text: "Looking."), shellCall("echo hello; pwd; echo oops >&2; exit 4", callID: "call_sh1")]),
                .message("done"))
            let (session, recorder) = try await h.createSession(input: "run it", environment: Self.hosted)
            try await recorder.wait(timeout: .seconds(20), "the turn to end") { $0.contains { $0.type == "agent.session.turn.completed" } }

            let types = recorder.types
            for expected in ["agent.session.environment.pending", "agent.session.environment.ready", "agent.session.environment.connected"] {
                #expect(types.contains(expected))
            }
            // The command is an item of its own: added, output deltas, done.
            let added = try #require(types.firstIndex { $0 == "agent.session.turn.item.added" && true }.flatMap { _ in
                recorder.all.firstIndex { if case .itemAdded(_, .commandExecution, _) = $0.body { return true } else { return false } }
            })
            let done = try #require(recorder.all.firstIndex { if case .itemDone(_, .commandExecution, _) = $0.body { return true } else { return false } })
            let deltas = recorder.all[added..<done].compactMap { e -> String? in
                if case .commandOutputDelta(_, let d) = e.body { return d }
                return nil
            }
            #expect(deltas.joined() == "hello\n/workspace\noops\n")
            guard case .itemDone(_, .commandExecution(let command), let outputIndex) = recorder.all[done].body else { return }
            #expect(command.command == "echo hello; pwd; echo oops >&2; exit 4")
            #expect(command.cwd == "/workspace" && command.exitCode == 4 && command.status == .failed)
            #expect(command.output == "hello\n/workspace\noops\n")
            #expect(command.durationMs != nil)
            #expect(outputIndex == 1)
            // No function_call item for the built-in tool.
            #expect(!recorder.all.contains { if case .itemAdded(_, .functionCall, _) = $0.body { return true } else { return false } })

            // What the model was offered and what it got back.
            let requests = h.model.requests()
            #expect(requests.count == 2)
            let tools = requests[0].body["tools"]?.arrayValue ?? []
            #expect(tools.first?["name"] == "shell_command")
            let first = JSONValue.inputItems(requests[0]).first
            #expect(first?["content"]?.arrayValue?.first?["text"]?.stringValue?.hasPrefix("<environment_context>") == true)
            let input = JSONValue.inputItems(requests[1])
            let output = try #require(input.first { $0["type"] == "function_call_output" })
            #expect(output["call_id"] == "call_sh1")
            let text = output["output"]?.stringValue ?? ""
            #expect(text.hasPrefix("Exit code: 4\nWall time: "))
            #expect(text.hasSuffix("Output:\nhello\n/workspace\noops\n"))
            #expect(try await h.items(session.id).map(\.type) == ["message", "message", "command_execution", "message"])
        }
    }

    @Test func theWorkspaceCarriesStateBetweenTurns() async throws {
        try await withRuntime(sandboxes: true) { h in
            h.model.enqueue(.response(outputs: [shellCall("mkdir -p notes && echo remembered > notes/a.txt")]), .message("saved"))
            let (session, recorder) = try await h.createSession(input: "save", environment: Self.hosted)
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(20))
            h.model.enqueue(.response(outputs: [shellCall("cat notes/a.txt", callID: "call_cat")]), .message("read"))
            try await h.message(session.id, "read it back")
            try await recorder.wait(for: "agent.session.idle", count: 2, timeout: .seconds(20))
            let commands = try await h.items(session.id).compactMap { item -> CommandExecutionItem? in
                if case .commandExecution(let c) = item { return c }
                return nil
            }
            #expect(commands.map(\.output) == ["", "remembered\n"])
            // The sandbox was started once.
            #expect(recorder.types.filter { $0 == "agent.session.environment.connected" }.count == 1)
        }
    }

    @Test func environmentVariablesFilesAndSetupCommandsTakeEffect() async throws {
        try await withRuntime(sandboxes: true) { h in
            let environment: JSONValue = [
                "type": "openai_hosted",
                "env": ["SECRET_TOKEN": "s3cr3t-value"],
                "files": [["type": "inline", "path": "/workspace/data/input.txt", "data": .string(Data("file contents".utf8).base64EncodedString())]],
                "setup_commands": [["command": "echo configured > /workspace/setup.txt"]],
            ]
            h.model.enqueue(.response(outputs: [shellCall("echo $SECRET_TOKEN; cat data/input.txt; echo; cat setup.txt")]), .message("ok"))
            let (session, recorder) = try await h.createSession(input: "check", environment: environment)
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(20))
            let command = try await h.items(session.id).compactMap { item -> CommandExecutionItem? in
                if case .commandExecution(let c) = item { return c }
                return nil
            }.first
            #expect(command?.output == "s3cr3t-value\nfile contents\nconfigured\n")
            // The environment's confidential inputs are never echoed.
            let stored = try #require(try await h.store.sessionJSON(projectID: h.projectID, id: session.id))
            #expect(!stored.json.contains("s3cr3t") && !stored.json.contains("configured") && !stored.json.contains("ZmlsZSBjb250ZW50cw"))
            #expect(stored.json.contains("/workspace/data/input.txt"))
            let events = try await h.store.events(sessionID: session.id, afterSequence: 0, limit: 1000)
            let sessionEvents = events.filter { $0.type.hasPrefix("agent.session.") && !$0.type.contains("turn.item") && !$0.type.contains("output") }
            #expect(!sessionEvents.contains { String(decoding: $0.json, as: UTF8.self).contains("s3cr3t") })
        }
    }

    @Test func cancelKillsTheRunningCommand() async throws {
        try await withRuntime(sandboxes: true) { h in
            h.model.enqueue(.response(outputs: [shellCall("echo started; sleep 300 & sleep 300")]))
            let (session, recorder) = try await h.createSession(input: "wait", environment: Self.hosted)
            try await recorder.wait(timeout: .seconds(20), "the command to start") { events in
                events.contains { if case .commandOutputDelta = $0.body { return true } else { return false } }
            }
            try await h.send(session.id, [.cancel])
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(10))
            #expect(recorder.types.contains("agent.session.turn.cancelled"))
            let command = try await h.items(session.id).compactMap { item -> CommandExecutionItem? in
                if case .commandExecution(let c) = item { return c }
                return nil
            }.first
            #expect(command?.status == .incomplete || command?.exitCode == nil)
            // Nothing of it is left running: the next command sees no sleep.
            h.model.enqueue(.response(outputs: [shellCall("pgrep -c sleep || true", callID: "call_check")]), .message("checked"))
            try await h.message(session.id, "check")
            try await recorder.wait(for: "agent.session.idle", count: 2, timeout: .seconds(20))
            let check = try await h.items(session.id).compactMap { item -> CommandExecutionItem? in
                if case .commandExecution(let c) = item { return c }
                return nil
            }.last
            #expect(check?.output == "0\n")
        }
    }

    @Test func longOutputIsCappedForTheModelAndKeptInTheWorkspace() async throws {
        try await withRuntime(sandboxes: true) { h in
            h.model.enqueue(.response(outputs: [shellCall("seq 1 100000", callID: "call_seq")]), .response(outputs: [shellCall("wc -l < .cma/logs/call_seq.log", callID: "call_wc")]), .message("done"))
            let (session, recorder) = try await h.createSession(input: "count", environment: Self.hosted)
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(30))
            let input = JSONValue.inputItems(try #require(h.model.requests().dropLast().last))
            let text = try #require(input.last { $0["type"] == "function_call_output" }?["output"]?.stringValue)
            #expect(text.contains("Full output: /workspace/.cma/logs/call_seq.log"))
            #expect(text.contains("bytes omitted"))
            #expect(text.contains("\n1\n2\n3\n") && text.hasSuffix("99999\n100000\n"))
            #expect(text.utf8.count < 12 * 1024)
            let commands = try await h.items(session.id).compactMap { item -> CommandExecutionItem? in
                if case .commandExecution(let c) = item { return c }
                return nil
            }
            #expect(commands.last?.output == "100000\n")
        }
    }

    @Test func applyPatchEditsFilesAndRefusesEscapes() async throws {
        try await withRuntime(sandboxes: true) { h in
            func patch(_ text: String, _ id: String) -> ScriptOutput {
                .functionCall(name: "apply_patch", arguments: JSONWriter.string(["input": .string(text)]), callID: id)
            }
            h.model.enqueue(
                .response(outputs: [patch("*** Begin Patch\n*** Add File: app/main.py\n+print('v1')\n*** End Patch", "call_p1")]),
                .response(outputs: [patch("*** Begin Patch\n*** Update File: app/main.py\n-print('v1')\n+print('v2')\n*** End Patch", "call_p2")]),
                .response(outputs: [shellCall("ln -s /etc app/etc-link && cat app/main.py", callID: "call_ln")]),
                .response(outputs: [patch("*** Begin Patch\n*** Add File: app/etc-link/evil\n+x\n*** End Patch", "call_p3")]),
                .response(outputs: [patch("*** Begin Patch\n*** Add File: ../outside.txt\n+x\n*** End Patch", "call_p4")]),
                .message("edited"))
            let (session, recorder) = try await h.createSession(input: "edit", environment: Self.hosted)
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(30))
            let commands = try await h.items(session.id).compactMap { item -> CommandExecutionItem? in
                if case .commandExecution(let c) = item { return c }
                return nil
            }
            #expect(commands.count == 5)
            #expect(commands[0].status == .completed && commands[0].output == "Success. Updated the following files:\nA app/main.py")
            #expect(commands[1].status == .completed && commands[1].command.hasPrefix("apply_patch <<'PATCH'"))
            #expect(commands[2].output == "print('v2')\n")
            // A symlink planted by a command is never followed, and ../ cannot leave the workspace.
            #expect(commands[3].status == .failed && commands[3].output?.contains("symlink") == true)
            #expect(commands[4].status == .failed && commands[4].output?.contains("outside /workspace") == true)
            let evil = FileManager.default.fileExists(atPath: "/etc/evil")
            #expect(!evil)
            let outputs = JSONValue.inputItems(try #require(h.model.requests().last)).filter { $0["type"] == "function_call_output" }
            #expect(outputs.count == 5)
            #expect(outputs[3]["output"]?.stringValue?.hasPrefix("apply_patch failed:") == true)
        }
    }

    @Test func theSandboxCannotReachOrSignalTheHost() async throws {
        try await withRuntime(sandboxes: true) { h in
            let port = h.model.port
            let serverPID = getpid()
            h.model.enqueue(
                .response(outputs: [
                    shellCall("bash -c 'exec 3<>/dev/tcp/127.0.0.1/\(port)' 2>&1; echo rc=$?", callID: "call_net"),
                    shellCall("kill -9 \(serverPID) 2>&1; echo rc=$?; ls /proc | grep -c '^[0-9]'", callID: "call_kill"),
                    shellCall("mount -t tmpfs none /mnt 2>&1; echo rc=$?; cat /etc/shadow 2>&1 | head -1; ls \(h.directory.path) 2>&1", callID: "call_priv"),
                    // A setuid-root binary gains nothing (no_new_privs, no capabilities, own user namespace).
                    shellCall("su root -c 'id -u' </dev/null 2>&1; echo rc=$?; /usr/bin/mount --bind /workspace /mnt 2>&1; echo rc=$?", callID: "call_suid"),
                ]),
                .message("tried"))
            let (session, recorder) = try await h.createSession(input: "escape", environment: Self.hosted)
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(30))
            let outputs = try await h.items(session.id).compactMap { item -> String? in
                if case .commandExecution(let c) = item { return c.output }
                return nil
            }
            #expect(outputs.count == 4)
            // The runtime's own loopback services (here the model server) are out of reach.
            #expect(outputs[0].contains("rc=1"), "\(outputs[0])")
            // The server's process does not exist in the sandbox's PID namespace.
            #expect(outputs[1].contains("rc=1") || outputs[1].contains("No such process"), "\(outputs[1])")
            // No mounting, no secrets, no server data.
            #expect(outputs[2].contains("rc=") && !outputs[2].contains("rc=0"), "\(outputs[2])")
            #expect(!outputs[2].contains("root:"))
            #expect(outputs[2].contains("No such file"))
            #expect(!outputs[3].contains("rc=0") && !outputs[3].split(separator: "\n").contains("0"), "\(outputs[3])")
            // And the server is fine.
            #expect(try await h.session(session.id).status == .idle)
        }
    }

    @Test func outputsArePublishedAsArtifactsWhenTheTurnCompletes() async throws {
        try await withRuntime(sandboxes: true) { h in
            h.model.enqueue(
                .response(outputs: [
                    shellCall(
                        "mkdir -p outputs/reports && printf 'hello' > outputs/a.txt && head -c 1500000 /dev/urandom > outputs/reports/blob.bin && sha256sum outputs/reports/blob.bin | cut -c1-64 && ln -s /etc/passwd outputs/passwd && echo scratch > notes.txt",
                        callID: "call_out")
                ]),
                .message("published"))
            let (session, recorder) = try await h.createSession(input: "make outputs", environment: Self.hosted)
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(30))
            let turnID = try #require(try await h.turns(session.id).first?.id)
            let page = try await h.store.listArtifacts(projectID: h.projectID, sessionID: session.id, environmentID: nil, query: ListQuery(limit: 100, order: .asc))
            let artifacts = try page.rows.map { try SessionArtifact(jsonString: $0.json) }
            #expect(artifacts.map(\.path).sorted() == ["/workspace/outputs/a.txt", "/workspace/outputs/reports/blob.bin"])
            #expect(artifacts.allSatisfy { $0.turnID == turnID && $0.sessionID == session.id && $0.environmentID == session.environment.hosted?.id })
            let text = try #require(artifacts.first { $0.path.hasSuffix("a.txt") })
            #expect(text.sizeBytes == 5)
            #expect(try await h.store.artifactContent(projectID: h.projectID, sessionID: session.id, id: text.id) == Array("hello".utf8))
            // Binary content arrives byte for byte (compared with the sandbox's own checksum).
            let blob = try #require(artifacts.first { $0.path.hasSuffix("blob.bin") })
            let content = try #require(try await h.store.artifactContent(projectID: h.projectID, sessionID: session.id, id: blob.id))
            #expect(content.count == 1_500_000)
            let sandboxSum = try await h.items(session.id).compactMap { item -> String? in
                if case .commandExecution(let c) = item { return c.output }
                return nil
            }.first?.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(Hashing.sha256Hex(content) == sandboxSum)

            // A later turn that changes one output publishes only that one again.
            h.model.enqueue(.response(outputs: [shellCall("printf 'changed' > outputs/a.txt", callID: "call_out2")]), .message("again"))
            try await h.message(session.id, "change a")
            try await recorder.wait(for: "agent.session.idle", count: 2, timeout: .seconds(30))
            let after = try await h.store.listArtifacts(projectID: h.projectID, sessionID: session.id, environmentID: nil, query: ListQuery(limit: 100, order: .asc))
                .rows.map { try SessionArtifact(jsonString: $0.json) }
            #expect(after.count == 3)
            #expect(after.last?.path == "/workspace/outputs/a.txt" && after.last?.sizeBytes == 7 && after.last?.turnID != turnID)
        }
    }

    /// Uses Debian's and PyPI's registries (reachable from this project's machines and CI).
    @Test func packagesAreInstalledIntoOneSharedCachedLayer() async throws {
        try await withRuntime(sandboxes: true) { h in
            let environment: JSONValue = ["type": "openai_hosted", "packages": ["system": ["hello"], "python": ["six==1.16.0"]]]
            let command = "command -v hello; hello; python3 -c 'import six; print(six.__version__)'"
            h.model.enqueue(.response(outputs: [shellCall(command, callID: "call_pk1")]), .message("ok"))
            let (first, recorder) = try await h.createSession(input: "use packages", environment: environment)
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(240))
            let expected = "/opt/cma/layers/0/system/usr/bin/hello\nHello, world!\n1.16.0\n"
            let outputs = { (id: String) async throws -> [String] in
                try await h.items(id).compactMap { item -> String? in
                    if case .commandExecution(let c) = item { return c.output }
                    return nil
                }
            }
            let firstOutputs = try await outputs(first.id)
            #expect(firstOutputs == [expected], "\(firstOutputs)")
            #expect(try await h.session(first.id).environment.hosted?.packages == PackageSet(system: ["hello"], python: ["six==1.16.0"]))

            // The same set (in another order) reuses the layer: it is not built again.
            let root = try #require(h.runtime.sandboxHost?.configuration.root)
            let layers = { try FileManager.default.contentsOfDirectory(atPath: root + "/layers").filter { !$0.hasPrefix(".") } }
            #expect(try layers().count == 1)
            let built = try FileManager.default.attributesOfItem(atPath: root + "/layers/" + layers()[0])[.modificationDate] as? Date
            h.model.enqueue(.response(outputs: [shellCall(command, callID: "call_pk2")]), .message("ok"))
            let (second, recorder2) = try await h.createSession(
                input: "again", environment: ["type": "openai_hosted", "packages": ["python": ["six==1.16.0"], "system": ["hello"]]])
            try await recorder2.wait(for: "agent.session.idle", timeout: .seconds(60))
            let secondOutputs = try await outputs(second.id)
            #expect(secondOutputs == [expected], "\(secondOutputs)")
            #expect(try layers().count == 1)
            #expect(try FileManager.default.attributesOfItem(atPath: root + "/layers/" + layers()[0])[.modificationDate] as? Date == built)

            // A package that does not exist fails the environment with the installer's reason.
            h.model.enqueue(.response(outputs: [shellCall("true", callID: "call_pk3")]), .message("ok"))
            let (_, recorder3) = try await h.createSession(
                input: "broken", environment: ["type": "openai_hosted", "packages": ["system": ["cma-no-such-package-xyz"]]])
            try await recorder3.wait(for: "agent.session.environment.failed", timeout: .seconds(60))
            let failed = try #require(recorder3.all.first { $0.type == "agent.session.environment.failed" })
            #expect(JSONWriter.string(failed.json).contains("cma-no-such-package-xyz"))
        }
    }

    @Test func anIdleSandboxIsSuspendedAndResumesWithItsWorkspace() async throws {
        try await withRuntime(sandboxes: true, sandboxIdleTimeout: .milliseconds(700)) { h in
            h.model.enqueue(.response(outputs: [shellCall("echo kept > state.txt; sleep 1000 & echo started", callID: "call_s1")]), .message("ok"))
            let (session, recorder) = try await h.createSession(input: "start", environment: Self.hosted)
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(20))
            // Unused for the idle timeout: the sandbox stops, the workspace stays.
            try await recorder.wait(for: "agent.session.environment.suspended", timeout: .seconds(20))
            let environmentID = try #require(session.environment.hosted?.id)
            // The environment's row follows the event (written just after it).
            try await poll(timeout: .seconds(10), "the environment row to say suspended") {
                try await h.store.environment(projectID: h.projectID, id: environmentID)?.status == .suspended
            }

            // The next turn starts it again (pending → ready → connected) around the same workspace;
            // processes did not survive.
            h.model.enqueue(.response(outputs: [shellCall("cat state.txt; pgrep -c sleep || true", callID: "call_s2")]), .message("ok"))
            try await h.message(session.id, "resume")
            try await recorder.wait(for: "agent.session.idle", count: 2, timeout: .seconds(20))
            let outputs = try await h.items(session.id).compactMap { item -> String? in
                if case .commandExecution(let c) = item { return c.output }
                return nil
            }
            #expect(outputs.last == "kept\n0\n")
            let types = recorder.types
            let suspended = try #require(types.firstIndex(of: "agent.session.environment.suspended"))
            #expect(types[suspended...].contains("agent.session.environment.connected"))
            #expect(!types.contains("agent.session.environment.reset"))
        }
    }

    @Test func aRestartResetsTheSandboxAroundItsWorkspace() async throws {
        let model = try await ScriptedModelServer.start()
        let directory = try RuntimeHarness.makeDirectory()
        var h = try await RuntimeHarness.start(model: model, directory: directory, sandboxes: true)
        model.enqueue(.response(outputs: [shellCall("echo kept > state.txt; sleep 1000 & echo started", callID: "call_r1")]), .message("ok"))
        let (session, first) = try await h.createSession(input: "start", environment: Self.hosted)
        try await first.wait(for: "agent.session.idle", timeout: .seconds(20))
        await h.stop()

        // The processes died with the server; the next use says so before starting it again.
        h = try await RuntimeHarness.start(model: model, directory: directory, sandboxes: true)
        let recorder = EventRecorder(h.runtime.subscribe(sessionID: session.id))
        model.enqueue(.response(outputs: [shellCall("cat state.txt; pgrep -c sleep || true", callID: "call_r2")]), .message("ok"))
        try await h.message(session.id, "again")
        try await recorder.wait(for: "agent.session.idle", timeout: .seconds(30))
        let types = recorder.types.filter { $0.hasPrefix("agent.session.environment.") }
        #expect(types == ["agent.session.environment.reset", "agent.session.environment.pending", "agent.session.environment.ready", "agent.session.environment.connected"])
        #expect(recorder.all.contains { e in
            if case .environmentReset(_, _, _, let count) = e.body { return count == 1 }
            return false
        })
        let outputs = try await h.items(session.id).compactMap { item -> String? in
            if case .commandExecution(let c) = item { return c.output }
            return nil
        }
        #expect(outputs.last == "kept\n0\n")
        await h.stop()
        await model.shutdown()
        h.removeFiles()
    }

    @Test func agentsMDIsGivenAtTurnStartWhenNewOrChanged() async throws {
        try await withRuntime(sandboxes: true) { h in
            let rules = "Always answer in French."
            let environment: JSONValue = [
                "type": "openai_hosted", "container_size": "small",
                "files": [["type": "inline", "path": "/workspace/AGENTS.md", "data": .string(Data(rules.utf8).base64EncodedString())]],
            ]
            func agentsMessages(_ request: RecordedRequest) -> [String] {
                (request.body["input"]?.arrayValue ?? []).compactMap { item in
                    let text = (item["content"]?.arrayValue ?? []).compactMap { $0["text"]?.stringValue }.joined()
                    return text.hasPrefix("# AGENTS.md instructions for /workspace") ? text : nil
                }
            }
            // Turn 1 gets the file; turn 2 (unchanged) does not get it again and rewrites it;
            // turn 3 gets the new version.
            h.model.enqueue(.message("D'accord."))
            let (session, recorder) = try await h.createSession(input: "one", environment: environment)
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(30))
            h.model.enqueue(.response(outputs: [shellCall("printf 'Use metric units.' > AGENTS.md", callID: "call_a1")]), .message("ok"))
            try await h.message(session.id, "two")
            try await recorder.wait(for: "agent.session.idle", count: 2, timeout: .seconds(30))
            h.model.enqueue(.message("ok"))
            try await h.message(session.id, "three")
            try await recorder.wait(for: "agent.session.idle", count: 3, timeout: .seconds(30))

            let requests = h.model.requests()
            try #require(requests.count == 4)
            #expect(agentsMessages(requests[0]) == ["# AGENTS.md instructions for /workspace\n\n<INSTRUCTIONS>\n\(rules)\n</INSTRUCTIONS>"])
            #expect(agentsMessages(requests[2]).count == 1)
            #expect(agentsMessages(requests[3]).count == 2 && agentsMessages(requests[3]).last?.contains("Use metric units.") == true)
            // Only appended: the cached prefix of earlier turns holds.
            PromptCacheTests.expectEachInputIsAPrefixOfTheNext(PromptCacheTests.inputs(requests))
            // The items list says when project instructions were given.
            let given = try await h.items(session.id).compactMap { item -> String? in
                if case .other(let o) = item, o["type"]?.stringValue == "agents_md" { return o["content"]?.stringValue }
                return nil
            }
            #expect(given == [rules, "Use metric units."])
        }
    }

    @Test func aLargeAgentsMDIsCappedForTheModel() async throws {
        try await withRuntime(sandboxes: true) { h in
            let big = String(repeating: "Rule.\n", count: 7_000)  // 42,000 bytes
            let environment: JSONValue = [
                "type": "openai_hosted", "container_size": "small",
                "files": [["type": "inline", "path": "/workspace/AGENTS.md", "data": .string(Data(big.utf8).base64EncodedString())]],
            ]
            h.model.enqueue(.message("ok"))
            let (_, recorder) = try await h.createSession(input: "one", environment: environment)
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(30))
            let text = try #require(h.model.requests().first?.body["input"]?.arrayValue?.compactMap { item in
                (item["content"]?.arrayValue ?? []).compactMap { $0["text"]?.stringValue }.joined()
            }.first { $0.hasPrefix("# AGENTS.md") })
            #expect(text.utf8.count < 33 * 1024)
            #expect(text.contains("[AGENTS.md is 42000 bytes; only the first 32768 are shown.]"))
        }
    }

    @Test func shellCallsMadeTogetherRunTogetherAndAnswerInOrder() async throws {
        try await withRuntime(sandboxes: true) { h in
            // Each command marks that it started and waits (up to 5 s) for the others: all three
            // see three marks only if they run at the same time.
            func command(_ name: String) -> String {
                "touch /tmp/started_\(name); for i in $(seq 50); do [ $(ls /tmp/started_* | wc -l) -ge 3 ] && break; sleep 0.1; done; echo \(name) $(ls /tmp/started_* | wc -l)"
            }
            h.model.enqueue(
                .response(outputs: [shellCall(command("a"), callID: "call_a"), shellCall(command("b"), callID: "call_b"), shellCall(command("c"), callID: "call_c")]),
                .message("done"))
            let (session, recorder) = try await h.createSession(input: "three at once", environment: Self.hosted)
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(30))
            let requests = h.model.requests()
            try #require(requests.count == 2)
            #expect(requests[0].body["parallel_tool_calls"] == true)
            // The results reach the model in the order of the calls.
            let outputs = (requests[1].body["input"]?.arrayValue ?? []).filter { $0["type"]?.stringValue == "function_call_output" }
            #expect(outputs.map { $0["call_id"]?.stringValue ?? "" } == ["call_a", "call_b", "call_c"])
            let items = try await h.items(session.id).compactMap { item -> String? in
                if case .commandExecution(let c) = item { return c.output }
                return nil
            }
            #expect(items == ["a 3\n", "b 3\n", "c 3\n"])
        }
    }

    @Test func anUnusedPrewarmedEnvironmentIsSuspendedAndStartsAgainWhenUsed() async throws {
        try await withRuntime(sandboxes: true, sandboxIdleTimeout: .milliseconds(1500)) { h in
            var params = HostedEnvironmentParams()
            params.setupCommands = [.init(command: "echo once >> setup-runs.txt")]
            let info = try await h.runtime.createEnvironment(projectID: h.projectID, params: params)
            let status = { try await h.runtime.environmentInfo(projectID: h.projectID, id: info.id).status }
            try await poll(timeout: .seconds(20), "ready then suspended") { try await status() == .suspended }
            // Using it starts it again (setup does not run twice) and keeps it until idle again.
            let written = try await h.runtime.writeEnvironmentFile(
                projectID: h.projectID, environmentID: info.id, file: HostedFileParam.parse(JSONReader(["type": "inline", "path": "/workspace/new.txt", "data": "eA=="])))
            #expect(written.sizeBytes == 1)
            #expect(try await status() == .ready)
            let files = try await h.runtime.listEnvironmentFiles(projectID: h.projectID, environmentID: info.id, directory: "/workspace", ascending: true, limit: 10, after: nil)
            #expect(files.files.map(\.path) == ["/workspace/new.txt", "/workspace/setup-runs.txt"])
            let setupRuns = try #require(files.files.last)
            #expect(setupRuns.sizeBytes == 5)
        }
    }

    @Test func aRestrictedSessionReachesOnlyItsAllowedDomainsThroughTheProxy() async throws {
        try await withRuntime(sandboxes: true) { h in
            let curl = "curl -sS -m 30 -o /dev/null -w '%{http_code}'"
            h.model.enqueue(
                .response(outputs: [
                    shellCall("env | grep -c '^HTTPS_PROXY=http://127.0.0.1:3128$'", callID: "call_n1"),
                    shellCall("\(curl) https://example.com 2>&1; echo \" rc=$?\"", callID: "call_n2"),
                    shellCall("\(curl) http://169.254.169.254/latest/meta-data/ 2>&1; echo \" rc=$?\"", callID: "call_n3"),
                    shellCall("\(curl) --noproxy '*' https://pypi.org/simple/ 2>&1; echo \" rc=$?\"", callID: "call_n4"),
                    shellCall("\(curl) https://pypi.org/simple/ 2>&1; echo \" rc=$?\"", callID: "call_n5"),
                ]),
                .message("ok"))
            let environment: JSONValue = ["type": "openai_hosted", "network": ["access": "restricted", "allowed_domains": ["pypi.org"]]]
            let (session, recorder) = try await h.createSession(input: "reach out", environment: environment)
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(90))
            #expect(try await h.session(session.id).environment.hosted?.allowedDomains == ["pypi.org"])
            // The model is told it has (restricted) network access.
            let context = h.model.requests().first?.body["input"]?.arrayValue?.first?["content"]?.arrayValue?.first?["text"]?.stringValue ?? ""
            #expect(context.contains("<network_access>restricted</network_access>"), "\(context)")
            let outputs = try await h.items(session.id).compactMap { item -> String? in
                if case .commandExecution(let c) = item { return c.output }
                return nil
            }
            #expect(outputs.count == 5)
            guard outputs.count == 5 else { return }
            #expect(outputs[0] == "1\n")
            // Not allowed: the proxy refuses (403), and metadata addresses always.
            #expect(outputs[1].contains("403") && !outputs[1].contains("rc=0"), "\(outputs[1])")
            #expect(outputs[2].hasPrefix("403") || outputs[2].contains("403"), "\(outputs[2])")
            // Bypassing the proxy gets nowhere: the sandbox has no network of its own.
            #expect(!outputs[3].contains("rc=0"), "\(outputs[3])")
            if internetAvailable {
                #expect(outputs[4].hasPrefix("200"), "\(outputs[4])")
            }
        }
    }

    @Test func codexModelsGetTheFreeformApplyPatch() async throws {
        try await withRuntime(sandboxes: true) { h in
            let patch = "*** Begin Patch\n*** Add File: src/hello.txt\n+hello from a custom call\n*** End Patch\n"
            h.model.enqueue(
                .response(outputs: [.customToolCall(name: "apply_patch", input: patch, callID: "call_custom1"), shellCall("cat src/hello.txt", callID: "call_cat")]),
                .message("patched"))
            let (session, recorder) = try await h.createSession(input: "patch", agent: ["model": "gpt-5.1-codex"], environment: Self.hosted)
            try await recorder.wait(for: "agent.session.idle", timeout: .seconds(30))
            let requests = h.model.requests()
            #expect(requests.count == 2)
            let tools = requests.first?.body["tools"]?.arrayValue ?? []
            let applyPatch = tools.first { $0["name"]?.stringValue == "apply_patch" }
            #expect(applyPatch?["type"]?.stringValue == "custom")
            #expect(applyPatch?["format"]?["syntax"]?.stringValue == "lark")
            // The call goes back as a custom call with a custom output.
            let input = requests.last?.body["input"]?.arrayValue ?? []
            #expect(input.contains { $0["type"]?.stringValue == "custom_tool_call" && $0["call_id"]?.stringValue == "call_custom1" && $0["input"]?.stringValue == patch })
            let output = input.first { $0["type"]?.stringValue == "custom_tool_call_output" && $0["call_id"]?.stringValue == "call_custom1" }
            #expect(output?["output"]?.stringValue?.contains("A src/hello.txt") == true)
            #expect(!input.contains { $0["type"]?.stringValue == "function_call_output" && $0["call_id"]?.stringValue == "call_custom1" })
            let commands = try await h.items(session.id).compactMap { item -> CommandExecutionItem? in
                if case .commandExecution(let c) = item { return c }
                return nil
            }
            #expect(commands.map(\.status) == [.completed, .completed])
            #expect(commands.last?.output == "hello from a custom call\n")

            // Other models get the function variant.
            h.model.enqueue(.message("hi"))
            let (_, other) = try await h.createSession(input: "hi", environment: Self.hosted)
            try await other.wait(for: "agent.session.idle", timeout: .seconds(30))
            let otherTools = h.model.requests().last?.body["tools"]?.arrayValue ?? []
            #expect(otherTools.first { $0["name"]?.stringValue == "apply_patch" }?["type"]?.stringValue == "function")
        }
    }

    @Test func aServerWithoutSandboxesRefusesHostedSessions() async throws {
        try await withRuntime { h in
            await #expect(throws: RuntimeError.self) {
                _ = try await h.createSession(input: "x", environment: Self.hosted)
            }
        }
    }
}
