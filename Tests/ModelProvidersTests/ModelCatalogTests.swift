import ModelProviders
import Testing

@Suite("Model catalog")
struct ModelCatalogTests {
    @Test func knownModelsByLongestPrefixAndASafeDefaultOtherwise() {
        let catalog = ModelCatalog.builtIn
        #expect(catalog.limits(for: "gpt-5.1-codex").limits == ModelLimits(contextWindow: 272_000, autoCompactTokenLimit: 244_800))
        #expect(catalog.limits(for: "GPT-4.1-mini").limits.contextWindow == 1_047_576)
        #expect(catalog.limits(for: "o4-mini").known)
        let unknown = catalog.limits(for: "llama3.1:8b")
        #expect(!unknown.known && unknown.limits.contextWindow == ModelCatalog.fallbackContextWindow)
        #expect(unknown.limits.autoCompactTokenLimit == 115_200)
    }

    @Test func operatorsDescribeModelsWeDoNotKnow() throws {
        let catalog = try ModelCatalog.builtIn.adding(
            json: #"{"models": {"llama3.1": {"context_window": 131072, "auto_compact_token_limit": 100000}, "gpt-5": {"context_window": 400000}}}"#)
        #expect(catalog.limits(for: "llama3.1:70b") == (ModelLimits(contextWindow: 131_072, autoCompactTokenLimit: 100_000), true))
        // A configured entry replaces the built-in one of the same name.
        #expect(catalog.limits(for: "gpt-5-mini").limits.contextWindow == 400_000)
        for bad in [#"[]"#, #"{"models": {"x": {}}}"#, #"{"models": {"x": {"context_window": 10}}}"#,
                    #"{"models": {"x": {"context_window": 8000, "auto_compact_token_limit": 9000}}}"#] {
            #expect(throws: ModelCatalog.FormatError.self) { try ModelCatalog.builtIn.adding(json: bad) }
        }
    }
}
