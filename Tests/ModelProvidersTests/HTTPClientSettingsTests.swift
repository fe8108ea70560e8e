import AsyncHTTPClient
import ModelProviders
import Testing

@Suite("The dedicated HTTP client's settings")
struct HTTPClientSettingsTests {
    @Test func theyFollowTheProviderConfigurationAndDescribeNoSpans() {
        let configuration = ModelProviderConfiguration(baseURL: "http://127.0.0.1:9", connectTimeout: .seconds(3), readTimeout: .seconds(7))
        let settings = OpenAIResponsesClient.httpClientConfiguration(for: configuration)
        #expect(settings.timeout.connect == .seconds(3))
        #expect(settings.timeout.read == .seconds(7))
        // The client retries with its own policy.
        #expect(settings.connectionPool.retryConnectionEstablishment == false)
        // No tracer: AsyncHTTPClient would otherwise describe every request for the process's
        // (no-op) tracer on the way out.
        #expect(settings.tracing.tracer == nil)
    }
}
