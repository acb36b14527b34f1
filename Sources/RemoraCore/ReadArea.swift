/// The current read block of one size on a loop, and how much of it is used.
/// Bytes before `offset` may still be referenced by slices and are never
/// handed out again; once nothing but the area holds the block, it starts
/// over from the beginning. Used on one loop (reads, TLS records).
public struct ReadArea {
    public init() {}

    private var block: PooledBuffer?
    private var offset = 0

    /// A block with at least `minimum` free bytes and where they start.
    public mutating func space(from pool: BufferPool, minimum: Int) -> (PooledBuffer, Int) {
        if block != nil && isKnownUniquelyReferenced(&block) { offset = 0 }
        if let block, block.capacity - offset >= minimum { return (block, offset) }
        let fresh = pool.take()
        block = fresh
        offset = 0
        return (fresh, 0)
    }

    /// `count` bytes at the current offset were filled (by a read).
    public mutating func consume(_ count: Int) {
        offset += count
    }

    /// Lets go of the block (loop shutdown).
    public mutating func release() {
        block = nil
        offset = 0
    }
}
