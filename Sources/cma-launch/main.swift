// cma-launch: the first step of starting a sandbox when the server runs as root.
//
//     cma-launch [--open-dir FD:PATH]... [--open-file FD:PATH]... [--stage PATH:NAME]...
//                [--stage-image IMAGE:NAME:LOCKFD]... [--image-device NAME=/dev/loopN]...
//                [--cgroup-procs FILE]... [--rlimit NAME=VALUE]... [--uid UID --gid GID] -- PROGRAM ARGS...
//
// It closes every inherited descriptor above stderr, opens the given paths on the given
// descriptors (while still privileged: the sandbox's user could not traverse the server's data
// directory, so bubblewrap mounts them from these descriptors), stages paths (in a private
// mount namespace, binds each PATH at /tmp/NAME on a fresh tmpfs, so that bubblewrap, running as
// the sandbox's user, can reach them wherever they live on the host; an IMAGE is an ext4 file
// system image, locked exclusively (the lock is kept on LOCKFD, which bubblewrap holds with
// --sync-fd) and mounted from a loop device, which bounds the workspace's size: the device given
// for it with --image-device if that is backed by exactly this image, else one attached now),
// joins the given cgroups
// (writing its own PID to each `cgroup.procs`), sets resource limits, drops to the given user
// and group (no supplementary groups), sets no_new_privs, and executes PROGRAM (bubblewrap),
// which inherits all of it. Any failure exits with status 126 and a message on stderr: a sandbox is never
// started with less isolation than asked for.
#if canImport(Glibc)
import Glibc
#endif
import LoopDevice

func fail(_ message: String) -> Never {
    let line = "cma-launch: \(message)\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
    exit(126)
}

// glibc functions that Swift's Glibc module does not import (they need `_GNU_SOURCE` or
// <sys/mount.h>), linked directly: the launcher is a static executable (it starts in ~1 ms
// instead of ~3), so there is no dynamic symbol table to look them up in.
@_silgen_name("close_range") func close_range(_ first: UInt32, _ last: UInt32, _ flags: Int32) -> Int32
@_silgen_name("prctl") func prctl(_ option: Int32, _ a: UInt, _ b: UInt, _ c: UInt, _ d: UInt) -> Int32
@_silgen_name("setresgid") func setresgid(_ r: UInt32, _ e: UInt32, _ s: UInt32) -> Int32
@_silgen_name("setresuid") func setresuid(_ r: UInt32, _ e: UInt32, _ s: UInt32) -> Int32
@_silgen_name("unshare") func unshare(_ flags: Int32) -> Int32
@_silgen_name("mount") func mount(
    _ source: UnsafePointer<CChar>?, _ target: UnsafePointer<CChar>, _ type: UnsafePointer<CChar>?, _ flags: UInt, _ data: UnsafeRawPointer?
) -> Int32

// 1. No inherited descriptor reaches the sandbox.
if close_range(3, UInt32.max, 0) == 0 {
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
/// Loop devices already attached to images, by image name (checked before use).
var imageDevices: [String: String] = [:]
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
    case "--image-device":
        guard let equals = value.firstIndex(of: "=") else { fail("bad --image-device \(value)") }
        imageDevices[String(value[..<equals])] = String(value[value.index(after: equals)...])
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
        // A device the server attached ahead of time (a spare image's), if it is this image's;
        // otherwise one attached now.
        var device: (path: String, fd: Int32)
        if let path = imageDevices[image.name], let opened = LoopDevice.open(path, backing: fd) {
            device = (path, opened)
        } else {
            do {
                device = try LoopDevice.attach(imageFD: fd)
            } catch {
                fail(error.message)
            }
        }
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
    guard setresgid(gid, gid, gid) == 0 else { fail("setresgid: \(String(cString: strerror(errno)))") }
}
if let uid {
    guard setresuid(uid, uid, uid) == 0 else { fail("setresuid: \(String(cString: strerror(errno)))") }
    guard getuid() == uid, geteuid() == uid, setuid(0) != 0 || uid == 0 else { fail("could not drop privileges") }
}
do {
    let PR_SET_NO_NEW_PRIVS: Int32 = 38
    let PR_SET_DUMPABLE: Int32 = 4
    guard prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 else { fail("prctl(PR_SET_NO_NEW_PRIVS)") }
    // Changing credentials made this process non-dumpable, which leaves /proc/self/fd owned by
    // root; bubblewrap mounts the descriptors above through it. Only this sandbox's own
    // processes share the new uid.
    if uid != nil { guard prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) == 0 else { fail("prctl(PR_SET_DUMPABLE)") } }
}

// 6. Become the program.
let cArguments = arguments.map { strdup($0) } + [nil]
execv(arguments[0], cArguments)
fail("exec \(arguments[0]): \(String(cString: strerror(errno)))")
