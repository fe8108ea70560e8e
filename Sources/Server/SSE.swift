import HTTPTypes
import AgentsAPI
import Hummingbird
import NIOCore
import Runtime
import Storage

/// Server-sent events for session streams.
///
/// Each event is written whole, in one buffer: `event: <type>\ndata: <json>\n\n`. We never send
/// `id:` lines (the official SDK's decoder then mishandles comment keep-alives); the event ID is
/// in the JSON. Keep-alives are `: ping` comments.
enum SSE {
    /// Decides when a stream has delivered what it was opened for.
    struct Terminator: Sendable {
        enum Mode: Sendable {
            /// `GET …/events`: a live subscription that runs until the client leaves.
            case live
            /// `POST /agents/sessions` with `stream: true`: ends after the first root turn has ended
            /// and the session is idle (or has failed).
            case initialTurn
        }

        var mode: Mode
        private var rootTurnID: String?
        private var rootEnded = false

        init(_ mode: Mode) {
            self.mode = mode
        }

        /// Whether the stream is complete after `event`.
        mutating func isDone(after event: StoredEvent) -> Bool {
            guard mode == .initialTurn else { return false }
            switch event.type {
            case "agent.session.turn.created":
                if rootTurnID == nil { rootTurnID = event.turnID }
            case "agent.session.turn.completed", "agent.session.turn.failed", "agent.session.turn.cancelled":
                if event.turnID != nil, event.turnID == rootTurnID { rootEnded = true }
            case "agent.session.idle":
                return rootEnded
            case "agent.session.failed":
                return true
            default:
                break
            }
            return false
        }
    }

    /// `Connection: close`: the connection is not reused after a stream (the server closes it once
    /// the stream has been watched for the client going away), and saying so keeps clients from
    /// sending their next request on it.
    static let headers: HTTPFields = [
        .contentType: "text/event-stream",
        .cacheControl: "no-cache",
        .connection: "close",
        HTTPField.Name("X-Accel-Buffering")!: "no",
    ]

    /// Events to send from the log before following the live subscription.
    struct Replay: Sendable {
        var store: any Store
        /// Replay the events after this position of the session's log.
        var afterSequence: Int64
    }

    /// Events read from the log per query while replaying.
    static let replayPage = 500

    /// A streaming response that relays `subscription` until it ends, the client goes away, or
    /// the terminator says the stream is complete. With `replay`, the logged events after a
    /// position come first; the subscription (opened before the log is read) then continues
    /// from the first event not yet sent, so nothing is missed or sent twice.
    static func response(request: Request, subscription: Broadcaster.Subscription, terminator: Terminator, obfuscate: Bool, replay: Replay? = nil) -> Response {
        Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                var terminator = terminator
                var completed = false
                var lastSent = replay?.afterSequence ?? 0
                do {
                    try await request.body.consumeWithCancellationOnInboundClose { _ in
                        if let replay {
                            while true {
                                let page = try await replay.store.events(sessionID: subscription.sessionID, afterSequence: lastSent, limit: replayPage)
                                for event in page {
                                    try await writer.write(frame(event, obfuscate: obfuscate))
                                    lastSent = event.sequence
                                    if terminator.isDone(after: event) {
                                        completed = true
                                        return
                                    }
                                }
                                if page.count < replayPage { break }
                            }
                        }
                        // Everything waiting goes out in one write.
                        var deliveries = subscription.events.makeAsyncIterator()
                        while let batch = await deliveries.nextBatch() {
                            var out = ByteBuffer()
                            for delivery in batch {
                                switch delivery {
                                case .heartbeat:
                                    out.writeString(": ping\n\n")
                                case .event(let event):
                                    // Already sent from the log.
                                    if event.sequence <= lastSent { continue }
                                    lastSent = event.sequence
                                    writeFrame(event, obfuscate: obfuscate, into: &out)
                                    if terminator.isDone(after: event) { completed = true }
                                }
                                if completed { break }
                            }
                            if out.readableBytes > 0 { try await writer.write(out) }
                            if completed { return }
                        }
                    }
                } catch {
                    // The client went away, or writing failed: nothing more to send.
                    subscription.cancel()
                    return
                }
                subscription.cancel()
                if completed {
                    try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
                } else if subscription.endReason == .overflowed {
                    try await writer.write(overflowFrame(sessionID: subscription.sessionID))
                } else if subscription.endReason == .shutdown {
                    try await writer.write(shutdownFrame(sessionID: subscription.sessionID))
                }
                try await writer.finish(nil)
            })
    }

    static func frame(_ event: StoredEvent, obfuscate: Bool) -> ByteBuffer {
        var buffer = ByteBuffer()
        writeFrame(event, obfuscate: obfuscate, into: &buffer)
        return buffer
    }

    static func writeFrame(_ event: StoredEvent, obfuscate: Bool, into buffer: inout ByteBuffer) {
        buffer.reserveCapacity(minimumWritableBytes: event.json.count + event.type.utf8.count + 96)
        buffer.writeString("event: ")
        buffer.writeString(event.type)
        buffer.writeString("\ndata: ")
        if obfuscate, event.type.hasSuffix(".delta"), event.json.last == UInt8(ascii: "}") {
            buffer.writeBytes(event.json.dropLast())
            buffer.writeString(#","obfuscation":""#)
            buffer.writeString(padding())
            buffer.writeString("\"}")
        } else {
            buffer.writeBytes(event.json)
        }
        buffer.writeString("\n\n")
    }

    private static let paddingAlphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")

    /// Random alphanumeric padding that hides the length of streamed fragments.
    static func padding() -> String {
        var rng = SystemRandomNumberGenerator()
        let length = Int.random(in: 8...40, using: &rng)
        return String((0..<length).map { _ in paddingAlphabet.randomElement(using: &rng)! })
    }

    /// The last frame of a stream the server ends because it is shutting down.
    static func shutdownFrame(sessionID: String) -> ByteBuffer {
        errorFrame(
            SessionEvent(
                .error(
                    sessionID: sessionID,
                    error: SessionError(
                        type: "server_error",
                        message: "The server is restarting. Reconnect with `starting_after` set to the `event_id` of the last event you received; "
                            + "the session continues where it stopped.",
                        code: "server_shutting_down", param: nil))))
    }

    static func errorFrame(_ event: SessionEvent) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeString("event: error\ndata: ")
        buffer.writeBytes(event.jsonBytes)
        buffer.writeString("\n\n")
        return buffer
    }

    static func overflowFrame(sessionID: String) -> ByteBuffer {
        let event = SessionEvent(
            .error(
                sessionID: sessionID,
                error: SessionError(
                    type: "server_error",
                    message: "This stream fell too far behind the session's events and was closed. Reconnect with "
                        + "`starting_after` set to the `event_id` of the last event you received to get the rest without a gap.",
                    code: "stream_buffer_overflow", param: nil)))
        return errorFrame(event)
    }
}
