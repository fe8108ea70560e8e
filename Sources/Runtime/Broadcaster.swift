import Storage
import Synchronization

/// Fans committed events out to live subscribers of a session.
///
/// Each subscriber has a bounded buffer. A subscriber that falls that far behind is cut off (its
/// stream finishes with `overflowed` set) rather than stalling the session or growing memory.
public final class Broadcaster: Sendable {
    public static let defaultBufferSize = 4096

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
        public let events: AsyncStream<Delivery>
        fileprivate let continuation: AsyncStream<Delivery>.Continuation
        private let reason = Mutex<EndReason?>(nil)
        private weak let owner: Broadcaster?

        public enum EndReason: Sendable, Equatable {
            /// The subscriber fell too far behind.
            case overflowed
            /// The session was deleted.
            case sessionDeleted
            /// The server is shutting down.
            case shutdown
        }

        fileprivate init(id: Int, sessionID: String, bufferSize: Int, owner: Broadcaster) {
            self.id = id
            self.sessionID = sessionID
            (events, continuation) = AsyncStream.makeStream(of: Delivery.self, bufferingPolicy: .bufferingOldest(bufferSize))
            self.owner = owner
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

    private struct State {
        var nextID = 0
        var subscribers: [String: [Int: Subscription]] = [:]
    }

    private let state = Mutex(State())
    private let bufferSize: Int

    public init(bufferSize: Int = Broadcaster.defaultBufferSize) {
        self.bufferSize = bufferSize
    }

    /// Registers a subscriber; it receives every event published after this call returns.
    public func subscribe(sessionID: String) -> Subscription {
        state.withLock { s in
            s.nextID += 1
            let sub = Subscription(id: s.nextID, sessionID: sessionID, bufferSize: bufferSize, owner: self)
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
