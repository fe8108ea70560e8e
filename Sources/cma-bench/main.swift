// Benchmarks. Run with `scripts/bench [harness|json|streaming|persistence|memory|scale|sandbox|long-session|steps|http]…`
// (release build; all but `steps` and `http` by default). A summary table with the issue-7
// targets is printed at the end.
//
// harness, streaming, persistence, memory, scale (issue 7): see Harness.swift and Fanout.swift.
// steps: hosted steps back to back, for profiling and comparing builds (Harness.swift).
// http: AsyncHTTPClient's request paths against a bare NIO channel (HTTPPaths.swift).
//
// sandbox (hosted environments, issue 3; needs bubblewrap):
// 1. Command overhead: `/bin/true` through a warm sandbox (request to the sandbox agent,
//    fork/exec inside, exit status back) against running it directly on the host.
// 2. Session create → `agent.session.environment.connected`, with a template whose package
//    layer is already cached, through the runtime (no HTTP), against the scripted model server.
//
// long-session (issue 4): see LongSession.swift.
import AgentsAPI
import Foundation
import Logging
import ModelProviders
import Runtime
import Sandbox
import Storage
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))]
}

func report(_ name: String, _ ms: [Double]) {
    print(String(format: "%@: n=%d p50=%.2f ms p90=%.2f ms p99=%.2f ms", name, ms.count, percentile(ms, 0.5), percentile(ms, 0.9), percentile(ms, 0.99)))
}

func milliseconds(_ d: Duration) -> Double {
    Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
}

/// Runs `/bin/true` directly: posix_spawn + waitpid.
func runDirectly() -> Duration {
    let clock = ContinuousClock()
    let start = clock.now
    var pid: pid_t = 0
    let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/true"), nil]
    defer { free(argv[0]) }
    guard posix_spawn(&pid, "/bin/true", nil, nil, argv, environ) == 0 else { fatalError("spawn failed") }
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    return clock.now - start
}

let iterations = Int(ProcessInfo.processInfo.environment["CMA_BENCH_ITERATIONS"] ?? "") ?? 300
var logger = Logger(label: "cma-bench")
logger.logLevel = ProcessInfo.processInfo.environment["CMA_BENCH_DEBUG"] == nil ? .warning : .debug
let benchmarks = ["sandbox", "harness", "json", "streaming", "persistence", "memory", "scale", "long-session", "steps", "http"]
/// Run only when named.
let onRequest: Set<String> = ["steps", "http"]
let selected = CommandLine.arguments.count > 1 ? Array(CommandLine.arguments.dropFirst()) : benchmarks.filter { !onRequest.contains($0) }
for name in selected where !benchmarks.contains(name) {
    print("unknown benchmark '\(name)'; choose from: \(benchmarks.joined(separator: ", "))")
    exit(2)
}
let table = BenchTable()
let machine = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?.split(separator: "\n").first { $0.hasPrefix("model name") }?
    .split(separator: ":").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, \(machine)")

let root = FileManager.default.temporaryDirectory.appendingPathComponent("cma-bench-\(getpid())").path
try FileManager.default.createDirectory(atPath: root + "/sandboxes/workspaces", withIntermediateDirectories: true)
for path in [root, root + "/sandboxes", root + "/sandboxes/workspaces"] { _ = chmod(path, 0o700) }
/// Removes the benchmark's directory (databases, workspace images). Called on both ways out of a
/// run that finishes (`exit` skips the `defer`s of top-level code); a benchmark that throws
/// leaves the directory behind, to be looked at.
func removeRoot() { try? FileManager.default.removeItem(atPath: root) }
let host = SandboxHost(configuration: .locate(root: root + "/sandboxes"), logger: logger)
let sandboxes: SandboxHost? = (try? host.checkAvailable()) != nil ? host : nil
print("sandboxes: \(sandboxes == nil ? "not available (bubblewrap missing)" : host.isolatesUsers ? "their own uids, with cgroups" : "the server's uid (rlimits only)")")
/// The p50 of the shell tool's `bash -lc true` through a warm sandbox (the command's own time).
var shellCommandP50: Double?
let binDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path

func runOthers() async throws {
    if selected.contains("harness") {
        try await HarnessBenchmark.run(root: root, host: sandboxes, shellCommandP50: shellCommandP50, logger: logger, table: table)
    }
    if selected.contains("json") { try await HarnessBenchmark.json(root: root, logger: logger) }
    if selected.contains("streaming") { try await FanoutBenchmark.run(root: root, logger: logger, table: table) }
    if selected.contains("persistence") { try await HarnessBenchmark.persistence(root: root, logger: logger, table: table) }
    if selected.contains("memory") {
        try await FanoutBenchmark.memory(root: root, host: sandboxes, cmaBinary: binDirectory + "/cma", logger: logger, table: table)
    }
    if selected.contains("scale") { try await FanoutBenchmark.scale(root: root, logger: logger, table: table) }
    if selected.contains("long-session") { try await LongSessionBenchmark.run(steps: 100, logger: logger) }
    if selected.contains("steps"), let sandboxes { try await HarnessBenchmark.steps(root: root, host: sandboxes, logger: logger) }
    if selected.contains("http") { try await HTTPPathsBenchmark.run() }
    table.print()
}

guard selected.contains("sandbox"), sandboxes != nil else {
    try await runOthers()
    removeRoot()
    exit(0)
}

// 1. Command overhead.
do {
    let running = try await host.start(key: "bench-commands", slot: 999_001, limits: .forSize(.medium))
    let sandbox = running.sandbox
    let env = ["PATH": "/usr/bin:/bin"]
    for _ in 0..<20 { _ = try await sandbox.run(["/bin/true"], env: env) }
    for _ in 0..<20 { _ = runDirectly() }
    var inSandbox: [Double] = []
    var direct: [Double] = []
    let clock = ContinuousClock()
    for _ in 0..<iterations {
        let start = clock.now
        let (_, result) = try await sandbox.run(["/bin/true"], env: env)
        precondition(result.exitCode == 0)
        inSandbox.append(milliseconds(clock.now - start))
        direct.append(milliseconds(runDirectly()))
    }
    report("true in a warm sandbox", inSandbox)
    // The shell tool's command as the runtime runs it: `bash -lc true` with a session's
    // environment (a UTF-8 locale, the login profile) and a log file. This is the command's own
    // time in a step, which the harness overhead leaves out.
    let sessionEnv = [
        "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/home/agent", "LANG": "C.UTF-8", "TERM": "dumb", "PAGER": "cat", "GIT_PAGER": "cat",
        "USER": "agent", "SHELL": "/bin/bash",
    ]
    var shell: [Double] = []
    for i in 0..<(iterations + 20) {
        let start = clock.now
        for try await _ in sandbox.exec(["/bin/bash", "-lc", "true"], env: sessionEnv, timeout: .seconds(60), logPath: "/workspace/.cma/logs/bench-\(i).log").events {}
        if i >= 20 { shell.append(milliseconds(clock.now - start)) }
    }
    report("bash -lc true (the shell tool's command line) in a warm sandbox", shell)
    shellCommandP50 = percentile(shell, 0.5)
    report("true run directly", direct)
    let overhead = percentile(inSandbox, 0.5) - percentile(direct, 0.5)
    print(String(format: "command overhead (p50 difference): %.2f ms (target < 3 ms)", overhead))
    table.add("command overhead: `true` in a warm sandbox minus run directly, p50", ms(overhead) + String(format: " (%.2f vs %.2f)", percentile(inSandbox, 0.5), percentile(direct, 0.5)), target: "< 3 ms", met: overhead < 3)
    await running.stop()
}

// 2. Session create → environment connected, with a cached template.
do {
    let model = try await ScriptedModelServer.start()
    let store = try SQLiteStore(path: root + "/cma.sqlite")
    let projectID = try await store.createProject(name: "bench")
    let client = OpenAIResponsesClient(configuration: model.clientConfiguration(), logger: logger)
    let runtime = AgentRuntime(store: store, model: client, logger: logger, sandboxHost: host)
    let runTask = Task { try await runtime.run() }
    let withPackages = ProcessInfo.processInfo.environment["CMA_BENCH_PACKAGES"] != "0"
    var templateParams = try HostedEnvironmentParams.parse(
        JSONReader([
            "env": ["MODE": "bench"], "files": [["type": "inline", "path": "/workspace/README.md", "data": "aGVsbG8K"]],
            "setup_commands": [["command": "mkdir -p src"]],
        ]), context: .template)
    if withPackages { templateParams.packages = PackageSet(system: ["hello"]) }
    let template = try await runtime.createTemplate(projectID: projectID, params: templateParams)
    let request = { () throws -> SessionCreateRequest in
        try SessionCreateRequest(json: ["agent": ["model": "gpt-test"], "environment": ["type": "openai_hosted", "environment_template_id": .string(template.id)]])
    }
    // The first session builds the package layer (not measured).
    let clock = ContinuousClock()
    var times: [Double] = []
    let sessions = max(5, iterations / 10)
    for i in 0...sessions {
        // Each create takes a spare workspace image and formats a new one in the background;
        // the next create starts once that is done (sessions are not created back to back).
        try await Task.sleep(for: .milliseconds(300))
        let sessionID = IDGenerator.make(.session)
        let subscription = runtime.subscribe(sessionID: sessionID)
        let start = clock.now
        _ = try await runtime.createSession(projectID: projectID, sessionID: sessionID, request: request())
        for await delivery in subscription.events {
            if case .event(let stored) = delivery, stored.type == "agent.session.environment.connected" { break }
            if case .event(let stored) = delivery, stored.type == "agent.session.environment.failed" {
                fatalError("environment failed: \(String(decoding: stored.json, as: UTF8.self))")
            }
        }
        let elapsed = milliseconds(clock.now - start)
        // Each create's marks are taken (so the trace holds one create); the last one's are shown.
        let marks = StepTrace.take()
        if i == sessions, !marks.isEmpty {
            print("where a hosted session's start goes (the last one; from createSession):")
            for mark in marks { print(String(format: "  %8.3f ms  %@", milliseconds(mark.at - start), mark.label)) }
        }
        subscription.cancel()
        if i == 0 {
            print(String(format: "first session (builds the package layer: %@): %.0f ms", withPackages ? "hello" : "none", elapsed))
        } else {
            times.append(elapsed)
        }
        try await runtime.deleteSession(projectID: projectID, sessionID: sessionID)
    }
    report("session create → environment connected (cached template)", times)
    table.add("session create (hosted, cached template) → environment connected, p50", ms(percentile(times, 0.5)), target: "< 50 ms", met: percentile(times, 0.5) < 50)
    runtime.shutdown()
    _ = await runTask.result
    await model.shutdown()
}
try await runOthers()
removeRoot()
