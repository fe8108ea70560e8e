// cma-launch: the first step of starting a sandbox when the server runs as root.
//
//     cma-launch [--open-dir FD:PATH]... [--open-file FD:PATH]... [--stage PATH:NAME]...
//                [--stage-image IMAGE:NAME:LOCKFD]...
//                [--cgroup-procs FILE]... [--rlimit NAME=VALUE]... [--uid UID --gid GID] -- PROGRAM ARGS...
//
// It closes every inherited descriptor above stderr, opens the given paths on the given
// descriptors (while still privileged: the sandbox's user could not traverse the server's data
// directory, so bubblewrap mounts them from these descriptors), stages paths (in a private
// mount namespace, binds each PATH at /tmp/NAME on a fresh tmpfs, so that bubblewrap, running as
// the sandbox's user, can reach them wherever they live on the host; an IMAGE is an ext4 file
// system image, locked exclusively (the lock is kept on LOCKFD, which bubblewrap holds with
// --sync-fd) and mounted from a loop device, which bounds the workspace's size), joins the given cgroups
// (writing its own PID to each `cgroup.procs`), sets resource limits, drops to the given user
// and group (no supplementary groups), sets no_new_privs, and executes PROGRAM (bubblewrap),
// which inherits all of it. Any failure exits with status 126 and a message on stderr: a sandbox is never
// started with less isolation than asked for.
#if canImport(Glibc)
import Glibc
#endif

func fail(_ message: String) -> Never {
    let line = "cma-launch: \(message)\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
    exit(126)
}

typealias CloseRange = @convention(c) (UInt32, UInt32, Int32) -> Int32
typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
typealias SetRes = @convention(c) (UInt32, UInt32, UInt32) -> Int32
typealias Unshare = @convention(c) (Int32) -> Int32
typealias Mount = @convention(c) (UnsafePointer<CChar>?, UnsafePointer<CChar>, UnsafePointer<CChar>?, UInt, UnsafeRawPointer?) -> Int32
typealias Ioctl = @convention(c) (Int32, UInt, UnsafeMutableRawPointer?) -> Int32

/// Attaches `imageFD` to a free loop device (detached automatically once unmounted, and once the
/// returned descriptor is closed if it is not mounted) and returns the device's path and an open
/// descriptor on it, to be closed after mounting.
func attachLoopDevice(imageFD: Int32) -> (path: String, fd: Int32) {
    guard let ioctl = symbol("ioctl", as: Ioctl.self) else { fail("ioctl is not available") }
    let LOOP_CTL_GET_FREE: UInt = 0x4C82, LOOP_SET_FD: UInt = 0x4C00, LOOP_SET_STATUS64: UInt = 0x4C04, LOOP_CONFIGURE: UInt = 0x4C0A
    let control = open("/dev/loop-control", O_RDWR | O_CLOEXEC)
    guard control >= 0 else { fail("cannot open /dev/loop-control: \(String(cString: strerror(errno)))") }
    defer { close(control) }
    for _ in 0..<50 {
        let number = ioctl(control, LOOP_CTL_GET_FREE, nil)
        guard number >= 0 else { fail("no free loop device: \(String(cString: strerror(errno)))") }
        let path = "/dev/loop\(number)"
        let device = open(path, O_RDWR | O_CLOEXEC)
        guard device >= 0 else { fail("cannot open \(path): \(String(cString: strerror(errno)))") }
        // LOOP_CONFIGURE (Linux 5.8+) attaches and sets the flags in one step, without the
        // slow LOOP_SET_STATUS64 (which freezes the device). struct loop_config: fd, block_size,
        // loop_info64 (lo_flags at offset 52 within it), reserved.
        var config = [UInt8](repeating: 0, count: 304)
        withUnsafeBytes(of: UInt32(bitPattern: imageFD).littleEndian) { config.replaceSubrange(0..<4, with: $0) }
        config[8 + 52] = 4  // LO_FLAGS_AUTOCLEAR
        let configured = config.withUnsafeMutableBytes { ioctl(device, LOOP_CONFIGURE, $0.baseAddress) }
        if configured == 0 { return (path, device) }
        if errno == EBUSY {
            close(device)
            continue  // taken by someone else meanwhile
        }
        if ioctl(device, LOOP_SET_FD, UnsafeMutableRawPointer(bitPattern: Int(imageFD))) != 0 {
            close(device)
            if errno == EBUSY { continue }
            fail("LOOP_SET_FD: \(String(cString: strerror(errno)))")
        }
        // struct loop_info64 (232 bytes); lo_flags at offset 52: LO_FLAGS_AUTOCLEAR.
        var info = [UInt8](repeating: 0, count: 232)
        info[52] = 4
        let ok = info.withUnsafeMutableBytes { ioctl(device, LOOP_SET_STATUS64, $0.baseAddress) }
        guard ok == 0 else { fail("LOOP_SET_STATUS64: \(String(cString: strerror(errno)))") }
        return (path, device)
    }
    fail("no free loop device")
}

func symbol<T>(_ name: String, as type: T.Type) -> T? {
    guard let handle = dlopen(nil, RTLD_NOW), let pointer = dlsym(handle, name) else { return nil }
    return unsafeBitCast(pointer, to: type)
}

// 1. No inherited descriptor reaches the sandbox.
if let closeRange = symbol("close_range", as: CloseRange.self), closeRange(3, UInt32.max, 0) == 0 {
    // done
} else {
    var limit = rlimit()
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    let top = Int32(clamping: min(limit.rlim_cur, 65536))
    var fd: Int32 = 3
    while fd < top {
        close(fd)
        fd += 1
    }
}

var arguments = Array(CommandLine.arguments.dropFirst())
var cgroupFiles: [String] = []
var opens: [(fd: Int32, path: String, directory: Bool)] = []
var stages: [(path: String, name: String)] = []
var images: [(path: String, name: String, lockFD: Int32)] = []
var rlimits: [(Int32, UInt64)] = []
var uid: uid_t?
var gid: gid_t?

// Linux's resource numbers (the same on x86_64 and arm64).
let rlimitNames: [String: Int32] = [
    "cpu": 0, "fsize": 1, "data": 2, "stack": 3, "core": 4, "nproc": 6, "nofile": 7, "memlock": 8, "as": 9,
    "locks": 10, "sigpending": 11, "msgqueue": 12,
]

while let first = arguments.first, first != "--" {
    arguments.removeFirst()
    guard let value = arguments.first else { fail("\(first) needs a value") }
    arguments.removeFirst()
    switch first {
    case "--cgroup-procs":
        cgroupFiles.append(value)
    case "--stage":
        guard let colon = value.lastIndex(of: ":") else { fail("bad --stage \(value)") }
        let name = String(value[value.index(after: colon)...])
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else { fail("bad --stage name \(name)") }
        stages.append((String(value[..<colon]), name))
    case "--stage-image":
        let parts = value.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 3, let lockFD = Int32(parts[parts.count - 1]), lockFD > 2, lockFD < 1000 else { fail("bad --stage-image \(value)") }
        let name = String(parts[parts.count - 2])
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else { fail("bad --stage-image name \(name)") }
        images.append((parts.dropLast(2).joined(separator: ":"), name, lockFD))
    case "--open-dir", "--open-file":
        let parts = value.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, let fd = Int32(parts[0]), fd > 2, fd < 1000 else { fail("bad \(first) \(value)") }
        opens.append((fd, String(parts[1]), first == "--open-dir"))
    case "--rlimit":
        let parts = value.split(separator: "=", maxSplits: 1)
        guard parts.count == 2, let resource = rlimitNames[String(parts[0])], let amount = UInt64(parts[1]) else {
            fail("bad --rlimit \(value)")
        }
        rlimits.append((resource, amount))
    case "--uid":
        guard let v = UInt32(value) else { fail("bad --uid \(value)") }
        uid = v
    case "--gid":
        guard let v = UInt32(value) else { fail("bad --gid \(value)") }
        gid = v
    default:
        fail("unknown option \(first)")
    }
}
guard arguments.first == "--", arguments.count >= 2 else { fail("usage: cma-launch [options] -- PROGRAM ARGS...") }
arguments.removeFirst()

// 2. Open the paths bubblewrap will mount, on the descriptors it is told about.
for (fd, path, directory) in opens {
    let O_PATH: Int32 = 0x200000  // Linux
    let flags = directory ? (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : (O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
    let opened = open(path, flags)
    guard opened >= 0 else { fail("cannot open \(path): \(String(cString: strerror(errno)))") }
    if opened != fd {
        guard dup2(opened, fd) == fd else { fail("dup2: \(String(cString: strerror(errno)))") }
        close(opened)
    } else {
        _ = fcntl(fd, F_SETFD, 0)
    }
}

// 2a. Lock the images (one sandbox per image at a time), waiting a little for a previous one.
var imageFDs: [Int32] = []
for image in images {
    let fd = open(image.path, O_RDWR | O_NOFOLLOW | O_CLOEXEC)
    guard fd >= 0 else { fail("cannot open \(image.path): \(String(cString: strerror(errno)))") }
    var locked = false
    for _ in 0..<200 {
        if flock(fd, LOCK_EX | LOCK_NB) == 0 {
            locked = true
            break
        }
        usleep(50_000)
    }
    guard locked else { fail("the workspace \(image.path) is still in use by another sandbox") }
    // Bubblewrap keeps this descriptor (--sync-fd), and with it the lock, while the sandbox runs.
    guard dup2(fd, image.lockFD) == image.lockFD else { fail("dup2: \(String(cString: strerror(errno)))") }
    if fd != image.lockFD { close(fd) }
    imageFDs.append(image.lockFD)
}

// 2b. Stage paths: a private mount namespace with a tmpfs on /tmp, each path bound at /tmp/NAME.
if !stages.isEmpty || !images.isEmpty {
    guard let unshare = symbol("unshare", as: Unshare.self), let mount = symbol("mount", as: Mount.self) else { fail("mount is not available") }
    let CLONE_NEWNS: Int32 = 0x00020000
    let MS_BIND: UInt = 4096, MS_REC: UInt = 16384, MS_PRIVATE: UInt = 1 << 18, MS_NOSUID: UInt = 2, MS_NODEV: UInt = 4
    guard unshare(CLONE_NEWNS) == 0 else { fail("unshare(CLONE_NEWNS): \(String(cString: strerror(errno)))") }
    guard mount(nil, "/", nil, MS_REC | MS_PRIVATE, nil) == 0 else { fail("making mounts private: \(String(cString: strerror(errno)))") }
    let O_PATH: Int32 = 0x200000
    var sources: [(fd: Int32, name: String, directory: Bool)] = []
    for (path, name) in stages {
        // Opened in the new namespace (a bind needs a source in it) and before /tmp is covered,
        // since a path may be under /tmp.
        let fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { fail("cannot open \(path): \(String(cString: strerror(errno)))") }
        var st = stat()
        guard fstat(fd, &st) == 0 else { fail("cannot stat \(path)") }
        sources.append((fd, name, (st.st_mode & S_IFMT) == S_IFDIR))
    }
    guard mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755") == 0 else {
        fail("mounting the staging tmpfs: \(String(cString: strerror(errno)))")
    }
    for source in sources {
        let target = "/tmp/" + source.name
        if source.directory {
            guard mkdir(target, 0o755) == 0 else { fail("mkdir \(target): \(String(cString: strerror(errno)))") }
        } else {
            let fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            guard fd >= 0 else { fail("creating \(target): \(String(cString: strerror(errno)))") }
            close(fd)
        }
        guard mount("/proc/self/fd/\(source.fd)", target, nil, MS_BIND | MS_REC, nil) == 0 else {
            fail("binding \(source.name): \(String(cString: strerror(errno)))")
        }
        close(source.fd)
    }
    for (image, fd) in zip(images, imageFDs) {
        let target = "/tmp/" + image.name
        guard mkdir(target, 0o755) == 0 else { fail("mkdir \(target): \(String(cString: strerror(errno)))") }
        let device = attachLoopDevice(imageFD: fd)
        guard mount(device.path, target, "ext4", MS_NOSUID | MS_NODEV, "errors=remount-ro") == 0 else {
            fail("mounting the workspace image: \(String(cString: strerror(errno)))")
        }
        close(device.fd)
        _ = rmdir(target + "/lost+found")
        // A pre-made (spare) image's root belongs to root until its first use.
        var root = stat()
        if let uid, let gid, lstat(target, &root) == 0, root.st_uid != uid || root.st_gid != gid {
            guard lchown(target, uid, gid) == 0, chmod(target, 0o755) == 0 else { fail("chown of the workspace root: \(String(cString: strerror(errno)))") }
        }
    }
}

// 3. Join the cgroups (before anything else is started, so every descendant is counted).
let pid = String(getpid())
for file in cgroupFiles {
    let fd = open(file, O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { fail("cannot open \(file): \(String(cString: strerror(errno)))") }
    let ok = pid.withCString { write(fd, $0, strlen($0)) } == pid.utf8.count
    close(fd)
    guard ok else { fail("cannot join cgroup \(file): \(String(cString: strerror(errno)))") }
}

// 4. Resource limits (hard and soft).
for (resource, amount) in rlimits {
    var limit = rlimit(rlim_cur: rlim_t(amount), rlim_max: rlim_t(amount))
    guard setrlimit(__rlimit_resource_t(UInt32(resource)), &limit) == 0 else {
        fail("setrlimit(\(resource), \(amount)): \(String(cString: strerror(errno)))")
    }
}

// 5. Drop privileges: group first, then user; no way back.
if let gid {
    guard setgroups(0, nil) == 0 else { fail("setgroups: \(String(cString: strerror(errno)))") }
    guard let setresgid = symbol("setresgid", as: SetRes.self), setresgid(gid, gid, gid) == 0 else { fail("setresgid: \(String(cString: strerror(errno)))") }
}
if let uid {
    guard let setresuid = symbol("setresuid", as: SetRes.self), setresuid(uid, uid, uid) == 0 else { fail("setresuid: \(String(cString: strerror(errno)))") }
    guard getuid() == uid, geteuid() == uid, setuid(0) != 0 || uid == 0 else { fail("could not drop privileges") }
}
if let prctl = symbol("prctl", as: Prctl.self) {
    let PR_SET_NO_NEW_PRIVS: Int32 = 38
    let PR_SET_DUMPABLE: Int32 = 4
    guard prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 else { fail("prctl(PR_SET_NO_NEW_PRIVS)") }
    // Changing credentials made this process non-dumpable, which leaves /proc/self/fd owned by
    // root; bubblewrap mounts the descriptors above through it. Only this sandbox's own
    // processes share the new uid.
    if uid != nil { guard prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) == 0 else { fail("prctl(PR_SET_DUMPABLE)") } }
} else {
    fail("prctl is not available")
}

// 6. Become the program.
let cArguments = arguments.map { strdup($0) } + [nil]
execv(arguments[0], cArguments)
fail("exec \(arguments[0]): \(String(cString: strerror(errno)))")
