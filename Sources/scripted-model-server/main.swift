import ArgumentParser
import Dispatch
import TestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs the scripted Responses API server as its own process, for test suites in other
/// languages. Drive it through its control API (see Sources/TestSupport/README.md).
struct ScriptedModelServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scripted-model-server",
        abstract: "A scripted OpenAI Responses API server for tests.",
        discussion: """
            Prints one line, `listening on http://<host>:<port>/v1`, once bound, then serves until \
            SIGINT or SIGTERM. Queue responses with POST /__scripted/steps.
            """)

    @Option(help: "Address to bind.")
    var host = "127.0.0.1"

    @Option(help: "Port to bind (0 picks a free one).")
    var port = 0

    @Option(help: "What to answer when no step matches: echo or error.")
    var fallback: ScriptedModelServer.Fallback = .error

    func run() async throws {
        let server = try await ScriptedModelServer.start(host: host, port: port, fallback: fallback)
        writeLine("listening on \(server.baseURL)")
        await waitForTerminationSignal()
        await server.shutdown()
    }
}

extension ScriptedModelServer.Fallback: ExpressibleByArgument {}

/// Writes straight to the file descriptor, so the line is visible at once even through a pipe.
private func writeLine(_ line: String) {
    var bytes = Array((line + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeMutableBytes { buffer in
            write(STDOUT_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
        }
        if written <= 0 {
            if written < 0 && errno == EINTR { continue }
            return
        }
        offset += written
    }
    bytes.removeAll()
}

/// Returns when SIGINT or SIGTERM arrives.
private func waitForTerminationSignal() async {
    signal(SIGINT, SIG_IGN)
    signal(SIGTERM, SIG_IGN)
    let (signals, continuation) = AsyncStream<Int32>.makeStream()
    let sources = [SIGINT, SIGTERM].map { number in
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler { continuation.yield(number) }
        source.resume()
        return source
    }
    for await _ in signals { break }
    for source in sources { source.cancel() }
}

// `main.swift` cannot use `@main`, and the synchronous `main()` would be chosen here.
do {
    let command = try ScriptedModelServerCommand.parse()
    try await command.run()
} catch {
    ScriptedModelServerCommand.exit(withError: error)
}
