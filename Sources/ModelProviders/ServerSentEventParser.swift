public import NIOCore

/// An incremental `text/event-stream` parser (WHATWG HTML, "Server-sent events", §9.2.6) that
/// works on bytes and yields each event's data.
///
/// Lines end at CR, LF or CRLF, also when a CRLF pair is split between two chunks. Several
/// `data:` lines of one event are joined with LF. Comments (`:` lines) and the `event`, `id` and
/// `retry` fields are ignored: the Responses API carries the event type inside the JSON. A
/// leading UTF-8 byte order mark is skipped. Because decoding happens on whole events, chunks may
/// split anywhere, including inside a multi-byte UTF-8 character. An event that is not
/// terminated by a blank line when the stream ends is discarded, as the standard requires.
///
/// The parser allocates nothing per byte: complete lines are read straight from the chunk, and
/// only a line that spans chunks is copied into a reusable buffer.
public struct ServerSentEventParser: Sendable {
    /// The start of a line whose end has not arrived yet.
    private var partialLine: [UInt8] = []
    /// The data buffer of the event being assembled (each data line followed by LF).
    private var data: [UInt8] = []
    /// The previous chunk ended with CR: an LF at the start of the next chunk belongs to it.
    private var pendingCR = false
    private var atStreamStart = true

    public init() {}

    /// Feeds a chunk; `onEvent` receives the data of every event completed by it, in order.
    /// The slice is only valid until `onEvent` returns unless it is copied.
    public mutating func feed(_ buffer: ByteBuffer, onEvent: (ArraySlice<UInt8>) throws -> Void) rethrows {
        try buffer.withUnsafeReadableBytes { bytes in
            try self.feed(bytes, onEvent: onEvent)
        }
    }

    /// Feeds a chunk given as bytes.
    public mutating func feed(_ bytes: some Collection<UInt8>, onEvent: (ArraySlice<UInt8>) throws -> Void) rethrows {
        if let result = try bytes.withContiguousStorageIfAvailable({ buffer in
            try self.feed(UnsafeRawBufferPointer(buffer), onEvent: onEvent)
        }) {
            return result
        }
        let copy = Array(bytes)
        try copy.withUnsafeBytes { try self.feed($0, onEvent: onEvent) }
    }

    /// Feeds a chunk and returns the completed events' data (convenient for tests; the
    /// closure-based `feed` avoids the array).
    public mutating func feed(_ bytes: some Collection<UInt8>) -> [[UInt8]] {
        var events: [[UInt8]] = []
        feed(bytes) { events.append(Array($0)) }
        return events
    }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer, onEvent: (ArraySlice<UInt8>) throws -> Void) rethrows {
        let count = bytes.count
        var index = 0
        if pendingCR, count > 0 {
            pendingCR = false
            if bytes[0] == .lf { index = 1 }
        }
        var lineStart = index
        while index < count {
            let byte = bytes[index]
            guard byte == .lf || byte == .cr else {
                index += 1
                continue
            }
            let line = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<index])
            if partialLine.isEmpty {
                try processLine(line, onEvent: onEvent)
            } else {
                // Take the buffer out of `self` so that processing it does not overlap an access.
                var joined = partialLine
                partialLine = []
                joined.append(contentsOf: line)
                try joined.withUnsafeBytes { try processLine($0, onEvent: onEvent) }
                joined.removeAll(keepingCapacity: true)
                partialLine = joined
            }
            if byte == .cr {
                if index + 1 < count {
                    if bytes[index + 1] == .lf { index += 1 }
                } else {
                    pendingCR = true
                }
            }
            index += 1
            lineStart = index
        }
        if lineStart < count {
            partialLine.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[lineStart..<count]))
        }
    }

    /// Forgets any partial line or event (e.g. before reusing the parser for another stream).
    public mutating func reset() {
        partialLine.removeAll(keepingCapacity: true)
        data.removeAll(keepingCapacity: true)
        pendingCR = false
        atStreamStart = true
    }

    private mutating func processLine(_ rawLine: UnsafeRawBufferPointer, onEvent: (ArraySlice<UInt8>) throws -> Void) rethrows {
        var line = rawLine
        if atStreamStart {
            atStreamStart = false
            if line.count >= 3, line[0] == 0xEF, line[1] == 0xBB, line[2] == 0xBF {
                line = UnsafeRawBufferPointer(rebasing: line[3...])
            }
        }
        if line.isEmpty {
            // Dispatch. An event without data lines is not dispatched.
            guard !data.isEmpty else { return }
            let end = data.count - 1  // drop the LF that followed the last data line
            try onEvent(data[0..<end])
            data.removeAll(keepingCapacity: true)
            return
        }
        if line[0] == .colon { return }  // comment
        var fieldEnd = line.count
        var valueStart = line.count
        if let colon = line.firstIndex(of: .colon) {
            fieldEnd = colon
            valueStart = colon + 1
            if valueStart < line.count, line[valueStart] == .space { valueStart += 1 }
        }
        // Only `data` matters; `event`, `id`, `retry` and unknown fields are ignored.
        guard fieldEnd == 4, line[0] == UInt8(ascii: "d"), line[1] == UInt8(ascii: "a"),
            line[2] == UInt8(ascii: "t"), line[3] == UInt8(ascii: "a")
        else { return }
        data.append(contentsOf: UnsafeRawBufferPointer(rebasing: line[valueStart...]))
        data.append(.lf)
    }
}

extension UInt8 {
    fileprivate static let lf = UInt8(ascii: "\n")
    fileprivate static let cr = UInt8(ascii: "\r")
    fileprivate static let colon = UInt8(ascii: ":")
    fileprivate static let space = UInt8(ascii: " ")
}
