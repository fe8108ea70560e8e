#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Timestamps of the phases of a step and of a sandbox start, for the benchmarks' breakdown of
/// where the time goes (`CMA_STEP_TRACE=1 scripts/bench harness sandbox`), and durations the
/// runtime learns from elsewhere (a command's own time, as the sandbox agent timed it).
///
/// Off unless `CMA_STEP_TRACE` is set when the process starts, or a benchmark turns it on; then
/// a mark is one clock read and an append under a lock (at most ``capacity`` marks are kept).
/// Not for production use.
public enum StepTrace {
    private static let on = Atomic<Bool>(getenv("CMA_STEP_TRACE") != nil)
    public static let capacity = 1 << 20
    private static let marks = Mutex<[(String, ContinuousClock.Instant)]>([])
    private static let durations = Mutex<[(String, Duration)]>([])

    /// Whether marks and durations are kept.
    @inline(__always)
    public static var enabled: Bool { on.load(ordering: .relaxed) }

    /// Turns tracing on or off (for a benchmark's measured part).
    public static func set(enabled: Bool) {
        on.store(enabled, ordering: .relaxed)
    }

    /// Notes that the phase `label` was reached now.
    @inline(__always)
    public static func mark(_ label: @autoclosure () -> String) {
        guard enabled else { return }
        let now = ContinuousClock.now
        let label = label()
        marks.withLock { if $0.count < capacity { $0.append((label, now)) } }
    }

    /// Notes a duration measured elsewhere (e.g. by the sandbox agent).
    @inline(__always)
    public static func record(_ label: @autoclosure () -> String, _ duration: Duration) {
        guard enabled else { return }
        let label = label()
        durations.withLock { if $0.count < capacity { $0.append((label, duration)) } }
    }

    /// The marks so far, oldest first; the trace starts again empty.
    public static func take() -> [(label: String, at: ContinuousClock.Instant)] {
        marks.withLock { m in
            defer { m = [] }
            return m.map { (label: $0.0, at: $0.1) }
        }
    }

    /// The recorded durations so far, oldest first; they start again empty.
    public static func takeDurations() -> [(label: String, duration: Duration)] {
        durations.withLock { d in
            defer { d = [] }
            return d.map { (label: $0.0, duration: $0.1) }
        }
    }
}
