/// Fixed-size memory blocks for socket reads, recycled through a free list.
///
/// Owned by one event loop; every block it hands out must be released on
/// that loop's thread. Not thread-safe by design (no locks on the data path).
public final class BufferPool {
    public let blockSize: Int
    private let maxCached: Int
    private var free: [UnsafeMutableRawPointer] = []
    /// Blocks currently handed out (for tests and the memory stats).
    public private(set) var outstanding = 0

    public init(blockSize: Int = 64 * 1024, maxCached: Int = 64) {
        precondition(blockSize > 0)
        self.blockSize = blockSize
        self.maxCached = maxCached
        free.reserveCapacity(maxCached)
    }

    deinit {
        for block in free { block.deallocate() }
    }

    /// Takes a block; the returned buffer gives it back when released.
    public func take() -> PooledBuffer {
        outstanding += 1
        let base = free.popLast() ?? UnsafeMutableRawPointer.allocate(byteCount: blockSize, alignment: 16)
        return PooledBuffer(base: base, capacity: blockSize, pool: self)
    }

    fileprivate func recycle(_ base: UnsafeMutableRawPointer) {
        outstanding -= 1
        if free.count < maxCached {
            free.append(base)
        } else {
            base.deallocate()
        }
    }

    public var cachedBlocks: Int { free.count }
}

/// One block of a `BufferPool`. Slices keep it alive; when the last slice
/// goes, the block returns to its pool. Lives and dies on the pool's loop.
public final class PooledBuffer {
    public let base: UnsafeMutableRawPointer
    public let capacity: Int
    private let pool: BufferPool?
    /// For append-only users (header arenas): bytes before this are written
    /// and must not change; the next append goes here.
    public var fill = 0

    init(base: UnsafeMutableRawPointer, capacity: Int, pool: BufferPool) {
        self.base = base
        self.capacity = capacity
        self.pool = pool
    }

    /// An unpooled buffer of `capacity` zeroed bytes (header arenas, encoders).
    public init(capacity: Int) {
        let count = Swift.max(capacity, 1)
        self.base = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 16)
        self.base.initializeMemory(as: UInt8.self, repeating: 0, count: count)
        self.capacity = capacity
        self.pool = nil
    }

    /// A buffer that owns a copy of `bytes`, outside any pool. Concrete, so
    /// callers in other modules get a `memcpy`, not unspecialised generic code.
    public init(copying bytes: UnsafeRawBufferPointer) {
        let count = Swift.max(bytes.count, 1)
        self.base = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 16)
        if let source = bytes.baseAddress, bytes.count > 0 {
            self.base.copyMemory(from: source, byteCount: bytes.count)
        }
        self.capacity = bytes.count
        self.pool = nil
    }

    public init(copying bytes: [UInt8]) {
        let base = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(bytes.count, 1), alignment: 16)
        bytes.withUnsafeBytes { source in
            if let start = source.baseAddress, source.count > 0 { base.copyMemory(from: start, byteCount: source.count) }
        }
        self.base = base
        self.capacity = bytes.count
        self.pool = nil
    }

    /// A buffer that owns a copy of `bytes`, outside any pool (control-plane use).
    public init(copying bytes: some Collection<UInt8>) {
        let count = max(bytes.count, 1)
        self.base = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 16)
        self.capacity = bytes.count
        self.pool = nil
        let typed = base.bindMemory(to: UInt8.self, capacity: count)
        _ = UnsafeMutableBufferPointer(start: typed, count: count).initialize(from: bytes)
    }

    deinit {
        if let pool { pool.recycle(base) } else { base.deallocate() }
    }
}

/// A read-only view of bytes inside a `PooledBuffer`. Moving a slice between
/// the two sides of a connection moves a reference, never the bytes.
public struct ByteSlice {
    public let storage: PooledBuffer
    public let offset: Int
    public let count: Int

    public init(storage: PooledBuffer, offset: Int = 0, count: Int) {
        precondition(offset >= 0 && count >= 0 && offset + count <= storage.capacity)
        self.storage = storage
        self.offset = offset
        self.count = count
    }

    /// Copies `bytes` into a fresh unpooled buffer (a `memcpy`).
    public init(copying bytes: [UInt8]) {
        let buffer = PooledBuffer(copying: bytes)
        self.init(storage: buffer, offset: 0, count: buffer.capacity)
    }

    public init(copying bytes: UnsafeRawBufferPointer) {
        let buffer = PooledBuffer(copying: bytes)
        self.init(storage: buffer, offset: 0, count: buffer.capacity)
    }

    /// Copies `bytes` into a fresh unpooled buffer.
    public init(copying bytes: some Collection<UInt8>) {
        let buffer = PooledBuffer(copying: bytes)
        self.init(storage: buffer, offset: 0, count: buffer.capacity)
    }

    public init(copying text: String) {
        var text = text
        self = text.withUTF8 { ByteSlice(copying: UnsafeRawBufferPointer($0)) }
    }

    public var baseAddress: UnsafeRawPointer { UnsafeRawPointer(storage.base + offset) }

    /// The slice without its first `n` bytes.
    public func dropFirst(_ n: Int) -> ByteSlice {
        precondition(n >= 0 && n <= count)
        return ByteSlice(storage: storage, offset: offset + n, count: count - n)
    }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: baseAddress, count: count))
    }

    /// Copies the bytes out (tests and control plane only).
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// The bytes as UTF-8 text, decoded straight from the buffer (no
    /// intermediate array).
    public var string: String { withUnsafeBytes { String(decoding: $0, as: UTF8.self) } }
}
