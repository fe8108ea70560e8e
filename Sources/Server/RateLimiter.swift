import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// Request rate limits per API key: a token bucket of `burst` requests refilled at
/// `requestsPerSecond`, so that one client cannot starve the others. A request over the limit
/// gets a 429 with `Retry-After` (which the official SDK honours) and changes nothing.
public struct RateLimit: Sendable, Equatable {
    public var requestsPerSecond: Double
    public var burst: Double

    public init(requestsPerSecond: Double, burst: Double? = nil) {
        self.requestsPerSecond = requestsPerSecond
        self.burst = max(1, burst ?? requestsPerSecond * 2)
    }

    /// The default: 50 requests per second per key, bursts of 100.
    public static let standard = RateLimit(requestsPerSecond: 50, burst: 100)
}

final class RateLimiter: Sendable {
    let limit: RateLimit
    private let buckets = Mutex<[String: Bucket]>([:])
    /// Buckets untouched this long are full again and can be forgotten.
    private static let idleSeconds: Double = 600

    struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    enum Decision: Equatable {
        case allowed(remaining: Int)
        /// Denied; a token is available again after this many seconds.
        case denied(retryAfter: Double)
    }

    init(limit: RateLimit) {
        self.limit = limit
    }

    func take(_ key: String, now: ContinuousClock.Instant = .now) -> Decision {
        buckets.withLock { buckets in
            if buckets.count > 10_000 {
                buckets = buckets.filter { Self.seconds(now - $0.value.updated) < Self.idleSeconds }
            }
            var bucket = buckets[key] ?? Bucket(tokens: limit.burst, updated: now)
            bucket.tokens = min(limit.burst, bucket.tokens + Self.seconds(now - bucket.updated) * limit.requestsPerSecond)
            bucket.updated = now
            defer { buckets[key] = bucket }
            guard bucket.tokens >= 1 else {
                return .denied(retryAfter: (1 - bucket.tokens) / limit.requestsPerSecond)
            }
            bucket.tokens -= 1
            return .allowed(remaining: Int(bucket.tokens))
        }
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    /// The 429 for a denied request.
    func error(retryAfter: Double) -> APIError {
        var headers = HTTPFields()
        headers[HTTPField.Name("retry-after")!] = String(max(1, Int(retryAfter.rounded(.up))))
        headers[HTTPField.Name("retry-after-ms")!] = String(max(1, Int((retryAfter * 1000).rounded(.up))))
        headers[HTTPField.Name("x-ratelimit-limit-requests")!] = String(Int(limit.burst))
        headers[HTTPField.Name("x-ratelimit-remaining-requests")!] = "0"
        return APIError(
            status: .tooManyRequests,
            message: "Rate limit reached for this API key: \(Self.format(limit.requestsPerSecond)) requests per second (bursts of \(Int(limit.burst))). "
                + "Retry after \(Self.format(retryAfter)) s.",
            type: "requests", code: "rate_limit_exceeded", headers: headers)
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value)
    }
}
