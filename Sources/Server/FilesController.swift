import AgentsAPI
import Hummingbird
import NIOCore
import Runtime
import Storage

/// `/v1/files`: the minimal Files API the SDK's environment file helpers use (upload as
/// `multipart/form-data` with `file` and `purpose`, retrieve, list, delete, content).
struct FilesController {
    let runtime: AgentRuntime
    var store: any Store { runtime.store }

    static let purposes: Set<String> = ["user_data", "assistants", "batch", "fine-tune", "vision", "evals"]

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.post("files", use: upload)
        group.get("files", use: list)
        group.get("files/:file_id", use: get)
        group.delete("files/:file_id", use: delete)
        group.get("files/:file_id/content", use: content)
    }

    @Sendable func upload(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let contentType = request.headers[.contentType], let boundary = MultipartForm.boundary(contentType) else {
            throw APIError(status: .badRequest, message: "Upload files as multipart/form-data with the fields 'file' and 'purpose'.", param: "file", code: "invalid_value")
        }
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: AgentRuntime.maxUploadBytes + 64 * 1024)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError(status: .contentTooLarge, message: "The upload is too large (limit \(AgentRuntime.maxUploadBytes) bytes per file).", param: "file", code: "request_too_large")
        }
        let parts: [MultipartForm.Part]
        do {
            parts = try MultipartForm.parse(Array(buffer.readableBytesView), boundary: boundary)
        } catch {
            throw APIError(status: .badRequest, message: "The multipart body is malformed: \(error.message)", param: nil, code: "invalid_value")
        }
        guard let file = parts.first(where: { $0.name == "file" }), let filename = file.filename else {
            throw APIError(status: .badRequest, message: "Missing required parameter: 'file'.", param: "file", code: "missing_required_parameter")
        }
        guard file.body.count <= AgentRuntime.maxUploadBytes else {
            throw APIError(status: .contentTooLarge, message: "The file is too large (limit \(AgentRuntime.maxUploadBytes) bytes).", param: "file", code: "request_too_large")
        }
        guard let purposePart = parts.first(where: { $0.name == "purpose" }) else {
            throw APIError(status: .badRequest, message: "Missing required parameter: 'purpose'.", param: "purpose", code: "missing_required_parameter")
        }
        let purpose = String(decoding: purposePart.body, as: UTF8.self)
        guard Self.purposes.contains(purpose) else {
            throw APIError(
                status: .badRequest, message: "Invalid value for 'purpose': '\(purpose.prefix(64))'. Use 'user_data' for environment files.", param: "purpose", code: "invalid_value")
        }
        let name = String(String(filename.split(separator: "/").last ?? "").prefix(255))
        // The hash covers what the form says, not its bytes: a retried upload has a new boundary.
        var hashed = Array("\(name.utf8.count):\(name)\(purpose.utf8.count):\(purpose)".utf8)
        hashed += file.body
        return try await Idempotency(store: store).run(
            request, context: context, scope: "files.create", requestHash: Hashing.sha256Hex(hashed), makeID: { IDGenerator.make(.file) },
            existing: { id in try await store.file(projectID: context.projectID, id: id)?.jsonBytes }
        ) { id in
            .json(try await runtime.uploadFile(projectID: context.projectID, id: id, filename: name, purpose: purpose, content: file.body).jsonBytes)
        }
    }

    @Sendable func get(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.parameters.id("file_id")
        guard let file = try await store.file(projectID: context.projectID, id: id) else { throw Self.notFound(id) }
        return JSONResponse.make(file)
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        let query = try ListQuery(after: request.queryValue("after"), limit: request.queryValue("limit"), order: request.queryValue("order"))
        return JSONResponse.page(try await store.listFiles(projectID: context.projectID, query: query))
    }

    @Sendable func delete(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.parameters.id("file_id")
        guard try await store.deleteFile(projectID: context.projectID, id: id) else { throw Self.notFound(id) }
        return JSONResponse.make(DeletedObject(id: id, object: "file"))
    }

    @Sendable func content(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.parameters.id("file_id")
        guard let bytes = try await store.fileContent(projectID: context.projectID, id: id) else { throw Self.notFound(id) }
        return Response(status: .ok, headers: [.contentType: "application/octet-stream"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func notFound(_ id: String) -> APIError {
        .notFound("No file found with id '\(id.prefix(128))'.")
    }
}

/// A small `multipart/form-data` reader (RFC 7578): fields with their name, filename and body.
enum MultipartForm {
    struct Part {
        var name: String
        var filename: String?
        var body: [UInt8]
    }

    struct Malformed: Error {
        var message: String
    }

    static let maxParts = 32

    /// The boundary of a `multipart/form-data` content type.
    static func boundary(_ contentType: String) -> String? {
        let pieces = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard pieces.first?.lowercased() == "multipart/form-data" else { return nil }
        for piece in pieces.dropFirst() where piece.lowercased().hasPrefix("boundary=") {
            var value = String(piece.dropFirst("boundary=".count))
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            guard (1...200).contains(value.utf8.count) else { return nil }
            return value
        }
        return nil
    }

    static func parse(_ body: [UInt8], boundary: String) throws(Malformed) -> [Part] {
        let delimiter = Array("--\(boundary)".utf8)
        let crlf: [UInt8] = [13, 10]
        guard var position = find(delimiter, in: body, from: 0) else { throw Malformed(message: "no boundary found") }
        var parts: [Part] = []
        while true {
            position += delimiter.count
            // The closing delimiter ends the body.
            if body.count >= position + 2, body[position] == UInt8(ascii: "-"), body[position + 1] == UInt8(ascii: "-") { return parts }
            guard body.count >= position + 2, body[position] == 13, body[position + 1] == 10 else { throw Malformed(message: "bad delimiter line") }
            position += 2
            guard let headerEnd = find(crlf + crlf, in: body, from: position) else { throw Malformed(message: "part headers are not terminated") }
            let headers = String(decoding: body[position..<headerEnd], as: UTF8.self)
            let contentStart = headerEnd + 4
            guard let next = find(crlf + delimiter, in: body, from: contentStart) else { throw Malformed(message: "part is not terminated") }
            var name: String?
            var filename: String?
            for line in headers.split(separator: "\r\n") where line.lowercased().hasPrefix("content-disposition:") {
                name = parameter("name", in: line)
                filename = parameter("filename", in: line)
            }
            guard let name else { throw Malformed(message: "a part has no name") }
            parts.append(Part(name: name, filename: filename, body: Array(body[contentStart..<next])))
            guard parts.count <= maxParts else { throw Malformed(message: "too many parts") }
            position = next + 2
        }
    }

    /// A parameter of a `Content-Disposition` line: `; key=value` or `; key="quoted value"`, where a
    /// quoted value may contain `;` and backslash-escaped characters.
    static func parameter(_ key: String, in line: Substring) -> String? {
        var pieces: [(name: String, value: String)] = []
        var chars = line.drop { $0 != ";" }.makeIterator()
        var current: Character? = chars.next()
        while current == ";" {
            var name = ""
            current = chars.next()
            while let c = current, c != "=", c != ";" {
                name.append(c)
                current = chars.next()
            }
            var value = ""
            if current == "=" {
                current = chars.next()
                while let c = current, c == " " || c == "\t" { current = chars.next() }
                if current == "\"" {
                    current = chars.next()
                    while let c = current, c != "\"" {
                        if c == "\\" { current = chars.next() }
                        if let escaped = current { value.append(escaped) }
                        current = chars.next()
                    }
                    current = chars.next()  // past the closing quote
                    while let c = current, c != ";" { current = chars.next() }
                } else {
                    while let c = current, c != ";" {
                        value.append(c)
                        current = chars.next()
                    }
                    value = value.trimmingCharacters(in: .whitespaces)
                }
            }
            pieces.append((name.trimmingCharacters(in: .whitespaces).lowercased(), value))
        }
        return pieces.first { $0.name == key }?.value
    }

    /// The first occurrence of `needle` in `haystack` at or after `start` (Knuth–Morris–Pratt:
    /// linear in the input, whatever the boundary looks like).
    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, haystack.count - start >= needle.count else { return nil }
        var failure = [Int](repeating: 0, count: needle.count)
        var k = 0
        for i in 1..<max(needle.count, 1) {
            while k > 0 && needle[i] != needle[k] { k = failure[k - 1] }
            if needle[i] == needle[k] { k += 1 }
            failure[i] = k
        }
        var matched = 0
        for i in start..<haystack.count {
            while matched > 0 && haystack[i] != needle[matched] { matched = failure[matched - 1] }
            if haystack[i] == needle[matched] { matched += 1 }
            if matched == needle.count { return i - needle.count + 1 }
        }
        return nil
    }
}
