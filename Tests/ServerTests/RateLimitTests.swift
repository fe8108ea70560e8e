import AgentsAPI
import Storage
import Testing

@testable import Server

@Suite("Rate limits")
struct RateLimitTests {
    @Test func aBucketAllowsItsBurstThenRefillsAtTheRate() {
        let limiter = RateLimiter(limit: RateLimit(requestsPerSecond: 2, burst: 3))
        let start = ContinuousClock.now
        #expect((0..<3).map { _ in limiter.take("a", now: start) } == [.allowed(remaining: 2), .allowed(remaining: 1), .allowed(remaining: 0)])
        #expect(limiter.take("a", now: start) == .denied(retryAfter: 0.5))
        // Another key has its own bucket.
        #expect(limiter.take("b", now: start) == .allowed(remaining: 2))
        // Half a second later one token is back; never more than the burst.
        #expect(limiter.take("a", now: start + .milliseconds(500)) == .allowed(remaining: 0))
        #expect(limiter.take("a", now: start + .seconds(60)) == .allowed(remaining: 2))
    }

    @Test func requestsOverTheLimitGetA429WithRetryAfterAndChangeNothing() async throws {
        // One token per 100 s: nothing refills while the test runs, however slow the machine.
        try await withServer(rateLimit: RateLimit(requestsPerSecond: 0.01, burst: 2)) { s in
            #expect(try await s.request(.POST, "/v1/agents", json: ["model": "gpt-test"]).status == 200)
            #expect(try await s.request(.GET, "/v1/agents").status == 200)
            let limited = try await s.request(.POST, "/v1/agents", json: ["model": "gpt-test"])
            HTTPTests.expectEnvelope(limited, status: 429, code: "rate_limit_exceeded")
            #expect(limited.error?["type"] == "requests")
            #expect((90...100).contains(limited.header("retry-after").flatMap(Int.init) ?? 0))
            #expect(limited.header("retry-after-ms").flatMap(Int.init) ?? 0 > 90_000)
            // Nothing was created by the refused request.
            #expect(try await s.store.listAgents(projectID: s.projectID, query: ListQuery(limit: 100)).rows.count == 1)
            // The document needs no key and is not limited.
            #expect(try await s.request(.GET, "/v1/openapi.json", key: .some(nil)).status == 200)
        }
    }
}
