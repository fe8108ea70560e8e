// A tiny MCP server over stdio, for tests only: newline-delimited JSON-RPC on stdin/stdout,
// with the tools of `MCPTestLogic`. Linked with the Swift runtime statically so that it runs
// inside sandboxes, which see only the host's /usr.
import CMAJSON
import MCPTestLogic

#if canImport(Glibc)
import Glibc
#endif

let logic = MCPTestLogic(
    environment: { name in getenv(name).map { String(cString: $0) } },
    sleep: { ms in usleep(useconds_t(max(0, ms)) * 1000) })

// `--stderr TEXT` writes TEXT to stderr at start (tests check it stays out of the protocol).
if let i = CommandLine.arguments.firstIndex(of: "--stderr"), i + 1 < CommandLine.arguments.count {
    let bytes = Array((CommandLine.arguments[i + 1] + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
// `--exit-at-start`: a server that dies at once.
if CommandLine.arguments.contains("--exit-at-start") { exit(3) }

func writeLine(_ value: JSONValue) {
    var bytes = JSONWriter.bytes(value)
    bytes.append(UInt8(ascii: "\n"))
    var offset = 0
    while offset < bytes.count {
        let n = bytes[offset...].withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
        if n <= 0 {
            if errno == EINTR { continue }
            exit(0)
        }
        offset += n
    }
}

var buffer: [UInt8] = []
var chunk = [UInt8](repeating: 0, count: 65536)
while true {
    let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
    if n < 0 && errno == EINTR { continue }
    if n <= 0 { break }
    buffer.append(contentsOf: chunk[0..<n])
    while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
        let line = Array(buffer[..<newline])
        buffer.removeSubrange(...newline)
        guard let message = try? JSONParser.parse(line) else { continue }
        for reply in logic.handle(message) { writeLine(reply) }
    }
}
