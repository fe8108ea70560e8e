import Synchronization

/// The encodings of the elements of an array that grows at its end (a session's model input),
/// so that writing it again only encodes what is new.
///
/// An element's encoding is reused only while the element is the same stored value as the one
/// encoded: the cache keeps that value, so the storage of an object or array it shares cannot
/// change in place (a change copies it first). Comparing storage is O(1); an equal value in
/// other storage is simply encoded again. The output is always exactly `JSONWriter.write`'s.
public final class JSONArrayEncodingCache: Sendable, Hashable {
    private let entries = Mutex<[(value: JSONValue, bytes: [UInt8])]>([])

    public init() {}

    /// Writes `elements` as a JSON array to `out`; from then on the cache holds their encodings.
    public func write(_ elements: [JSONValue], into out: inout [UInt8]) {
        entries.withLock { entries in
            out.append(UInt8(ascii: "["))
            for (i, element) in elements.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                if i < entries.count, entries[i].value.sharesStorage(with: element) {
                    out.append(contentsOf: entries[i].bytes)
                    continue
                }
                let bytes = JSONWriter.bytes(element)
                out.append(contentsOf: bytes)
                if i < entries.count {
                    entries[i] = (element, bytes)
                } else {
                    entries.append((element, bytes))
                }
            }
            out.append(UInt8(ascii: "]"))
            if entries.count > elements.count { entries.removeLast(entries.count - elements.count) }
        }
    }

    /// Caches are equal only to themselves.
    public static func == (a: JSONArrayEncodingCache, b: JSONArrayEncodingCache) -> Bool { a === b }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }

    /// How many encodings are held (for tests).
    public var count: Int { entries.withLock { $0.count } }
}

extension JSONValue {
    /// True when `other` is this very value: same scalar, or the same storage for a string,
    /// array or object (so equal without comparing contents). False does not mean different.
    public func sharesStorage(with other: JSONValue) -> Bool {
        switch (self, other) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.double(let a), .double(let b)): return a.bitPattern == b.bitPattern
        case (.string(let a), .string(let b)): return a.utf8.count <= 64 && a == b
        case (.array(let a), .array(let b)): return Self.sameBuffer(a, b)
        case (.object(let a), .object(let b)): return Self.sameBuffer(a.keys, b.keys) && Self.sameBuffer(a.values, b.values)
        default: return false
        }
    }

    private static func sameBuffer<T>(_ a: [T], _ b: [T]) -> Bool {
        a.count == b.count && a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in pa.baseAddress == pb.baseAddress } }
    }
}
