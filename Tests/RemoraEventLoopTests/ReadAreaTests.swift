import RemoraCore
import Testing
@testable import RemoraEventLoop

@Suite("ReadArea")
struct ReadAreaTests {
    @Test func startsOverWhenNothingHoldsTheBlock() {
        let pool = BufferPool(blockSize: 1024, maxCached: 4)
        var area = ReadArea()
        var first: ObjectIdentifier
        do {
            let (block, offset) = area.space(from: pool, minimum: 256)
            #expect(offset == 0)
            first = ObjectIdentifier(block)
        }
        area.consume(100)
        let again = area.space(from: pool, minimum: 256)
        #expect(ObjectIdentifier(again.0) == first && again.1 == 0, "no slice kept: the next read reuses the block from the start")
        #expect(pool.outstanding == 1)
    }

    @Test func keptBytesAreNeverOfferedAgain() {
        let pool = BufferPool(blockSize: 1024, maxCached: 4)
        var area = ReadArea()
        let (block, _) = area.space(from: pool, minimum: 256)
        area.consume(100)
        let kept = ByteSlice(storage: block, offset: 0, count: 100)
        let next = area.space(from: pool, minimum: 256)
        #expect(next.0 === block && next.1 == 100)
        area.consume(700)
        // 224 bytes left < 256: a fresh block; the old one lives while the slice does.
        let fresh = area.space(from: pool, minimum: 256)
        #expect(fresh.0 !== block && fresh.1 == 0)
        #expect(pool.outstanding == 2)
        _ = kept
    }

    @Test func releaseGivesTheBlockBack() {
        let pool = BufferPool(blockSize: 1024, maxCached: 4)
        var area = ReadArea()
        _ = area.space(from: pool, minimum: 256)
        area.release()
        #expect(pool.outstanding == 0)
    }
}
