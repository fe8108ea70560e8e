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
        fileprivate let continuation: AsyncStream<Delivery>.Continuation
        private let reason = Mutex<EndReason?>(nil)
        /// Bytes of event JSON delivered to the buffer and not yet taken out of it.
        private let bufferedBytes: ByteCounter
        private let maxBytes: Int
        private weak let owner: Broadcaster?

        public enum EndReason: Sendable, Equatable {
            /// The subscriber fell too far behind.
            case overflowed
            /// The session was deleted.
            case sessionDeleted
            /// The server is shutting down.
            case shutdown
        }

        /// The subscription's deliveries; taking one out frees its room in the buffer.
        public struct Events: AsyncSequence, Sendable {
            public typealias Element = Delivery
            fileprivate let stream: AsyncStream<Delivery>
            fileprivate let counter: ByteCounter

            public struct AsyncIterator: AsyncIteratorProtocol {
                fileprivate var base: AsyncStream<Delivery>.AsyncIterator
                fileprivate let counter: ByteCounter

                public mutating func next() async -> Delivery? {
                    let delivery = await base.next()
                    if case .event(let event)? = delivery { counter.release(event.json.count) }
                    return delivery
                }
            }

            public func makeAsyncIterator() -> AsyncIterator {
                AsyncIterator(base: stream.makeAsyncIterator(), counter: counter)
            }
        }

        fileprivate init(id: Int, sessionID: String, bufferSize: Int, maxBytes: Int, owner: Broadcaster) {
            self.id = id
            self.sessionID = sessionID
            self.maxBytes = maxBytes
            let (stream, continuation) = AsyncStream.makeStream(of: Delivery.self, bufferingPolicy: .bufferingOldest(bufferSize))
            self.continuation = continuation
            self.owner = owner
            self.bufferedBytes = ByteCounter()
            self.events = Events(stream: stream, counter: bufferedBytes)
        }

        public var endReason: EndReason? { reason.withLock { $0 } }

        fileprivate func end(_ why: EndReason) {
            reason.withLock { if $0 == nil { $0 = why } }
            continuation.finish()
        }

        /// Counts `bytes` into the buffer; false when that would exceed its byte bound (a single
        /// event larger than the bound still fits into an empty buffer).
        fileprivate func reserve(_ bytes: Int) -> Bool {
            bufferedBytes.reserve(bytes, limit: maxBytes)
        }

        /// Stops the subscription (e.g. when the client disconnects).
        public func cancel() {
            continuation.finish()
            owner?.remove(self)
        }
    }

    /// Bytes buffered for one subscriber.
    final class ByteCounter: Sendable {
        private let bytes = Mutex(0)

        func reserve(_ n: Int, limit: Int) -> Bool {
            bytes.withLock { b in
                if b + n > limit && b > 0 { return false }
                b += n
                return true
            }
        }

        func release(_ n: Int) {
            bytes.withLock { $0 = max(0, $0 - n) }
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

    /// Delivers committed events, in order, to the session's subscribers.
    public func publish(sessionID: String, events: [StoredEvent]) {
        guard !events.isEmpty else { return }
        let subs = state.withLock { s in s.subscribers[sessionID].map { Array($0.values) } ?? [] }
        for sub in subs {
            for event in events {
                guard sub.reserve(event.json.count) else {
                    sub.end(.overflowed)
                    remove(sub)
                    break
                }
                if case .dropped = sub.continuation.yield(.event(event)) {
                    sub.end(.overflowed)
                    remove(sub)
                    break
                }
            }
        }
    }

    /// Sends a heartbeat to every subscriber (a full buffer simply skips it).
    public func heartbeat() {
        let subs = state.withLock { s in s.subscribers.values.flatMap { $0.values } }
        for sub in subs { _ = sub.continuation.yield(.heartbeat) }
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
