public import CMAJSON

/// A tiny MCP server's behaviour, shared by the stdio executable (`mcp-test-server`, run inside
/// sandboxes) and the streamable-HTTP test server in `TestSupport`. Not for production.
///
/// Tools:
/// - `echo {text}` → `echo: <text>`
/// - `add {a, b}` → the sum
/// - `delete_file {path}` (annotated `destructiveHint: true`) → `deleted <path>`
/// - `fail {}` → a result with `isError: true`
/// - `slow {ms}` → waits, then `slept <ms>` (through `sleep`, which the host supplies)
/// - `env {name}` → the value of an environment variable (through `environment`)
/// - `add_tool {}` → adds the tool `extra`, then notifies `tools/list_changed`
/// - `extra {}` (only after `add_tool`) → `extra ran`
/// - `big {bytes}` → a text of that many `x`
/// - `barrier {n}` → (HTTP server only) `together` once `n` calls wait at once, else `alone`
public final class MCPTestLogic: @unchecked Sendable {
    public var initialized = false
    public var extraTool = false
    public var calls: [String] = []
    let environment: (String) -> String?
    let sleep: (Int) -> Void

    public init(environment: @escaping (String) -> String? = { _ in nil }, sleep: @escaping (Int) -> Void = { _ in }) {
        self.environment = environment
        self.sleep = sleep
    }

    static func tool(_ name: String, _ description: String, properties: JSONObject, required: [String] = [], destructive: Bool = false) -> JSONValue {
        var t: JSONObject = [
            "name": .string(name), "description": .string(description),
            "inputSchema": ["type": "object", "properties": .object(properties), "required": .array(required.map { .string($0) })],
        ]
        if destructive { t["annotations"] = ["destructiveHint": true, "readOnlyHint": false] }
        return .object(t)
    }

    var tools: [JSONValue] {
        var list: [JSONValue] = [
            Self.tool("echo", "Echoes the text back.", properties: ["text": ["type": "string"]], required: ["text"]),
            Self.tool("add", "Adds two numbers.", properties: ["a": ["type": "number"], "b": ["type": "number"]], required: ["a", "b"]),
            Self.tool("delete_file", "Deletes a file.", properties: ["path": ["type": "string"]], required: ["path"], destructive: true),
            Self.tool("fail", "Always fails.", properties: [:]),
            Self.tool("slow", "Waits, then answers.", properties: ["ms": ["type": "integer"]]),
            Self.tool("env", "Reads an environment variable.", properties: ["name": ["type": "string"]]),
            Self.tool("add_tool", "Adds the tool 'extra'.", properties: [:]),
            Self.tool("big", "Returns a long text.", properties: ["bytes": ["type": "integer"]]),
            Self.tool("barrier", "Waits for other calls (HTTP test server only).", properties: ["n": ["type": "integer"]]),
        ]
        if extraTool { list.append(Self.tool("extra", "Added later.", properties: [:])) }
        return list
    }

    /// The messages to send back for one received message (notifications first, then the
    /// response), in order. Nothing for notifications and responses.
    public func handle(_ message: JSONValue) -> [JSONValue] {
        guard let method = message["method"]?.stringValue else { return [] }
        guard let id = message["id"], !id.isNull else { return [] }
        func result(_ r: JSONValue) -> JSONValue { ["jsonrpc": "2.0", "id": id, "result": r] }
        func error(_ code: Int64, _ text: String) -> JSONValue { ["jsonrpc": "2.0", "id": id, "error": ["code": .int(code), "message": .string(text)]] }
        switch method {
        case "initialize":
            initialized = true
            return [
                result([
                    "protocolVersion": message["params"]?["protocolVersion"] ?? "2025-06-18", "capabilities": ["tools": ["listChanged": true]],
                    "serverInfo": ["name": "cma-test-mcp", "version": "1.0"],
                ])
            ]
        case "ping":
            return [result([:])]
        case "tools/list":
            guard initialized else { return [error(-32002, "not initialized")] }
            // Two pages, to exercise paging.
            let all = tools
            if message["params"]?["cursor"]?.stringValue == "page2" {
                return [result(["tools": .array(Array(all.dropFirst(4)))])]
            }
            return [result(["tools": .array(Array(all.prefix(4))), "nextCursor": "page2"])]
        case "tools/call":
            guard initialized else { return [error(-32002, "not initialized")] }
            let name = message["params"]?["name"]?.stringValue ?? ""
            let args = message["params"]?["arguments"]?.objectValue ?? [:]
            calls.append(name)
            func text(_ s: String, isError: Bool = false) -> JSONValue {
                result(["content": [["type": "text", "text": .string(s)]], "isError": .bool(isError)])
            }
            switch name {
            case "echo": return [text("echo: \(args["text"]?.stringValue ?? "")")]
            case "add":
                func number(_ v: JSONValue?) -> Double {
                    switch v {
                    case .int(let i)?: return Double(i)
                    case .double(let d)?: return d
                    default: return 0
                    }
                }
                let sum = number(args["a"]) + number(args["b"])
                return [text(sum == sum.rounded() ? String(Int64(sum)) : String(sum))]
            case "delete_file": return [text("deleted \(args["path"]?.stringValue ?? "")")]
            case "fail": return [text("it failed", isError: true)]
            case "slow":
                let ms = Int(args["ms"]?.intValue ?? 100)
                sleep(ms)
                return [text("slept \(ms)")]
            case "env": return [text(environment(args["name"]?.stringValue ?? "") ?? "<unset>")]
            case "add_tool":
                extraTool = true
                return [["jsonrpc": "2.0", "method": "notifications/tools/list_changed"], text("added")]
            case "extra" where extraTool: return [text("extra ran")]
            case "big": return [text(String(repeating: "x", count: Int(args["bytes"]?.intValue ?? 0)))]
            default: return [error(-32602, "Unknown tool: \(name)")]
            }
        default:
            return [error(-32601, "Method not found")]
        }
    }
}
