import Storage
import Synchronization

/// Fans committed events out to live subscribers of a session.
///
/// Each subscriber has a bounded buffer, in events and in bytes. A subscriber that falls that far
/// behind is cut off (its stream finishes with `overflowed` set) rather than stalling the session
/// or growing memory.
public final class Broadcaster: Sendable {
    public static let defaultBufferSize = 4096
    public static let defaultBufferBytes = 32 << 20

    /// What a subscriber receives: committed events, and periodic heartbeats so that idle
    /// connections are kept alive and dead ones are noticed.
    public enum Delivery: Sendable {
        case event(StoredEvent)
        case heartbeat
    }

    /// One live subscription. Iterate `events`; when it ends, `endReason` says why.
    public final class Subscription: Sendable {
        public let id: Int
        public let sessionID: String
        public let events: Events
        /// Deliveries travel in the groups they were published in (one wake-up of the reader
        /// for all the events of a commit).
        fileprivate let continuation: AsyncStream<[Delivery]>.Continuation
        private let reason = Mutex<EndReason?>(nil)
        /// Events (and their bytes of JSON) delivered to the buffer and not yet taken out.
        fileprivate let buffered: BufferCounter
        private weak let owner: Broadcaster?

        public enum EndReason: Sendable, Equatable {
            /// The subscriber fell too far behind.
            case overflowed
            /// The session was deleted.
            case sessionDeleted
            /// The server is shutting down.
            case shutdown
        }

        /// The subscription's deliveries, one at a time (or, with ``AsyncIterator/nextBatch()``,
        /// all that are waiting); taking one out frees its room in the buffer.
        public struct Events: AsyncSequence, Sendable {
            public typealias Element = Delivery
            fileprivate let stream: AsyncStream<[Delivery]>
            fileprivate let counter: BufferCounter

            public struct AsyncIterator: AsyncIteratorProtocol {
                fileprivate var base: AsyncStream<[Delivery]>.AsyncIterator
                fileprivate let counter: BufferCounter
                private var pending: [Delivery] = []
                private var position = 0

                fileprivate init(base: AsyncStream<[Delivery]>.AsyncIterator, counter: BufferCounter) {
                    self.base = base
                    self.counter = counter
                }

                public mutating func next() async -> Delivery? {
                    if position == pending.count {
                        guard let group = await base.next() else { return nil }
                        pending = group
                        position = 0
                    }
                    let delivery = pending[position]
                    position += 1
                    if case .event(let e) = delivery { counter.release(events: 1, bytes: e.json.count) }
                    return delivery
                }

                /// Everything waiting (at least one delivery), or nil once the subscription ended.
                public mutating func nextBatch() async -> [Delivery]? {
                    if position < pending.count {
                        let rest = Array(pending[position...])
                        pending = []
                        position = 0
                        counter.release(rest)
                        return rest
                    }
                    guard let group = await base.next() else { return nil }
                    pending = []
                    position = 0
                    counter.release(group)
                    return group
                }
            }

            public func makeAsyncIterator() -> AsyncIterator {
                AsyncIterator(base: stream.makeAsyncIterator(), counter: counter)
            }
        }

        fileprivate init(id: Int, sessionID: String, bufferSize: Int, maxBytes: Int, owner: Broadcaster) {
            self.id = id
            self.sessionID = sessionID
            let (stream, continuation) = AsyncStream.makeStream(of: [Delivery].self, bufferingPolicy: .unbounded)
            self.continuation = continuation
            self.owner = owner
            self.buffered = BufferCounter(maxEvents: bufferSize, maxBytes: maxBytes)
            self.events = Events(stream: stream, counter: buffered)
        }

        public var endReason: EndReason? { reason.withLock { $0 } }

        fileprivate func end(_ why: EndReason) {
            reason.withLock { if $0 == nil { $0 = why } }
            continuation.finish()
        }

        /// Stops the subscription (e.g. when the client disconnects).
        public func cancel() {
            continuation.finish()
            owner?.remove(self)
        }
    }

    /// What one subscriber has buffered, bounded in events and bytes.
    final class BufferCounter: Sendable {
        private struct Counts {
            var events = 0
            var bytes = 0
        }
        private let counts = Mutex(Counts())
        private let maxEvents: Int
        private let maxBytes: Int

        init(maxEvents: Int, maxBytes: Int) {
            self.maxEvents = maxEvents
            self.maxBytes = maxBytes
        }

        /// Counts one event of `bytes` in; false when that would exceed a bound (a single event
        /// larger than the byte bound still fits into an empty buffer).
        func reserve(_ bytes: Int) -> Bool {
            counts.withLock { c in
                if c.events + 1 > maxEvents { return false }
                if c.bytes + bytes > maxBytes && c.bytes > 0 { return false }
                c.events += 1
                c.bytes += bytes
                return true
            }
        }

        var isEmpty: Bool { counts.withLock { $0.events == 0 } }

        func release(_ deliveries: [Delivery]) {
            var events = 0
            var bytes = 0
            for case .event(let e) in deliveries {
                events += 1
                bytes += e.json.count
            }
            release(events: events, bytes: bytes)
        }

        func release(events: Int, bytes: Int) {
            guard events > 0 else { return }
            counts.withLock { c in
                c.events = max(0, c.events - events)
                c.bytes = max(0, c.bytes - bytes)
            }
        }
    }

    private struct State {
        var nextID = 0
        var subscribers: [String: [Int: Subscription]] = [:]
    }

    private let state = Mutex(State())
    private let bufferSize: Int
    private let bufferBytes: Int

    public init(bufferSize: Int = Broadcaster.defaultBufferSize, bufferBytes: Int = Broadcaster.defaultBufferBytes) {
        self.bufferSize = bufferSize
        self.bufferBytes = bufferBytes
    }

    /// Registers a subscriber; it receives every event published after this call returns.
    public func subscribe(sessionID: String) -> Subscription {
        state.withLock { s in
            s.nextID += 1
            let sub = Subscription(id: s.nextID, sessionID: sessionID, bufferSize: bufferSize, maxBytes: bufferBytes, owner: self)
            s.subscribers[sessionID, default: [:]][sub.id] = sub
            let id = sub.id
            sub.continuation.onTermination = { [weak self] _ in
                self?.remove(sessionID: sessionID, id: id)
            }
            return sub
        }
    }

    fileprivate func remove(_ sub: Subscription) {
        remove(sessionID: sub.sessionID, id: sub.id)
    }

    private func remove(sessionID: String, id: Int) {
        state.withLock { s in
            s.subscribers[sessionID]?[id] = nil
            if s.subscribers[sessionID]?.isEmpty == true { s.subscribers[sessionID] = nil }
        }
    }

    public func subscriberCount(sessionID: String) -> Int {
        state.withLock { $0.subscribers[sessionID]?.count ?? 0 }
    }

    /// Delivers committed events, in order, to the session's subscribers: one group per
    /// subscriber, so a reader wakes once for all of them.
    public func publish(sessionID: String, events: [StoredEvent]) {
        guard !events.isEmpty else { return }
        let subs = state.withLock { s in s.subscribers[sessionID].map { Array($0.values) } ?? [] }
        guard !subs.isEmpty else { return }
        let all = events.map(Delivery.event)
        for sub in subs {
            var accepted = 0
            while accepted < events.count, sub.buffered.reserve(events[accepted].json.count) { accepted += 1 }
            if accepted > 0 { sub.continuation.yield(accepted == events.count ? all : Array(all[..<accepted])) }
            if accepted < events.count {
                // Too far behind: what fitted is delivered, then the stream ends.
                sub.end(.overflowed)
                remove(sub)
            }
        }
    }

    /// Sends a heartbeat to every subscriber with nothing buffered (one with events waiting
    /// gets those).
    public func heartbeat() {
        let subs = state.withLock { s in s.subscribers.values.flatMap { $0.values } }
        for sub in subs where sub.buffered.isEmpty { sub.continuation.yield([.heartbeat]) }
    }

    /// Ends every subscription of a session.
    public func close(sessionID: String, reason: Subscription.EndReason) {
        let subs = state.withLock { s in s.subscribers.removeValue(forKey: sessionID).map { Array($0.values) } ?? [] }
        for sub in subs { sub.end(reason) }
    }

    /// Ends every subscription (shutdown).
    public func closeAll() {
        let subs = state.withLock { s in
            let all = s.subscribers.values.flatMap { $0.values }
            s.subscribers = [:]
            return all
        }
        for sub in subs { sub.end(.shutdown) }
    }
}
