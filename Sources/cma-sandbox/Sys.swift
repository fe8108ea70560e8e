#if canImport(Glibc)
import Glibc
#endif

/// Thin, EINTR-safe wrappers over the libc calls the agent uses, plus the few GNU/Linux
/// functions that Swift's Glibc module does not import (linked directly).
enum Sys {
    /// Monotonic clock in nanoseconds.
    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        let sec = UInt64(truncatingIfNeeded: ts.tv_sec)
        let nsec = UInt64(truncatingIfNeeded: ts.tv_nsec)
        return sec &* 1_000_000_000 &+ nsec
    }

    static func describe(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }

    static func closeFD(_ fd: Int32) {
        // On Linux the descriptor is released even when close reports EINTR: never retry.
        if fd >= 0 { _ = close(fd) }
    }

    static func setCloexec(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFD)
        if flags >= 0 { _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
    }

    static func setNonblocking(_ fd: Int32, _ on: Bool) {
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0 else { return }
        _ = fcntl(fd, F_SETFL, on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK))
    }

    /// Writes all of `buffer`, retrying on EINTR and partial writes and waiting on EAGAIN.
    /// Returns 0 or the errno of the failure.
    static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> Int32 {
        guard var p = buffer.baseAddress else { return 0 }
        var left = buffer.count
        while left > 0 {
            let n = write(fd, p, left)
            if n > 0 {
                p = p.advanced(by: n)
                left -= n
                continue
            }
            if n == 0 { return EIO }
            let e = errno
            if e == EINTR { continue }
            if e == EAGAIN || e == EWOULDBLOCK {
                var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&pfd, 1, 1000)
                continue
            }
            return e
        }
        return 0
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Int32 {
        bytes.withUnsafeBytes { writeAll(fd, $0) }
    }

    /// Writes a diagnostic line to stderr (never parsed by the runtime).
    static func diagnostic(_ message: String) {
        _ = writeAll(2, Array(("cma-sandbox: " + message + "\n").utf8))
    }

    /// `openat` retried on EINTR. Returns the descriptor or -errno.
    static func openAt(_ dirfd: Int32, _ name: String, _ flags: Int32, _ mode: mode_t = 0) -> Int32 {
        while true {
            let fd = openat(dirfd, name, flags, mode)
            if fd >= 0 { return fd }
            let e = errno
            if e != EINTR { return -e }
        }
    }

    /// `fstatat` without following a final symlink. Returns 0 or errno.
    static func lstatAt(_ dirfd: Int32, _ name: String, _ st: inout stat) -> Int32 {
        while true {
            if fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 { return 0 }
            let e = errno
            if e != EINTR { return e }
        }
    }

    static func isDir(_ st: stat) -> Bool { (st.st_mode & S_IFMT) == S_IFDIR }
    static func isReg(_ st: stat) -> Bool { (st.st_mode & S_IFMT) == S_IFREG }
    static func isLink(_ st: stat) -> Bool { (st.st_mode & S_IFMT) == S_IFLNK }

    static func typeName(_ st: stat) -> String {
        switch st.st_mode & S_IFMT {
        case S_IFREG: return "file"
        case S_IFDIR: return "dir"
        case S_IFLNK: return "symlink"
        default: return "other"
        }
    }

    /// The names in the directory open at `fd` (without "." and ".."), as raw bytes. The
    /// directory is read through a duplicate so that `fd` stays usable. Returns nil and sets
    /// `error` on failure.
    static func readNames(_ fd: Int32, error: inout Int32) -> [[UInt8]]? {
        let dupFD = fcntl(fd, F_DUPFD_CLOEXEC, 3)
        if dupFD < 0 {
            error = errno
            return nil
        }
        guard let dir = fdopendir(dupFD) else {
            error = errno
            closeFD(dupFD)
            return nil
        }
        defer { closedir(dir) }
        rewinddir(dir)
        var names: [[UInt8]] = []
        while true {
            errno = 0
            guard let entry = readdir(dir) else {
                let e = errno
                if e == 0 { break }
                if e == EINTR { continue }
                error = e
                return nil
            }
            var raw = entry.pointee.d_name
            let name: [UInt8] = withUnsafeBytes(of: &raw) { bytes in
                var n = 0
                while n < bytes.count, bytes[n] != 0 { n += 1 }
                return Array(bytes[0..<n])
            }
            if name.isEmpty || name == [0x2E] || name == [0x2E, 0x2E] { continue }
            names.append(name)
        }
        return names
    }
}

/// Runs `body` with `bytes` as a NUL-terminated C string. (Names read from a directory are
/// raw bytes, possibly not UTF-8, and never contain NUL.)
func withCName<R>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) -> R) -> R {
    var copy = bytes
    copy.append(0)
    return copy.withUnsafeBufferPointer { buffer in
        buffer.withMemoryRebound(to: CChar.self) { body($0.baseAddress!) }
    }
}

/// GNU/Linux functions that Swift's Glibc module does not import, resolved at start.
struct LinuxExtras {
    typealias SignalFD = @convention(c) (Int32, UnsafePointer<sigset_t>?, Int32) -> Int32
    typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32
    typealias AddFchdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32
    typealias PidfdOpen = @convention(c) (pid_t, UInt32) -> Int32
    typealias PidfdSendSignal = @convention(c) (Int32, Int32, UnsafeMutableRawPointer?, UInt32) -> Int32
    typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32

    var signalfd: SignalFD?
    var addCloseFrom: AddCloseFrom?
    var addFchdir: AddFchdir?
    var pidfdOpen: PidfdOpen?
    var pidfdSendSignal: PidfdSendSignal?
    var prctl: Prctl?

    /// All present: the agent is a static executable linked against the build machine's glibc
    /// (2.36 here; every one of these is in 2.36), which starts in ~1 ms instead of ~3.
    init() {
        signalfd = { c_signalfd($0, $1, $2) }
        addCloseFrom = { c_addclosefrom($0, $1) }
        addFchdir = { c_addfchdir($0, $1) }
        pidfdOpen = { c_pidfd_open($0, $1) }
        pidfdSendSignal = { c_pidfd_send_signal($0, $1, $2, $3) }
        prctl = { c_prctl($0, $1, $2, $3, $4) }
    }
}

@_silgen_name("signalfd") private func c_signalfd(_ fd: Int32, _ mask: UnsafePointer<sigset_t>?, _ flags: Int32) -> Int32
@_silgen_name("posix_spawn_file_actions_addclosefrom_np")
private func c_addclosefrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>?, _ from: Int32) -> Int32
@_silgen_name("posix_spawn_file_actions_addfchdir_np")
private func c_addfchdir(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>?, _ fd: Int32) -> Int32
@_silgen_name("pidfd_open") private func c_pidfd_open(_ pid: pid_t, _ flags: UInt32) -> Int32
@_silgen_name("pidfd_send_signal") private func c_pidfd_send_signal(_ fd: Int32, _ signal: Int32, _ info: UnsafeMutableRawPointer?, _ flags: UInt32) -> Int32
@_silgen_name("prctl") private func c_prctl(_ option: Int32, _ a: UInt, _ b: UInt, _ c: UInt, _ d: UInt) -> Int32
