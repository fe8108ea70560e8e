#if canImport(Glibc)
import Glibc
#endif

/// A request that cannot be carried out: becomes `{"ev":"error","id":…,"code":…,"message":…}`.
struct Failure: Error {
    var code: String
    var message: String

    init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }

    static func badRequest(_ message: String) -> Failure { Failure("bad_request", message) }
    static func invalidPath(_ message: String) -> Failure { Failure("invalid_path", message) }

    /// Maps an errno from a file operation on `path` to a protocol error code.
    static func errno(_ e: Int32, _ path: String, _ what: String? = nil) -> Failure {
        let code: String
        switch e {
        case ENOENT: code = "not_found"
        case ENOTDIR: code = "not_a_directory"
        case EISDIR: code = "is_a_directory"
        case EEXIST, ENOTEMPTY: code = "exists"
        case ELOOP: code = "symlink"
        case ENAMETOOLONG: code = "invalid_path"
        case EFBIG: code = "too_large"
        default: code = "io"
        }
        let prefix = what.map { $0 + " " } ?? ""
        return Failure(code, prefix + path + ": " + Sys.describe(e))
    }
}
