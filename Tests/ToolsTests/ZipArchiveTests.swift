import Testing
import Archive

/// Archives made with Python's `zipfile` (the script that made them is summarised next to each),
/// plus archives and DEFLATE streams built here in code.
@Suite("ZipArchive")
struct ZipArchiveTests {
    // MARK: Fixtures from Python

    /// `pdf-tools/` (dir, 0o40755), `pdf-tools/SKILL.md` (deflated, dynamic Huffman),
    /// `pdf-tools/scripts/` (dir), `pdf-tools/scripts/run.sh` (stored, 0o100755),
    /// `pdf-tools/reference.md` (deflated, dynamic Huffman, `referenceText()`),
    /// `pdf-tools/noise.bin` (200 random bytes, deflated as a stored block),
    /// `pdf-tools/empty.txt` (deflated, fixed Huffman), `pdf-tools/VERSION` (deflated, fixed
    /// Huffman with a back-reference); archive comment "made by gen.py". The directories are
    /// "deflated" too (2 bytes of data each), which the reader ignores.
    static let skillArchive = """
        UEsDBBQAAAAIAIMYIloAAAAAAgAAAAAAAAAKAAAAcGRmLXRvb2xzLwMAUEsDBBQAAAAIAIMYIlpkwQA3cAAAAI8AAAASAAAAcGRm
        LXRvb2xzL1NLSUxMLm1kNc2xCsMwDATQXV9x0FnunrntXPoFcWOZGBLZ2DLk82sSOt5xvGNmUr/LhBIiW85boyBtqalYyjrheVj1
        i8HkMHgNMP/dpCHWvOP9eCGmER3xgOh2NpdCn66YL6nda1fXViQt3dy4mscK8rdXOX1HP1BLAwQUAAAACACDGCJaAAAAAAIAAAAA
        AAAAEgAAAHBkZi10b29scy9zY3JpcHRzLwMAUEsDBBQAAAAAAIMYIlodAL5yOQAAADkAAAAYAAAAcGRmLXRvb2xzL3NjcmlwdHMv
        cnVuLnNoIyEvYmluL3NoCmV4ZWMgcHl0aG9uMyAiJChkaXJuYW1lICIkMCIpL2V4dHJhY3QucHkiICIkQCIKUEsDBBQAAAAIAIMY
        IlpczM2rWQUAAEwYAAAWAAAAcGRmLXRvb2xzL3JlZmVyZW5jZS5tZHWYwXIbRwxE7/gKfsI0MMAM+DdM2RW7IsWqinPx16fHlJ2D
        ei8rloa72m2R/d5g3G+Pl7cvj/fjp88v3x+3Ybjfvn/5zJd/nMPXbzw02vx++/Px+vq4fX775+vLt7+fyzu2xf321+Pt7fF+PL9e
        uWzef7/118/Xf2+1yvJ+Xv08/9dKdlrdf577vJvntRLT1v351p+H5y3MCNv35739usLzniPd+v7+LM9rPK/nC4Zxv708Xv/49P9Z
        P85JaD41H/vH7z/z/i6MNriKybchRFBzGaZOqsqQIqqdhpJZrTEN62NY5WHYIq3phhZxFcyHzmsPc8jAmv9z14E5tnmowGKZTxVY
        lnmKwFaalw6sp/n6GNhGmG8dWLh5i8ASFkMEtoYFRGC7LVwGNgc/8KECC18W8yKwWRapAqu0KBXYnhbrY2BhsWVc7W7RIq4Jm0PH
        VcMmRFyrbbqIq7fN+BhXgt/2qeOKspkyrkybdRHXmjaXiqvD5lZxAW6zRV6wHDqwHJYQgVVbug5sb8v4GNgay3J+DKycZZcisJmW
        pQOrablkYDsstw4shlu2CMwdVkMGNoeV6PpsK931vbaVKPvdy0q3/UZZibpfwboXfV85rUTh5wor3fiz3UpW/gRsXVR+xLClKt9n
        25KVj9q2ROfvZUtXftkShd+etnTh70ncicJfFbZE4dd2W6Lwa8C2Lvz0YVsW/oy2fVH4kdu2Knxfy7YsfHTZFo0PpG3d+DFti8Lv
        JO114e/ltkXhr4a1KPyFYS0Kv7ytdeHn3Nay8Gct64vCj13WqvBjpLUsfPdpLRofM6x15xdlR1R+7+M6uvN70HWGKP1Nx8MQrb+o
        eBii9ouSh6F7P6l5GLL4J1UP46L5J4UPQ1V/0PkwZPc7pY+qJqI70oeL+j/OJ+qfKUC3fx/pg6j/fawPov/XcT4IANSRPmgC1LE+
        SATkET9cMGAe+4OCQND/4JICTv+DCwygj/pqEPAWuCZIQPuDaxI0BRAuULBpgHDBgkX/gwsYLAogXNOgaIBwiYOkBCIueDBpgggF
        hKALIiQRYpxdgECCUwURGgqgCiIEF2iCCM2FpgwiBBh6MIoQZNi0QYRAw6IOYmo2FH0QU8IhqYSYF3SY9EJMhYeJsx+SfAiaIaYA
        hFMMMTUhQDHEVIxgDlMzgmKIKRjRVEOkgMSmGCIFJRbNEKkxUVRDpORE0Q6RF6BIP9tCRYpJSURKVAQlESlY4XREpIaF0xGRAhf8
        /nMHqnFBSUQJWjQ1ESVosSmJKEGLRUtEaVosaiJK0qLibI8vaJHURZSixaQwoiQtgsKIklsF5rA0LZy+iCVwwY8WFzQwKIxYghdN
        ZcQSvOjBHJbgxaYzYmlerHmmBJIXRW/EuuBFUh6xFC+S+ogteTGpj9iCF0F7xNa8cNojtuAFb5sLF8BgFFvwgvqILXDRtEdsgYud
        Z1qicbHoj9gSF0WFRF/gouiRaIWLpEmiJS4mTRItcBEUSbTGhVMk0QIXTpFEa14QwlwTvKBKogUuus7kSOBi7zM60rjYVEkfEhfr
        DAzHBS6KQulD4SJplD4kLiaF0ofARVAnfVxsKGiTPgQunDLp44IXtEkfalPBKCB40X1maIIXPZgCNC82ZdIhebGok44LXhSV0qF4
        kXRKh+RFUikdgheTQunQvAj6pEPwws840TUvcOaJroBxpomCF2eS6AIXfSaJrnGxzzDRJS7WmSf6BS7qTBRd4aLOTNElLvLMFF3g
        YtInPTQugjrpIXDhtEkPjQt+ILkmeEEL5oLgBVXSQ+Ci6ZIeGhebLukhcbFpkx4XuFg0Sg+Fi6JS/gdQSwMEFAAAAAgAgxgiWpqB
        7L7NAAAAyAAAABMAAABwZGYtdG9vbHMvbm9pc2UuYmluAcgAN/9S8iZlpgwS0okYXZUO6IE2CRZvaxE9F41sD9OQH/I5oaCV8g+T
        lWUM+TgLjtsiSmskih6STo/Qri4alJKjMF8YjLYQkA+eNH+uiG3GUHeV7HRcTD/LLrLHPhSTTIZ+4Fe6ckmb+hIeg2sqwVcm7n1r
        CvarE8OOksrg0VBXsVmYf5TMdBHXF/FFebKqEA+7s0+lk/6u0nJIt2Ljq1gF8HZaK5wdfg83xEkhvT9lZOrffxQqcmaMR+Ij0W7d
        jEe0avxbruJh9TsmFVBLAwQUAAAACACDGCJaAAAAAAIAAAAAAAAAEwAAAHBkZi10b29scy9lbXB0eS50eHQDAFBLAwQUAAAACACD
        GCJao0ku/A0AAAAOAAAAEQAAAHBkZi10b29scy9WRVJTSU9OM9Qz0DNQ0DAEUZpcAFBLAQIUAxQAAAAIAIMYIloAAAAAAgAAAAAA
        AAAKAAAAAAAAAAAAEADtQQAAAABwZGYtdG9vbHMvUEsBAhQDFAAAAAgAgxgiWmTBADdwAAAAjwAAABIAAAAAAAAAAAAAAKSBKgAA
        AHBkZi10b29scy9TS0lMTC5tZFBLAQIUAxQAAAAIAIMYIloAAAAAAgAAAAAAAAASAAAAAAAAAAAAEADtQcoAAABwZGYtdG9vbHMv
        c2NyaXB0cy9QSwECFAMUAAAAAACDGCJaHQC+cjkAAAA5AAAAGAAAAAAAAAAAAAAA7YH8AAAAcGRmLXRvb2xzL3NjcmlwdHMvcnVu
        LnNoUEsBAhQDFAAAAAgAgxgiWlzMzatZBQAATBgAABYAAAAAAAAAAAAAAKSBawEAAHBkZi10b29scy9yZWZlcmVuY2UubWRQSwEC
        FAMUAAAACACDGCJamoHsvs0AAADIAAAAEwAAAAAAAAAAAAAApIH4BgAAcGRmLXRvb2xzL25vaXNlLmJpblBLAQIUAxQAAAAIAIMY
        IloAAAAAAgAAAAAAAAATAAAAAAAAAAAAAACkgfYHAABwZGYtdG9vbHMvZW1wdHkudHh0UEsBAhQDFAAAAAgAgxgiWqNJLvwNAAAA
        DgAAABEAAAAAAAAAAAAAAKSBKQgAAHBkZi10b29scy9WRVJTSU9OUEsFBgAAAAAIAAgAAwIAAGUIAAAOAG1hZGUgYnkgZ2VuLnB5
        """

    /// One entry, `../evil`.
    static let dotDotArchive = """
        UEsDBBQAAAAIAIMYIlp6zT+3BwAAAAUAAAAHAAAALi4vZXZpbEsty8zhAgBQSwECFAMUAAAACACDGCJaes0/twcAAAAFAAAABwAA
        AAAAAAAAAAAApIEAAAAALi4vZXZpbFBLBQYAAAAAAQABADUAAAAsAAAAAAA=
        """

    /// One entry, `/etc/evil`.
    static let absoluteArchive = """
        UEsDBBQAAAAIAIMYIlp6zT+3BwAAAAUAAAAJAAAAL2V0Yy9ldmlsSy3LzOECAFBLAQIUAxQAAAAIAIMYIlp6zT+3BwAAAAUAAAAJ
        AAAAAAAAAAAAAACkgQAAAAAvZXRjL2V2aWxQSwUGAAAAAAEAAQA3AAAALgAAAAAA
        """

    /// `skill/link`, a symbolic link (mode 0o120777) to /etc/passwd.
    static let symlinkArchive = """
        UEsDBBQAAAAAAIMYIloKuR8pCwAAAAsAAAAKAAAAc2tpbGwvbGluay9ldGMvcGFzc3dkUEsBAhQDFAAAAAAAgxgiWgq5HykLAAAA
        CwAAAAoAAAAAAAAAAAAAAP+hAAAAAHNraWxsL2xpbmtQSwUGAAAAAAEAAQA4AAAAMwAAAAAA
        """

    /// `secret.txt`, stored, with the encryption flag set in both headers.
    static let encryptedArchive = """
        UEsDBBQAAQAAAIMYIloRA8JzCwAAAAsAAAAKAAAAc2VjcmV0LnR4dHRvcCBzZWNyZXQKUEsBAhQDFAABAAAAgxgiWhEDwnMLAAAA
        CwAAAAoAAAAAAAAAAAAAAKSBAAAAAHNlY3JldC50eHRQSwUGAAAAAAEAAQA4AAAAMwAAAAAA
        """

    /// `hello.txt`, stored, with its first byte changed after the CRC was computed.
    static let badCRCArchive = """
        UEsDBBQAAAAAAIMYIlpTdCT0DQAAAA0AAAAJAAAAaGVsbG8udHh0SGVsbG8sIHdvcmxkClBLAQIUAxQAAAAAAIMYIlpTdCT0DQAA
        AA0AAAAJAAAAAAAAAAAAAACkgQAAAABoZWxsby50eHRQSwUGAAAAAAEAAQA3AAAANAAAAAAA
        """

    static let skillMarkdown = """
        ---
        name: pdf-tools
        description: Extract text and tables from PDF files.
        ---

        # PDF tools

        Run `scripts/run.sh input.pdf` to extract the text.

        """

    /// The contents of `pdf-tools/reference.md`, as gen.py made them.
    static func referenceText() -> [UInt8] {
        let words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu"]
        var text = ""
        for i in 0..<240 {
            text += "\(i): \(words[(i * 7) % 12]) \(words[(i * i) % 12]) \(words[(i * 5 + 3) % 12]) \((i * 7919) % 1000)\n"
        }
        return Array(text.utf8)
    }

    // MARK: Valid archives

    @Test func readsASkillArchive() throws {
        let entries = try ZipArchive.read(base64(Self.skillArchive))
        #expect(entries.map(\.path) == [
            "pdf-tools", "pdf-tools/SKILL.md", "pdf-tools/scripts", "pdf-tools/scripts/run.sh",
            "pdf-tools/reference.md", "pdf-tools/noise.bin", "pdf-tools/empty.txt", "pdf-tools/VERSION",
        ])
        #expect(entries.map(\.isDirectory) == [true, false, true, false, false, false, false, false])
        #expect(entries.map(\.mode) == [0o40755, 0o100644, 0o40755, 0o100755, 0o100644, 0o100644, 0o100644, 0o100644])
        let files = Dictionary(uniqueKeysWithValues: entries.map { ($0.path, $0.data) })
        #expect(files["pdf-tools"] == [])
        #expect(files["pdf-tools/SKILL.md"] == Array(Self.skillMarkdown.utf8))
        #expect(files["pdf-tools/scripts/run.sh"] == Array("#!/bin/sh\nexec python3 \"$(dirname \"$0\")/extract.py\" \"$@\"\n".utf8))
        #expect(files["pdf-tools/reference.md"] == Self.referenceText())
        #expect(files["pdf-tools/noise.bin"]?.count == 200)
        #expect(files["pdf-tools/noise.bin"].map(ZipArchive.crc32) == 0xBEEC_819A)
        #expect(files["pdf-tools/empty.txt"] == [])
        #expect(files["pdf-tools/VERSION"] == Array("1.0.0 (1.0.0)\n".utf8))
    }

    @Test func readsAnEmptyArchive() throws {
        // Just an end of central directory record, as `zipfile` writes for no entries.
        #expect(try ZipArchive.read(base64("UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==")).isEmpty)
        #expect(try ZipArchive.read(TestZip.archive([], comment: Array("comment".utf8))).isEmpty)
    }

    @Test func computesCRC32() {
        #expect(ZipArchive.crc32([]) == 0)
        #expect(ZipArchive.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(ZipArchive.crc32(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
    }

    /// A megabyte or so of fixed-Huffman and stored blocks with every length and far distances,
    /// checked against the output the encoder meant.
    @Test func inflatesALargeStreamBuiltInCode() throws {
        var random = ZipTestRandom(seed: 1951)
        let (stream, expected) = TestDeflate.randomStream(outputSize: 1 << 20, random: &random)
        let archive = TestZip.archive([
            TestZip.Entry(name: "big.bin", method: 8, data: stream, crc: ZipArchive.crc32(expected), size: expected.count),
        ])
        let entries = try ZipArchive.read(archive)
        #expect(entries.count == 1)
        #expect(entries.first?.data == expected)
    }

    /// A dynamic block whose codes are as long as DEFLATE allows (15 bits), which the decoder
    /// resolves through its second-level tables.
    @Test func inflatesLongCodes() throws {
        // Complete codes shaped like a chain: lengths 1, 2, ..., 14, 15, 15.
        var litLengths = [Int](repeating: 0, count: 259)
        for (index, symbol) in [97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 257, 256, 258].enumerated() {
            litLengths[symbol] = min(index + 1, 15)
        }
        let distLengths = (0..<16).map { min($0 + 1, 15) }

        var random = ZipTestRandom(seed: 15)
        var tokens: [TestDeflate.Token] = []
        var expected: [UInt8] = []
        for index in 0..<3000 {
            if index < 300 || Bool.random(using: &random) {
                let byte = UInt8.random(in: 97...109, using: &random)
                tokens.append(.literal(byte))
                expected.append(byte)
            } else {
                let length = Int.random(in: 3...4, using: &random)
                let code = Int.random(in: 0..<16, using: &random)
                let distance = TestDeflate.distanceBases[code] + Int.random(in: 0..<(1 << TestDeflate.distanceExtra[code]), using: &random)
                tokens.append(.match(length: length, distance: distance))
                for _ in 0..<length {
                    expected.append(expected[expected.count - distance])
                }
            }
        }
        var writer = TestDeflate.BitWriter()
        TestDeflate.writeDynamicBlock(&writer, final: true, litLengths: litLengths, distLengths: distLengths, tokens: tokens)
        let archive = TestZip.archive([
            TestZip.Entry(name: "long.txt", method: 8, data: writer.finish(), crc: ZipArchive.crc32(expected), size: expected.count),
        ])
        #expect(try ZipArchive.read(archive).first?.data == expected)
    }

    // MARK: Rejected archives

    @Test func rejectsAParentComponent() {
        #expect(failure(base64(Self.dotDotArchive)) == "ZIP entry '../evil' escapes the archive root")
    }

    @Test func rejectsAnAbsolutePath() {
        #expect(failure(base64(Self.absoluteArchive)) == "ZIP entry '/etc/evil' has an absolute path")
    }

    @Test func rejectsASymbolicLink() {
        #expect(failure(base64(Self.symlinkArchive)) == "ZIP entry 'skill/link' is a symbolic link, which is not supported")
    }

    @Test func rejectsAnEncryptedEntry() {
        #expect(failure(base64(Self.encryptedArchive)) == "ZIP entry 'secret.txt' is encrypted, which is not supported")
    }

    @Test func rejectsABadCRC() {
        #expect(failure(base64(Self.badCRCArchive)) == "ZIP entry 'hello.txt' is corrupt (CRC-32 mismatch)")
    }

    @Test func rejectsATruncatedArchive() {
        let archive = base64(Self.skillArchive)
        for length in 0..<archive.count {
            #expect(failure(Array(archive.prefix(length))) != nil, "prefix of \(length) bytes")
        }
        #expect(failure([]) == "the ZIP archive is empty (0 bytes)")
        #expect(failure(Array(archive.prefix(1000))) == "the data is not a ZIP archive, or it is truncated (no end of central directory record)")
        #expect(failure(Array("not a zip file at all, not at all".utf8)) == "the data is not a ZIP archive, or it is truncated (no end of central directory record)")
    }

    @Test func rejectsTruncatedCompressedData() {
        var random = ZipTestRandom(seed: 7)
        let (stream, expected) = TestDeflate.randomStream(outputSize: 50_000, random: &random)
        for cut in [1, 2, 10, stream.count / 2, stream.count - 1] {
            let archive = TestZip.archive([
                TestZip.Entry(name: "cut.bin", method: 8, data: Array(stream.prefix(cut)), crc: ZipArchive.crc32(expected), size: expected.count),
            ])
            #expect(failure(archive) == "ZIP entry 'cut.bin' is corrupt (its compressed data is truncated)", "cut at \(cut)")
        }
    }

    @Test func rejectsZipBombs() {
        // 20 MB of zeros: one literal, then copies of 258 bytes at distance 1 (about 130 KB).
        let zeros = TestDeflate.zeros(count: 1 + 258 * 81_300)
        let size = 1 + 258 * 81_300
        let honest = TestZip.archive([TestZip.Entry(name: "zeros.bin", method: 8, data: zeros, crc: 0, size: size)])
        #expect(failure(honest) == "ZIP entry 'zeros.bin' is too large (20975401 bytes uncompressed; the limit is 16777216)")
        #expect(failure(honest, limits: ZipLimits(maxEntryUncompressed: 1 << 20)) == "ZIP entry 'zeros.bin' is too large (20975401 bytes uncompressed; the limit is 1048576)")

        // Declared sizes are not trusted: inflating stops at the declared size.
        let lying = TestZip.archive([TestZip.Entry(name: "zeros.bin", method: 8, data: zeros, crc: 0, size: 1000)])
        #expect(failure(lying) == "ZIP entry 'zeros.bin' is corrupt (it decompresses to more than the 1000 bytes declared)")

        // Many entries that are each allowed add up to too much.
        let small = TestDeflate.zeros(count: 1 + 258 * 4_000)
        let many = TestZip.archive((0..<10).map {
            TestZip.Entry(name: "zeros\($0).bin", method: 8, data: small, crc: 0, size: 1 + 258 * 4_000)
        })
        #expect(failure(many, limits: ZipLimits(maxTotalUncompressed: 5_000_000)) == "the ZIP archive is too large uncompressed (more than the limit of 5000000 bytes)")
    }

    @Test func readsZerosWithinTheLimits() throws {
        let size = 1 + 258 * 4_000
        let expected = [UInt8](repeating: 0, count: size)
        let archive = TestZip.archive([
            TestZip.Entry(name: "zeros.bin", method: 8, data: TestDeflate.zeros(count: size), crc: ZipArchive.crc32(expected), size: size),
        ])
        #expect(try ZipArchive.read(archive).first?.data == expected)
        // Declaring more than the stream holds is also caught.
        let short = TestZip.archive([
            TestZip.Entry(name: "zeros.bin", method: 8, data: TestDeflate.zeros(count: size), crc: ZipArchive.crc32(expected), size: size + 1),
        ])
        #expect(failure(short) == "ZIP entry 'zeros.bin' is corrupt (it decompresses to 1032001 bytes, but 1032002 were declared)")
    }

    @Test func rejectsTooManyEntries() throws {
        let entries = (0...1000).map { TestZip.Entry(stored: "file\($0).txt", Array("\($0)".utf8)) }
        #expect(failure(TestZip.archive(entries)) == "the ZIP archive has too many entries (1001; the limit is 1000)")
        #expect(try ZipArchive.read(TestZip.archive(Array(entries.prefix(1000)))).count == 1000)
        #expect(failure(base64(Self.skillArchive), limits: ZipLimits(maxEntries: 7)) == "the ZIP archive has too many entries (8; the limit is 7)")
    }

    @Test(arguments: [
        ("a/../../b", "ZIP entry 'a/../../b' escapes the archive root"),
        ("..", "ZIP entry '..' escapes the archive root"),
        ("../", "ZIP entry '../' escapes the archive root"),
        ("/", "ZIP entry '/' has an absolute path"),
        ("a\\b.txt", "ZIP entry 'a\\b.txt' has a backslash in its name; paths must use '/'"),
        ("..\\evil", "ZIP entry '..\\evil' has a backslash in its name; paths must use '/'"),
        ("a//b", "ZIP entry 'a//b' has an empty path component"),
        ("a/b//", "ZIP entry 'a/b//' has an empty path component"),
        ("./a", "ZIP entry './a' has a '.' path component"),
        ("a/./b", "ZIP entry 'a/./b' has a '.' path component"),
        ("a\u{0}b", "ZIP entry 'a?b' has a NUL character in its name"),
        ("a\nb", "ZIP entry 'a?b' has a control character in its name"),
    ])
    func rejectsUnsafePaths(name: String, message: String) {
        #expect(failure(TestZip.archive([TestZip.Entry(stored: name, [])])) == message)
    }

    @Test func rejectsBadNames() throws {
        #expect(failure(TestZip.archive([TestZip.Entry(stored: "", [])])) == "ZIP entry #1 has an empty name")
        var invalid = TestZip.Entry(stored: "x", [])
        invalid.name = [0x66, 0xFF, 0x6F]
        #expect(failure(TestZip.archive([invalid])) == "ZIP entry 'f\u{FFFD}o' has a name that is not valid UTF-8")
        let long = String(repeating: "a", count: 1025)
        #expect(failure(TestZip.archive([TestZip.Entry(stored: long, [])]))?.hasSuffix("has a name that is too long (1025 bytes; the limit is 1024)") == true)
        #expect(try ZipArchive.read(TestZip.archive([TestZip.Entry(stored: String(long.dropLast()), [])])).count == 1)
    }

    @Test func rejectsDuplicatesAndConflicts() {
        let twice = TestZip.archive([TestZip.Entry(stored: "a.txt", [1]), TestZip.Entry(stored: "a.txt", [2])])
        #expect(failure(twice) == "ZIP entry 'a.txt' appears more than once in the archive")
        let fileAndDirectory = TestZip.archive([TestZip.Entry(stored: "a", [1]), TestZip.Entry(stored: "a/", [])])
        #expect(failure(fileAndDirectory) == "ZIP entry 'a/' appears more than once in the archive")
        let insideFile = TestZip.archive([TestZip.Entry(stored: "a", [1]), TestZip.Entry(stored: "a/b/c", [2])])
        #expect(failure(insideFile) == "ZIP entry 'a/b/c' is inside 'a', which is a file")
        var directoryWithData = TestZip.Entry(stored: "d/", [1, 2, 3])
        directoryWithData.externalAttributes = 0o40755 << 16
        #expect(failure(TestZip.archive([directoryWithData])) == "ZIP entry 'd/' is a directory but has contents")
    }

    @Test func readsModes() throws {
        var executable = TestZip.Entry(stored: "bin/tool", [1])
        executable.externalAttributes = 0o100755 << 16
        var directory = TestZip.Entry(stored: "bin", [])
        directory.externalAttributes = 0o40755 << 16
        var dos = TestZip.Entry(stored: "readme.txt", [2])
        dos.versionMadeBy = 20  // MS-DOS
        dos.externalAttributes = 0x20
        let entries = try ZipArchive.read(TestZip.archive([directory, executable, dos]))
        #expect(entries.map(\.path) == ["bin", "bin/tool", "readme.txt"])
        #expect(entries.map(\.isDirectory) == [true, false, false])
        #expect(entries.map(\.mode) == [0o40755, 0o100755, nil])

        var fifo = TestZip.Entry(stored: "pipe", [])
        fifo.externalAttributes = 0o010644 << 16
        #expect(failure(TestZip.archive([fifo])) == "ZIP entry 'pipe' is a special file (device, FIFO or socket), which is not supported")
    }

    @Test func keepsUnicodeNames() throws {
        let entries = try ZipArchive.read(TestZip.archive([
            TestZip.Entry(stored: "ünïcödé/ファイル.md", Array("# hi\n".utf8)),
            // U+0600 makes one grapheme cluster with the "/" after it: paths are split by bytes.
            TestZip.Entry(stored: "\u{600}/", []),
            TestZip.Entry(stored: "\u{600}/x", [1]),
        ]))
        #expect(entries.map(\.path) == ["ünïcödé/ファイル.md", "\u{600}", "\u{600}/x"])
        #expect(entries.map(\.isDirectory) == [false, true, false])
        let insideFile = TestZip.archive([TestZip.Entry(stored: "\u{600}", [1]), TestZip.Entry(stored: "\u{600}/x", [2])])
        #expect(failure(insideFile) == "ZIP entry '\u{600}/x' is inside '\u{600}', which is a file")
    }

    @Test func rejectsUnsupportedFeatures() {
        var bzip2 = TestZip.Entry(stored: "a.txt", [1])
        bzip2.method = 12
        #expect(failure(TestZip.archive([bzip2])) == "ZIP entry 'a.txt' uses an unsupported compression method (bzip2 (12)); only stored and deflate are supported")

        let archive = TestZip.archive([TestZip.Entry(stored: "a.txt", [1])])
        let eocd = archive.count - 22
        var zip64 = archive
        zip64.replaceSubrange((eocd + 8)..<(eocd + 12), with: [0xFF, 0xFF, 0xFF, 0xFF])
        #expect(failure(zip64) == "ZIP64 archives are not supported")
        var multiDisk = archive
        multiDisk[eocd + 4] = 1
        #expect(failure(multiDisk) == "multi-disk (split or spanned) ZIP archives are not supported")
        var lyingStoredSize = TestZip.Entry(stored: "a.txt", [1, 2, 3])
        lyingStoredSize.size = 2
        #expect(failure(TestZip.archive([lyingStoredSize])) == "ZIP entry 'a.txt' is corrupt (stored entry with different compressed and uncompressed sizes)")
    }

    @Test func rejectsBadOffsets() {
        // Two names for the same data: overlapping entries.
        var second = TestZip.Entry(stored: "b.txt", [1])
        second.localHeaderOffset = 0
        #expect(failure(TestZip.archive([TestZip.Entry(stored: "a.txt", [1]), second])) == "ZIP entries 'a.txt' and 'b.txt' overlap, which is not allowed")
        // A local header past the data, and data running into the central directory.
        var outside = TestZip.Entry(stored: "a.txt", [1])
        outside.localHeaderOffset = 5000
        #expect(failure(TestZip.archive([outside])) == "ZIP entry 'a.txt' is corrupt (its local header is missing or outside the archive)")
        var long = TestZip.Entry(stored: "a.txt", [1])
        long.compressedSize = 100
        long.size = 100
        #expect(failure(TestZip.archive([long])) == "ZIP entry 'a.txt' is corrupt or truncated (its data lies outside the archive)")
        // A central directory past the end of the data.
        var archive = TestZip.archive([TestZip.Entry(stored: "a.txt", [1])])
        archive[archive.count - 6] = 0xF0
        #expect(failure(archive) == "the ZIP archive is corrupt or truncated (its central directory lies outside the data)")
    }

    @Test func rejectsInvalidDeflateData() {
        func inflate(_ stream: [UInt8], size: Int = 10) -> String? {
            failure(TestZip.archive([TestZip.Entry(name: "x", method: 8, data: stream, crc: 0, size: size)]))
        }
        // Block type 3.
        #expect(inflate([0x07]) == "ZIP entry 'x' is corrupt (invalid compressed data: invalid block type)")
        // A stored block whose length does not match its complement.
        #expect(inflate([0x01, 0x05, 0x00, 0x00, 0x00]) == "ZIP entry 'x' is corrupt (invalid compressed data: stored block length does not match its complement)")
        // A fixed block whose first match reaches back before the start.
        var writer = TestDeflate.BitWriter()
        writer.write(0b011, 3)
        TestDeflate.writeLength(&writer, 3)
        TestDeflate.writeDistance(&writer, 1)
        TestDeflate.writeSymbol(&writer, 256)
        #expect(inflate(writer.finish()) == "ZIP entry 'x' is corrupt (invalid compressed data: distance too far back)")
        // Fixed literal/length code 286 is not a valid symbol.
        writer = TestDeflate.BitWriter()
        writer.write(0b011, 3)
        TestDeflate.writeSymbol(&writer, 286)
        #expect(inflate(writer.finish()) == "ZIP entry 'x' is corrupt (invalid compressed data: invalid literal/length code)")
        // A dynamic block whose code length code is over-subscribed: all 19 lengths are 1.
        writer = TestDeflate.BitWriter()
        writer.write(0b101, 3)
        writer.write(0, 5)
        writer.write(0, 5)
        writer.write(15, 4)
        for _ in 0..<19 { writer.write(1, 3) }
        #expect(inflate(writer.finish()) == "ZIP entry 'x' is corrupt (invalid compressed data: invalid code length code lengths (over-subscribed))")
    }

    // MARK: Robustness

    /// Seeded random mutations of a valid archive: each must read or throw, never trap, and what
    /// is read must still be safe.
    @Test func survivesMutations() {
        let original = base64(Self.skillArchive)
        var random = ZipTestRandom(seed: 0x5EED)
        var succeeded = 0
        var failed = 0
        for _ in 0..<2000 {
            var bytes = original
            for _ in 0...Int.random(in: 0...3, using: &random) {
                switch Int.random(in: 0..<6, using: &random) {
                case 0, 1:
                    bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
                case 2:
                    bytes[Int.random(in: 0..<bytes.count, using: &random)] ^= 1 << UInt8.random(in: 0..<8, using: &random)
                case 3:
                    // Somewhere in reference.md's deflated data, to exercise the inflater.
                    bytes[Int.random(in: 350..<1700, using: &random)] = UInt8.random(in: 0...255, using: &random)
                case 4:
                    let index = Int.random(in: 0...bytes.count, using: &random)
                    bytes.insert(contentsOf: (0..<Int.random(in: 1...8, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }, at: index)
                default:
                    let start = Int.random(in: 0..<bytes.count, using: &random)
                    bytes.removeSubrange(start..<min(bytes.count, start + Int.random(in: 1...16, using: &random)))
                }
                if bytes.isEmpty { bytes = [0] }
            }
            do throws(ZipError) {
                let entries = try ZipArchive.read(bytes)
                succeeded += 1
                for entry in entries {
                    let components = entry.path.split(separator: "/", omittingEmptySubsequences: false)
                    #expect(!entry.path.isEmpty && !components.contains("..") && !components.contains(".") && !components.contains(""))
                    #expect(entry.data.count <= ZipLimits().maxEntryUncompressed)
                }
            } catch {
                #expect(!error.message.isEmpty)
                failed += 1
            }
        }
        #expect(succeeded > 0 && failed > 0)
    }
}

// MARK: - Helpers

/// The message of the error reading `bytes` throws, or nil when it succeeds.
private func failure(_ bytes: [UInt8], limits: ZipLimits = .init()) -> String? {
    do throws(ZipError) {
        _ = try ZipArchive.read(bytes, limits: limits)
        return nil
    } catch {
        return error.message
    }
}

private func base64(_ text: String) -> [UInt8] {
    var values = [UInt8](repeating: 0xFF, count: 256)
    for (index, character) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
        values[Int(character)] = UInt8(index)
    }
    var bytes: [UInt8] = []
    var accumulator: UInt32 = 0
    var bits = 0
    for character in text.utf8 where values[Int(character)] != 0xFF {
        accumulator = accumulator << 6 | UInt32(values[Int(character)])
        bits += 6
        if bits >= 8 {
            bits -= 8
            bytes.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
        }
    }
    return bytes
}

private struct ZipTestRandom: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Writes ZIP archives field by field, so that tests can make them wrong on purpose.
private enum TestZip {
    struct Entry {
        var name: [UInt8]
        var method: UInt16 = 0
        var flags: UInt16 = 0
        var data: [UInt8]
        var crc: UInt32
        var compressedSize: Int
        var size: Int
        /// Unix, ZIP 3.0.
        var versionMadeBy: UInt16 = 3 << 8 | 30
        var externalAttributes: UInt32 = 0o100644 << 16
        var localHeaderOffset: Int?

        init(name: String, method: UInt16, data: [UInt8], crc: UInt32, size: Int) {
            self.name = Array(name.utf8)
            self.method = method
            self.data = data
            self.crc = crc
            self.compressedSize = data.count
            self.size = size
        }

        init(stored name: String, _ contents: [UInt8]) {
            self.init(name: name, method: 0, data: contents, crc: ZipArchive.crc32(contents), size: contents.count)
        }
    }

    static func archive(_ entries: [Entry], comment: [UInt8] = []) -> [UInt8] {
        var bytes: [UInt8] = []
        var offsets: [Int] = []
        for entry in entries {
            offsets.append(bytes.count)
            append32(&bytes, 0x0403_4B50)
            append16(&bytes, 20)
            append16(&bytes, entry.flags)
            append16(&bytes, entry.method)
            append32(&bytes, 0x5A22_1883)  // 2025-01-02 03:04:06
            append32(&bytes, entry.crc)
            append32(&bytes, UInt32(entry.compressedSize))
            append32(&bytes, UInt32(entry.size))
            append16(&bytes, UInt16(entry.name.count))
            append16(&bytes, 0)
            bytes += entry.name
            bytes += entry.data
        }
        let directoryOffset = bytes.count
        for (entry, offset) in zip(entries, offsets) {
            append32(&bytes, 0x0201_4B50)
            append16(&bytes, entry.versionMadeBy)
            append16(&bytes, 20)
            append16(&bytes, entry.flags)
            append16(&bytes, entry.method)
            append32(&bytes, 0x5A22_1883)
            append32(&bytes, entry.crc)
            append32(&bytes, UInt32(entry.compressedSize))
            append32(&bytes, UInt32(entry.size))
            append16(&bytes, UInt16(entry.name.count))
            append16(&bytes, 0)  // extra
            append16(&bytes, 0)  // comment
            append16(&bytes, 0)  // disk
            append16(&bytes, 0)  // internal attributes
            append32(&bytes, entry.externalAttributes)
            append32(&bytes, UInt32(entry.localHeaderOffset ?? offset))
            bytes += entry.name
        }
        let directorySize = bytes.count - directoryOffset
        append32(&bytes, 0x0605_4B50)
        append16(&bytes, 0)
        append16(&bytes, 0)
        append16(&bytes, UInt16(entries.count))
        append16(&bytes, UInt16(entries.count))
        append32(&bytes, UInt32(directorySize))
        append32(&bytes, UInt32(directoryOffset))
        append16(&bytes, UInt16(comment.count))
        bytes += comment
        return bytes
    }

    private static func append16(_ bytes: inout [UInt8], _ value: UInt16) {
        bytes += [UInt8(value & 0xFF), UInt8(value >> 8)]
    }

    private static func append32(_ bytes: inout [UInt8], _ value: UInt32) {
        bytes += [UInt8(value & 0xFF), UInt8((value >> 8) & 0xFF), UInt8((value >> 16) & 0xFF), UInt8(value >> 24)]
    }
}

/// A small DEFLATE encoder for fixed-Huffman and stored blocks.
private enum TestDeflate {
    struct BitWriter {
        var bytes: [UInt8] = []
        var accumulator: UInt64 = 0
        var count = 0

        /// `value`'s low `bits` bits, least significant first.
        mutating func write(_ value: Int, _ bits: Int) {
            accumulator |= UInt64(value) << UInt64(count)
            count += bits
            while count >= 8 {
                bytes.append(UInt8(accumulator & 0xFF))
                accumulator >>= 8
                count -= 8
            }
        }

        /// A Huffman code, most significant bit first.
        mutating func writeCode(_ code: Int, _ bits: Int) {
            var reversed = 0
            for bit in 0..<bits where code & (1 << bit) != 0 {
                reversed |= 1 << (bits - 1 - bit)
            }
            write(reversed, bits)
        }

        mutating func alignToByte() {
            if count > 0 { write(0, 8 - count) }
        }

        mutating func finish() -> [UInt8] {
            alignToByte()
            return bytes
        }
    }

    static let lengthBases = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distanceBases = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]

    /// A symbol of the fixed literal/length code.
    static func writeSymbol(_ writer: inout BitWriter, _ symbol: Int) {
        switch symbol {
        case 0...143: writer.writeCode(0x30 + symbol, 8)
        case 144...255: writer.writeCode(0x190 + symbol - 144, 9)
        case 256...279: writer.writeCode(symbol - 256, 7)
        default: writer.writeCode(0xC0 + symbol - 280, 8)
        }
    }

    static func writeLength(_ writer: inout BitWriter, _ length: Int) {
        let index = lengthBases.lastIndex { $0 <= length } ?? 0
        writeSymbol(&writer, 257 + index)
        writer.write(length - lengthBases[index], lengthExtra[index])
    }

    static func writeDistance(_ writer: inout BitWriter, _ distance: Int) {
        let index = distanceBases.lastIndex { $0 <= distance } ?? 0
        writer.writeCode(index, 5)
        writer.write(distance - distanceBases[index], distanceExtra[index])
    }

    enum Token {
        case literal(UInt8)
        case match(length: Int, distance: Int)
    }

    /// The canonical Huffman codes for these code lengths (RFC 1951, 3.2.2).
    static func canonicalCodes(_ lengths: [Int]) -> [Int] {
        var count = [Int](repeating: 0, count: 16)
        for length in lengths where length > 0 {
            count[length] += 1
        }
        var next = [Int](repeating: 0, count: 16)
        var code = 0
        for bits in 1...15 {
            code = (code + count[bits - 1]) << 1
            next[bits] = code
        }
        var codes = [Int](repeating: 0, count: lengths.count)
        for (symbol, length) in lengths.enumerated() where length > 0 {
            codes[symbol] = next[length]
            next[length] += 1
        }
        return codes
    }

    /// A dynamic block with these literal/length and distance code lengths; the code length
    /// code gives lengths 0...15 four bits each.
    static func writeDynamicBlock(_ writer: inout BitWriter, final: Bool, litLengths: [Int], distLengths: [Int], tokens: [Token]) {
        writer.write(final ? 1 : 0, 1)
        writer.write(2, 2)
        writer.write(litLengths.count - 257, 5)
        writer.write(distLengths.count - 1, 5)
        writer.write(19 - 4, 4)
        for symbol in [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15] {
            writer.write(symbol < 16 ? 4 : 0, 3)
        }
        for length in litLengths + distLengths {
            writer.writeCode(length, 4)
        }
        let litCodes = canonicalCodes(litLengths)
        let distCodes = canonicalCodes(distLengths)
        for token in tokens {
            switch token {
            case .literal(let byte):
                writer.writeCode(litCodes[Int(byte)], litLengths[Int(byte)])
            case .match(let length, let distance):
                let lengthIndex = lengthBases.lastIndex { $0 <= length } ?? 0
                writer.writeCode(litCodes[257 + lengthIndex], litLengths[257 + lengthIndex])
                writer.write(length - lengthBases[lengthIndex], lengthExtra[lengthIndex])
                let distanceIndex = distanceBases.lastIndex { $0 <= distance } ?? 0
                writer.writeCode(distCodes[distanceIndex], distLengths[distanceIndex])
                writer.write(distance - distanceBases[distanceIndex], distanceExtra[distanceIndex])
            }
        }
        writer.writeCode(litCodes[256], litLengths[256])
    }

    /// `count` zeros (which must be 1 more than a multiple of 258) in one fixed block.
    static func zeros(count: Int) -> [UInt8] {
        var writer = BitWriter()
        writer.write(0b011, 3)
        writeSymbol(&writer, 0)
        for _ in 0..<((count - 1) / 258) {
            writeLength(&writer, 258)
            writeDistance(&writer, 1)
        }
        writeSymbol(&writer, 256)
        return writer.finish()
    }

    /// Random fixed and stored blocks of at least `outputSize` bytes, and what they decode to.
    static func randomStream(outputSize: Int, random: inout ZipTestRandom) -> (stream: [UInt8], output: [UInt8]) {
        var writer = BitWriter()
        var output: [UInt8] = []
        output.reserveCapacity(outputSize + 70_000)
        var final = false
        while !final, output.count < outputSize {
            final = output.count > outputSize * 9 / 10
            if Int.random(in: 0..<8, using: &random) == 0 {
                let length = Int.random(in: 0...min(65535, outputSize / 8), using: &random)
                writer.write(final ? 1 : 0, 1)
                writer.write(0, 2)
                writer.alignToByte()
                writer.write(length, 16)
                writer.write(length ^ 0xFFFF, 16)
                for _ in 0..<length {
                    let byte = UInt8.random(in: 0...255, using: &random)
                    writer.write(Int(byte), 8)
                    output.append(byte)
                }
            } else {
                writer.write(final ? 1 : 0, 1)
                writer.write(1, 2)
                for _ in 0..<Int.random(in: 1...5000, using: &random) {
                    if output.isEmpty || Int.random(in: 0..<3, using: &random) == 0 {
                        let byte = Int.random(in: 0...255, using: &random)
                        writeSymbol(&writer, byte)
                        output.append(UInt8(byte))
                    } else {
                        let length = Int.random(in: 3...258, using: &random)
                        let far = Int.random(in: 0..<4, using: &random) == 0
                        let distance = Int.random(in: 1...min(output.count, far ? 32768 : 64), using: &random)
                        writeLength(&writer, length)
                        writeDistance(&writer, distance)
                        for _ in 0..<length {
                            output.append(output[output.count - distance])
                        }
                    }
                }
                writeSymbol(&writer, 256)
            }
        }
        if !final {
            // The last block was not final: end with an empty final stored block.
            writer.write(1, 1)
            writer.write(0, 2)
            writer.alignToByte()
            writer.write(0, 16)
            writer.write(0xFFFF, 16)
        }
        return (writer.finish(), output)
    }
}
