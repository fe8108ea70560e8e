#if canImport(Glibc)
import Glibc
#endif

/// Process-table helpers for `kill_all`.
enum Procs {
    /// The parent pid and state letter from /proc/<pid>/stat, or nil if it is gone.
    static func readStat(_ pid: pid_t) -> (ppid: pid_t, state: UInt8)? {
        let fd = Sys.openAt(AT_FDCWD, "/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { Sys.closeFD(fd) }
        var buffer = [UInt8](repeating: 0, count: 1024)
        var count = 0
        buffer.withUnsafeMutableBytes { b in
            guard let base = b.baseAddress else { return }
            while count < b.count {
                let n = read(fd, base.advanced(by: count), b.count - count)
                if n > 0 { count += n; continue }
                if n < 0 && errno == EINTR { continue }
                break
            }
        }
        // "pid (comm) S ppid …": comm may contain spaces and parentheses, so use the last ')'.
        guard let close = buffer[0..<count].lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = buffer[(close + 1)..<count].split(separator: UInt8(ascii: " "), maxSplits: 3)
        guard fields.count >= 2, let state = fields[0].first,
              let ppid = Int32(String(decoding: fields[1], as: UTF8.self)) else { return nil }
        return (ppid, state)
    }

    /// The numeric entries of /proc.
    static func pids() -> [pid_t] {
        let fd = Sys.openAt(AT_FDCWD, "/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { Sys.closeFD(fd) }
        var e: Int32 = 0
        guard let names = Sys.readNames(fd, error: &e) else { return [] }
        return names.compactMap { name in
            guard !name.isEmpty, name.count < 11, name.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
            return Int32(String(decoding: name, as: UTF8.self))
        }
    }

    /// The live (non-zombie) processes whose parent chain leads to `root`.
    static func descendants(of root: pid_t) -> Set<pid_t> {
        var parent: [pid_t: pid_t] = [:]
        var zombie: Set<pid_t> = []
        for pid in pids() {
            guard let s = readStat(pid) else { continue }
            parent[pid] = s.ppid
            if s.state == UInt8(ascii: "Z") || s.state == UInt8(ascii: "X") { zombie.insert(pid) }
        }
        var known: [pid_t: Bool] = [root: true]
        func leadsToRoot(_ start: pid_t) -> Bool {
            var chain: [pid_t] = []
            var current = start
            var answer = false
            while true {
                if let k = known[current] { answer = k; break }
                chain.append(current)
                guard let p = parent[current], p > 0, p != current, chain.count <= parent.count else { break }
                current = p
            }
            for pid in chain { known[pid] = answer }
            return answer
        }
        var result: Set<pid_t> = []
        for pid in parent.keys where pid != root && !zombie.contains(pid) && leadsToRoot(pid) {
            result.insert(pid)
        }
        return result
    }

    /// SIGKILLs every process of the sandbox except the agent.
    ///
    /// As PID 1 of the sandbox's PID namespace the agent uses `kill(-1, SIGKILL)`, which reaches
    /// exactly the namespace's other processes. Otherwise (under bubblewrap's own init, or in
    /// tests on a host) only its descendants are killed: the agent is a child subreaper, so
    /// orphans — including processes that called `setsid` — stay its descendants. Each victim
    /// is signalled through a pidfd after re-checking its parent, so a reused pid is never hit.
    /// `reap` is called between passes, so that children killed in one pass are gone in the next.
    static func killAll(extras: LinuxExtras, reap: () -> Void) {
        let me = getpid()
        if me == 1 {
            _ = kill(-1, SIGKILL)
            reap()
            return
        }
        var signalled: Set<pid_t> = []
        for _ in 0..<8 {
            let victims = descendants(of: me)
            let fresh = victims.subtracting(signalled)
            if fresh.isEmpty { break }
            for pid in victims {
                killVerified(pid, parentSet: victims, me: me, extras: extras)
            }
            signalled.formUnion(victims)
            reap()
        }
    }

    private static func killVerified(_ pid: pid_t, parentSet: Set<pid_t>, me: pid_t, extras: LinuxExtras) {
        func stillOurs() -> Bool {
            guard let s = readStat(pid) else { return false }
            return s.ppid == me || parentSet.contains(s.ppid)
        }
        if let open = extras.pidfdOpen, let send = extras.pidfdSendSignal {
            let pidfd = open(pid, 0)
            if pidfd >= 0 {
                defer { Sys.closeFD(pidfd) }
                // The pidfd pins the process: if the pid was reused after it was opened, the
                // signal goes to the old (dead) process and fails harmlessly.
                if stillOurs() { _ = send(pidfd, SIGKILL, nil, 0) }
                return
            }
            if errno != ENOSYS { return }
        }
        if stillOurs() { _ = kill(pid, SIGKILL) }
    }
}
