/// Where a model provider lives and how patiently to talk to it.
public struct ModelProviderConfiguration: Sendable, Equatable {
    /// The API root, e.g. `https://api.openai.com/v1`. A trailing `/` is allowed.
    public var baseURL: String
    /// Sent as `Authorization: Bearer …`; omitted when nil (local servers often need none).
    public var apiKey: String?
    /// Sent as `OpenAI-Organization` when set.
    public var organization: String?
    /// Sent as `OpenAI-Project` when set.
    public var project: String?
    public var retry: RetryPolicy
    /// Time allowed to establish a connection (used by ``OpenAIResponsesClient/httpClientConfiguration(for:)``
    /// and as part of the deadline for the response head).
    public var connectTimeout: Duration
    /// Longest silence allowed between two bytes of a response (and before the response head).
    public var readTimeout: Duration
    /// Added to every request after the standard headers; cannot replace `Authorization`,
    /// `Content-Type` or `Accept`.
    public var extraHeaders: [String: String]

    public static let defaultBaseURL = "https://api.openai.com/v1"

    public init(
        baseURL: String = ModelProviderConfiguration.defaultBaseURL,
        apiKey: String? = nil,
        organization: String? = nil,
        project: String? = nil,
        retry: RetryPolicy = RetryPolicy(),
        connectTimeout: Duration = .seconds(10),
        readTimeout: Duration = .seconds(300),
        extraHeaders: [String: String] = [:]
    ) {
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.organization = organization
        self.project = project
        self.retry = retry
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.extraHeaders = extraHeaders
    }

    /// Reads `OPENAI_BASE_URL`, `OPENAI_API_KEY`, `OPENAI_ORG_ID` (or `OPENAI_ORGANIZATION`) and
    /// `OPENAI_PROJECT_ID`; empty values count as unset. Everything else keeps its default.
    public static func fromEnvironment(_ env: [String: String]) -> ModelProviderConfiguration {
        func value(_ key: String) -> String? {
            guard let v = env[key]?.trimmingWhitespace(), !v.isEmpty else { return nil }
            return v
        }
        return ModelProviderConfiguration(
            baseURL: value("OPENAI_BASE_URL") ?? defaultBaseURL,
            apiKey: value("OPENAI_API_KEY"),
            organization: value("OPENAI_ORG_ID") ?? value("OPENAI_ORGANIZATION"),
            project: value("OPENAI_PROJECT_ID"))
    }

    /// `{baseURL}/responses`, with exactly one `/` between the two.
    public var responsesURL: String {
        var base = Substring(baseURL)
        while base.hasSuffix("/") { base = base.dropLast() }
        return base + "/responses"
    }
}

extension ModelProviderConfiguration: CustomStringConvertible {
    /// Never shows the API key.
    public var description: String {
        "ModelProviderConfiguration(baseURL: \(baseURL), apiKey: \(apiKey == nil ? "none" : "<redacted>"), retry: \(retry))"
    }
}

/// How failed requests are retried. Only failures that happen before a response stream starts
/// are retried; a stream that has delivered events is never restarted.
public struct RetryPolicy: Sendable, Equatable {
    /// Retries after the first attempt (so at most `maxRetries + 1` attempts).
    public var maxRetries: Int
    /// Delay before the first retry; doubled for each further retry.
    public var initialBackoff: Duration
    /// Upper bound of the computed (exponential) delay.
    public var maxBackoff: Duration
    /// A `Retry-After` longer than this is not waited for: the call fails at once with the
    /// classified error, so that the caller can decide (e.g. report a rate limit to the user).
    public var maxRetryAfter: Duration
    /// Fraction of each computed delay that is randomised away (0 = none, 1 = full jitter).
    public var jitter: Double

    public init(
        maxRetries: Int = 4,
        initialBackoff: Duration = .milliseconds(500),
        maxBackoff: Duration = .seconds(20),
        maxRetryAfter: Duration = .seconds(60),
        jitter: Double = 0.25
    ) {
        self.maxRetries = max(0, maxRetries)
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.maxRetryAfter = maxRetryAfter
        self.jitter = min(1, max(0, jitter))
    }

    /// No retries at all.
    public static let none = RetryPolicy(maxRetries: 0)

    /// The computed delay before retry number `retry` (0-based), ignoring any `Retry-After`:
    /// `initialBackoff · 2^retry`, at most `maxBackoff`, minus up to `jitter` of it at random.
    public func backoff(forRetry retry: Int) -> Duration {
        var delay = min(initialBackoff, maxBackoff)
        for _ in 0..<max(0, retry) {
            delay = delay * 2
            if delay >= maxBackoff {
                delay = maxBackoff
                break
            }
        }
        guard jitter > 0 else { return delay }
        return delay * (1 - jitter * Double.random(in: 0..<1))
    }
}

extension Duration {
    /// The duration as (fractional) seconds.
    var seconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
