import ModelProviders
import Testing

@Suite("Server-sent event parser")
struct ServerSentEventParserTests {
    private func feedAll(_ chunks: [[UInt8]]) -> [String] {
        var parser = ServerSentEventParser()
        var events: [String] = []
        for chunk in chunks {
            for data in parser.feed(chunk) {
                events.append(String(decoding: data, as: UTF8.self))
            }
        }
        return events
    }

    private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func parsesFramesWithEventAndDataLines() {
        let stream = "event: response.created\ndata: {\"a\":1}\n\nevent: x\ndata: {\"b\":2}\n\n"
        #expect(feedAll([bytes(stream)]) == ["{\"a\":1}", "{\"b\":2}"])
    }

    @Test func crlfSplitBetweenChunksIsOneLineEnd() {
        // "data: a\r" | "\n\r\n": if the split LF counted as a second line end, the blank line would
        // come too early and a following event would merge wrongly.
        let chunks = [bytes("data: a\r"), bytes("\ndata: b\r"), bytes("\n\r"), bytes("\ndata: c\r\n\r\n")]
        #expect(feedAll(chunks) == ["a\nb", "c"])
    }

    @Test func crOnlyAndMixedLineEndings() {
        #expect(feedAll([bytes("data: one\r\rdata: two\n\ndata: three\r\n\r\n")]) == ["one", "two", "three"])
    }

    @Test func utf8CharacterSplitAcrossChunks() {
        let payload = "{\"delta\":\"héllo ✓ 🌍\"}"
        let all = bytes("data: \(payload)\n\n")
        // Split inside every multi-byte sequence in turn.
        for split in 1..<all.count {
            let events = feedAll([Array(all[..<split]), Array(all[split...])])
            #expect(events == [payload], "split at \(split)")
        }
    }

    @Test func byteByByteFeedingMatchesWholeFeeding() {
        let stream = "\u{FEFF}: comment\r\nevent: e\r\nid: 7\r\nretry: 10\r\ndata: first\r\ndata:second\r\ndata\r\n\r\n:keepalive\n\ndata: [DONE]\n\n"
        let whole = feedAll([bytes(stream)])
        let single = feedAll(bytes(stream).map { [$0] })
        #expect(whole == ["first\nsecond\n", "[DONE]"])
        #expect(single == whole)
    }

    @Test func multiLineDataIsJoinedWithNewline() {
        #expect(feedAll([bytes("data: {\"a\":\ndata: 1}\n\n")]) == ["{\"a\":\n1}"])
    }

    @Test func commentsAndOtherFieldsAreIgnored() {
        let stream = ": this is a comment\nevent: ignored\nid: 1\nretry: 5000\nunknown: x\n\ndata: kept\n\n"
        // The first block has no data lines, so it dispatches nothing.
        #expect(feedAll([bytes(stream)]) == ["kept"])
    }

    @Test func onlyOneLeadingSpaceIsStripped() {
        #expect(feedAll([bytes("data:  two spaces\ndata:none\n\n")]) == [" two spaces\nnone"])
    }

    @Test func emptyDataLineDispatchesEmptyString() {
        #expect(feedAll([bytes("data\n\ndata:\n\n")]) == ["", ""])
    }

    @Test func unterminatedEventIsNotDispatched() {
        var parser = ServerSentEventParser()
        #expect(parser.feed(bytes("data: complete\n\ndata: partial\n")).count == 1)
        #expect(parser.feed([UInt8]()).isEmpty)
    }

    @Test func feedsByteBuffersWithoutCopyingLines() {
        var parser = ServerSentEventParser()
        var seen: [String] = []
        parser.feed(bytes("data: a")) { seen.append(String(decoding: $0, as: UTF8.self)) }
        parser.feed(bytes("bc\n")) { seen.append(String(decoding: $0, as: UTF8.self)) }
        parser.feed(bytes("\n")) { seen.append(String(decoding: $0, as: UTF8.self)) }
        #expect(seen == ["abc"])
    }
}
