/// A file or directory read from a ZIP archive.
public struct ZipEntry: Sendable {
    /// The entry's relative path, without the trailing `/` of a directory.
    public var path: String
    public var isDirectory: Bool
    /// The uncompressed contents; empty for a directory.
    public var data: [UInt8]
    /// The Unix mode (file type and permission bits) when the archive was made on Unix and
    /// recorded one, else nil.
    public var mode: UInt32?

    public init(path: String, isDirectory: Bool, data: [UInt8], mode: UInt32? = nil) {
        self.path = path
        self.isDirectory = isDirectory
        self.data = data
        self.mode = mode
    }
}

/// Why an archive was rejected, in words fit for an API client.
public struct ZipError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// Bounds on what reading an archive may produce.
public struct ZipLimits: Sendable {
    /// The most entries (files and directories) an archive may hold.
    public var maxEntries: Int
    /// The most bytes all entries together may decompress to.
    public var maxTotalUncompressed: Int
    /// The most bytes one entry may decompress to.
    public var maxEntryUncompressed: Int
    /// The longest entry name, in UTF-8 bytes.
    public var maxPathBytes: Int

    public init(
        maxEntries: Int = 1000,
        maxTotalUncompressed: Int = 64 << 20,
        maxEntryUncompressed: Int = 16 << 20,
        maxPathBytes: Int = 1024
    ) {
        self.maxEntries = maxEntries
        self.maxTotalUncompressed = maxTotalUncompressed
        self.maxEntryUncompressed = maxEntryUncompressed
        self.maxPathBytes = maxPathBytes
    }
}

/// A ZIP archive reader with its own DEFLATE decoder (RFC 1951), written for archives from
/// untrusted clients (skills uploaded as base64 ZIP files).
///
/// Only what such archives need is supported: stored (0) and deflated (8) entries in a single-disk,
/// non-ZIP64, unencrypted archive. Everything else, and anything malformed, is rejected with a
/// `ZipError` whose message can be shown to the client as is.
///
/// The archive is read through its central directory; local headers are only used to find where
/// each entry's data starts. Entry sizes are checked against `ZipLimits` before anything is
/// decompressed, and the inflater never writes past an entry's declared size, so a zip bomb costs
/// at most the limits. Every entry's length and CRC-32 are verified.
///
/// Paths are checked to stay inside the archive root: relative, `/`-separated (a `\` is rejected
/// rather than converted), no empty, `.` or `..` components (a directory may end in `/`), no NUL
/// or other control characters, valid UTF-8, no duplicates, and no entry inside a file entry.
/// Symbolic links and other special files are rejected.
public enum ZipArchive {
    /// Reads every entry of the archive `bytes`, in central directory order.
    public static func read(_ bytes: [UInt8], limits: ZipLimits = .init()) throws(ZipError) -> [ZipEntry] {
        let records = try centralDirectory(bytes, limits: limits)
        var entries: [ZipEntry] = []
        entries.reserveCapacity(records.count)
        for record in records {
            if record.isDirectory {
                entries.append(ZipEntry(path: record.path, isDirectory: true, data: [], mode: record.mode))
                continue
            }
            let data = try contents(of: record, in: bytes)
            entries.append(ZipEntry(path: record.path, isDirectory: false, data: data, mode: record.mode))
        }
        return entries
    }

    /// The CRC-32 (ISO 3309, as used by ZIP and gzip) of `bytes`.
    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { CRC32.checksum(UnsafeRawBufferPointer($0)) }
    }
}

// MARK: - Archive structure

extension ZipArchive {
    /// What the central directory says about one entry, checked.
    fileprivate struct Record {
        var path: String
        var displayName: String
        var isDirectory: Bool
        var mode: UInt32?
        var method: UInt16
        var crc: UInt32
        var compressedSize: Int
        var uncompressedSize: Int
        var headerOffset: Int
        /// Where the entry's data starts and ends, found through its local header.
        var dataStart = 0
        var dataEnd = 0
    }

    private static let endOfCentralDirectorySignature: UInt32 = 0x0605_4b50
    private static let zip64LocatorSignature: UInt32 = 0x0706_4b50
    private static let centralHeaderSignature: UInt32 = 0x0201_4b50
    private static let localHeaderSignature: UInt32 = 0x0403_4b50

    private static let zip64Unsupported = ZipError("ZIP64 archives are not supported")
    private static let multiDiskUnsupported = ZipError("multi-disk (split or spanned) ZIP archives are not supported")

    fileprivate static func centralDirectory(_ bytes: [UInt8], limits: ZipLimits) throws(ZipError) -> [Record] {
        let count = bytes.count
        // The end of central directory record is 22 bytes plus a comment of up to 65535 bytes,
        // and must end exactly where the archive does.
        guard count >= 22 else {
            throw ZipError(count == 0 ? "the ZIP archive is empty (0 bytes)" : "the data is not a ZIP archive (too short, or truncated)")
        }
        var eocd = -1
        var candidate = count - 22
        let lowest = max(0, count - 22 - 0xFFFF)
        while candidate >= lowest {
            if u32(bytes, candidate) == endOfCentralDirectorySignature, 22 + Int(u16(bytes, candidate + 20)) == count - candidate {
                eocd = candidate
                break
            }
            candidate -= 1
        }
        guard eocd >= 0 else {
            throw ZipError("the data is not a ZIP archive, or it is truncated (no end of central directory record)")
        }
        if eocd >= 20, u32(bytes, eocd - 20) == zip64LocatorSignature {
            throw zip64Unsupported
        }
        let diskNumber = u16(bytes, eocd + 4)
        let centralDirectoryDisk = u16(bytes, eocd + 6)
        let entriesOnDisk = u16(bytes, eocd + 8)
        let totalEntries = u16(bytes, eocd + 10)
        let centralDirectorySize = u32(bytes, eocd + 12)
        let centralDirectoryOffset = u32(bytes, eocd + 16)
        if totalEntries == 0xFFFF || entriesOnDisk == 0xFFFF || centralDirectorySize == 0xFFFF_FFFF || centralDirectoryOffset == 0xFFFF_FFFF {
            throw zip64Unsupported
        }
        guard diskNumber == 0, centralDirectoryDisk == 0, entriesOnDisk == totalEntries else {
            throw multiDiskUnsupported
        }
        guard Int(totalEntries) <= limits.maxEntries else {
            throw ZipError("the ZIP archive has too many entries (\(totalEntries); the limit is \(limits.maxEntries))")
        }
        // Both are at most 2^32 - 1, so their sum cannot overflow an Int.
        let cdStart = Int(centralDirectoryOffset)
        let cdEnd = cdStart + Int(centralDirectorySize)
        guard cdEnd <= eocd else {
            throw ZipError("the ZIP archive is corrupt or truncated (its central directory lies outside the data)")
        }

        var records: [Record] = []
        records.reserveCapacity(Int(totalEntries))
        var seen: Set<String> = []
        var totalSize = 0
        var offset = cdStart
        for index in 0..<Int(totalEntries) {
            guard cdEnd - offset >= 46, u32(bytes, offset) == centralHeaderSignature else {
                throw ZipError("the ZIP archive is corrupt (central directory entry #\(index + 1) is malformed)")
            }
            let versionMadeBy = u16(bytes, offset + 4)
            let flags = u16(bytes, offset + 8)
            let method = u16(bytes, offset + 10)
            let crc = u32(bytes, offset + 16)
            let compressedSize = u32(bytes, offset + 20)
            let uncompressedSize = u32(bytes, offset + 24)
            let nameLength = Int(u16(bytes, offset + 28))
            let extraLength = Int(u16(bytes, offset + 30))
            let commentLength = Int(u16(bytes, offset + 32))
            let startDisk = u16(bytes, offset + 34)
            let externalAttributes = u32(bytes, offset + 38)
            let headerOffset = u32(bytes, offset + 42)
            let nameStart = offset + 46
            let recordEnd = nameStart + nameLength + extraLength + commentLength
            guard recordEnd <= cdEnd else {
                throw ZipError("the ZIP archive is corrupt (central directory entry #\(index + 1) is truncated)")
            }
            offset = recordEnd

            // The name first, so that every later message can say which entry it is about.
            guard nameLength > 0 else {
                throw ZipError("ZIP entry #\(index + 1) has an empty name")
            }
            let nameBytes = bytes[nameStart..<(nameStart + nameLength)]
            let displayName = display(nameBytes)
            guard nameLength <= limits.maxPathBytes else {
                throw ZipError("ZIP entry '\(displayName)' has a name that is too long (\(nameLength) bytes; the limit is \(limits.maxPathBytes))")
            }
            guard let name = String(validating: nameBytes, as: UTF8.self) else {
                throw ZipError("ZIP entry '\(displayName)' has a name that is not valid UTF-8")
            }

            if flags & 0x0001 != 0 || flags & 0x0040 != 0 {
                throw ZipError("ZIP entry '\(displayName)' is encrypted, which is not supported")
            }
            if compressedSize == 0xFFFF_FFFF || uncompressedSize == 0xFFFF_FFFF || headerOffset == 0xFFFF_FFFF || startDisk == 0xFFFF {
                throw zip64Unsupported
            }
            guard startDisk == 0 else {
                throw multiDiskUnsupported
            }

            let (path, pathIsDirectory) = try checkedPath(nameBytes, name: name, displayName: displayName)
            var isDirectory = pathIsDirectory

            // Unix archivers (host 3, or 19 for Mac OS X) keep st_mode in the high 16 bits.
            var mode: UInt32?
            let host = versionMadeBy >> 8
            if host == 3 || host == 19 {
                let unixMode = externalAttributes >> 16
                if unixMode != 0 {
                    mode = unixMode
                    switch unixMode & 0o170000 {
                    case 0, 0o100000:
                        break
                    case 0o040000:
                        isDirectory = true
                    case 0o120000:
                        throw ZipError("ZIP entry '\(displayName)' is a symbolic link, which is not supported")
                    default:
                        throw ZipError("ZIP entry '\(displayName)' is a special file (device, FIFO or socket), which is not supported")
                    }
                }
            }

            guard method == 0 || method == 8 else {
                throw ZipError("ZIP entry '\(displayName)' uses an unsupported compression method (\(methodName(method))); only stored and deflate are supported")
            }
            let size = Int(uncompressedSize)
            if isDirectory {
                guard size == 0 else {
                    throw ZipError("ZIP entry '\(displayName)' is a directory but has contents")
                }
            } else {
                guard size <= limits.maxEntryUncompressed else {
                    throw ZipError("ZIP entry '\(displayName)' is too large (\(size) bytes uncompressed; the limit is \(limits.maxEntryUncompressed))")
                }
                totalSize += size
                guard totalSize <= limits.maxTotalUncompressed else {
                    throw ZipError("the ZIP archive is too large uncompressed (more than the limit of \(limits.maxTotalUncompressed) bytes)")
                }
                if method == 0, compressedSize != uncompressedSize {
                    throw ZipError("ZIP entry '\(displayName)' is corrupt (stored entry with different compressed and uncompressed sizes)")
                }
            }

            guard seen.insert(path).inserted else {
                throw ZipError("ZIP entry '\(displayName)' appears more than once in the archive")
            }
            records.append(Record(
                path: path, displayName: displayName, isDirectory: isDirectory, mode: mode, method: method, crc: crc,
                compressedSize: Int(compressedSize), uncompressedSize: size, headerOffset: Int(headerOffset)
            ))
        }

        // A file cannot also be a directory holding other entries.
        let files = Set(records.lazy.filter { !$0.isDirectory }.map(\.path))
        for record in records {
            let path = Array(record.path.utf8)
            for (index, byte) in path.enumerated() where byte == UInt8(ascii: "/") {
                let ancestor = path[..<index]
                if files.contains(String(decoding: ancestor, as: UTF8.self)) {
                    throw ZipError("ZIP entry '\(record.displayName)' is inside '\(display(ancestor))', which is a file")
                }
            }
        }

        // Find each entry's data through its local header. The data must lie before the central
        // directory, and no two entries may share bytes (overlapping entries are a zip bomb trick).
        for index in records.indices {
            let headerOffset = records[index].headerOffset
            guard cdStart - headerOffset >= 30, u32(bytes, headerOffset) == localHeaderSignature else {
                throw ZipError("ZIP entry '\(records[index].displayName)' is corrupt (its local header is missing or outside the archive)")
            }
            let dataStart = headerOffset + 30 + Int(u16(bytes, headerOffset + 26)) + Int(u16(bytes, headerOffset + 28))
            let dataEnd = dataStart + records[index].compressedSize
            guard dataEnd <= cdStart else {
                throw ZipError("ZIP entry '\(records[index].displayName)' is corrupt or truncated (its data lies outside the archive)")
            }
            records[index].dataStart = dataStart
            records[index].dataEnd = dataEnd
        }
        let byOffset = records.indices.sorted { (records[$0].headerOffset, $0) < (records[$1].headerOffset, $1) }
        for (previous, next) in zip(byOffset, byOffset.dropFirst()) where records[next].headerOffset < records[previous].dataEnd {
            throw ZipError("ZIP entries '\(records[previous].displayName)' and '\(records[next].displayName)' overlap, which is not allowed")
        }
        return records
    }

    /// The entry's path with the trailing `/` of a directory removed, if it is safe.
    private static func checkedPath(_ bytes: ArraySlice<UInt8>, name: String, displayName: String) throws(ZipError) -> (String, Bool) {
        for byte in bytes {
            if byte == 0 {
                throw ZipError("ZIP entry '\(displayName)' has a NUL character in its name")
            }
            if byte < 0x20 || byte == 0x7F {
                throw ZipError("ZIP entry '\(displayName)' has a control character in its name")
            }
            if byte == UInt8(ascii: "\\") {
                throw ZipError("ZIP entry '\(displayName)' has a backslash in its name; paths must use '/'")
            }
        }
        if bytes.first == UInt8(ascii: "/") {
            throw ZipError("ZIP entry '\(displayName)' has an absolute path")
        }
        let isDirectory = bytes.last == UInt8(ascii: "/")
        // Bytes, not characters: a `/` can belong to a larger grapheme cluster.
        let path = isDirectory ? String(decoding: bytes.dropLast(), as: UTF8.self) : name
        for component in path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            if component.isEmpty {
                throw ZipError("ZIP entry '\(displayName)' has an empty path component")
            }
            if component.elementsEqual("..".utf8) {
                throw ZipError("ZIP entry '\(displayName)' escapes the archive root")
            }
            if component.elementsEqual(".".utf8) {
                throw ZipError("ZIP entry '\(displayName)' has a '.' path component")
            }
        }
        return (path, isDirectory)
    }

    /// Decompresses and verifies one file entry.
    private static func contents(of record: Record, in bytes: [UInt8]) throws(ZipError) -> [UInt8] {
        let data: [UInt8]
        if record.method == 0 {
            data = Array(bytes[record.dataStart..<record.dataEnd])
        } else {
            let result: Result<Int, InflateFailure>
            let size = record.uncompressedSize
            (data, result) = bytes.withUnsafeBufferPointer { buffer in
                let input = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[record.dataStart..<record.dataEnd])
                var result: Result<Int, InflateFailure> = .success(0)
                // The inflater needs `slack` bytes of room past the end.
                let output = [UInt8](unsafeUninitializedCapacity: size + Inflater.slack) { output, initialized in
                    result = Result { () throws(InflateFailure) -> Int in
                        guard let base = output.baseAddress else { throw .outputLimit }
                        return try Inflater.inflate(input, into: base, limit: size)
                    }
                    if case .success(let written) = result {
                        initialized = written
                    } else {
                        initialized = 0
                    }
                }
                return (output, result)
            }
            switch result {
            case .success(let written):
                guard written == size else {
                    throw ZipError("ZIP entry '\(record.displayName)' is corrupt (it decompresses to \(written) bytes, but \(size) were declared)")
                }
            case .failure(.outputLimit):
                throw ZipError("ZIP entry '\(record.displayName)' is corrupt (it decompresses to more than the \(size) bytes declared)")
            case .failure(.truncated):
                throw ZipError("ZIP entry '\(record.displayName)' is corrupt (its compressed data is truncated)")
            case .failure(.malformed(let reason)):
                throw ZipError("ZIP entry '\(record.displayName)' is corrupt (invalid compressed data: \(reason))")
            }
        }
        guard crc32(data) == record.crc else {
            throw ZipError("ZIP entry '\(record.displayName)' is corrupt (CRC-32 mismatch)")
        }
        return data
    }

    /// An entry name for messages: lossily decoded, control characters replaced, and shortened.
    private static func display(_ bytes: ArraySlice<UInt8>) -> String {
        let limit = 200
        var scalars = String.UnicodeScalarView()
        var count = 0
        for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars {
            if count == limit {
                scalars.append("…")
                break
            }
            scalars.append(scalar.value < 0x20 || scalar.value == 0x7F ? "?" : scalar)
            count += 1
        }
        return String(scalars)
    }

    private static func methodName(_ method: UInt16) -> String {
        switch method {
        case 1: "shrink (1)"
        case 6: "implode (6)"
        case 9: "deflate64 (9)"
        case 12: "bzip2 (12)"
        case 14: "LZMA (14)"
        case 93: "Zstandard (93)"
        case 95: "XZ (95)"
        case 98: "PPMd (98)"
        case 99: "AES encryption (99)"
        default: "method \(method)"
        }
    }

    /// Little-endian fields; callers check the bounds first.
    @inline(__always)
    private static func u16(_ bytes: [UInt8], _ offset: Int) -> UInt16 {
        UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
    }

    @inline(__always)
    private static func u32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
    }
}

// MARK: - CRC-32

private enum CRC32 {
    /// Slicing-by-8 tables: `table[k * 256 + byte]`.
    static let table: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 8 * 256)
        for byte in 0..<256 {
            var crc = UInt32(byte)
            for _ in 0..<8 {
                crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1
            }
            table[byte] = crc
        }
        for slice in 1..<8 {
            for byte in 0..<256 {
                let previous = table[(slice - 1) * 256 + byte]
                table[slice * 256 + byte] = (previous >> 8) ^ table[Int(previous & 0xFF)]
            }
        }
        return table
    }()

    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        table.withUnsafeBufferPointer { t in
            var crc: UInt32 = 0xFFFF_FFFF
            var offset = 0
            let count = bytes.count
            while count - offset >= 8 {
                let one = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) ^ crc
                let two = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
                crc = t[7 * 256 + Int(one & 0xFF)] ^ t[6 * 256 + Int((one >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((one >> 16) & 0xFF)] ^ t[4 * 256 + Int(one >> 24)]
                    ^ t[3 * 256 + Int(two & 0xFF)] ^ t[2 * 256 + Int((two >> 8) & 0xFF)]
                    ^ t[1 * 256 + Int((two >> 16) & 0xFF)] ^ t[Int(two >> 24)]
                offset += 8
            }
            while offset < count {
                crc = t[Int((crc ^ UInt32(bytes[offset])) & 0xFF)] ^ (crc >> 8)
                offset += 1
            }
            return ~crc
        }
    }
}

// MARK: - Inflate

private enum InflateFailure: Error, Equatable {
    /// The stream is not valid DEFLATE data.
    case malformed(String)
    /// The input ended before the final block did.
    case truncated
    /// The output would exceed the limit.
    case outputLimit
}

/// A DEFLATE (RFC 1951) decoder with table-driven Huffman decoding.
///
/// Bits are read LSB-first into a 64-bit buffer. Past the end of the input the buffer is padded
/// with zero bits, counted in `phantomBits`; consuming any of them means the input was truncated,
/// which is checked after every symbol.
///
/// A Huffman table entry is `value << 16 | tag << 8 | bits`: `bits` is how many bits the entry
/// consumes, `tag` says what it is (below) and `value` is a literal byte, a length or distance
/// base, or a subtable's offset. Codes longer than the root table's index go through a subtable,
/// whose index width is the `bits` of the root entry pointing to it. An invalid entry consumes
/// its table's index width, so that the bits looked at tell a bad code (all real bits) from a
/// truncated stream (some padding bits).
private struct Inflater {
    /// How many bytes past `limit` the output must have room for.
    static let slack = 8
    static let litRoot = 10
    static let distRoot = 8
    static let codeLengthRoot = 7

    static let tagLiteral: UInt32 = 0
    /// Plus the number of extra bits (0...5).
    static let tagLength: UInt32 = 16
    static let tagEnd: UInt32 = 32
    static let tagSubtable: UInt32 = 64
    static let tagInvalid: UInt32 = 128
    static let invalidEntry: UInt32 = tagInvalid << 8

    /// Per-symbol entries (without `bits`) of the literal/length alphabet.
    static let litInfo: [UInt32] = {
        let bases: [UInt32] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
        let extra: [UInt32] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
        var info = [UInt32](repeating: invalidEntry, count: 288)
        for byte in 0..<256 {
            info[byte] = UInt32(byte) << 16 | tagLiteral << 8
        }
        info[256] = tagEnd << 8
        for index in 0..<29 {
            info[257 + index] = bases[index] << 16 | (tagLength + extra[index]) << 8
        }
        return info
    }()

    /// Per-symbol entries of the distance alphabet: the tag is the number of extra bits.
    static let distInfo: [UInt32] = {
        let bases: [UInt32] = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
        let extra: [UInt32] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
        var info = [UInt32](repeating: invalidEntry, count: 32)
        for index in 0..<30 {
            info[index] = bases[index] << 16 | extra[index] << 8
        }
        return info
    }()

    static let codeLengthInfo: [UInt32] = (0..<19).map { UInt32($0) << 16 }

    static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    /// The code lengths of the fixed Huffman codes (RFC 1951, 3.2.6).
    static let fixedLitLengths: [UInt8] = (0..<288).map { $0 < 144 ? 8 : $0 < 256 ? 9 : $0 < 280 ? 7 : 8 }
    static let fixedDistLengths = [UInt8](repeating: 5, count: 32)

    let input: UnsafeRawBufferPointer
    var position = 0
    var bitBuffer: UInt64 = 0
    var bitCount = 0
    var phantomBits = 0

    let output: UnsafeMutablePointer<UInt8>
    let limit: Int
    var written = 0

    var litTable: [UInt32] = []
    var distTable: [UInt32] = []
    var codeLengthTable: [UInt32] = []
    var lengths = [UInt8](repeating: 0, count: 286 + 30)
    var codeLengths = [UInt8](repeating: 0, count: 19)

    /// Inflates the raw DEFLATE stream `input` into `output`, which must have room for
    /// `limit + slack` bytes, and returns how many bytes were written. Bytes after the final block are ignored.
    static func inflate(_ input: UnsafeRawBufferPointer, into output: UnsafeMutablePointer<UInt8>, limit: Int) throws(InflateFailure) -> Int {
        var inflater = Inflater(input: input, output: output, limit: limit)
        try inflater.run()
        return inflater.written
    }

    private init(input: UnsafeRawBufferPointer, output: UnsafeMutablePointer<UInt8>, limit: Int) {
        self.input = input
        self.output = output
        self.limit = limit
    }

    private mutating func run() throws(InflateFailure) {
        var fixedBuilt = false
        while true {
            let header = try bits(3)
            switch header >> 1 {
            case 0:
                try storedBlock()
            case 1:
                if !fixedBuilt {
                    try Self.fixedLitLengths.withUnsafeBufferPointer { (lengths) throws(InflateFailure) in
                        try Self.buildTable(lengths, info: Self.litInfo, root: Self.litRoot, into: &litTable, name: "literal/length")
                    }
                    try Self.fixedDistLengths.withUnsafeBufferPointer { (lengths) throws(InflateFailure) in
                        try Self.buildTable(lengths, info: Self.distInfo, root: Self.distRoot, into: &distTable, name: "distance")
                    }
                    fixedBuilt = true
                }
                try huffmanBlock()
            case 2:
                fixedBuilt = false
                try readDynamicTables()
                try huffmanBlock()
            default:
                throw .malformed("invalid block type")
            }
            if header & 1 != 0 { return }
        }
    }

    // MARK: Bits

    @inline(__always)
    private mutating func refill() {
        if input.count &- position >= 8 {
            let word = UInt64(littleEndian: input.loadUnaligned(fromByteOffset: position, as: UInt64.self))
            bitBuffer |= word &<< UInt64(bitCount)
            position &+= (63 &- bitCount) &>> 3
            bitCount |= 56
        } else {
            refillSlowly()
        }
    }

    private mutating func refillSlowly() {
        while bitCount <= 56 {
            if position < input.count {
                bitBuffer |= UInt64(input[position]) &<< UInt64(bitCount)
                position += 1
            } else {
                phantomBits += 8
            }
            bitCount += 8
        }
    }

    /// The next `count` (at most 32) bits.
    private mutating func bits(_ count: Int) throws(InflateFailure) -> Int {
        if bitCount < count { refill() }
        let value = Int(truncatingIfNeeded: bitBuffer & ((1 << UInt64(count)) - 1))
        bitBuffer >>= UInt64(count)
        bitCount -= count
        if phantomBits > bitCount { throw .truncated }
        return value
    }

    // MARK: Blocks

    private mutating func storedBlock() throws(InflateFailure) {
        // Skip to a byte boundary, then give the whole bytes still buffered back to the input.
        let skip = bitCount & 7
        bitBuffer >>= UInt64(skip)
        bitCount -= skip
        guard bitCount >= phantomBits else { throw .truncated }
        position -= (bitCount - phantomBits) >> 3
        bitBuffer = 0
        bitCount = 0
        phantomBits = 0

        guard input.count - position >= 4 else { throw .truncated }
        let length = Int(input[position]) | Int(input[position + 1]) << 8
        let complement = Int(input[position + 2]) | Int(input[position + 3]) << 8
        position += 4
        guard length == complement ^ 0xFFFF else { throw .malformed("stored block length does not match its complement") }
        guard input.count - position >= length else { throw .truncated }
        guard limit - written >= length else { throw .outputLimit }
        if length > 0, let base = input.baseAddress {
            (output + written).update(from: base.advanced(by: position).assumingMemoryBound(to: UInt8.self), count: length)
        }
        position += length
        written += length
    }

    private mutating func readDynamicTables() throws(InflateFailure) {
        let literalCount = try bits(5) + 257
        let distanceCount = try bits(5) + 1
        let codeLengthCount = try bits(4) + 4
        guard literalCount <= 286, distanceCount <= 30 else { throw .malformed("too many length or distance symbols") }

        for index in 0..<19 {
            codeLengths[index] = 0
        }
        for index in 0..<codeLengthCount {
            codeLengths[Self.codeLengthOrder[index]] = UInt8(try bits(3))
        }
        try codeLengths.withUnsafeBufferPointer { (codeLengths) throws(InflateFailure) in
            try Self.buildTable(codeLengths, info: Self.codeLengthInfo, root: Self.codeLengthRoot, into: &codeLengthTable, name: "code length")
        }

        let total = literalCount + distanceCount
        var index = 0
        while index < total {
            if bitCount < 7 { refill() }
            let entry = codeLengthTable[Int(truncatingIfNeeded: bitBuffer & ((1 << UInt64(Self.codeLengthRoot)) - 1))]
            let used = Int(entry & 0xFF)
            bitBuffer >>= UInt64(used)
            bitCount -= used
            if phantomBits > bitCount { throw .truncated }
            guard (entry >> 8) & 0xFF != Self.tagInvalid else { throw .malformed("invalid code length code") }
            let symbol = Int(entry >> 16)
            if symbol < 16 {
                lengths[index] = UInt8(symbol)
                index += 1
                continue
            }
            var value: UInt8 = 0
            let repeatCount: Int
            switch symbol {
            case 16:
                guard index > 0 else { throw .malformed("code length repeat with no previous length") }
                value = lengths[index - 1]
                repeatCount = 3 + (try bits(2))
            case 17:
                repeatCount = 3 + (try bits(3))
            default:
                repeatCount = 11 + (try bits(7))
            }
            guard total - index >= repeatCount else { throw .malformed("code length repeat past the end of the code lengths") }
            for offset in index..<(index + repeatCount) {
                lengths[offset] = value
            }
            index += repeatCount
        }
        guard lengths[256] != 0 else { throw .malformed("missing end-of-block code") }
        try lengths.withUnsafeBufferPointer { (lengths) throws(InflateFailure) in
            try Self.buildTable(UnsafeBufferPointer(rebasing: lengths[0..<literalCount]), info: Self.litInfo, root: Self.litRoot, into: &litTable, name: "literal/length")
            try Self.buildTable(UnsafeBufferPointer(rebasing: lengths[literalCount..<total]), info: Self.distInfo, root: Self.distRoot, into: &distTable, name: "distance")
        }
    }

    /// Decodes one block's symbols with `litTable` and `distTable`.
    private mutating func huffmanBlock() throws(InflateFailure) {
        let litTable = self.litTable
        let distTable = self.distTable
        try litTable.withUnsafeBufferPointer { (lit) throws(InflateFailure) in
            try distTable.withUnsafeBufferPointer { (dist) throws(InflateFailure) in
                try decodeSymbols(lit: lit, dist: dist)
            }
        }
    }

    private mutating func decodeSymbols(lit: UnsafeBufferPointer<UInt32>, dist: UnsafeBufferPointer<UInt32>) throws(InflateFailure) {
        let litMask: UInt64 = (1 << UInt64(Self.litRoot)) - 1
        let distMask: UInt64 = (1 << UInt64(Self.distRoot)) - 1
        let output = self.output
        let limit = self.limit
        let input = self.input
        // The hot state lives in locals and is stored back on every exit.
        var written = self.written
        var bitBuffer = self.bitBuffer
        var bitCount = self.bitCount
        var position = self.position
        var phantomBits = self.phantomBits
        defer {
            self.written = written
            self.bitBuffer = bitBuffer
            self.bitCount = bitCount
            self.position = position
            self.phantomBits = phantomBits
        }

        while true {
            // 56 bits cover the longest symbol: 15 + 5 length bits, 15 + 13 distance bits.
            if input.count &- position >= 8 {
                let word = UInt64(littleEndian: input.loadUnaligned(fromByteOffset: position, as: UInt64.self))
                bitBuffer |= word &<< UInt64(bitCount)
                position &+= (63 &- bitCount) &>> 3
                bitCount |= 56
            } else {
                while bitCount <= 56 {
                    if position < input.count {
                        bitBuffer |= UInt64(input[position]) &<< UInt64(bitCount)
                        position += 1
                    } else {
                        phantomBits += 8
                    }
                    bitCount += 8
                }
            }
            var entry = lit[Int(truncatingIfNeeded: bitBuffer & litMask)]
            if entry & (Self.tagSubtable << 8) != 0 {
                bitBuffer &>>= UInt64(Self.litRoot)
                bitCount &-= Self.litRoot
                let mask: UInt64 = (1 &<< UInt64(entry & 0xFF)) &- 1
                entry = lit[Int(truncatingIfNeeded: entry >> 16) &+ Int(truncatingIfNeeded: bitBuffer & mask)]
            }
            let tag = (entry >> 8) & 0xFF
            let used = Int(truncatingIfNeeded: entry & 0xFF)
            bitBuffer &>>= UInt64(used)
            bitCount &-= used
            if tag >= Self.tagSubtable { throw phantomBits > bitCount ? .truncated : .malformed("invalid literal/length code") }
            if tag == Self.tagLiteral {
                if phantomBits > bitCount { throw .truncated }
                guard written < limit else { throw .outputLimit }
                output[written] = UInt8(truncatingIfNeeded: entry >> 16)
                written &+= 1
                continue
            }
            if tag == Self.tagEnd {
                if phantomBits > bitCount { throw .truncated }
                return
            }
            // A length, then a distance.
            let lengthExtra = UInt64(tag &- Self.tagLength)
            let length = Int(truncatingIfNeeded: entry >> 16) &+ Int(truncatingIfNeeded: bitBuffer & ((1 &<< lengthExtra) &- 1))
            bitBuffer &>>= lengthExtra
            bitCount &-= Int(truncatingIfNeeded: lengthExtra)

            entry = dist[Int(truncatingIfNeeded: bitBuffer & distMask)]
            if entry & (Self.tagSubtable << 8) != 0 {
                bitBuffer &>>= UInt64(Self.distRoot)
                bitCount &-= Self.distRoot
                let mask: UInt64 = (1 &<< UInt64(entry & 0xFF)) &- 1
                entry = dist[Int(truncatingIfNeeded: entry >> 16) &+ Int(truncatingIfNeeded: bitBuffer & mask)]
            }
            let distTag = (entry >> 8) & 0xFF
            let distUsed = Int(truncatingIfNeeded: entry & 0xFF)
            bitBuffer &>>= UInt64(distUsed)
            bitCount &-= distUsed
            if distTag >= Self.tagSubtable { throw phantomBits > bitCount ? .truncated : .malformed("invalid distance code") }
            let distExtra = UInt64(distTag)
            let distance = Int(truncatingIfNeeded: entry >> 16) &+ Int(truncatingIfNeeded: bitBuffer & ((1 &<< distExtra) &- 1))
            bitBuffer &>>= distExtra
            bitCount &-= Int(truncatingIfNeeded: distExtra)
            if phantomBits > bitCount { throw .truncated }

            guard distance <= written else { throw .malformed("distance too far back") }
            guard limit &- written >= length else { throw .outputLimit }
            var target = output + written
            var source = target - distance
            written &+= length
            if distance >= 8 {
                // Eight bytes at a time: each load only reads bytes already written, and the
                // last store may spill into the slack past `limit`.
                var from = UnsafeRawPointer(source)
                var to = UnsafeMutableRawPointer(target)
                let end = to + length
                repeat {
                    to.storeBytes(of: from.loadUnaligned(as: UInt64.self), as: UInt64.self)
                    from += 8
                    to += 8
                } while to < end
            } else if distance == 1 {
                target.update(repeating: source.pointee, count: length)
            } else {
                // Overlapping copies repeat the last `distance` bytes, so go byte by byte.
                let end = target + length
                while target < end {
                    target.pointee = source.pointee
                    target += 1
                    source += 1
                }
            }
        }
    }

    // MARK: Tables

    /// Builds the decoding table of the canonical Huffman code with these code `lengths`.
    ///
    /// Like zlib, an incomplete code is only allowed when it is a single one-bit code (a block may
    /// use just one distance); a code with no symbols gives a table of invalid entries.
    static func buildTable(
        _ lengths: UnsafeBufferPointer<UInt8>, info: [UInt32], root: Int, into table: inout [UInt32], name: String
    ) throws(InflateFailure) {
        // Scratch space on the stack: counts per length, the counts not yet placed, offsets per
        // length, and the symbols in canonical order.
        try withUnsafeTemporaryAllocation(of: Int.self, capacity: 48 + lengths.count) { (scratch) throws(InflateFailure) in
            scratch.initialize(repeating: 0)
            let count = UnsafeMutableBufferPointer(rebasing: scratch[0..<16])
            let remaining = UnsafeMutableBufferPointer(rebasing: scratch[16..<32])
            let offsets = UnsafeMutableBufferPointer(rebasing: scratch[32..<48])
            let sorted = UnsafeMutableBufferPointer(rebasing: scratch[48...])

            for length in lengths {
                count[Int(length)] &+= 1
            }
            count[0] = 0
            var maxLength = 15
            while maxLength > 0, count[maxLength] == 0 {
                maxLength -= 1
            }
            var left = 1
            for length in 1...15 {
                left <<= 1
                left -= count[length]
                if left < 0 { throw .malformed("invalid \(name) code lengths (over-subscribed)") }
            }
            if left > 0, maxLength != 0, root == codeLengthRoot || maxLength != 1 {
                throw .malformed("invalid \(name) code lengths (incomplete code)")
            }

            // The root table, reusing the storage of the last one. A complete code overwrites
            // every slot; otherwise the slots no code reaches must be invalid.
            let rootSize = 1 << root
            if table.count > rootSize {
                table.removeLast(table.count - rootSize)
            } else if table.count < rootSize {
                table.append(contentsOf: repeatElement(invalidEntry | UInt32(root), count: rootSize - table.count))
            }
            if left > 0 {
                table.withUnsafeMutableBufferPointer { $0.update(repeating: invalidEntry | UInt32(root)) }
            }
            if maxLength == 0 { return }

            for length in 1..<15 {
                offsets[length + 1] = offsets[length] + count[length]
            }
            for symbol in 0..<lengths.count where lengths[symbol] != 0 {
                let length = Int(lengths[symbol])
                sorted[offsets[length]] = symbol
                offsets[length] += 1
            }
            for length in 0..<16 {
                remaining[length] = count[length]
            }

            var code = 0
            var index = 0
            var currentPrefix = -1
            var subtableOffset = 0
            var subtableBits = 0
            for length in 1...maxLength {
                for _ in 0..<count[length] {
                    let entryInfo = info[sorted[index]]
                    index += 1
                    if length <= root {
                        var slot = reversed(code, length)
                        while slot < rootSize {
                            table[slot] = entryInfo | UInt32(length)
                            slot += 1 << length
                        }
                    } else {
                        let drop = length - root
                        let prefix = reversed(code >> drop, root)
                        if prefix != currentPrefix {
                            // The subtable must hold every code sharing this prefix: find the
                            // shortest width that the remaining codes fill.
                            var bits = drop
                            var space = 1 << bits
                            while bits + root < maxLength {
                                space -= remaining[bits + root]
                                if space <= 0 { break }
                                bits += 1
                                space <<= 1
                            }
                            currentPrefix = prefix
                            subtableBits = bits
                            subtableOffset = table.count
                            table.append(contentsOf: repeatElement(invalidEntry | UInt32(bits), count: 1 << bits))
                            table[prefix] = UInt32(subtableOffset) << 16 | tagSubtable << 8 | UInt32(bits)
                        }
                        var slot = reversed(code & ((1 << drop) - 1), drop)
                        while slot < 1 << subtableBits {
                            table[subtableOffset + slot] = entryInfo | UInt32(drop)
                            slot += 1 << drop
                        }
                    }
                    remaining[length] -= 1
                    code += 1
                }
                code <<= 1
            }
        }
    }

    /// The low `count` bits of `code`, reversed.
    private static func reversed(_ code: Int, _ count: Int) -> Int {
        var code = code
        var result = 0
        for _ in 0..<count {
            result = result << 1 | code & 1
            code >>= 1
        }
        return result
    }
}
