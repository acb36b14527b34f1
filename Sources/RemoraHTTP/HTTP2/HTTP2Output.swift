import RemoraCore

/// The bytes a codec has framed for the wire and the connection has not
/// taken yet, as slices in wire order. Frame headers and control frames are
/// copied into pooled blocks (append-only, so slices already handed out stay
/// valid); body bytes are referenced where they already are.
struct HTTP2Output {
    let pool: BufferPool
    private var block: PooledBuffer?
    private(set) var slices: [ByteSlice] = []
    private(set) var byteCount = 0

    init(pool: BufferPool) {
        self.pool = pool
    }

    var isEmpty: Bool { slices.isEmpty }

    /// Copies `count` bytes at `bytes`.
    mutating func append(_ bytes: UnsafeRawPointer, count: Int) {
        var done = 0
        while done < count {
            if block == nil || block.unsafelyUnwrapped.fill == block.unsafelyUnwrapped.capacity {
                block = pool.take()
            }
            let b = block.unsafelyUnwrapped
            let n = Swift.min(count - done, b.capacity - b.fill)
            (b.base + b.fill).copyMemory(from: bytes + done, byteCount: n)
            let start = b.fill
            b.fill += n
            // Grow the last slice when these bytes follow it in the same block.
            if let last = slices.last, last.storage === b, last.offset + last.count == start {
                slices[slices.count - 1] = ByteSlice(storage: b, offset: last.offset, count: last.count + n)
            } else {
                slices.append(ByteSlice(storage: b, offset: start, count: n))
            }
            done += n
        }
        byteCount += count
    }

    /// References `slice` (no copy).
    mutating func append(_ slice: ByteSlice) {
        guard slice.count > 0 else { return }
        slices.append(slice)
        byteCount += slice.count
    }

    mutating func take(into out: inout [ByteSlice]) {
        if out.isEmpty {
            swap(&out, &slices)
        } else {
            out.append(contentsOf: slices)
            slices.removeAll(keepingCapacity: true)
        }
        byteCount = 0
    }
}
