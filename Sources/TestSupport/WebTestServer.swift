import CMAJSON
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// A search backend (SearXNG's JSON API) and a few web pages on loopback, for the web tool's
/// tests.
///
/// - `GET /search?q=…&format=json`: results pointing at this server's pages (and one at
///   `https://outside.example/…`), the query echoed in the first title.
/// - `GET /pages/article`: an HTML article (title "Swift on Servers", a heading, a list, a
///   script that must not show, the word "kangaroo" on one line).
/// - `GET /pages/long`: 2,000 numbered lines of text.
/// - `GET /pages/redirect` → `/pages/article`; `GET /pages/redirect-away` → `http://blocked.example/x`.
/// - `GET /pages/image`: a PNG.
public final class WebTestServer: Sendable {
    private let server: LoopbackServer
    public var port: Int { server.port }
    private let recorder: HitRecorder

    /// `http://127.0.0.1:<port>`.
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Paths requested so far.
    public var requestedPaths: [String] { recorder.paths.withLock { $0 } }

    private init(server: LoopbackServer, recorder: HitRecorder) {
        self.server = server
        self.recorder = recorder
    }

    public static let article = """
        <!doctype html><html><head><title>Swift on Servers</title><style>body{color:red}</style>
        <script>document.write("<div>SCRIPT-TEXT</div>")</script></head>
        <body><nav><a href="/">Home</a></nav><h1>Swift on Servers</h1>
        <p>Swift runs &amp; scales on Linux.</p><ul><li>Fast</li><li>Safe</li></ul>
        <p>A kangaroo appears on this line.</p><a href="/pages/long">More</a></body></html>
        """

    public static func start() async throws -> WebTestServer {
        let recorder = HitRecorder()
        let router = Router()
        router.get("search") { request, _ -> Response in
            recorder.record(request.uri.path)
            let query = request.uri.queryParameters["q"].map(String.init) ?? ""
            let port = request.head.authority?.split(separator: ":").last.map(String.init) ?? "0"
            let base = "http://127.0.0.1:\(port)"
            let results: JSONValue = [
                "query": .string(query),
                "results": [
                    ["url": .string(base + "/pages/article"), "title": .string("Result for \(query)"), "content": "An <b>article</b> about Swift.", "engine": "test"],
                    ["url": "https://outside.example/page", "title": "Outside", "content": "Another site.", "engine": "test"],
                    ["url": .string(base + "/pages/long"), "title": "Long page", "content": "Many lines.", "engine": "test"],
                ],
                "answers": [], "infoboxes": [],
            ]
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: JSONWriter.bytes(results))))
        }
        router.get("pages/:name") { request, context -> Response in
            recorder.record(request.uri.path)
            var headers = HTTPFields()
            switch context.parameters.get("name") ?? "" {
            case "article":
                headers[.contentType] = "text/html; charset=utf-8"
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: article)))
            case "long":
                headers[.contentType] = "text/plain"
                let text = (0..<2000).map { "Line number \($0) of the long page." }.joined(separator: "\n")
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
            case "redirect":
                headers[.location] = "/pages/article"
                return Response(status: .found, headers: headers)
            case "redirect-away":
                headers[.location] = "http://blocked.example/x"
                return Response(status: .found, headers: headers)
            case "image":
                headers[.contentType] = "image/png"
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: [0x89, 0x50, 0x4E, 0x47])))
            default:
                return Response(status: .notFound)
            }
        }
        return WebTestServer(server: try await LoopbackServer.start(router: router, name: "web test server"), recorder: recorder)
    }

    public func shutdown() async { await server.shutdown() }
}

private final class HitRecorder: Sendable {
    let paths = Mutex<[String]>([])
    func record(_ path: String) { paths.withLock { $0.append(path) } }
}
