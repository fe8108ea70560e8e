import AgentsAPI
import Foundation

/// What the runtime needs to know about a model: its context window and when to compact.
public struct ModelLimits: Sendable, Equatable {
    /// Input tokens the model accepts.
    public var contextWindow: Int
    /// Input tokens of a response beyond which the next request is preceded by a compaction.
    public var autoCompactTokenLimit: Int

    public init(contextWindow: Int, autoCompactTokenLimit: Int? = nil) {
        self.contextWindow = contextWindow
        self.autoCompactTokenLimit = autoCompactTokenLimit ?? Int(Double(contextWindow) * ModelCatalog.defaultCompactionRatio)
    }
}

/// Context windows of the models we know, by name prefix (the longest matching prefix wins), plus
/// any the operator configures for models we do not know (Ollama, vLLM…). Unknown models get a
/// conservative default.
public struct ModelCatalog: Sendable {
    public struct Entry: Sendable, Equatable {
        public var prefix: String
        public var limits: ModelLimits

        public init(prefix: String, limits: ModelLimits) {
            self.prefix = prefix
            self.limits = limits
        }
    }

    /// Compaction starts at 90 % of the window by default, as in Codex.
    public static let defaultCompactionRatio = 0.9
    /// The window assumed for a model nobody described.
    public static let fallbackContextWindow = 128_000

    public var entries: [Entry]

    public init(entries: [Entry]) {
        self.entries = entries
    }

    public static let builtIn = ModelCatalog(entries: [
        Entry(prefix: "gpt-5", limits: ModelLimits(contextWindow: 272_000)),
        Entry(prefix: "codex-", limits: ModelLimits(contextWindow: 272_000)),
        Entry(prefix: "gpt-4.1", limits: ModelLimits(contextWindow: 1_047_576)),
        Entry(prefix: "gpt-4o", limits: ModelLimits(contextWindow: 128_000)),
        Entry(prefix: "o1", limits: ModelLimits(contextWindow: 200_000)),
        Entry(prefix: "o3", limits: ModelLimits(contextWindow: 200_000)),
        Entry(prefix: "o4-mini", limits: ModelLimits(contextWindow: 200_000)),
        Entry(prefix: "gpt-oss", limits: ModelLimits(contextWindow: 131_072)),
    ])

    /// The limits of `model`, and whether the catalog knows it (false: the fallback).
    public func limits(for model: String) -> (limits: ModelLimits, known: Bool) {
        let name = model.lowercased()
        let match = entries.filter { name.hasPrefix($0.prefix.lowercased()) }.max { $0.prefix.count < $1.prefix.count }
        if let match { return (match.limits, true) }
        return (ModelLimits(contextWindow: Self.fallbackContextWindow), false)
    }

    public struct FormatError: Error, CustomStringConvertible {
        public var description: String
    }

    /// This catalog with the models of a JSON document on top:
    /// `{"models": {"llama3.1": {"context_window": 131072, "auto_compact_token_limit": 110000}}}`
    /// (names are prefixes; `auto_compact_token_limit` defaults to 90 % of the window).
    public func adding(json text: String) throws(FormatError) -> ModelCatalog {
        guard let document = try? JSONParser.parse(text), let models = document["models"]?.objectValue else {
            throw FormatError(description: "a model catalog is a JSON object with a \"models\" object")
        }
        var result = self
        for (name, value) in models {
            guard !name.isEmpty, let window = value["context_window"]?.intValue, window >= 1_000, window <= 100_000_000 else {
                throw FormatError(description: "model \"\(name)\": \"context_window\" must be a number of tokens between 1000 and 100000000")
            }
            let limit = value["auto_compact_token_limit"]?.intValue
            if let limit, limit < 500 || limit >= window {
                throw FormatError(description: "model \"\(name)\": \"auto_compact_token_limit\" must be at least 500 and below the context window")
            }
            result.entries.removeAll { $0.prefix.lowercased() == name.lowercased() }
            result.entries.append(Entry(prefix: name, limits: ModelLimits(contextWindow: Int(window), autoCompactTokenLimit: limit.map { Int($0) })))
        }
        return result
    }
}
