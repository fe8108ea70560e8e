// `http` (only when named): what AsyncHTTPClient costs a model request on loopback, against the
// least an HTTP/1.1 exchange can cost here. The same POST (a ~30 KB body, like a long session's
// request) goes to the scripted model server 1,500 times (the first 100 not counted) through
// three paths:
// - AsyncHTTPClient's async API (what `OpenAIResponsesClient` uses);
// - AsyncHTTPClient's delegate API (body parts handed over on the event loop, no backpressure
//   round trip);
// - a bare NIO channel with NIO's HTTP/1.1 codec (the floor).
// "send": from the call to the server having the whole request (its arrival stamp); "receive":
// from the server having written its whole answer to the body consumed by the caller.
import AsyncHTTPClient
import ModelProviders
import NIOCore
import NIOHTTP1
import NIOPosix
import TestSupport

enum HTTPPathsBenchmark {
    static let requests = 1500
    static let warmUp = 100

    static func run() async throws {
        let server = try await ScriptedModelServer.start(fallback: .echo)
        let body = ByteBuffer(
            string: #"{"model":"x","stream":true,"input":[{"role":"user","content":[{"type":"input_text","text":""#
                + String(repeating: "a", count: 30_000) + #""}]}]}"#)
        let url = server.baseURL + "/responses"
        let client = HTTPClient(
            eventLoopGroup: HTTPClient.defaultEventLoopGroup,
            configuration: OpenAIResponsesClient.httpClientConfiguration(for: ModelProviderConfiguration(baseURL: server.baseURL)))

        try await measure("AsyncHTTPClient, async API", server) {
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(body)
            let response = try await client.execute(request, deadline: .now() + .seconds(10))
            for try await _ in response.body {}
        }
        try await measure("AsyncHTTPClient, delegate API", server) {
            var request = try HTTPClient.Request(url: url, method: .POST)
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .byteBuffer(body)
            try await client.execute(request: request, delegate: DrainingDelegate(), deadline: .now() + .seconds(10)).futureResult.get()
        }
        try await client.shutdown()

        let collector = ResponseEndHandler()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(collector)
                }
            }
            .connect(host: server.host, port: server.port).get()
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "\(server.host):\(server.port)")
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: "\(body.readableBytes)")
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/v1/responses", headers: headers)
        try await measure("a bare NIO channel (HTTP/1.1 codec)", server) {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                channel.eventLoop.execute {
                    collector.continuation = continuation
                    channel.write(HTTPClientRequestPart.head(head), promise: nil)
                    channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil)
                    channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
                }
            }
        }
        try await channel.close()
        await server.shutdown()
    }

    private static func measure(_ name: String, _ server: ScriptedModelServer, _ exchange: () async throws -> Void) async throws {
        var sends: [Double] = []
        var receives: [Double] = []
        for i in 0..<requests {
            server.reset()
            let start = ContinuousClock.now
            try await exchange()
            let end = ContinuousClock.now
            guard i >= warmUp, let request = server.requests().first, let answered = request.answeredAt else { continue }
            sends.append(milliseconds(request.receivedAt - start))
            receives.append(milliseconds(end - answered))
        }
        report("\(name): send", sends)
        report("\(name): receive", receives)
    }
}

/// Reads a response to its end, accepting every body part at once.
private final class DrainingDelegate: HTTPClientResponseDelegate {
    typealias Response = Void

    func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        task.eventLoop.makeSucceededVoidFuture()
    }

    func didFinishRequest(task: HTTPClient.Task<Void>) throws {}
}

/// Resumes the waiting exchange when a response ends. Used on its channel's event loop only.
private final class ResponseEndHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    var continuation: CheckedContinuation<Void, Never>?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .end = unwrapInboundIn(data) else { return }
        let continuation = self.continuation
        self.continuation = nil
        continuation?.resume()
    }
}
