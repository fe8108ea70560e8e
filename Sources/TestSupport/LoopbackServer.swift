import Hummingbird
import Logging
import ServiceLifecycle

/// A Hummingbird server on a free port of 127.0.0.1, for the test servers of this module:
/// started by `start(router:name:)`, stopped by `shutdown()` (a graceful shutdown, never by
/// cancelling the serving task: that can trap in NIO, apple/swift-nio#3481).
struct LoopbackServer: Sendable {
    let port: Int
    private let group: ServiceGroup
    private let runTask: Task<Void, any Error>

    static func start(router: Router<BasicRequestContext>, name: String) async throws -> LoopbackServer {
        var logger = Logger(label: name)
        logger.logLevel = .critical
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: nil),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            }, logger: logger)
        var configuration = ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
        configuration.maximumGracefulShutdownDuration = .seconds(1)
        let group = ServiceGroup(configuration: configuration)
        let runTask = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw ScriptedServerError("the \(name) did not start") }
        return LoopbackServer(port: port, group: group, runTask: runTask)
    }

    func shutdown() async {
        await group.triggerGracefulShutdown()
        _ = await runTask.result
    }
}
