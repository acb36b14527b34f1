import Testing
@testable import RemoraCore

@Suite("BufferPool")
struct BufferPoolTests {
    @Test func blocksReturnToThePoolWhenTheLastSliceGoes() {
        let pool = BufferPool(blockSize: 1024, maxCached: 4)
        do {
            var slice: ByteSlice? = ByteSlice(storage: pool.take(), offset: 10, count: 20)
            let tail = slice?.dropFirst(5)
            withExtendedLifetime(tail) {
                #expect(tail?.offset == 15 && tail?.count == 15)
                #expect(pool.outstanding == 1)
                slice = nil
                #expect(pool.outstanding == 1, "the tail still pins the block")
            }
        }
        #expect(pool.outstanding == 0)
        #expect(pool.cachedBlocks == 1)
    }

    @Test func recycledBlocksAreReused() {
        let pool = BufferPool(blockSize: 1024)
        let base = pool.take().base
        #expect(pool.cachedBlocks == 1)
        #expect(pool.take().base == base)
    }

    @Test func cacheIsBounded() {
        let pool = BufferPool(blockSize: 64, maxCached: 2)
        var blocks = (0..<5).map { _ in pool.take() }
        withExtendedLifetime(blocks) {
            #expect(pool.outstanding == 5)
        }
        blocks.removeAll()
        #expect(pool.outstanding == 0)
        #expect(pool.cachedBlocks == 2)
    }

    @Test func defaultBlockIs64KiB() {
        let pool = BufferPool()
        #expect(pool.blockSize == 64 * 1024)
        #expect(pool.take().capacity == 64 * 1024)
    }
}

@Suite("ByteSlice")
struct ByteSliceTests {
    @Test func copyingKeepsTheBytes() {
        let bytes: [UInt8] = [1, 2, 3, 4, 5]
        let slice = ByteSlice(copying: bytes)
        #expect(slice.count == 5)
        #expect(slice.bytes == bytes)
        #expect(ByteSlice(copying: "hey").bytes == Array("hey".utf8))
    }

    @Test func emptyCopyIsValid() {
        let slice = ByteSlice(copying: [UInt8]())
        #expect(slice.count == 0)
        #expect(slice.bytes.isEmpty)
    }

    @Test func dropFirstSharesStorage() {
        let slice = ByteSlice(copying: Array(0..<10) as [UInt8])
        let rest = slice.dropFirst(4)
        #expect(rest.bytes == [4, 5, 6, 7, 8, 9])
        #expect(rest.storage === slice.storage)
        #expect(rest.baseAddress == slice.baseAddress + 4)
        #expect(slice.dropFirst(10).count == 0)
    }

    @Test func slicesOfAPooledBlockSeeItsWrites() {
        let pool = BufferPool(blockSize: 16)
        let block = pool.take()
        block.base.storeBytes(of: 0xAB, toByteOffset: 3, as: UInt8.self)
        let slice = ByteSlice(storage: block, offset: 3, count: 2)
        #expect(slice.withUnsafeBytes { $0.first } == 0xAB)
    }
}
