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

    static func sequences(_ deliveries: [Broadcaster.Delivery]) -> [Int64] {
        deliveries.compactMap { delivery -> Int64? in
            if case .event(let e) = delivery { return e.sequence }
            return nil
        }
    }

    @Test func waitingDeliveriesAreTakenTogetherInOrder() async {
        let broadcaster = Broadcaster(bufferSize: 100, bufferBytes: 10_000)
        let subscription = broadcaster.subscribe(sessionID: "sess_1")
        broadcaster.publish(sessionID: "sess_1", events: [Self.event(1, bytes: 10), Self.event(2, bytes: 10)])
        broadcaster.publish(sessionID: "sess_1", events: [Self.event(3, bytes: 10)])
        var iterator = subscription.events.makeAsyncIterator()
        // One taken alone, then the rest of its group, then the next group.
        if case .event(let first)? = await iterator.next() { #expect(first.sequence == 1) }
        let rest = await iterator.nextBatch() ?? []
        #expect(Self.sequences(rest) == [2])
        let next = await iterator.nextBatch() ?? []
        #expect(Self.sequences(next) == [3])
        // Nothing buffered any more: a heartbeat gets through; with events waiting it is skipped.
        broadcaster.heartbeat()
        if case .heartbeat? = await iterator.next() {} else { Issue.record("expected a heartbeat") }
        broadcaster.publish(sessionID: "sess_1", events: [Self.event(4, bytes: 10)])
        broadcaster.heartbeat()
        let waiting = await iterator.nextBatch() ?? []
        #expect(waiting.count == 1)
        subscription.cancel()
        #expect(await iterator.nextBatch() == nil)
    }

    @Test func theEventCountBoundCutsOffASubscriberThatFallsBehind() async {
        let broadcaster = Broadcaster(bufferSize: 3, bufferBytes: 10_000)
        let subscription = broadcaster.subscribe(sessionID: "sess_1")
        broadcaster.publish(sessionID: "sess_1", events: (1...2).map { Self.event($0, bytes: 10) })
        broadcaster.publish(sessionID: "sess_1", events: (3...5).map { Self.event($0, bytes: 10) })
        var received: [Int64] = []
        for await delivery in subscription.events {
            if case .event(let e) = delivery { received.append(e.sequence) }
        }
        #expect(received == [1, 2, 3])
        #expect(subscription.endReason == .overflowed)
    }
}

