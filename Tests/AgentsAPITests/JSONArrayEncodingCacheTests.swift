import AgentsAPI
import Testing

@Suite("JSONArrayEncodingCache")
struct JSONArrayEncodingCacheTests {
    static func item(_ i: Int) -> JSONValue {
        ["type": "function_call_output", "call_id": .string("call_\(i)"), "output": .string("line \(i)\n\"quoted\" é"), "n": .int(Int64(i))]
    }

    /// Whatever happens to the array between writes, the output is exactly JSONWriter's.
    @Test func theOutputIsAlwaysTheWritersOutput() {
        let cache = JSONArrayEncodingCache()
        var items: [JSONValue] = []
        func check(_ note: Comment) {
            var out: [UInt8] = []
            cache.write(items, into: &out)
            #expect(out == JSONWriter.bytes(.array(items)), note)
            #expect(cache.count == items.count)
        }
        check("empty")
        for i in 0..<5 { items.append(Self.item(i)) }
        check("appended")
        check("unchanged")
        // An element changed in place (its storage is copied first, so it is encoded again).
        if case .object(var o) = items[2] {
            o["output"] = "changed"
            items[2] = .object(o)
        }
        check("changed in the middle")
        items.removeLast(2)
        check("shortened")
        items.insert("a string", at: 0)
        check("inserted at the front")
        items = [Self.item(9), [1, 2, [3]], .null, true, 1.5]
        check("replaced")
    }

    @Test func storageIdentityIsNotEquality() {
        let a = Self.item(1)
        let copy = a
        #expect(a.sharesStorage(with: copy))
        // Equal, but built separately: other storage.
        #expect(!a.sharesStorage(with: Self.item(1)))
        var changed = copy
        if case .object(var o) = changed {
            o["n"] = 2
            changed = .object(o)
        }
        #expect(!a.sharesStorage(with: changed))
        #expect(a.sharesStorage(with: copy))  // the original is untouched
        #expect(JSONValue.int(3).sharesStorage(with: .int(3)))
        #expect(!JSONValue.int(3).sharesStorage(with: .double(3)))
    }
}
