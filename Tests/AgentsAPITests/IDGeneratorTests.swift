import AgentsAPI
import Testing

@Suite("IDGenerator")
struct IDGeneratorTests {
    static let alphabet = Set("0123456789abcdefghjkmnpqrstvwxyz")

    @Test(arguments: IDPrefix.allCases)
    func tenThousandIDsAreUniqueIncreasingAndWellFormed(_ prefix: IDPrefix) {
        let ids = (0..<10_000).map { _ in IDGenerator.make(prefix) }
        #expect(Set(ids).count == ids.count)
        var previous = ""
        var ordered = true
        for id in ids {
            if !(id > previous) { ordered = false }
            previous = id
        }
        #expect(ordered, "IDs are not strictly increasing")
        for id in ids {
            guard id.hasPrefix(prefix.rawValue + "_"), id.utf8.count == prefix.rawValue.utf8.count + 1 + 26,
                id.dropFirst(prefix.rawValue.count + 1).allSatisfy(Self.alphabet.contains), IDGenerator.isWellFormed(id, prefix: prefix)
            else {
                Issue.record("malformed ID \(id)")
                return
            }
        }
    }

    @Test func prefixes() {
        #expect(IDGenerator.make(.agent).hasPrefix("agent_"))
        #expect(IDGenerator.make(.session).hasPrefix("sess_"))
        #expect(IDGenerator.make(.turn).hasPrefix("turn_"))
        #expect(IDGenerator.make(.item).hasPrefix("item_"))
        #expect(IDGenerator.make(.event).hasPrefix("evt_"))
        #expect(IDGenerator.make(.project).hasPrefix("proj_"))
        #expect(IDGenerator.next().utf8.count == 26)
    }

    /// The first 10 characters encode the millisecond timestamp (with two leading zero bits).
    @Test func timePartIsTheCurrentTime() {
        let before = currentTimeMillis()
        let id = IDGenerator.make(.turn)
        let after = currentTimeMillis()
        let digits = Array("0123456789abcdefghjkmnpqrstvwxyz")
        var value: Int64 = 0
        for character in id.dropFirst("turn_".count).prefix(10) {
            value = value << 5 | Int64(digits.firstIndex(of: character)!)
        }
        // 10 characters = 50 bits: 2 zero bits, 48 bits of time; the next 16 bits are random.
        let millis = value
        #expect(millis >= before - 1 && millis <= after + 1, "decoded \(millis), expected \(before)…\(after)")
        #expect("01234567".contains(id.dropFirst("turn_".count).first!))
    }

    /// Decoded as 128-bit numbers, IDs minted within one millisecond are (nearly) consecutive:
    /// the random part is incremented, and the base32 encoding carries every bit (including the
    /// character that straddles the two 64-bit halves). Other tests mint IDs concurrently, so the
    /// step may exceed one, but never by much.
    @Test func idsWithinOneMillisecondAreNearlyConsecutiveNumbers() {
        let digits = Array("0123456789abcdefghjkmnpqrstvwxyz")
        func decode(_ id: String) -> UInt128 {
            id.dropFirst("item_".count).reduce(UInt128(0)) { $0 << 5 | UInt128(digits.firstIndex(of: $1)!) }
        }
        var sameMillisecondPairs = 0
        var previous = decode(IDGenerator.make(.item))
        for _ in 0..<5_000 {
            let current = decode(IDGenerator.make(.item))
            #expect(current > previous)
            if current >> 80 == previous >> 80 {
                sameMillisecondPairs += 1
                #expect(current > previous && current - previous <= 1_000_000, "\(previous) → \(current)")
            }
            previous = current
        }
        #expect(sameMillisecondPairs > 0)
    }

    @Test func idsFromConcurrentTasksAreUnique() async {
        let ids = await withTaskGroup(of: [String].self) { group in
            for _ in 0..<8 {
                group.addTask { (0..<2_000).map { _ in IDGenerator.make(.item) } }
            }
            var all: [String] = []
            for await chunk in group {
                // Each task's own sequence is increasing.
                #expect(chunk == chunk.sorted())
                all += chunk
            }
            return all
        }
        #expect(Set(ids).count == 16_000)
    }

    @Test(arguments: [
        ("", IDPrefix.session),
        ("sess_", .session),
        ("sess", .session),
        ("agent_01jd3m0m5r6k8v2q9x4y7z1abc", .session),
        ("sess-01jd3m0m5r6k8v2q9x4y7z1abc", .session),
        ("sess_01jd3m0m5r6k8v2q9x4y7z1ab", .session),
        ("sess_01jd3m0m5r6k8v2q9x4y7z1abcd", .session),
        ("sess_01JD3M0M5R6K8V2Q9X4Y7Z1ABC", .session),
        ("sess_01jd3m0m5r6k8v2q9x4y7z1abi", .session),
        ("sess_01jd3m0m5r6k8v2q9x4y7z1abl", .session),
        ("sess_01jd3m0m5r6k8v2q9x4y7z1abo", .session),
        ("sess_01jd3m0m5r6k8v2q9x4y7z1abu", .session),
        ("sess_01jd3m0m5r6k8v2q9x4y7z1a_c", .session),
        ("sess_01jd3m0m5r6k8v2q9x4y7z1aé", .session),
        ("sess_01jd3m0m5r6k8v2q9x4y7z1ab ", .session),
        ("sess_../../../../etc/passwd00", .session),
        (" sess_01jd3m0m5r6k8v2q9x4y7z1ab", .session),
        ("sess_01jd3m0m5r6k8v2q9x4y7z1abc", .turn),
    ])
    func malformedIDsAreRejected(_ id: String, _ prefix: IDPrefix) {
        #expect(!IDGenerator.isWellFormed(id, prefix: prefix))
    }

    @Test func wellFormedIDsAreAccepted() {
        #expect(IDGenerator.isWellFormed("sess_01jd3m0m5r6k8v2q9x4y7z1abc", prefix: .session))
        #expect(IDGenerator.isWellFormed("turn_00000000000000000000000000", prefix: .turn))
        for prefix in IDPrefix.allCases {
            #expect(IDGenerator.isWellFormed(IDGenerator.make(prefix), prefix: prefix))
        }
    }
}
