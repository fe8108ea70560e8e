#if canImport(Glibc)
import Glibc
#endif
import CMAJSON

/// The file operations of the protocol, all resolved through `Workspace`'s path rules.
extension Workspace {
    /// A frame is at most 1 MiB; replies that could exceed it (read_file, list) are cut to fit.
    static let maxFrame = 1 << 20
    /// The most file bytes one `read_file` reply carries: base64 of this (1,044,480 bytes) plus
    /// the rest of the frame stays under 1 MiB.
    static let maxReadBytes = 783_360
    /// Directory trees deeper than this are not deleted (each level holds a descriptor).
    static let maxDeleteDepth = 256

    // MARK: write_file

    func writeFile(path: String, data: [UInt8], mode: Int64, mkdirs: Bool) throws(Failure) -> Int {
        let components = try resolve(path)
        let (dirFD, name) = try openParent(components, create: mkdirs, path: path)
        defer { Sys.closeFD(dirFD) }

        var st = stat()
        let r = Sys.lstatAt(dirFD, name, &st)
        if r == 0 {
            if Sys.isLink(st) { throw Failure("symlink", "\(path) is a symlink") }
            if Sys.isDir(st) { throw Failure("is_a_directory", "\(path) is a directory") }
        } else if r != ENOENT {
            throw Failure.errno(r, path)
        }

        var tmpName = ""
        var fd: Int32 = -1
        for _ in 0..<8 {
            tmpName = Workspace.temporaryName(for: name)
            fd = Sys.openAt(dirFD, tmpName, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if fd != -EEXIST { break }
        }
        guard fd >= 0 else { throw Failure.errno(-fd, path, "cannot create a temporary file for") }

        var failure: Failure?
        let w = Sys.writeAll(fd, data)
        if w != 0 {
            failure = Failure.errno(w, path, "cannot write")
        } else {
            var m = fchmod(fd, mode_t(truncatingIfNeeded: mode & 0o777))
            while m != 0 && errno == EINTR { m = fchmod(fd, mode_t(truncatingIfNeeded: mode & 0o777)) }
            if m != 0 { failure = Failure.errno(errno, path, "cannot chmod") }
        }
        if close(fd) != 0 && failure == nil && errno != EINTR {
            failure = Failure.errno(errno, path, "cannot write")
        }
        if failure == nil {
            var rr = renameat(dirFD, tmpName, dirFD, name)
            while rr != 0 && errno == EINTR { rr = renameat(dirFD, tmpName, dirFD, name) }
            if rr != 0 { failure = Failure.errno(errno, path) }
        }
        if let failure {
            _ = unlinkat(dirFD, tmpName, 0)
            throw failure
        }
        return data.count
    }

    /// `.<name>.cma-tmp-<random>`, shortened to stay within NAME_MAX.
    static func temporaryName(for name: String) -> String {
        let suffix = ".cma-tmp-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        var base = Array(name.utf8)
        let room = 255 - 1 - suffix.utf8.count
        if base.count > room {
            base = Array(base.prefix(room))
            // Do not cut a UTF-8 sequence in half.
            while let last = base.last, last & 0xC0 == 0x80 { base.removeLast() }
            if let last = base.last, last >= 0xC0 { base.removeLast() }
        }
        return "." + String(decoding: base, as: UTF8.self) + suffix
    }

    // MARK: read_file

    func readFile(path: String, offset: Int64 = 0, maxBytes: Int) throws(Failure) -> (data: [UInt8], size: Int64, truncated: Bool) {
        let components = try resolve(path)
        if components.isEmpty { throw Failure("is_a_directory", "\(path) is a directory") }
        let (dirFD, name) = try openParent(components, create: false, path: path)
        defer { Sys.closeFD(dirFD) }
        // O_NONBLOCK: opening a FIFO planted by a command must not block the agent.
        let fd = Sys.openAt(dirFD, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw Failure.errno(-fd, path) }
        defer { Sys.closeFD(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw Failure.errno(errno, path) }
        if Sys.isDir(st) { throw Failure("is_a_directory", "\(path) is a directory") }
        guard Sys.isReg(st) else { throw Failure("io", "\(path) is not a regular file") }
        Sys.setNonblocking(fd, false)
        if offset > 0, lseek(fd, off_t(clamping: offset), SEEK_SET) < 0 { throw Failure.errno(errno, path, "cannot seek") }

        let limit = max(0, min(maxBytes, Workspace.maxReadBytes))
        // Read one byte more than the limit to learn whether there is more.
        let want = limit + 1
        var data = [UInt8](repeating: 0, count: want)
        var got = 0
        var readError: Int32 = 0
        data.withUnsafeMutableBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            while got < want {
                let n = read(fd, base.advanced(by: got), want - got)
                if n > 0 { got += n; continue }
                if n == 0 { break }
                if errno == EINTR { continue }
                readError = errno
                break
            }
        }
        if readError != 0 { throw Failure.errno(readError, path, "cannot read") }
        let truncated = got > limit
        data.removeSubrange(min(got, limit)...)
        return (data, Int64(st.st_size), truncated)
    }

    // MARK: stat

    func statPath(path: String) throws(Failure) -> (type: String, size: Int64) {
        let components = try resolve(path)
        var st = stat()
        if components.isEmpty {
            guard fstat(rootFD, &st) == 0 else { throw Failure.errno(errno, path) }
            return (Sys.typeName(st), Int64(st.st_size))
        }
        let (dirFD, name) = try openParent(components, create: false, path: path)
        defer { Sys.closeFD(dirFD) }
        let r = Sys.lstatAt(dirFD, name, &st)
        if r != 0 { throw Failure.errno(r, path) }
        if Sys.isLink(st) { throw Failure("symlink", "\(path) is a symlink") }
        return (Sys.typeName(st), Int64(st.st_size))
    }

    // MARK: delete

    func delete(path: String, recursive: Bool) throws(Failure) {
        let components = try resolve(path)
        let (dirFD, name) = try openParent(components, create: false, path: path)
        defer { Sys.closeFD(dirFD) }
        var st = stat()
        let r = Sys.lstatAt(dirFD, name, &st)
        if r != 0 { throw Failure.errno(r, path) }
        if Sys.isLink(st) { throw Failure("symlink", "\(path) is a symlink") }
        if Sys.isDir(st) {
            guard recursive else { throw Failure("is_a_directory", "\(path) is a directory (use recursive)") }
            try removeTree(parentFD: dirFD, name: Array(name.utf8), path: path)
        } else {
            var u = unlinkat(dirFD, name, 0)
            while u != 0 && errno == EINTR { u = unlinkat(dirFD, name, 0) }
            if u != 0 { throw Failure.errno(errno, path) }
        }
    }

    /// Removes the directory `name` in `parentFD` and everything below it. Entries are removed
    /// with `unlinkat` relative to descriptors opened with `O_NOFOLLOW`; a symlink is unlinked,
    /// never followed.
    private func removeTree(parentFD: Int32, name: [UInt8], path: String) throws(Failure) {
        struct Level {
            var fd: Int32
            var name: [UInt8]
            var pending: [[UInt8]]
            var reloads: Int
        }
        var stack: [Level] = []
        defer { for level in stack { Sys.closeFD(level.fd) } }

        func openChild(_ parent: Int32, _ child: [UInt8]) -> Int32 {
            withCName(child) { c -> Int32 in
                while true {
                    let fd = openat(parent, c, Workspace.dirFlags)
                    if fd >= 0 || errno != EINTR { return fd >= 0 ? fd : -errno }
                }
            }
        }
        func unlinkChild(_ dir: Int32, _ child: [UInt8], _ flags: Int32) -> Int32 {
            withCName(child) { c -> Int32 in
                while true {
                    if unlinkat(dir, c, flags) == 0 { return 0 }
                    if errno != EINTR { return errno }
                }
            }
        }
        func names(_ fd: Int32) throws(Failure) -> [[UInt8]] {
            var e: Int32 = 0
            guard let list = Sys.readNames(fd, error: &e) else { throw Failure.errno(e, path, "cannot read a directory under") }
            return list
        }

        let top = openChild(parentFD, name)
        guard top >= 0 else { throw Failure.errno(-top, path) }
        stack.append(Level(fd: top, name: name, pending: [], reloads: 0))
        stack[0].pending = try names(top)

        while let level = stack.last {
            if let child = stack[stack.count - 1].pending.popLast() {
                var st = stat()
                let r = withCName(child) { c -> Int32 in
                    while true {
                        if fstatat(level.fd, c, &st, AT_SYMLINK_NOFOLLOW) == 0 { return 0 }
                        if errno != EINTR { return errno }
                    }
                }
                if r == ENOENT { continue }
                if r != 0 { throw Failure.errno(r, path, "cannot stat an entry under") }
                if Sys.isDir(st) {
                    guard stack.count < Workspace.maxDeleteDepth else {
                        throw Failure("too_large", "\(path): the directory tree is deeper than \(Workspace.maxDeleteDepth) levels")
                    }
                    let fd = openChild(level.fd, child)
                    if fd >= 0 {
                        stack.append(Level(fd: fd, name: child, pending: [], reloads: 0))
                        stack[stack.count - 1].pending = try names(fd)
                        continue
                    }
                    if fd == -ENOENT { continue }
                    // Replaced by a symlink or a file since the fstatat: unlink that instead.
                    if fd != -ELOOP && fd != -ENOTDIR { throw Failure.errno(-fd, path, "cannot open a directory under") }
                }
                let u = unlinkChild(level.fd, child, 0)
                if u != 0 && u != ENOENT { throw Failure.errno(u, path, "cannot delete an entry under") }
                continue
            }
            // Every entry is gone: remove the directory itself from its parent.
            let parent = stack.count >= 2 ? stack[stack.count - 2].fd : parentFD
            let u = unlinkChild(parent, level.name, AT_REMOVEDIR)
            if u == ENOTEMPTY || u == EEXIST, level.reloads < 3 {
                // A running command created something meanwhile: read the directory again.
                stack[stack.count - 1].reloads += 1
                stack[stack.count - 1].pending = try names(level.fd)
                continue
            }
            Sys.closeFD(level.fd)
            stack.removeLast()
            if u != 0 && u != ENOENT { throw Failure.errno(u, path, "cannot delete a directory under") }
        }
    }

    // MARK: rename

    func rename(from: String, to: String, mkdirs: Bool) throws(Failure) {
        let fromComponents = try resolve(from)
        let toComponents = try resolve(to)
        let (fromFD, fromName) = try openParent(fromComponents, create: false, path: from)
        defer { Sys.closeFD(fromFD) }
        var st = stat()
        let r = Sys.lstatAt(fromFD, fromName, &st)
        if r != 0 { throw Failure.errno(r, from) }
        if Sys.isLink(st) { throw Failure("symlink", "\(from) is a symlink") }

        let (toFD, toName) = try openParent(toComponents, create: mkdirs, path: to)
        defer { Sys.closeFD(toFD) }
        let t = Sys.lstatAt(toFD, toName, &st)
        if t == 0 && Sys.isLink(st) { throw Failure("symlink", "\(to) is a symlink") }
        if t != 0 && t != ENOENT { throw Failure.errno(t, to) }

        var rr = renameat(fromFD, fromName, toFD, toName)
        while rr != 0 && errno == EINTR { rr = renameat(fromFD, fromName, toFD, toName) }
        if rr != 0 {
            let e = errno
            switch e {
            case EINVAL: throw Failure.invalidPath("cannot move \(from) into itself (\(to))")
            case EISDIR: throw Failure("is_a_directory", "\(to) is a directory")
            case ENOTDIR: throw Failure("not_a_directory", "\(to) is not a directory")
            default: throw Failure.errno(e, from + " -> " + to)
            }
        }
    }

    // MARK: list

    /// Lists `path` (a directory), bytewise sorted by full path, at most `limit` entries and at
    /// most what fits in one frame. Walks in sorted order with a min-heap, so only the
    /// directories whose entries are returned (or that come right after them) are read.
    func list(path: String, recursive: Bool, limit: Int) throws(Failure) -> (entries: [JSONValue], truncated: Bool) {
        let components = try resolve(path)
        let fd = try openDirectory(components[...], create: false)

        var heap = ListHeap()
        func readChildren(_ fd: Int32, _ components: [String]) throws(Failure) {
            var e: Int32 = 0
            guard let names = Sys.readNames(fd, error: &e) else {
                throw Failure.errno(e, display(components[...]), "cannot read")
            }
            var base = Array(display(components[...]).utf8)
            if base != [UInt8(ascii: "/")] { base.append(UInt8(ascii: "/")) }
            for raw in names {
                // Names that are not UTF-8 cannot be represented in a JSON string: skipped.
                guard String(validating: raw, as: UTF8.self) != nil else { continue }
                var st = stat()
                let r = withCName(raw) { fstatat(fd, $0, &st, AT_SYMLINK_NOFOLLOW) }
                if r != 0 { continue }
                heap.push(ListEntry(key: base + raw, type: ListEntry.typeCode(st), size: Int64(st.st_size)))
            }
        }
        do {
            try readChildren(fd, components)
        } catch {
            Sys.closeFD(fd)
            throw error
        }
        Sys.closeFD(fd)

        // The full path of an entry, split back into components relative to the root (names
        // are UTF-8 and never contain "/", so this is exact).
        let rootPrefix = rootPath == "/" ? 1 : rootPath.utf8.count + 1
        func relativeComponents(_ key: [UInt8]) -> [String] {
            key.dropFirst(rootPrefix).split(separator: UInt8(ascii: "/")).map { String(decoding: $0, as: UTF8.self) }
        }

        var entries: [JSONValue] = []
        var budget = Workspace.maxFrame - 4096
        var truncated = false
        while let next = heap.peek() {
            if entries.count >= limit {
                truncated = true
                break
            }
            let cost = JSONWriter.escapedCount(next.key) + 48 + 20
            if cost > budget {
                truncated = true
                break
            }
            budget -= cost
            _ = heap.pop()
            entries.append(.object(["path": .string(String(decoding: next.key, as: UTF8.self)), "type": .string(ListEntry.typeNames[Int(next.type)]), "size": .int(next.size)]))
            if recursive && next.type == ListEntry.dir {
                // Re-resolved from the root, component by component: a directory swapped for a
                // symlink meanwhile is skipped, never followed.
                let sub = relativeComponents(next.key)
                guard let dirFD = try? openDirectory(sub[...], create: false) else { continue }
                try? readChildren(dirFD, sub)
                Sys.closeFD(dirFD)
            }
        }
        return (entries, truncated)
    }
}

struct ListEntry {
    static let typeNames = ["file", "dir", "symlink", "other"]
    static let dir: UInt8 = 1

    var key: [UInt8]  // the full path's bytes: the sort key
    var type: UInt8
    var size: Int64

    static func typeCode(_ st: stat) -> UInt8 {
        switch st.st_mode & S_IFMT {
        case S_IFREG: return 0
        case S_IFDIR: return 1
        case S_IFLNK: return 2
        default: return 3
        }
    }
}

/// A binary min-heap of list entries, ordered bytewise by path.
struct ListHeap {
    private var items: [ListEntry] = []

    private static func less(_ a: ListEntry, _ b: ListEntry) -> Bool {
        a.key.withUnsafeBufferPointer { x in
            b.key.withUnsafeBufferPointer { y in
                let n = min(x.count, y.count)
                if n > 0, let xb = x.baseAddress, let yb = y.baseAddress {
                    let c = memcmp(xb, yb, n)
                    if c != 0 { return c < 0 }
                }
                return x.count < y.count
            }
        }
    }

    func peek() -> ListEntry? { items.first }

    mutating func push(_ element: ListEntry) {
        items.append(element)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard ListHeap.less(items[i], items[parent]) else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> ListEntry? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var i = 0
        let count = items.count
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < count, ListHeap.less(items[l], items[m]) { m = l }
            if r < count, ListHeap.less(items[r], items[m]) { m = r }
            if m == i { break }
            items.swapAt(i, m)
            i = m
        }
        return top
    }
}

extension JSONWriter {
    /// The length of `bytes` as a JSON string body (without quotes).
    static func escapedCount(_ bytes: [UInt8]) -> Int {
        var n = 0
        for b in bytes {
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), 0x0A, 0x0D, 0x09: n += 2
            case 0x00..<0x20: n += 6
            default: n += 1
            }
        }
        return n
    }
}
