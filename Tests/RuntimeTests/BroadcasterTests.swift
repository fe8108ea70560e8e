import Runtime
import Storage
import Testing

@Suite("Broadcaster")
struct BroadcasterTests {
    static func event(_ sequence: Int64, bytes: Int) -> StoredEvent {
        StoredEvent(sessionID: "sess_1", sequence: sequence, eventID: "evt_\(sequence)", type: "test", turnID: nil, json: Array(repeating: UInt8(ascii: "x"), count: bytes))
    }

    @Test func aSubscriberTooManyBytesBehindIsCutOff() async {
        let broadcaster = Broadcaster(bufferSize: 100, bufferBytes: 1_000)
        let subscription = broadcaster.subscribe(sessionID: "sess_1")
        broadcaster.publish(sessionID: "sess_1", events: (1...3).map { Self.event($0, bytes: 400) })
        var received: [Int64] = []
        for await delivery in subscription.events {
            if case .event(let e) = delivery { received.append(e.sequence) }
        }
        #expect(received == [1, 2])
        #expect(subscription.endReason == .overflowed)
        #expect(broadcaster.subscriberCount(sessionID: "sess_1") == 0)
    }

    @Test func takingEventsOutFreesRoom() async {
        let broadcaster = Broadcaster(bufferSize: 100, bufferBytes: 1_000)
        let subscription = broadcaster.subscribe(sessionID: "sess_1")
        var iterator = subscription.events.makeAsyncIterator()
        var received: [Int64] = []
        for round in 0..<5 {
            let base = Int64(round * 2)
            broadcaster.publish(sessionID: "sess_1", events: [Self.event(base + 1, bytes: 400), Self.event(base + 2, bytes: 400)])
            for _ in 0..<2 {
                if case .event(let e)? = await iterator.next() { received.append(e.sequence) }
            }
        }
        #expect(received == Array(1...10))
        #expect(subscription.endReason == nil)
        // One event larger than the bound still gets through an empty buffer.
        broadcaster.publish(sessionID: "sess_1", events: [Self.event(11, bytes: 5_000)])
        if case .event(let e)? = await iterator.next() { #expect(e.sequence == 11) }
        #expect(subscription.endReason == nil)
        subscription.cancel()
    }
}
