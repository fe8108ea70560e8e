#if canImport(Glibc)
import Glibc
#endif

/// Loop devices for workspace images: attaching an image (the launcher at sandbox start, or the
/// server ahead of time for a spare image), and checking that a device attached earlier is backed
/// by exactly the image about to be mounted.
///
/// Devices are attached with `LO_FLAGS_AUTOCLEAR`: the kernel detaches one once nothing holds it
/// (no open descriptor and no mount), so a crashed holder leaks nothing.
public enum LoopDevice {
    public struct Failure: Error, Sendable {
        public let message: String
    }

    private static let LOOP_SET_FD: UInt = 0x4C00
    private static let LOOP_SET_STATUS64: UInt = 0x4C04
    private static let LOOP_GET_STATUS64: UInt = 0x4C05
    private static let LOOP_CONFIGURE: UInt = 0x4C0A
    private static let LOOP_CTL_GET_FREE: UInt = 0x4C82
    /// `LO_FLAGS_AUTOCLEAR`, at offset 52 of `struct loop_info64` (232 bytes).
    private static let autoclear: UInt8 = 4

    private static func describe(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// Attaches the file open on `imageFD` (read-write) to a free loop device. Returns the
    /// device's path and an open descriptor on it: the device stays attached while that is open
    /// or the device is mounted.
    public static func attach(imageFD: Int32) throws(Failure) -> (path: String, fd: Int32) {
        let control = Glibc.open("/dev/loop-control", O_RDWR | O_CLOEXEC)
        guard control >= 0 else { throw Failure(message: "cannot open /dev/loop-control: \(describe(errno))") }
        defer { close(control) }
        for _ in 0..<50 {
            let number = loopIoctl(control, LOOP_CTL_GET_FREE, nil)
            guard number >= 0 else { throw Failure(message: "no free loop device: \(describe(errno))") }
            let path = "/dev/loop\(number)"
            let device = Glibc.open(path, O_RDWR | O_CLOEXEC)
            guard device >= 0 else { throw Failure(message: "cannot open \(path): \(describe(errno))") }
            // LOOP_CONFIGURE (Linux 5.8+) attaches and sets the flags in one step, without the
            // slow LOOP_SET_STATUS64 (which freezes the device). struct loop_config: fd,
            // block_size, loop_info64 (lo_flags at offset 52 within it), reserved.
            var config = [UInt8](repeating: 0, count: 304)
            withUnsafeBytes(of: UInt32(bitPattern: imageFD).littleEndian) { config.replaceSubrange(0..<4, with: $0) }
            config[8 + 52] = autoclear
            let configured = config.withUnsafeMutableBytes { loopIoctl(device, LOOP_CONFIGURE, $0.baseAddress) }
            if configured == 0 { return (path, device) }
            if errno == EBUSY {
                close(device)
                continue  // taken by someone else meanwhile
            }
            if loopIoctl(device, LOOP_SET_FD, UnsafeMutableRawPointer(bitPattern: Int(imageFD))) != 0 {
                let code = errno
                close(device)
                if code == EBUSY { continue }
                throw Failure(message: "LOOP_SET_FD: \(describe(code))")
            }
            var info = [UInt8](repeating: 0, count: 232)
            info[52] = autoclear
            guard info.withUnsafeMutableBytes({ loopIoctl(device, LOOP_SET_STATUS64, $0.baseAddress) }) == 0 else {
                let code = errno
                close(device)
                throw Failure(message: "LOOP_SET_STATUS64: \(describe(code))")
            }
            return (path, device)
        }
        throw Failure(message: "no free loop device")
    }

    /// Opens `path` if it is a loop device (`/dev/loopN`) whose backing file is the very file
    /// open on `imageFD` (same device and inode); nil otherwise.
    public static func open(_ path: String, backing imageFD: Int32) -> Int32? {
        guard path.hasPrefix("/dev/loop"), path.count > 9, path.dropFirst(9).allSatisfy(\.isNumber) else { return nil }
        var image = stat()
        guard fstat(imageFD, &image) == 0 else { return nil }
        let device = Glibc.open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW)
        guard device >= 0 else { return nil }
        var info = [UInt8](repeating: 0, count: 232)
        let got = info.withUnsafeMutableBytes { loopIoctl(device, LOOP_GET_STATUS64, $0.baseAddress) }
        // struct loop_info64 starts with lo_device and lo_inode (both 64-bit).
        let (backingDevice, backingInode) = info.withUnsafeBytes { ($0.load(fromByteOffset: 0, as: UInt64.self), $0.load(fromByteOffset: 8, as: UInt64.self)) }
        guard got == 0, backingDevice == UInt64(image.st_dev), backingInode == UInt64(image.st_ino) else {
            close(device)
            return nil
        }
        return device
    }
}

/// `ioctl(2)` with a pointer argument (the Glibc module does not import the variadic original).
@_silgen_name("ioctl") private func loopIoctl(_ fd: Int32, _ request: UInt, _ argument: UnsafeMutableRawPointer?) -> Int32
