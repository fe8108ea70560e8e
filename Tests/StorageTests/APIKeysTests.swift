import AgentsAPI
import Storage
import Testing

@Suite("APIKeys")
struct APIKeysTests {
    static let base62 = Set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

    @Test func generatedKeysHaveTheDocumentedFormat() {
        for _ in 0..<200 {
            let key = APIKeys.generate()
            #expect(key.hasPrefix("cma_sk_"))
            #expect(key.utf8.count == 7 + 43)
            #expect(key.dropFirst(7).allSatisfy(Self.base62.contains), "\(key)")
        }
        #expect(APIKeys.prefix == "cma_sk_")
    }

    @Test func keysAreUniqueAndUseTheWholeAlphabet() {
        let keys = (0..<1_000).map { _ in APIKeys.generate() }
        #expect(Set(keys).count == 1_000)
        // 43,000 random characters: every one of the 62 must appear.
        let used = Set(keys.flatMap { $0.dropFirst(7) })
        #expect(used == Self.base62)
    }

    @Test func hashIsLowercaseHexSHA256() {
        let key = APIKeys.generate()
        let hash = APIKeys.hash(key)
        #expect(hash.utf8.count == 64)
        #expect(hash.allSatisfy { "0123456789abcdef".contains($0) })
        #expect(APIKeys.hash(key) == hash)
        #expect(APIKeys.hash(APIKeys.generate()) != hash)
        #expect(hash == Hashing.sha256Hex(Array(key.utf8)))
        // Known SHA-256 vectors.
        #expect(Hashing.sha256Hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(APIKeys.hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func displayPrefixShowsFourCharactersOfTheSecret() {
        let key = "cma_sk_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg"
        #expect(APIKeys.displayPrefix(key) == "cma_sk_AbCd")
    }

    @Test func createMakesADefaultProjectOnceAndReusesIt() async throws {
        try await withStore { (store) async throws in
            #expect(try await store.anyProjectID() == nil)
            let first = try await APIKeys.create(in: store)
            #expect(IDGenerator.isWellFormed(first.projectID, prefix: .project))
            #expect(try await store.anyProjectID() == first.projectID)
            #expect(try await store.projectID(forKeyHash: APIKeys.hash(first.key)) == first.projectID)

            let second = try await APIKeys.create(in: store)
            #expect(second.projectID == first.projectID)
            #expect(second.key != first.key)
            #expect(try await store.projectID(forKeyHash: APIKeys.hash(second.key)) == first.projectID)
            // The old key still works.
            #expect(try await store.projectID(forKeyHash: APIKeys.hash(first.key)) == first.projectID)

            // An explicit project is used as given.
            let other = try await store.createProject(name: "other")
            let third = try await APIKeys.create(in: store, projectID: other)
            #expect(third.projectID == other)
            #expect(try await store.projectID(forKeyHash: APIKeys.hash(third.key)) == other)

            // Only the hash is stored: the key itself does not resolve, nor does an unknown hash.
            #expect(try await store.projectID(forKeyHash: first.key) == nil)
            #expect(try await store.projectID(forKeyHash: APIKeys.hash(APIKeys.generate())) == nil)
        }
    }
}
