// cma-sandbox: the agent that runs inside each session's sandbox. It speaks the line-delimited
// JSON protocol of docs/SANDBOX_PROTOCOL.md on stdin/stdout; stderr carries diagnostics only.
//
// Usage: cma-sandbox [--workspace /workspace] [--warm-up LOG_DIR] [--egress-relay SOCKET [--egress-listen 127.0.0.1:3128]]
#if canImport(Glibc)
import Glibc
#endif

/// PR_SET_CHILD_SUBREAPER from <linux/prctl.h>.
private let prSetChildSubreaper: Int32 = 36

private func usage(_ message: String) -> Never {
    Sys.diagnostic(message)
    Sys.diagnostic("usage: cma-sandbox [--workspace PATH] [--warm-up LOG_DIR] [--egress-relay SOCKET [--egress-listen IPV4:PORT]]")
    exit(2)
}

// Descriptors 0–2 must exist, or a pipe or file could land on them and be mistaken for stdio.
for fd: Int32 in 0...2 where fcntl(fd, F_GETFD) < 0 {
    _ = open("/dev/null", O_RDWR)
}

var workspacePath = "/workspace"
var warmUpLogDirectory: String?
var egressSocket: String?
var egressListen = "127.0.0.1:3128"
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    var name = argument
    var inlineValue: String?
    if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
        name = String(argument[..<equals])
        inlineValue = String(argument[argument.index(after: equals)...])
    }
    func value() -> String {
        if let inlineValue { return inlineValue }
        guard let next = arguments.popFirst() else { usage("\(name) needs a value") }
        return next
    }
    switch name {
    case "--workspace": workspacePath = value()
    case "--warm-up": warmUpLogDirectory = value()
    case "--egress-relay": egressSocket = value()
    case "--egress-listen": egressListen = value()
    default: usage("unknown argument \(argument)")
    }
}
while workspacePath.count > 1 && workspacePath.hasSuffix("/") { workspacePath.removeLast() }

_ = signal(SIGPIPE, SIG_IGN)
let extras = LinuxExtras()

// Orphans (e.g. of `setsid cmd &`) are reparented to the agent rather than to an init outside
// its control, so it reaps them and `kill_all` can find them as descendants.
if getpid() != 1, let prctl = extras.prctl {
    _ = prctl(prSetChildSubreaper, 1, 0, 0, 0)
}

// SIGCHLD is delivered through a signalfd; spawned commands get an empty signal mask.
var signalFD: Int32 = -1
if let makeSignalFD = extras.signalfd {
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGCHLD)
    if sigprocmask(SIG_BLOCK, &set, nil) == 0 {
        signalFD = makeSignalFD(-1, &set, O_CLOEXEC | O_NONBLOCK)
        if signalFD < 0 {
            _ = sigprocmask(SIG_UNBLOCK, &set, nil)
        }
    }
}
if signalFD < 0 { Sys.diagnostic("signalfd unavailable; polling for exited children") }

let workspace: Workspace
do {
    workspace = try Workspace(path: workspacePath)
} catch {
    Sys.diagnostic("cannot open the workspace: \(error.message)")
    exit(1)
}

// Egress: the relay listens before `ready`, so no command can take its port first.
var relay: EgressRelay?
if let egressSocket {
    guard let colon = egressListen.lastIndex(of: ":"), let port = UInt16(egressListen[egressListen.index(after: colon)...]) else {
        usage("--egress-listen needs IPV4:PORT")
    }
    do {
        relay = try EgressRelay(socketPath: egressSocket, host: String(egressListen[..<colon]), port: port)
    } catch {
        Sys.diagnostic("cannot start the egress relay: \(error.message)")
        exit(1)
    }
}

// Inherited descriptors (other than stdio) must not leak into commands.
do {
    let self_fd = Sys.openAt(AT_FDCWD, "/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if self_fd >= 0 {
        var e: Int32 = 0
        for name in Sys.readNames(self_fd, error: &e) ?? [] {
            if let fd = Int32(String(decoding: name, as: UTF8.self)), fd > 2 { Sys.setCloexec(fd) }
        }
        Sys.closeFD(self_fd)
    }
}

Sys.setNonblocking(0, true)
Agent(workspace: workspace, extras: extras, signalFD: signalFD, relay: relay, warmUpLogDirectory: warmUpLogDirectory).run()
