#if canImport(Glibc)
import Glibc
#endif

// The one path by which libuv and system-call results become Swift errors
// (NIO's `syscall`). libuv already retries EINTR inside its own calls, so
// `uvCheck` only maps; raw system calls go through `syscall`, which retries
// EINTR itself. CRemoraShims functions return `-errno`, which on Linux is
// exactly libuv's error convention, so they go through `uvCheck` too.

/// Returns `rc` when it is not an error, throws otherwise. `operation` is only
/// evaluated on failure, so callers may build strings there freely.
@discardableResult
@inline(__always)
func uvCheck(_ rc: Int32, _ operation: @autoclosure () -> String) throws(EventLoopError) -> Int32 {
    if rc >= 0 { return rc }
    throw EventLoopError(uvCode: rc, operation: operation())
}

/// Runs a libc call that reports failure as `-1` and `errno`: retries EINTR,
/// maps EAGAIN/EWOULDBLOCK to `.wouldBlock`, throws everything else.
@discardableResult
func syscall(_ operation: @autoclosure () -> String, _ body: () -> Int32) throws(EventLoopError) -> Int32 {
    while true {
        let rc = body()
        if rc >= 0 { return rc }
        let code = errno
        if code == EINTR { continue }
        if code == EAGAIN || code == EWOULDBLOCK { throw EventLoopError.wouldBlock.with(operation: operation()) }
        throw EventLoopError(errno: code, operation: operation())
    }
}
