import AgentsAPI
import Foundation
import Testing
import Tools

@Suite("Shell tool")
struct ShellToolTests {
    @Test func argumentsParseWithDefaults() throws {
        let parsed = try ShellTool.parseArguments(.string(#"{"command":"ls -la","workdir":"src","timeout_ms":1500}"#)).get()
        #expect(parsed == ShellTool.Arguments(command: "ls -la", workdir: "/workspace/src", timeoutMs: 1500))
        let minimal = try ShellTool.parseArguments(.string(#"{"command":"pwd"}"#)).get()
        #expect(minimal.workdir == "/workspace" && minimal.timeoutMs == nil)
        for bad in [#"{"workdir":"/x"}"#, "not json", #"{"command":""}"#, #"{"command":5}"#] {
            guard case .failure(let error) = ShellTool.parseArguments(.string(bad)) else {
                Issue.record("accepted \(bad)")
                continue
            }
            #expect(!error.message.isEmpty)
        }
    }

    @Test func smallOutputIsKeptWhole() {
        let capped = CappedOutput(Array("line 1\nline 2\n".utf8))
        #expect(capped.text == "line 1\nline 2\n" && capped.omittedBytes == 0)
        let text = ShellTool.modelOutput(exitCode: 0, signal: nil, timedOut: false, durationMs: 1234, output: capped, logPath: "/workspace/.cma/logs/x.log")
        #expect(text == "Exit code: 0\nWall time: 1.2 seconds\nOutput:\nline 1\nline 2\n")
    }

    @Test func largeOutputKeepsHeadAndTailWithAMarker() {
        let lines = (0..<10_000).map { "line \($0)" }.joined(separator: "\n")
        let capped = CappedOutput(Array(lines.utf8))
        #expect(capped.text.hasPrefix("line 0\nline 1\n"))
        #expect(capped.text.hasSuffix("line 9998\nline 9999"))
        #expect(capped.text.contains("bytes omitted"))
        #expect(capped.text.utf8.count < 11 * 1024)
        #expect(capped.text.split(separator: "\n").count <= 260)
        #expect(capped.omittedBytes > 0 && capped.totalBytes == lines.utf8.count)
        let text = ShellTool.modelOutput(exitCode: 1, signal: nil, timedOut: false, durationMs: 5, output: capped, logPath: "/workspace/.cma/logs/c.log")
        #expect(text.contains("Full output: /workspace/.cma/logs/c.log"))
        // One very long line is cut by bytes, not left whole.
        let long = CappedOutput(Array(repeating: UInt8(ascii: "x"), count: 100_000))
        #expect(long.text.utf8.count < 11 * 1024 && long.omittedBytes > 80_000)
        // Multi-byte characters are never split.
        let unicode = CappedOutput(Array(String(repeating: "é", count: 20_000).utf8))
        #expect(!unicode.text.contains("\u{FFFD}"))
    }

    @Test func timeoutsAndSignalsAreReported() {
        let none = CappedOutput([])
        #expect(ShellTool.modelOutput(exitCode: nil, signal: 9, timedOut: true, durationMs: 300, output: none, logPath: nil).hasPrefix("Exit code: none (the command timed out"))
        #expect(ShellTool.modelOutput(exitCode: nil, signal: 15, timedOut: false, durationMs: 3, output: none, logPath: nil).hasPrefix("Exit code: none (killed by signal 15)"))
    }

    @Test func utf8ChunksSplitInsideCharactersDecodeCleanly() {
        let text = "héllo wörld – ✓ 😀"
        let bytes = Array(text.utf8)
        for size in 1...5 {
            var decoder = UTF8ChunkDecoder()
            var out = ""
            var i = 0
            while i < bytes.count {
                out += decoder.decode(Array(bytes[i..<min(bytes.count, i + size)]))
                i += size
            }
            out += decoder.finish()
            #expect(out == text, "chunk size \(size)")
        }
        var decoder = UTF8ChunkDecoder()
        #expect(decoder.decode([0x61, 0xFF, 0x62]) == "a\u{FFFD}b")
        #expect(decoder.decode([0xE2, 0x9C]) == "")
        #expect(decoder.finish() == "\u{FFFD}")
    }

    @Test func headTailBufferKeepsBothEnds() {
        var buffer = HeadTailBuffer(half: 10)
        for i in 0..<100 { buffer.append(Array(String(format: "%03d", i).utf8)) }
        #expect(buffer.total == 300)
        #expect(buffer.bytes.count == 20 && buffer.droppedBytes == 280)
        #expect(String(decoding: buffer.bytes.prefix(10), as: UTF8.self) == "0000010020")
        #expect(String(decoding: buffer.bytes.suffix(10), as: UTF8.self) == "6097098099")
        var small = HeadTailBuffer(half: 10)
        small.append(Array("short".utf8))
        #expect(small.bytes == Array("short".utf8) && small.droppedBytes == 0)
    }
}
