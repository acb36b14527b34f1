import RemoraCore

/// The block that the fields a proxy adds to the heads it parses are
/// copied into (forwarding fields, request id, date, service time): one
/// append-only block shared by the heads of a loop's HTTP/1 codecs, as an
/// HTTP/2 connection shares its header arena between its streams. A head
/// then costs no arena of its own (an object and its bytes: two
/// allocations per head, four per proxied request).
///
/// Bytes below a block's fill level are never written again while anything
/// points into the block (`HTTPHeaders.copyIntoArena` appends after the
/// fill level it finds, and slices keep the block alive); once the arena
/// holds the only reference, nothing can see the old bytes and the block is
/// filled again from its start. A block with too little room left is
/// replaced and lives on only as long as the heads that use it.
///
/// Owned by one loop (its `HTTP1SharedEncoder`); used on that loop only.
public final class HTTPHeaderArena {
    private var block: PooledBuffer?
    private let blockSize: Int
    /// Room a block must still have to be lent: what a proxy adds to one
    /// head fits. A head that adds more gets an arena of its own for the rest.
    let minimumRoom: Int

    public init(blockSize: Int = 4096, minimumRoom: Int = 512) {
        precondition(blockSize >= minimumRoom && minimumRoom > 0)
        self.blockSize = blockSize
        self.minimumRoom = minimumRoom
    }

    /// Fields added to `headers` from now on are copied into the shared
    /// block. A head that already has an arena keeps it.
    @inline(__always)
    public func lend(to headers: inout HTTPHeaders) {
        guard headers.arenaIndex < 0 else { return }
        headers.copyAddedFields(into: current())
    }

    /// The block to lend: the current one, from its start again when no head
    /// or slice uses it any more, or a fresh one when it is nearly full.
    func current() -> PooledBuffer {
        if block != nil, isKnownUniquelyReferenced(&block) {
            block.unsafelyUnwrapped.fill = 0
        }
        if let block, block.capacity - block.fill >= minimumRoom { return block }
        let fresh = PooledBuffer(capacity: blockSize)
        block = fresh
        return fresh
    }
}
