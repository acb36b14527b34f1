internal import CLibUV

/// Raw storage for libuv handles and requests: allocated here, released by
/// the owner's `uv_close` (or request) callback, never earlier.
enum UVMemory {
    static func allocate<T>(_: T.Type) -> UnsafeMutablePointer<T> {
        let pointer = UnsafeMutablePointer<T>.allocate(capacity: 1)
        // libuv expects zeroed `data` fields; zero everything for determinism.
        UnsafeMutableRawPointer(pointer).initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<T>.stride)
        return pointer
    }

    /// Storage that can hold a `uv_tcp_t` or a `uv_pipe_t`: one allocation
    /// shape for every stream, whatever its kind.
    static func allocateStream() -> UnsafeMutablePointer<uv_stream_t> {
        let size = max(MemoryLayout<uv_tcp_t>.stride, MemoryLayout<uv_pipe_t>.stride)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        return raw.bindMemory(to: uv_stream_t.self, capacity: 1)
    }

    static func free(_ handle: UnsafeMutableRawPointer) {
        handle.deallocate()
    }
}

// libuv's handle "subclasses" begin with the `uv_handle_t` fields; these casts
// are its documented C idiom.
@inline(__always)
func asHandle<T>(_ pointer: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<uv_handle_t> {
    UnsafeMutablePointer<uv_handle_t>(OpaquePointer(pointer))
}

@inline(__always)
func asTCP(_ stream: UnsafeMutablePointer<uv_stream_t>) -> UnsafeMutablePointer<uv_tcp_t> {
    UnsafeMutablePointer<uv_tcp_t>(OpaquePointer(stream))
}

@inline(__always)
func asPipe(_ stream: UnsafeMutablePointer<uv_stream_t>) -> UnsafeMutablePointer<uv_pipe_t> {
    UnsafeMutablePointer<uv_pipe_t>(OpaquePointer(stream))
}

/// Kind of a stream handle; decides which libuv calls apply.
enum StreamKind {
    case tcp
    case pipe
}

/// Allocates and initializes a TCP or pipe handle on `loop`; the caller owns it.
func makeStreamHandle(loop: UnsafeMutablePointer<uv_loop_t>, kind: StreamKind) -> UnsafeMutablePointer<uv_stream_t> {
    let stream = UVMemory.allocateStream()
    // uv_tcp_init (AF_UNSPEC creates no socket yet) and uv_pipe_init cannot fail.
    let rc: Int32
    switch kind {
    case .tcp: rc = uv_tcp_init(loop, asTCP(stream))
    case .pipe: rc = uv_pipe_init(loop, asPipe(stream), 0)
    }
    precondition(rc == 0, "uv stream init failed: \(rc)")
    return stream
}

/// Close callback for handles whose owner has already let go: frees the memory only.
let freeHandleOnClose: uv_close_cb = { handle in
    guard let handle else { return }
    UVMemory.free(UnsafeMutableRawPointer(handle))
}
