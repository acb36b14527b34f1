internal import CLibUV
import RemoraCore

/// A connection's single, reused `uv_write_t`, with the `uv_buf_t` array of
/// the vectored write in flight and the slices it points into (kept alive
/// until libuv calls back). Owned by one `Connection`, on its loop.
final class WriteRequest {
    /// Linux's IOV_MAX (UIO_MAXIOV): the most buffers one writev takes.
    static let maxBuffers = 1024

    let request: UnsafeMutablePointer<uv_write_t>
    private(set) var buffers: UnsafeMutablePointer<uv_buf_t>
    private var capacity: Int
    private var slices: [ByteSlice] = []
    private(set) var byteCount = 0

    init() {
        request = UVMemory.allocate(uv_write_t.self)
        capacity = 16
        buffers = .allocate(capacity: capacity)
    }

    deinit {
        request.deallocate()
        buffers.deallocate()
    }

    /// Moves up to `maxBuffers` slices from the front of `pending` into this
    /// request and fills the buffer array; returns the number of buffers.
    func load(from pending: inout [ByteSlice]) -> Int {
        precondition(slices.isEmpty, "write request reused while in flight")
        if pending.count <= WriteRequest.maxBuffers {
            // Swapping hands `pending` the (empty) array that the last write
            // used, so steady-state writes allocate nothing.
            swap(&slices, &pending)
        } else {
            slices.append(contentsOf: pending[..<WriteRequest.maxBuffers])
            pending.removeFirst(WriteRequest.maxBuffers)
        }
        if slices.count > capacity {
            buffers.deallocate()
            capacity = max(slices.count, min(capacity * 2, WriteRequest.maxBuffers))
            buffers = .allocate(capacity: capacity)
        }
        var total = 0
        for (index, slice) in slices.enumerated() {
            // libuv only reads through `base`; uv_buf_t just lacks a const.
            let base = UnsafeMutableRawPointer(mutating: slice.baseAddress).assumingMemoryBound(to: CChar.self)
            buffers[index] = uv_buf_t(base: base, len: slice.count)
            total += slice.count
        }
        byteCount = total
        return slices.count
    }

    /// Lets go of the written slices; returns how many bytes they held.
    func finish() -> Int {
        let written = byteCount
        slices.removeAll(keepingCapacity: true)
        byteCount = 0
        return written
    }
}
