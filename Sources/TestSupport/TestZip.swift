import AgentsAPI
import Archive

/// Builds ZIP archives with stored (uncompressed) entries, for tests: names are written as given
/// (`../evil` included), and an entry can be marked a symlink.
public struct TestZip: Sendable {
    public struct Entry: Sendable {
        public var name: String
        public var data: [UInt8]
        public var mode: UInt32

        public init(name: String, data: [UInt8], mode: UInt32 = 0o100644) {
            self.name = name
            self.data = data
            self.mode = mode
        }
    }

    public var entries: [Entry] = []

    public init(_ files: [(String, String)] = []) {
        entries = files.map { Entry(name: $0.0, data: Array($0.1.utf8)) }
    }

    public mutating func add(_ name: String, _ text: String, mode: UInt32 = 0o100644) {
        entries.append(Entry(name: name, data: Array(text.utf8), mode: mode))
    }

    public var bytes: [UInt8] {
        var out: [UInt8] = []
        var central: [UInt8] = []
        func u16(_ v: Int, into a: inout [UInt8]) { a += [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)] }
        func u32(_ v: UInt32, into a: inout [UInt8]) { a += [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)] }
        for e in entries {
            let offset = UInt32(out.count)
            let name = Array(e.name.utf8)
            let crc = ZipArchive.crc32(e.data)
            u32(0x0403_4b50, into: &out)
            u16(20, into: &out); u16(0, into: &out); u16(0, into: &out); u16(0, into: &out); u16(0, into: &out)
            u32(crc, into: &out); u32(UInt32(e.data.count), into: &out); u32(UInt32(e.data.count), into: &out)
            u16(name.count, into: &out); u16(0, into: &out)
            out += name + e.data
            u32(0x0201_4b50, into: &central)
            u16(0x031E, into: &central); u16(20, into: &central); u16(0, into: &central); u16(0, into: &central); u16(0, into: &central); u16(0, into: &central)
            u32(crc, into: &central); u32(UInt32(e.data.count), into: &central); u32(UInt32(e.data.count), into: &central)
            u16(name.count, into: &central); u16(0, into: &central); u16(0, into: &central); u16(0, into: &central); u16(0, into: &central)
            u32(e.mode << 16, into: &central); u32(offset, into: &central)
            central += name
        }
        let centralOffset = UInt32(out.count)
        out += central
        u32(0x0605_4b50, into: &out)
        u16(0, into: &out); u16(0, into: &out); u16(entries.count, into: &out); u16(entries.count, into: &out)
        u32(UInt32(central.count), into: &out); u32(centralOffset, into: &out); u16(0, into: &out)
        return out
    }

    /// Standard base64 of the archive.
    public var base64: String {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        let b = bytes
        var out: [UInt8] = []
        var i = 0
        while i < b.count {
            let n = min(3, b.count - i)
            let v = (UInt32(b[i]) << 16) | (n > 1 ? UInt32(b[i + 1]) << 8 : 0) | (n > 2 ? UInt32(b[i + 2]) : 0)
            out.append(table[Int(v >> 18) & 63])
            out.append(table[Int(v >> 12) & 63])
            out.append(n > 1 ? table[Int(v >> 6) & 63] : UInt8(ascii: "="))
            out.append(n > 2 ? table[Int(v) & 63] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A skill parameter (`{type: "inline", name, description, source}`) with this archive.
    public func skill(name: String, description: String) -> JSONValue {
        [
            "type": "inline", "name": .string(name), "description": .string(description),
            "source": ["type": "base64", "media_type": "application/zip", "data": .string(base64)],
        ]
    }
}
