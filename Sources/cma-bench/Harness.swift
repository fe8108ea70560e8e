// The runtime's own costs (issue 7), against the scripted model server with no model latency:
// loop gap and harness overhead per step, session start, SSE fan-out, persistence, memory and
// scale. Each prints lines `name: n=… p50=… p90=… p99=…` and a summary table at the end.
import AgentsAPI
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import ModelProviders
import NIOCore
import Runtime
import Sandbox
import Server
import ServiceLifecycle
import Storage
import Synchronization
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// One row of the summary: the measured value next to its target.
struct BenchRow {
    var name: String
    var value: String
    var target: String
    var met: Bool?
}

final class BenchTable: @unchecked Sendable {
    var rows: [BenchRow] = []
    func add(_ name: String, _ value: String, target: String = "", met: Bool? = nil) { rows.append(BenchRow(name: name, value: value, target: target, met: met)) }

    func print() {
        Swift.print("\n| measurement | value | target | met |\n|---|---|---|---|")
        for r in rows {
            Swift.print("| \(r.name) | \(r.value) | \(r.target) | \(r.met.map { $0 ? "yes" : "**no**" } ?? "") |")
        }
    }
}

func ms(_ v: Double) -> String { String(format: "%.2f ms", v) }
func stats(_ values: [Double]) -> String {
    String(format: "p50 %.2f / p90 %.2f / p99 %.2f ms (n=%d)", percentile(values, 0.5), percentile(values, 0.9), percentile(values, 0.99), values.count)
}

/// The resident set size of a process, in bytes (from /proc).
func residentBytes(pid: Int32 = getpid()) -> Int {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
    for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        let kb = line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return kb * 1024
    }
    return 0
}

/// Every descendant of `pid` (from /proc's parent links).
func descendants(of pid: Int32) -> [Int32] {
    var parents: [Int32: Int32] = [:]
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
        guard let p = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(p)/stat", encoding: .utf8) else { continue }
        guard let close = stat.lastIndex(of: ")") else { continue }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        if fields.count > 1, let parent = Int32(fields[1]) { parents[p] = parent }
    }
    var result: [Int32] = []
    var frontier = [pid]
    while let next = frontier.popLast() {
        for (child, parent) in parents where parent == next {
            result.append(child)
            frontier.append(child)
        }
    }
    return result
}

enum HarnessBenchmark {
    struct Setup {
        let model: ScriptedModelServer
        let store: SQLiteStore
        let projectID: String
        let runtime: AgentRuntime
        let runTask: Task<Void, any Error>
        let directory: String
        let client: OpenAIResponsesClient

        func stop() async {
            runtime.shutdown()
            _ = await runTask.result
            try? store.close()
            try? await client.shutdown()
        }
    }

    static func setup(root: String, name: String, host: SandboxHost?, logger: Logger, model: ScriptedModelServer) async throws -> Setup {
        let directory = root + "/" + name
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: directory + "/cma.sqlite")
        let projectID = try await store.createProject(name: "bench")
        // A client of its own, as `cma serve` has (the shared one has its own limits).
        let client = OpenAIResponsesClient.dedicated(configuration: model.clientConfiguration(), logger: logger)
        let runtime = AgentRuntime(store: store, model: client, logger: logger, heartbeatInterval: .seconds(3600), sandboxHost: host)
        let runTask = Task { try await runtime.run() }
        return Setup(model: model, store: store, projectID: projectID, runtime: runtime, runTask: runTask, directory: directory, client: client)
    }

    static func shell(_ command: String, _ id: String) -> ScriptStep {
        .response(outputs: [.functionCall(name: "shell_command", arguments: JSONWriter.string(["command": .string(command)]), callID: id)])
    }

    /// One step of a session: the loop gap and, in a sandbox with tracing on, the command's own
    /// time as the sandbox agent measured it (spawn to exit status).
    struct StepTiming {
        var gap: Double
        var command: Double?
    }

    /// Runs a session of `steps` model calls with one `true` each, then an answer; returns the
    /// loop gaps (answer fully written → next request received).
    static func loopGaps(_ s: Setup, steps: Int, hosted: Bool) async throws -> [Double] {
        try await loopSteps(s, steps: steps, hosted: hosted).map(\.gap)
    }

    static func loopSteps(_ s: Setup, steps: Int, hosted: Bool) async throws -> [StepTiming] {
        if hosted {
            // As between the hosted creates of the sandbox benchmark: the previous session's
            // sandbox teardown and the spare-image refill finish first, so they do not land in
            // this session's steps.
            try await Task.sleep(for: .milliseconds(300))
        }
        s.model.reset()
        _ = StepTrace.takeDurations()
        var script: [ScriptStep] = []
        for i in 0..<steps {
            script.append(hosted ? shell("true", "call_\(i)") : .response(outputs: [.functionCall(name: "search_session_history", arguments: #"{"item_id":"item_none"}"#, callID: "call_\(i)")]))
        }
        script.append(.message("done"))
        s.model.enqueue(script)
        let environment: JSONValue = hosted ? ["type": "openai_hosted"] : ["type": "none"]
        let request = try SessionCreateRequest(json: ["agent": ["model": "gpt-test"], "environment": environment, "input": "go"])
        let sessionID = IDGenerator.make(.session)
        let subscription = s.runtime.subscribe(sessionID: sessionID)
        _ = try await s.runtime.createSession(projectID: s.projectID, sessionID: sessionID, request: request)
        for await delivery in subscription.events {
            if case .event(let e) = delivery, e.type == "agent.session.idle" { break }
        }
        subscription.cancel()
        let requests = s.model.requests()
        precondition(requests.count == steps + 1, "expected \(steps + 1) model requests, got \(requests.count)")
        // One command per step, in order.
        let commands = StepTrace.takeDurations().filter { $0.label == "command" }.map { milliseconds($0.duration) }
        var timings: [StepTiming] = []
        for i in 0..<steps {
            guard let answered = requests[i].answeredAt else { continue }
            timings.append(StepTiming(gap: milliseconds(requests[i + 1].receivedAt - answered), command: commands.count == steps ? commands[i] : nil))
        }
        try await s.runtime.deleteSession(projectID: s.projectID, sessionID: sessionID)
        return timings
    }

    static func run(root: String, host: SandboxHost?, shellCommandP50: Double?, logger: Logger, table: BenchTable) async throws {
        let model = try await ScriptedModelServer.start()
        defer { Task { await model.shutdown() } }
        let s = try await setup(root: root, name: "harness", host: host, logger: logger, model: model)

        if StepTrace.enabled { try await traceSteps(s, hosted: host != nil) }
        // Loop gap and harness overhead: sessions of 1, 10 and 100 steps. Tracing is on so that
        // each step's command reports its own time (as the sandbox agent measured it).
        if host != nil {
            let traced = StepTrace.enabled
            StepTrace.set(enabled: true)
            _ = try await loopGaps(s, steps: 3, hosted: true)  // warm-up
            var all: [StepTiming] = []
            for (steps, sessions) in [(1, 30), (10, 6), (100, 2)] {
                var timings: [StepTiming] = []
                for _ in 0..<sessions { timings += try await loopSteps(s, steps: steps, hosted: true) }
                print("loop gap, \(steps)-step sessions, one `true` per step: \(stats(timings.map(\.gap)))")
                let overheads = timings.compactMap { t in t.command.map { t.gap - $0 } }
                if !overheads.isEmpty { print("  harness overhead (loop gap − that step's command): \(stats(overheads))") }
                all += timings
            }
            StepTrace.set(enabled: traced)
            _ = StepTrace.take()
            let gaps = all.map(\.gap)
            let p50 = percentile(gaps, 0.5)
            table.add("loop gap (reply received → next request sent, one `true`), p50", ms(p50) + String(format: " (p99 %.2f)", percentile(gaps, 0.99)), target: "< 5 ms", met: p50 < 5)
            // The step minus its command: each step's command as the sandbox agent timed it
            // (fork to exit status of `bash -lc true`).
            let paired = all.compactMap { t in t.command.map { (overhead: t.gap - $0, command: $0) } }
            if paired.count == all.count {
                let overhead = percentile(paired.map(\.overhead), 0.5)
                table.add(
                    "harness overhead per step excluding the command (loop gap − that step's `bash -lc true`, timed in the sandbox), p50",
                    ms(overhead) + String(format: " (p99 %.2f; command p50 %.2f)", percentile(paired.map(\.overhead), 0.99), percentile(paired.map(\.command), 0.5)),
                    target: "< 2 ms", met: overhead < 2)
            }
            if let command = shellCommandP50 {
                // For reference: the loop gap's p50 minus that of `bash -lc true` run on its own.
                table.add(
                    "loop gap p50 − `bash -lc true` p50 measured on its own in a warm sandbox",
                    ms(max(0, p50 - command)) + String(format: " (%.2f − %.2f)", p50, command), target: "(reference)")
            }
        }
        // Without a sandbox: the step's tool is the runtime's history search (no command at all).
        do {
            _ = try await loopGaps(s, steps: 3, hosted: false)
            var gaps: [Double] = []
            for _ in 0..<10 { gaps += try await loopGaps(s, steps: 10, hosted: false) }
            print("loop gap, no sandbox (history search per step): \(stats(gaps))")
            table.add("loop gap without a sandbox (runtime tool), p50", ms(percentile(gaps, 0.5)), target: "(reference)")
        }

        // Session start: `none` → first model request.
        do {
            var times: [Double] = []
            for i in 0..<60 {
                model.reset()
                model.enqueue(.message("hi"))
                let request = try SessionCreateRequest(json: ["agent": ["model": "gpt-test"], "environment": ["type": "none"], "input": "hello"])
                let sessionID = IDGenerator.make(.session)
                let subscription = s.runtime.subscribe(sessionID: sessionID)
                let start = ContinuousClock.now
                _ = try await s.runtime.createSession(projectID: s.projectID, sessionID: sessionID, request: request)
                for await delivery in subscription.events {
                    if case .event(let e) = delivery, e.type == "agent.session.idle" { break }
                }
                subscription.cancel()
                if i >= 10, let first = model.requests().first { times.append(milliseconds(first.receivedAt - start)) }
            }
            print("session create (none) → first model request: \(stats(times))")
            let p50 = percentile(times, 0.5)
            table.add("session create (`none`) → first model request, p50", ms(p50), target: "< 10 ms", met: p50 < 10)
        }
        await s.stop()
    }

    /// With `CMA_STEP_TRACE=1`: where the loop gap goes, phase by phase (the p50 of the time
    /// from the previous phase), over the later steps of a 30-step session and over the first
    /// steps of 1-step sessions, with and without a sandbox.
    static func traceSteps(_ s: Setup, hosted: Bool) async throws {
        for sandboxed in hosted ? [true, false] : [false] {
            _ = try await loopGaps(s, steps: 5, hosted: sandboxed)
            _ = StepTrace.take()
            let commands = try await loopSteps(s, steps: 100, hosted: sandboxed).compactMap(\.command)
            let marks = StepTrace.take()
            for steps in [5..<29, 75..<99] {
                var breakdown = PhaseBreakdown()
                breakdown.add(marks, s.model.requests(), steps: steps)
                breakdown.print("\(sandboxed ? "one `true` per step" : "history search per step"), steps \(steps.lowerBound + 1)-\(steps.upperBound) of a session")
                if commands.count == 100 {
                    // The command's own time as the agent timed it (spawn to exit status): the rest
                    // of the phases from "command started" to "command exit read" is the round trip.
                    print(String(format: "  (of which the command itself, timed by the sandbox agent: %.3f ms)", percentile(Array(commands[steps]), 0.5)))
                }
            }
            var first = PhaseBreakdown()
            for _ in 0..<15 {
                _ = StepTrace.take()
                _ = try await loopGaps(s, steps: 1, hosted: sandboxed)
                first.add(StepTrace.take(), s.model.requests(), steps: 0..<1)
            }
            first.print("\(sandboxed ? "one `true` per step" : "history search per step"), a session's first step")
        }
    }

    /// The time from one traced phase to the next, per step (from the answer's end to the next
    /// request's arrival).
    struct PhaseBreakdown {
        var phases: [String] = []
        var times: [String: [Double]] = [:]

        mutating func add(_ marks: [(label: String, at: ContinuousClock.Instant)], _ requests: [RecordedRequest], steps: Range<Int>) {
            for i in steps {
                guard let answered = requests[i].answeredAt else { continue }
                let next = requests[i + 1].receivedAt
                var previous = answered
                var seen: [String: Int] = [:]
                for mark in marks where mark.at > answered && mark.at <= next {
                    seen[mark.label, default: 0] += 1
                    let key = mark.label + (seen[mark.label]! > 1 ? " (\(seen[mark.label]!))" : "")
                    append(key, milliseconds(mark.at - previous))
                    previous = mark.at
                }
                append("model request received", milliseconds(next - previous))
            }
        }

        private mutating func append(_ key: String, _ value: Double) {
            if times[key] == nil { phases.append(key) }
            times[key, default: []].append(value)
        }

        func print(_ title: String) {
            Swift.print("where the loop gap goes (\(title); p50 from the previous phase, from the answer's end):")
            for phase in phases { Swift.print(String(format: "  %-40@ %6.3f ms (n=%d)", phase, percentile(times[phase]!, 0.5), times[phase]!.count)) }
        }
    }

    /// Creates `count` sessions (`none`, one echoed turn each; the model server must echo),
    /// 50 at a time, and returns their IDs once all are idle.
    static func idleSessions(_ s: Setup, count: Int) async throws -> [String] {
        let request = try SessionCreateRequest(json: ["agent": ["model": "gpt-test", "instructions": "Be brief."], "environment": ["type": "none"], "input": "hi"])
        var ids: [String] = []
        while ids.count < count {
            let batch = (0..<min(50, count - ids.count)).map { _ in IDGenerator.make(.session) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for id in batch {
                    group.addTask {
                        let subscription = s.runtime.subscribe(sessionID: id)
                        _ = try await s.runtime.createSession(projectID: s.projectID, sessionID: id, request: request)
                        for await delivery in subscription.events {
                            if case .event(let e) = delivery, e.type == "agent.session.idle" { break }
                        }
                        subscription.cancel()
                    }
                }
                try await group.waitForAll()
            }
            ids += batch
        }
        return ids
    }

    // MARK: Steps

    /// CPU time (user + system) of a process so far, in milliseconds: of this process, or of
    /// `pid` and the children it has reaped (from /proc).
    static func cpuMilliseconds(pid: Int32? = nil) -> Double {
        guard let pid else {
            var u = rusage()
            getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
            return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1000 + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1000
        }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return 0 }
        // After the command: state, ppid, … utime (12), stime (13), cutime (14), cstime (15).
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        let ticks = fields[11...14].compactMap { Double($0) }.reduce(0, +)
        return ticks * 1000 / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Steady-state steps for profiling (`perf record … cma-bench steps`): hosted sessions of
    /// 100 steps with one `true` each, for `CMA_BENCH_STEPS_SECONDS` (20) seconds; prints the
    /// loop gap, the harness overhead and the CPU time per step of this process (the runtime
    /// and the model server) and of the sandbox (its agent and the commands).
    static func steps(root: String, host: SandboxHost, logger: Logger) async throws {
        let model = try await ScriptedModelServer.start()
        defer { Task { await model.shutdown() } }
        let s = try await setup(root: root, name: "steps", host: host, logger: logger, model: model)
        StepTrace.set(enabled: true)
        _ = try await loopGaps(s, steps: 3, hosted: true)
        let seconds = Double(ProcessInfo.processInfo.environment["CMA_BENCH_STEPS_SECONDS"] ?? "") ?? 20
        let clock = ContinuousClock()
        let end = clock.now + .milliseconds(Int64(seconds * 1000))
        var timings: [StepTiming] = []
        var serverCPU = 0.0
        var sandboxCPU = 0.0
        var measuredSteps = 0
        while clock.now < end {
            // The sandbox's processes exist only while its session runs: sample them mid-session
            // from a task that watches for them.
            let server0 = cpuMilliseconds()
            let sampler = Task { () -> Double in
                var first: [Int32: Double] = [:]
                var last: [Int32: Double] = [:]
                // The processes are looked for until found (a scan of /proc costs), then only
                // they are read.
                var pids: [Int32] = []
                while !Task.isCancelled {
                    if pids.isEmpty { pids = descendants(of: getpid()) }
                    for pid in pids {
                        let cpu = cpuMilliseconds(pid: pid)
                        if first[pid] == nil { first[pid] = cpu }
                        last[pid] = cpu
                    }
                    try? await Task.sleep(for: .milliseconds(100))
                }
                return last.reduce(0) { $0 + $1.value - first[$1.key]! }
            }
            let session = try await loopSteps(s, steps: 100, hosted: true)
            sampler.cancel()
            serverCPU += cpuMilliseconds() - server0
            sandboxCPU += await sampler.value
            measuredSteps += session.count
            timings += session
        }
        await s.stop()
        StepTrace.set(enabled: false)
        print("loop gap, 100-step sessions, one `true` per step: \(stats(timings.map(\.gap)))")
        print("  harness overhead (loop gap − that step's command): \(stats(timings.compactMap { t in t.command.map { t.gap - $0 } }))")
        print(String(
            format: "  CPU per step: %.3f ms in this process (runtime, model server, sampling), %.3f ms in the sandbox (sampled: a lower bound)",
            serverCPU / Double(measuredSteps), sandboxCPU / Double(measuredSteps)))
    }

    // MARK: JSON

    /// Parse and write throughput of the JSON codec on a real model request (a 30-step
    /// session's last request: instructions, tools, history of calls and outputs).
    static func json(root: String, logger: Logger) async throws {
        let model = try await ScriptedModelServer.start()
        defer { Task { await model.shutdown() } }
        let s = try await setup(root: root, name: "json", host: nil, logger: logger, model: model)
        _ = try await loopGaps(s, steps: 30, hosted: false)
        let raw = model.requests().last!.rawBody
        await s.stop()
        let value = try JSONParser.parse(raw)
        let clock = ContinuousClock()
        for (name, body) in [("parse", { _ = try! JSONParser.parse(raw) }), ("write", { _ = JSONWriter.bytes(value) })] as [(String, () -> Void)] {
            for _ in 0..<50 { body() }
            var times: [Double] = []
            for _ in 0..<500 {
                let start = clock.now
                body()
                times.append(milliseconds(clock.now - start))
            }
            let p50 = percentile(times, 0.5)
            print(String(format: "json %@ of a %d-byte model request: p50 %.3f ms (%.0f MB/s)", name, raw.count, p50, Double(raw.count) / p50 / 1000))
        }
    }

    // MARK: Persistence

    static func persistence(root: String, logger: Logger, table: BenchTable) async throws {
        let model = try await ScriptedModelServer.start()
        defer { Task { await model.shutdown() } }
        let s = try await setup(root: root, name: "persist-runtime", host: nil, logger: logger, model: model)
        // 20 sessions, 100,000 events queued as fast as possible (one event per write, as the
        // runtime's streaming deltas are), then awaited: the log commits them in groups.
        model.setFallback(.echo)
        let sessions = try await idleSessions(s, count: 20)
        await s.stop()
        let reopened = try SQLiteStore(path: s.directory + "/cma.sqlite")
        let log = EventLog(store: reopened, logger: logger)
        let writer = Task { await log.run() }
        let total = 100_000
        let start = ContinuousClock.now
        var tickets: [CommitTicket] = []
        tickets.reserveCapacity(total)
        for i in 0..<total {
            let sessionID = sessions[i % sessions.count]
            let location = PartLocation(sessionID: sessionID, turnID: "turn_bench", itemID: "item_bench", outputIndex: 0, index: 0)
            let event = SessionEvent(.outputTextDelta(location, delta: "token \(i) "))
            tickets.append(log.enqueue(SessionWrite(projectID: s.projectID, sessionID: sessionID, events: [event])))
        }
        for t in tickets { _ = try await t.value() }
        let seconds = milliseconds(ContinuousClock.now - start) / 1000
        let rate = Double(total) / seconds
        print(String(format: "events persisted: %d in %.2f s = %.0f events/s", total, seconds, rate))
        table.add("events persisted per second (one event per write, 20 sessions)", String(format: "%.0f /s", rate), target: "≥ 10,000 /s", met: rate >= 10_000)
        log.stop()
        await writer.value
        try? reopened.close()
    }
}
