import Logging
import Storage
import Synchronization

/// The single path by which session state changes reach storage and subscribers.
///
/// Writers enqueue `SessionWrite`s; one loop commits everything queued in a single transaction
/// (group commit: one fsync per batch, however many sessions are busy), then publishes the
/// committed events to the broadcaster in commit order, then resolves the writers' tickets.
///
/// `enqueue` is synchronous on purpose: called from an actor, it runs on that actor, so writes
/// reach the log in exactly the order the actor issued them. (An `async` entry point would first
/// hop off the caller's actor, and two writes could then overtake each other.) A write is never
/// abandoned because its caller was cancelled.
public final class EventLog: Sendable {
    public let store: any Store
    public let broadcaster: Broadcaster
    private let logger: Logger
    private let maxBatch: Int

    private struct Pending: Sendable {
        /// Nil for a barrier (``flush()``).
        var write: SessionWrite?
        var ticket: CommitTicket?
    }

    private struct State {
        var queue: [Pending] = []
        var waiter: CheckedContinuation<Void, Never>?
        var stopped = false
    }

    private let state = Mutex(State())

    public init(store: any Store, broadcaster: Broadcaster = Broadcaster(), logger: Logger = Logger(label: "cma.eventlog"), maxBatch: Int = 512) {
        self.store = store
        self.broadcaster = broadcaster
        self.logger = logger
        self.maxBatch = maxBatch
    }

    /// Queues `write`; the returned ticket resolves once it is committed and published.
    public func enqueue(_ write: SessionWrite) -> CommitTicket {
        let ticket = CommitTicket()
        enqueue(Pending(write: write, ticket: ticket))
        return ticket
    }

    /// Queues `write` without a ticket (stream fragments such as text deltas). Order with respect
    /// to other writes is preserved; a failure is logged.
    public func enqueueDetached(_ write: SessionWrite) {
        enqueue(Pending(write: write, ticket: nil))
    }

    /// Returns once everything queued before the call is committed and published.
    public func flush() async {
        let ticket = CommitTicket()
        enqueue(Pending(write: nil, ticket: ticket))
        _ = try? await ticket.value()
    }

    private func enqueue(_ pending: Pending) {
        let (waiter, stopped): (CheckedContinuation<Void, Never>?, Bool) = state.withLock { s in
            if s.stopped { return (nil, true) }
            s.queue.append(pending)
            let w = s.waiter
            s.waiter = nil
            return (w, false)
        }
        if stopped {
            pending.ticket?.resolve(.failure(CancellationError()))
            return
        }
        waiter?.resume()
    }

    private func nextBatch() async -> [Pending]? {
        while true {
            let batch: [Pending]? = state.withLock { s in
                if s.queue.isEmpty { return s.stopped ? [] : nil }
                let n = min(s.queue.count, maxBatch)
                let batch = Array(s.queue.prefix(n))
                s.queue.removeFirst(n)
                return batch
            }
            if let batch {
                return batch.isEmpty ? nil : batch
            }
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { s -> Bool in
                    if !s.queue.isEmpty || s.stopped { return true }
                    s.waiter = c
                    return false
                }
                if resumeNow { c.resume() }
            }
        }
    }

    /// The writer loop. Returns once `stop()` has been called and the queue is drained.
    public func run() async {
        while let batch = await nextBatch() {
            await commit(batch)
        }
    }

    /// Stops accepting writes; `run()` returns after committing what is queued.
    public func stop() {
        let waiter = state.withLock { s in
            s.stopped = true
            let w = s.waiter
            s.waiter = nil
            return w
        }
        waiter?.resume()
    }

    private func commit(_ batch: [Pending]) async {
        let writes = batch.compactMap(\.write)
        let barriers = batch.filter { $0.write == nil }
        defer {
            // Barriers resolve once everything before them is done.
            for barrier in barriers { barrier.ticket?.resolve(.success([])) }
        }
        guard !writes.isEmpty else { return }
        let pendings = batch.filter { $0.write != nil }
        do {
            let results = try await store.commit(writes)
            // One publication per session and batch (in commit order): its subscribers wake
            // once for everything the batch committed.
            var bySession: [String: [StoredEvent]] = [:]
            var order: [String] = []
            for (write, events) in zip(writes, results) where !events.isEmpty {
                if bySession[write.sessionID] == nil { order.append(write.sessionID) }
                bySession[write.sessionID, default: []] += events
            }
            for sessionID in order { broadcaster.publish(sessionID: sessionID, events: bySession[sessionID]!) }
            for (pending, events) in zip(pendings, results) {
                pending.ticket?.resolve(.success(events))
            }
        } catch {
            guard pendings.count > 1 else {
                logger.error("event log write failed", metadata: ["session": "\(writes[0].sessionID)", "error": "\(error)"])
                pendings[0].ticket?.resolve(.failure(error))
                return
            }
            // Isolate the failing write: commit one by one.
            for pending in pendings {
                await commit([pending])
            }
        }
    }
}

/// The outcome of one queued write: wait on it with `value()`.
public final class CommitTicket: Sendable {
    private enum State {
        case waiting(CheckedContinuation<[StoredEvent], any Error>?)
        case done(Result<[StoredEvent], any Error>)
    }

    private let state = Mutex(State.waiting(nil))

    init() {}

    func resolve(_ result: Result<[StoredEvent], any Error>) {
        let continuation: CheckedContinuation<[StoredEvent], any Error>? = state.withLock { s in
            guard case .waiting(let c) = s else { return nil }
            s = .done(result)
            return c
        }
        continuation?.resume(with: result)
    }

    /// The committed events, once the write is durable and published.
    @discardableResult
    public func value() async throws -> [StoredEvent] {
        try await withCheckedThrowingContinuation { continuation in
            let ready: Result<[StoredEvent], any Error>? = state.withLock { s in
                switch s {
                case .done(let result): return result
                case .waiting: s = .waiting(continuation); return nil
                }
            }
            if let ready { continuation.resume(with: ready) }
        }
    }
}
