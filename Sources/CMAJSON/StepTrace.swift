#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Timestamps of the phases of a step and of a sandbox start, for the benchmarks' breakdown of
/// where the time goes (`CMA_STEP_TRACE=1 scripts/bench harness sandbox`).
///
/// Off unless `CMA_STEP_TRACE` is set when the process starts; then a mark is one clock read
/// and an append under a lock (at most ``capacity`` marks are kept). Not for production use.
public enum StepTrace {
    public static let enabled = getenv("CMA_STEP_TRACE") != nil
    public static let capacity = 1 << 20
    private static let marks = Mutex<[(String, ContinuousClock.Instant)]>([])

    /// Notes that the phase `label` was reached now.
    @inline(__always)
    public static func mark(_ label: @autoclosure () -> String) {
        guard enabled else { return }
        let now = ContinuousClock.now
        let label = label()
        marks.withLock { if $0.count < capacity { $0.append((label, now)) } }
    }

    /// The marks so far, oldest first; the trace starts again empty.
    public static func take() -> [(label: String, at: ContinuousClock.Instant)] {
        marks.withLock { m in
            defer { m = [] }
            return m.map { (label: $0.0, at: $0.1) }
        }
    }
}
