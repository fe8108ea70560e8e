#if canImport(Glibc)
import Glibc
#endif

/// Whether this machine reaches pypi.org over HTTPS (for the optional end-to-end test).
public let internetAvailable: Bool = {
    var hints = addrinfo()
    hints.ai_family = AF_INET
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    var list: UnsafeMutablePointer<addrinfo>?
    guard getaddrinfo("pypi.org", "443", &hints, &list) == 0, let info = list else { return false }
    defer { freeaddrinfo(list) }
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    _ = connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen)
    var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
    guard poll(&pfd, 1, 3000) == 1 else { return false }
    var error: Int32 = 0
    var length = socklen_t(MemoryLayout<Int32>.size)
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
    return error == 0
}()
