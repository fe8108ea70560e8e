import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Per-sandbox control groups: memory, process count and CPU bandwidth for everything in one
/// sandbox together. Used when the server may create cgroups (it runs as root, or has a
/// delegated subtree); v1 and v2 hierarchies are both supported. Groups are created below the
/// server's own cgroup, in `cma-sandboxes/<name>`.
public struct CgroupSet: Sendable, Equatable {
    /// The `cgroup.procs` files a launcher writes its PID to.
    public var procsFiles: [String]
    /// The group directories, deepest first, for cleanup.
    public var directories: [String]

    public static let none = CgroupSet(procsFiles: [], directories: [])
}

public enum Cgroups {
    enum Hierarchy: Equatable {
        case v2(root: String)
        case v1(controllers: [String: String])  // controller → directory of our group
        case unavailable
    }

    /// Where this process's groups live, from /proc/self/cgroup and /proc/self/mountinfo.
    static func detect() -> Hierarchy {
        guard let membership = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8) else { return .unavailable }
        let mounts = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        var v1: [String: String] = [:]
        var v2Path: String?
        for line in membership.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            let controllers = parts[1]
            let path = String(parts[2])
            if controllers.isEmpty {
                v2Path = path
            } else {
                for controller in controllers.split(separator: ",") where ["memory", "pids", "cpu"].contains(String(controller)) {
                    if let mount = mountPoint(for: String(controller), in: mounts) {
                        v1[String(controller)] = mount + (path == "/" ? "" : path)
                    }
                }
            }
        }
        if v1.count == 3 { return .v1(controllers: v1) }
        if let v2Path, let mount = mountPoint(forV2In: mounts) {
            return .v2(root: mount + (v2Path == "/" ? "" : v2Path))
        }
        return .unavailable
    }

    private static func mountPoint(for controller: String, in mountinfo: String) -> String? {
        for line in mountinfo.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard let dash = fields.firstIndex(of: "-"), fields.count > dash + 3, fields.count > 4 else { continue }
            guard fields[dash + 1] == "cgroup" else { continue }
            let options = fields.last.map { $0.split(separator: ",").map(String.init) } ?? []
            if options.contains(controller) { return String(fields[4]) }
        }
        return nil
    }

    private static func mountPoint(forV2In mountinfo: String) -> String? {
        for line in mountinfo.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard let dash = fields.firstIndex(of: "-"), fields.count > dash + 1, fields.count > 4 else { continue }
            if fields[dash + 1] == "cgroup2" { return String(fields[4]) }
        }
        return nil
    }

    /// Creates the groups of one sandbox with the given limits, or returns `.none` when this
    /// host does not let us (the caller then relies on rlimits alone and says so in its logs).
    public static func create(name: String, limits: SandboxLimits) -> CgroupSet {
        switch detect() {
        case .unavailable:
            return .none
        case .v1(let controllers):
            var set = CgroupSet(procsFiles: [], directories: [])
            for (controller, base) in controllers.sorted(by: { $0.key < $1.key }) {
                let dir = base + "/cma-sandboxes/" + name
                guard (try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)) != nil else {
                    destroy(set)
                    return .none
                }
                set.directories.append(dir)
                let ok: Bool
                switch controller {
                case "memory":
                    ok = write(String(limits.memoryBytes), to: dir + "/memory.limit_in_bytes")
                    _ = write(String(limits.memoryBytes), to: dir + "/memory.memsw.limit_in_bytes")
                case "pids":
                    ok = write(String(limits.maxProcesses), to: dir + "/pids.max")
                case "cpu":
                    ok = write("100000", to: dir + "/cpu.cfs_period_us") && write(String(Int(limits.cpus * 100_000)), to: dir + "/cpu.cfs_quota_us")
                default:
                    ok = true
                }
                guard ok else {
                    destroy(set)
                    return .none
                }
                set.procsFiles.append(dir + "/cgroup.procs")
            }
            return set
        case .v2(let root):
            let parent = root + "/cma-sandboxes"
            let dir = parent + "/" + name
            guard (try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)) != nil else { return .none }
            // Controllers must be enabled on every level down to the new group.
            _ = write("+memory +pids +cpu", to: root + "/cgroup.subtree_control")
            _ = write("+memory +pids +cpu", to: parent + "/cgroup.subtree_control")
            let set = CgroupSet(procsFiles: [dir + "/cgroup.procs"], directories: [dir])
            let ok =
                write(String(limits.memoryBytes), to: dir + "/memory.max") && write("0", to: dir + "/memory.swap.max")
                && write(String(limits.maxProcesses), to: dir + "/pids.max")
                && write("\(Int(limits.cpus * 100_000)) 100000", to: dir + "/cpu.max")
            guard ok else {
                destroy(set)
                return .none
            }
            return set
        }
    }

    /// Removes leftover groups of sandboxes that no longer run (e.g. after a crash). Groups with
    /// processes in them (other servers' running sandboxes) cannot be removed and stay, and
    /// recent ones are left alone (another server may be about to start a sandbox in them).
    public static func removeEmptyGroups() {
        var parents: [String] = []
        switch detect() {
        case .unavailable: return
        case .v1(let controllers): parents = controllers.values.map { $0 + "/cma-sandboxes" }
        case .v2(let root): parents = [root + "/cma-sandboxes"]
        }
        for parent in parents {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? [] {
                var st = stat()
                let now = time(nil)
                if stat(parent + "/" + name, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR, now - st.st_mtim.tv_sec > 600 {
                    _ = rmdir(parent + "/" + name)
                }
            }
        }
    }

    /// Kills whatever is left in the groups and removes them.
    public static func destroy(_ set: CgroupSet) {
        for dir in set.directories {
            if !write("1", to: dir + "/cgroup.kill") {
                for pid in pids(in: dir) { kill(pid, SIGKILL) }
            }
        }
        for dir in set.directories {
            for _ in 0..<50 where rmdir(dir) != 0 && errno == EBUSY {
                usleep(10_000)
            }
        }
    }

    static func pids(in dir: String) -> [pid_t] {
        guard let text = try? String(contentsOfFile: dir + "/cgroup.procs", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { pid_t($0) }
    }

    @discardableResult
    static func write(_ value: String, to path: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return value.withCString { Glibc.write(fd, $0, strlen($0)) } == value.utf8.count
    }
}
