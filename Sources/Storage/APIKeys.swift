import Crypto

/// API keys: `cma_sk_` followed by 43 base62 characters (256 bits of randomness). Only the
/// SHA-256 of a key is stored; the key itself is shown once, when it is created.
public enum APIKeys {
    public static let prefix = "cma_sk_"
    private static let alphabet: [UInt8] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// A fresh random key.
    public static func generate() -> String {
        var rng = SystemRandomNumberGenerator()
        var out = Array(prefix.utf8)
        for _ in 0..<43 {
            // 62 * 4 = 248: rejection sampling keeps the distribution uniform.
            var byte: UInt8
            repeat { byte = UInt8.random(in: 0...255, using: &rng) } while byte >= 248
            out.append(alphabet[Int(byte % 62)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Lowercase hex SHA-256 of the key, as stored.
    public static func hash(_ key: String) -> String {
        Hashing.sha256Hex(Array(key.utf8))
    }

    /// The non-secret part shown in listings (`cma_sk_AbCd…`).
    public static func displayPrefix(_ key: String) -> String {
        String(key.prefix(prefix.count + 4))
    }

    /// Creates a key for `projectID` (or for a new default project when nil) and returns it.
    public static func create(in store: some Store, projectID: String? = nil) async throws -> (key: String, projectID: String) {
        let project: String
        if let projectID {
            project = projectID
        } else if let existing = try await store.anyProjectID() {
            project = existing
        } else {
            project = try await store.createProject(name: "default")
        }
        let key = generate()
        _ = try await store.addAPIKey(projectID: project, keyHash: hash(key), prefix: displayPrefix(key))
        return (key, project)
    }
}

public enum Hashing {
    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// Lowercase hex SHA-256.
    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in SHA256.hash(data: bytes) {
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
