#if canImport(Glibc)
import Glibc
#endif

/// The workspace root and the path rules of docs/SANDBOX_PROTOCOL.md.
///
/// Every path is resolved one component at a time from a descriptor of the workspace root,
/// with `O_NOFOLLOW` (and `O_DIRECTORY` for directories), so a symlink anywhere in a path is
/// refused with `symlink` and never followed; `..` and `.` components are refused outright.
final class Workspace {
    /// Flags for opening an intermediate directory.
    static let dirFlags: Int32 = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK

    let rootFD: Int32
    let rootPath: String
    private let rootComponents: [[UInt8]]

    /// Opens the workspace root. `path` must be absolute; it may itself traverse symlinks
    /// (it is trusted configuration).
    init(path: String) throws(Failure) {
        let components = try Workspace.split(path, what: "workspace root")
        rootComponents = components
        rootPath = components.isEmpty ? "/" : "/" + components.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "/")
        let fd = Sys.openAt(AT_FDCWD, rootPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure.errno(-fd, rootPath) }
        rootFD = fd
    }

    /// Splits an absolute, normalised path into its components. Works on the UTF-8 bytes: a
    /// Character-level split would not split at a "/" followed by a combining mark, which would
    /// leave a slash inside a component.
    private static func split(_ path: String, what: String = "path") throws(Failure) -> [[UInt8]] {
        let bytes = Array(path.utf8)
        if bytes.isEmpty { throw .invalidPath("the \(what) is empty") }
        if bytes.contains(0) { throw .invalidPath("the \(what) contains a NUL byte") }
        guard bytes[0] == UInt8(ascii: "/") else { throw .invalidPath("the \(what) must be absolute: \(path)") }
        if bytes.count > 4095 { throw .invalidPath("the \(what) is too long") }
        if bytes.count == 1 { return [] }
        let parts = bytes.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        var result: [[UInt8]] = []
        result.reserveCapacity(parts.count)
        for part in parts {
            if part.isEmpty { throw .invalidPath("the \(what) has an empty component: \(path)") }
            if part.elementsEqual([0x2E]) || part.elementsEqual([0x2E, 0x2E]) {
                throw .invalidPath("the \(what) has a '\(String(decoding: part, as: UTF8.self))' component: \(path)")
            }
            if part.count > 255 { throw .invalidPath("a component of the \(what) is longer than 255 bytes") }
            result.append(Array(part))
        }
        return result
    }

    /// The components of `path` relative to the workspace root (empty for the root itself).
    func resolve(_ path: String) throws(Failure) -> [String] {
        let parts = try Workspace.split(path)
        guard parts.count >= rootComponents.count, parts.prefix(rootComponents.count).elementsEqual(rootComponents) else {
            throw Failure("outside_workspace", "\(path) is outside the workspace \(rootPath)")
        }
        // Slices of valid UTF-8 cut at "/" bytes are valid UTF-8, so this decoding is exact.
        return parts.dropFirst(rootComponents.count).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The absolute path of relative components, for messages.
    func display(_ components: ArraySlice<String>) -> String {
        if components.isEmpty { return rootPath }
        return (rootPath == "/" ? "" : rootPath) + "/" + components.joined(separator: "/")
    }

    /// Explains why `name` in `dirFD` could not be opened as a directory (ELOOP/ENOTDIR).
    private func classifyNotDirectory(_ dirFD: Int32, _ name: String, _ e: Int32, _ path: String) -> Failure {
        var st = stat()
        let r = Sys.lstatAt(dirFD, name, &st)
        if r == 0 {
            if Sys.isLink(st) { return Failure("symlink", "\(path) is a symlink") }
            if !Sys.isDir(st) { return Failure("not_a_directory", "\(path) is not a directory") }
            return Failure.errno(e, path)
        }
        return Failure.errno(r, path)
    }

    /// Opens the directory at `components` (relative to the root), creating missing directories
    /// (mode 0755, one at a time, never through symlinks) when `create` is set. The caller
    /// owns the returned descriptor.
    func openDirectory(_ components: ArraySlice<String>, create: Bool) throws(Failure) -> Int32 {
        var current = fcntl(rootFD, F_DUPFD_CLOEXEC, 3)
        if current < 0 { throw Failure.errno(errno, rootPath) }
        var index = components.startIndex
        while index < components.endIndex {
            let name = components[index]
            let path = display(components[components.startIndex...index])
            var fd = Sys.openAt(current, name, Workspace.dirFlags)
            if fd == -ENOENT && create {
                var made = false
                while !made {
                    if mkdirat(current, name, 0o755) == 0 || errno == EEXIST {
                        made = true
                    } else if errno != EINTR {
                        let e = errno
                        Sys.closeFD(current)
                        throw Failure.errno(e, path, "cannot create")
                    }
                }
                fd = Sys.openAt(current, name, Workspace.dirFlags)
            }
            if fd < 0 {
                let e = -fd
                let failure = (e == ELOOP || e == ENOTDIR) ? classifyNotDirectory(current, name, e, path) : Failure.errno(e, path)
                Sys.closeFD(current)
                throw failure
            }
            Sys.closeFD(current)
            current = fd
            index += 1
        }
        return current
    }

    /// Opens the parent directory of a path that is not the root; returns it with the last
    /// component's name. The caller owns the descriptor.
    func openParent(_ components: [String], create: Bool, path: String) throws(Failure) -> (fd: Int32, name: String) {
        guard let name = components.last else {
            throw .invalidPath("\(path) is the workspace root itself")
        }
        let fd = try openDirectory(components.dropLast(), create: create)
        return (fd, name)
    }
}
