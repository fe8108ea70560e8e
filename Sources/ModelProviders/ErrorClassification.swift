import AgentsAPI
import AsyncHTTPClient

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Maps provider failures (HTTP statuses, OpenAI error envelopes, stream error events, transport
/// errors) to `ModelError`.
enum ErrorClassification {
    /// The `{"error":{"message","type","code","param"}}` envelope, or whatever of it is present.
    struct Envelope {
        var message: String?
        var type: String?
        var code: String?
        var param: String?
    }

    static func parseEnvelope(_ body: [UInt8]) -> Envelope? {
        guard let json = try? JSONParser.parse(body) else { return nil }
        let error = json["error"]
        guard let object = error?.objectValue ?? json.objectValue else { return nil }
        func text(_ key: String) -> String? {
            switch object[key] {
            case .string(let s): return s
            case .int(let i): return String(i)
            default: return nil
            }
        }
        let envelope = Envelope(message: text("message"), type: text("type"), code: text("code"), param: text("param"))
        if envelope.message == nil && envelope.code == nil && envelope.type == nil { return nil }
        return envelope
    }

    /// Classifies a non-2xx response.
    static func fromHTTP(status: Int, body: [UInt8]) -> ModelError {
        let envelope = parseEnvelope(body)
        let code = envelope?.code ?? envelope?.type.flatMap { knownCodes.contains($0) ? $0 : nil }
        let message: String
        if let m = envelope?.message, !m.isEmpty {
            message = m
        } else if !body.isEmpty, envelope == nil {
            message = "HTTP \(status): \(snippet(body))"
        } else {
            message = "HTTP \(status) from the model provider"
        }
        return ModelError(kind: kind(status: status, code: code, message: message), message: message, statusCode: status, code: code)
    }

    private static let knownCodes: Set<String> = ["insufficient_quota", "rate_limit_exceeded", "server_error", "server_is_overloaded", "slow_down", "context_length_exceeded"]

    static func kind(status: Int, code: String?, message: String) -> ModelError.Kind {
        if code == "server_is_overloaded" || code == "slow_down" { return .overloaded }
        switch status {
        case 401, 403: return .authentication
        case 429: return .rateLimited
        case 404: return .notFound
        case 408: return .timeout
        case 409: return .server
        case 400, 413, 422:
            if isContextLengthError(code: code, message: message) { return .contextLengthExceeded }
            return .invalidRequest
        case 503: return .overloaded
        case 500...599: return .server
        case 400...499: return .invalidRequest
        default: return .protocolViolation
        }
    }

    static func isContextLengthError(code: String?, message: String) -> Bool {
        if code == "context_length_exceeded" { return true }
        let lower = message.lowercased()
        return lower.contains("maximum context length") || lower.contains("context window")
    }

    /// Whether a failed attempt with this status may be retried.
    static func isRetryable(status: Int, code: String?) -> Bool {
        switch status {
        case 429: return code != "insufficient_quota"
        case 408, 409, 500, 502, 503, 504: return true
        default: return false
        }
    }

    /// Classifies a `response.failed` error or a top-level `error` event.
    static func fromStream(code: String?, message: String?) -> ModelError {
        let message = message.flatMap { $0.isEmpty ? nil : $0 } ?? "the model provider reported an error\(code.map { " (\($0))" } ?? "")"
        let kind: ModelError.Kind
        switch code {
        case "context_length_exceeded": kind = .contextLengthExceeded
        case "rate_limit_exceeded", "insufficient_quota": kind = .rateLimited
        case "server_error": kind = .server
        case "server_is_overloaded", "slow_down": kind = .overloaded
        default: kind = isContextLengthError(code: code, message: message) ? .contextLengthExceeded : .invalidRequest
        }
        return ModelError(kind: kind, message: message, code: code)
    }

    /// Classifies an error thrown by AsyncHTTPClient or NIO (no HTTP status involved).
    static func fromTransport(_ error: any Error, host: String, phase: String) -> ModelError {
        if let error = error as? HTTPClientError {
            switch error {
            case .readTimeout:
                return ModelError(kind: .timeout, message: "no data from \(host) within the read timeout \(phase)")
            case .deadlineExceeded:
                return ModelError(kind: .timeout, message: "\(host) did not answer within the time allowed \(phase)")
            case .connectTimeout, .tlsHandshakeTimeout:
                return ModelError(kind: .connection, message: "could not connect to \(host): timed out")
            case .remoteConnectionClosed:
                return ModelError(kind: .connection, message: "\(host) closed the connection \(phase)")
            default:
                break
            }
        }
        return ModelError(kind: .connection, message: "connection to \(host) failed \(phase): \(error)")
    }

    /// At most a few hundred characters of a (possibly non-UTF-8) body, for messages.
    static func snippet(_ body: [UInt8]) -> String {
        let text = String(decoding: body.prefix(300), as: UTF8.self)
        return body.count > 300 ? text + "…" : text
    }
}

/// Parses `retry-after-ms` and `Retry-After` (delta-seconds or an HTTP-date).
enum RetryAfter {
    static func parse(retryAfterMs: String?, retryAfter: String?, now: Double = Date().timeIntervalSince1970) -> Duration? {
        if let ms = retryAfterMs.flatMap({ Double($0.trimmingWhitespace()) }), ms.isFinite, ms >= 0 {
            return .milliseconds(ms)
        }
        guard let value = retryAfter?.trimmingWhitespace(), !value.isEmpty else { return nil }
        if let seconds = Double(value), seconds.isFinite {
            return .seconds(max(0, seconds))
        }
        if let date = parseHTTPDate(value) {
            return .seconds(max(0, date - now))
        }
        return nil
    }

    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) and RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`)
    /// as seconds since 1970.
    static func parseHTTPDate(_ value: String) -> Double? {
        // Drop the weekday, then split on spaces and dashes.
        guard let comma = value.firstIndex(of: ",") else { return nil }
        let parts = value[value.index(after: comma)...].split(whereSeparator: { $0 == " " || $0 == "-" })
        guard parts.count >= 4,
            let day = Int(parts[0]),
            let month = months.firstIndex(of: parts[1].lowercased()),
            var year = Int(parts[2])
        else { return nil }
        if parts[2].count == 2 { year += year < 70 ? 2000 : 1900 }
        let time = parts[3].split(separator: ":")
        guard time.count == 3, let h = Int(time[0]), let m = Int(time[1]), let s = Int(time[2]),
            (1...31).contains(day), (0...23).contains(h), (0...59).contains(m), (0...60).contains(s)
        else { return nil }
        let days = daysFromCivil(year: year, month: month + 1, day: day)
        return Double(days * 86_400 + h * 3_600 + m * 60 + s)
    }

    /// Days since 1970-01-01 (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
