// SSE fan-out, memory and scale benchmarks (issue 7).
import AgentsAPI
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import ModelProviders
import NIOCore
import NIOPosix
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

/// When each subscriber first saw a round's marker.
final class Receipts: Sendable {
    let seen = Mutex<[String: [ContinuousClock.Instant]]>([:])
    let opened = Mutex(0)
    func note(_ marker: String) { seen.withLock { $0[marker, default: []].append(.now) } }
    func count(_ marker: String) -> Int { seen.withLock { $0[marker]?.count ?? 0 } }
    func times(_ marker: String) -> [ContinuousClock.Instant] { seen.withLock { $0[marker] ?? [] } }
}

enum FanoutBenchmark {
    /// Event append → delivery over real HTTP (SSE), at 1, 100 and 1,000 subscribers of one session.
    static func run(root: String, logger: Logger, table: BenchTable) async throws {
        let model = try await ScriptedModelServer.start()
        defer { Task { await model.shutdown() } }
        let s = try await HarnessBenchmark.setup(root: root, name: "fanout", host: nil, logger: logger, model: model)
        let (key, projectID) = try await APIKeys.create(in: s.store, projectID: s.projectID)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = buildApplication(
            runtime: s.runtime, configuration: ServerConfiguration(host: "127.0.0.1", port: 0, rateLimit: nil), logger: logger,
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            })
        var groupConfiguration = ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(1)
        let group = ServiceGroup(configuration: groupConfiguration)
        let serving = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { fatalError("the server did not start") }

        model.setFallback(.echo)
        let sessionID = try await HarnessBenchmark.idleSessions(s, count: 1)[0]
        model.setFallback(.error)
        let path = "/v1/agents/sessions/\(sessionID)/events"
        let receipts = Receipts()
        var subscribers: [any Channel] = []
        for (count, rounds) in [(1, 30), (100, 15), (1000, 8)] {
            // Open subscribers up to `count`: raw connections whose handler only looks for the
            // round's marker and the idle event after it, on the event loop (the subscribers
            // share the server's two cores, so they should cost as little as possible).
            while subscribers.count < count {
                let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(SSEProbe(path: path, key: key, receipts: receipts))
                        }
                    }
                    .connect(host: "127.0.0.1", port: port).get()
                subscribers.append(channel)
            }
            while receipts.opened.withLock({ $0 }) < count { try await Task.sleep(for: .milliseconds(20)) }
            try await Task.sleep(for: .milliseconds(200))
            var latencies: [Double] = []
            for round in 0..<(rounds + 2) {
                let marker = "MARK-" + String(format: "%08d", count * 1000 + round)
                model.enqueue(.message("ok"))
                let start = ContinuousClock.now
                try await s.runtime.submit(
                    projectID: projectID, sessionID: sessionID, inputs: [.message([InputMessage(text: "round \(marker) end")])], idempotencyKey: nil,
                    requestHash: marker)
                let deadline = ContinuousClock.now + .seconds(60)
                while receipts.count(marker) < count, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(1)) }
                // The first two rounds warm up.
                if round >= 2 { latencies += receipts.times(marker).map { milliseconds($0 - start) } }
                // The next round starts once every subscriber has the turn's last event (the
                // session idle again), so no round's delivery queues behind the previous one's.
                while receipts.count("IDLE-" + marker) < count, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(1)) }
            }
            print("event append → SSE delivery, \(count) subscriber(s): \(stats(latencies))")
            let p99 = percentile(latencies, 0.99)
            table.add(
                "event append → delivery, \(count) SSE subscriber\(count == 1 ? "" : "s") (p50 / p99)",
                ms(percentile(latencies, 0.5)) + " / " + ms(p99), target: count == 1000 ? "p99 < 50 ms" : "", met: count == 1000 ? p99 < 50 : nil)
        }
        for channel in subscribers { try? await channel.close() }
        await group.triggerGracefulShutdown()
        _ = await serving.result
        await s.stop()
    }

    // MARK: Memory

    static func memory(root: String, host: SandboxHost?, cmaBinary: String, logger: Logger, table: BenchTable) async throws {
        // A real `cma serve` at rest.
        if FileManager.default.isExecutableFile(atPath: cmaBinary) {
            let data = root + "/rest"
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: cmaBinary)
            process.arguments = ["serve", "--port", "0", "--data-dir", data]
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            _ = out.fileHandleForReading.availableData  // the "listening" line
            try await Task.sleep(for: .seconds(1))
            let rss = residentBytes(pid: process.processIdentifier)
            process.terminate()
            process.waitUntilExit()
            let mb = Double(rss) / 1_048_576
            print(String(format: "cma serve at rest: %.1f MB RSS", mb))
            table.add("server memory at rest (RSS of `cma serve`)", String(format: "%.1f MB", mb), target: "< 60 MB", met: mb < 60)
        }

        // Idle sessions: 10,000 stored, 1,000 of them loaded.
        // Each session has one finished turn (the scripted model echoes).
        let model = try await ScriptedModelServer.start(fallback: .echo)
        defer { Task { await model.shutdown() } }
        var s = try await HarnessBenchmark.setup(root: root, name: "idle", host: nil, logger: logger, model: model)
        let ids = try await HarnessBenchmark.idleSessions(s, count: 10_000)
        await s.stop()
        let store = try SQLiteStore(path: s.directory + "/cma.sqlite")
        let client = OpenAIResponsesClient.dedicated(configuration: model.clientConfiguration(), logger: logger)
        let runtime = AgentRuntime(store: store, model: client, logger: logger, heartbeatInterval: .seconds(3600))
        let runTask = Task { try await runtime.run() }
        s = HarnessBenchmark.Setup(model: model, store: store, projectID: s.projectID, runtime: runtime, runTask: runTask, directory: s.directory, client: client)
        try await Task.sleep(for: .milliseconds(500))
        trimHeap()
        let before = (heap: heapInUse(), rss: residentBytes())
        let touch = try SessionUpdateRequest(json: ["metadata": ["k": "v"]])
        for id in ids.prefix(1000) { _ = try await runtime.updateSession(projectID: s.projectID, sessionID: id, request: touch) }
        try await Task.sleep(for: .milliseconds(500))
        trimHeap()
        // The allocator's bytes in use (what the loaded sessions hold); RSS moves in pages and
        // with the allocator's caching, too coarsely for 1,000 small objects.
        let perSession = Double(heapInUse() - before.heap) / 1000
        let rssPerSession = Double(residentBytes() - before.rss) / 1000
        print(String(format: "idle session (10,000 stored, 1,000 loaded): %.1f KB of heap each (RSS moved %.1f KB each)", perSession / 1024, rssPerSession / 1024))
        table.add(
            "memory per idle loaded session (10,000 stored, 1,000 loaded), heap in use", String(format: "%.1f KB", perSession / 1024), target: "< 100 KB",
            met: perSession < 100 * 1024)
        await s.stop()

        // Active hosted sessions: server RSS plus the sandbox's processes.
        guard let host else { return }
        let h = try await HarnessBenchmark.setup(root: root, name: "active", host: host, logger: logger, model: model)
        let warm = try await h.runtime.createSession(projectID: h.projectID, request: try SessionCreateRequest(json: ["agent": ["model": "gpt-test"], "environment": ["type": "openai_hosted"]]))
        try await waitConnected(h, warm.id)
        trimHeap()
        let serverBefore = heapInUse()
        let sandboxBefore = descendants(of: getpid()).map { residentBytes(pid: $0) }.reduce(0, +)
        let n = 10
        for _ in 0..<n {
            let session = try await h.runtime.createSession(projectID: h.projectID, request: try SessionCreateRequest(json: ["agent": ["model": "gpt-test"], "environment": ["type": "openai_hosted"]]))
            try await waitConnected(h, session.id)
        }
        try await Task.sleep(for: .milliseconds(500))
        trimHeap()
        // The server's part is its heap in use (its RSS moves in coarser steps).
        let server = Double(heapInUse() - serverBefore) / Double(n)
        let sandboxes = Double(descendants(of: getpid()).map { residentBytes(pid: $0) }.reduce(0, +) - sandboxBefore) / Double(n)
        let total = (server + sandboxes) / 1_048_576
        print(String(format: "active hosted session: %.2f MB (server %.2f MB + sandbox processes %.2f MB)", total, server / 1_048_576, sandboxes / 1_048_576))
        table.add(
            "memory per active hosted session, sandbox processes included", String(format: "%.2f MB (server %.2f + sandbox %.2f)", total, server / 1_048_576, sandboxes / 1_048_576),
            target: "< 10 MB", met: total < 10)
        await h.stop()
    }

    static func waitConnected(_ s: HarnessBenchmark.Setup, _ sessionID: String) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let events = try await s.store.events(sessionID: sessionID, afterSequence: 0, limit: 1000)
            if events.contains(where: { $0.type == "agent.session.environment.connected" }) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        fatalError("the sandbox of \(sessionID) did not connect")
    }

    // MARK: Scale

    /// 200 sessions running 10 steps each at once (no sandbox: the step's tool is the runtime's).
    static func scale(root: String, logger: Logger, table: BenchTable) async throws {
        let model = try await ScriptedModelServer.start()
        defer { Task { await model.shutdown() } }
        let s = try await HarnessBenchmark.setup(root: root, name: "scale", host: nil, logger: logger, model: model)
        let sessions = Int(ProcessInfo.processInfo.environment["CMA_BENCH_SCALE_SESSIONS"] ?? "") ?? 200
        let steps = 10
        let ids = (0..<sessions).map { _ in IDGenerator.make(.session) }
        for id in ids {
            var script: [ScriptStep] = []
            for i in 0..<steps {
                script.append(
                    ScriptStep.response(outputs: [.functionCall(name: "search_session_history", arguments: #"{"query":"go"}"#, callID: "call_\(i)")])
                        .matching(.promptCacheKey(id)))
            }
            script.append(ScriptStep.message("done").matching(.promptCacheKey(id)))
            model.enqueue(script)
        }
        let request = try SessionCreateRequest(json: ["agent": ["model": "gpt-test"], "environment": ["type": "none"], "input": "go"])
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for id in ids {
                group.addTask { _ = try await s.runtime.createSession(projectID: s.projectID, sessionID: id, request: request) }
            }
            try await group.waitForAll()
        }
        // Done when every session is idle again.
        var pending = Set(ids)
        let deadline = ContinuousClock.now + .seconds(300)
        while !pending.isEmpty, ContinuousClock.now < deadline {
            for id in pending where try await s.store.session(projectID: s.projectID, id: id)?.session.status == .idle { pending.remove(id) }
            if !pending.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        }
        let seconds = milliseconds(ContinuousClock.now - start) / 1000
        let requests = model.requests()
        var gaps: [Double] = []
        for id in ids {
            let mine = requests.filter { $0.promptCacheKey == id }
            for i in 0..<(mine.count - 1) {
                if let answered = mine[i].answeredAt { gaps.append(milliseconds(mine[i + 1].receivedAt - answered)) }
            }
        }
        let failed = requests.count - sessions * (steps + 1)
        if failed != 0 { print("scale: \(requests.count) model requests for \(sessions * (steps + 1)) expected") }
        let throughput = Double(sessions * (steps + 1)) / seconds
        print(String(format: "scale: %d sessions × %d steps in %.2f s = %.0f model calls/s; loop gap %@", sessions, steps + 1, seconds, throughput, stats(gaps)))
        table.add("200 concurrent sessions × 11 model calls: throughput", String(format: "%.0f calls/s", throughput), target: "(reference)")
        table.add("200 concurrent sessions: loop gap p50 / p99", ms(percentile(gaps, 0.5)) + " / " + ms(percentile(gaps, 0.99)), target: "(reference)")
        await s.stop()
    }
}

/// One SSE subscriber on a raw connection: sends the request, then notes when it first sees
/// each round's marker (`MARK-` and 8 digits, in the user message's `item.added`) and the
/// `agent.session.idle` that follows it.
final class SSEProbe: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let request: String
    let receipts: Receipts
    /// The end of the previous read: a pattern may straddle two reads.
    private var carry: [UInt8] = []
    private var opened = false
    private var lastMarker: String?
    private static let mark = Array("MARK-".utf8)
    private static let idle = Array("event: agent.session.idle".utf8)

    init(path: String, key: String, receipts: Receipts) {
        request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(key)\r\nOpenAI-Beta: agents=v1\r\nAccept: text/event-stream\r\n\r\n"
        self.receipts = receipts
    }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: request)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        if !opened, buffer.readableBytes >= 12, buffer.getInteger(at: buffer.readerIndex + 9, as: UInt8.self) == UInt8(ascii: "2") {
            opened = true
            receipts.opened.withLock { $0 += 1 }
        }
        // A pattern may straddle two reads: the end of the previous one and the start of this
        // one are searched together first (only for matches that begin in the carried part).
        if !carry.isEmpty {
            let joined = carry + buffer.readableBytesView.prefix(32)
            joined.withUnsafeBytes { scan($0, startsBefore: carry.count) }
        }
        buffer.withUnsafeReadableBytes { scan($0, startsBefore: Int.max) }
        carry = Array(buffer.readableBytesView.suffix(31))
    }

    /// Notes the markers and idle events in `bytes`, in order, that begin before `startsBefore`.
    private func scan(_ bytes: UnsafeRawBufferPointer, startsBefore limit: Int) {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let rest = bytes.count - offset
            let mark = c_memmem(base + offset, rest, Self.mark, Self.mark.count).map { $0 - UnsafeMutableRawPointer(mutating: base) }
            let idle = c_memmem(base + offset, rest, Self.idle, Self.idle.count).map { $0 - UnsafeMutableRawPointer(mutating: base) }
            guard let at = [mark, idle].compactMap({ $0 }).min(), at < limit else { return }
            if at == mark {
                guard at + 13 <= bytes.count else { return }
                let marker = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[at..<(at + 13)]), as: UTF8.self)
                receipts.note(marker)
                lastMarker = marker
                offset = at + 13
            } else {
                if let marker = lastMarker { receipts.note("IDLE-" + marker) }
                lastMarker = nil
                offset = at + Self.idle.count
            }
        }
    }
}

@_silgen_name("memmem") private func c_memmem(_ haystack: UnsafeRawPointer?, _ haystackLength: Int, _ needle: UnsafeRawPointer?, _ needleLength: Int) -> UnsafeMutableRawPointer?

@_silgen_name("malloc_trim") private func c_malloc_trim(_ pad: Int) -> Int32

@_silgen_name("malloc_info") private func c_malloc_info(_ options: Int32, _ stream: UnsafeMutablePointer<FILE>) -> Int32

/// Bytes the allocator has handed out and not had back: from glibc's `malloc_info` totals over
/// all arenas, the memory it holds minus its free chunks, plus mmapped blocks.
func heapInUse() -> Int {
    var buffer: UnsafeMutablePointer<CChar>?
    var size = 0
    guard let stream = open_memstream(&buffer, &size) else { return 0 }
    _ = c_malloc_info(0, stream)
    fclose(stream)
    guard let buffer else { return 0 }
    defer { free(buffer) }
    let xml = String(cString: buffer)
    // The totals over all arenas follow the last arena's `</heap>`.
    let totals = xml.range(of: "</heap>", options: .backwards).map { xml[$0.upperBound...] } ?? xml[...]
    func value(_ tag: String) -> Int {
        guard let r = totals.range(of: tag), let sizeRange = totals[r.upperBound...].range(of: "size=\"") else { return 0 }
        return Int(totals[sizeRange.upperBound...].prefix { $0.isNumber }) ?? 0
    }
    return value("<system type=\"current\"") - value("<total type=\"fast\"") - value("<total type=\"rest\"") + value("<total type=\"mmap\"")
}

/// Returns freed heap memory to the system, so that RSS differences measure what is live.
func trimHeap() { _ = c_malloc_trim(0) }
