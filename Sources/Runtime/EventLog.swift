import Logging
import Storage
import Synchronization

/// The single path by which session state changes reach storage and subscribers.
///
/// Writers enqueue `SessionWrite`s; one loop commits everything queued in a single transaction
/// (group commit: one fsync per batch, however many sessions are busy), then publishes the
/// committed events to the broadcaster in commit order, then resumes the writers. The enqueue
/// happens synchronously inside `append`, so writes from one actor reach the log in the order
/// the actor issued them. A write is never abandoned because its caller was cancelled.
public final class EventLog: Sendable {
    public let store: any Store
    public let broadcaster: Broadcaster
    private let logger: Logger
    private let maxBatch: Int

    private struct Pending: Sendable {
        var write: SessionWrite
        var continuation: CheckedContinuation<[StoredEvent], any Error>?
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

    /// Commits `write` and returns its events as stored, after they have been published.
    @discardableResult
    public func append(_ write: SessionWrite) async throws -> [StoredEvent] {
        try await withCheckedThrowingContinuation { continuation in
            enqueue(Pending(write: write, continuation: continuation))
        }
    }

    /// Queues `write` without waiting for it (stream fragments such as text deltas). Order with
    /// respect to other writes is preserved; a failure is logged.
    public func appendDetached(_ write: SessionWrite) {
        enqueue(Pending(write: write, continuation: nil))
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
            pending.continuation?.resume(throwing: CancellationError())
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
        do {
            let results = try await store.commit(batch.map(\.write))
            for (pending, events) in zip(batch, results) {
                broadcaster.publish(sessionID: pending.write.sessionID, events: events)
            }
            for (pending, events) in zip(batch, results) {
                pending.continuation?.resume(returning: events)
            }
        } catch {
            guard batch.count > 1 else {
                logger.error("event log write failed", metadata: ["session": "\(batch[0].write.sessionID)", "error": "\(error)"])
                batch[0].continuation?.resume(throwing: error)
                return
            }
            // Isolate the failing write: commit one by one.
            for pending in batch {
                await commit([pending])
            }
        }
    }
}
