import RemoraCore
import Testing
@testable import RemoraHTTP

@Suite("HTTPHeaderArena")
struct HTTPHeaderArenaTests {
    @Test func headsLentTheArenaAppendAfterEachOther() {
        let arena = HTTPHeaderArena(blockSize: 256, minimumRoom: 64)
        var a = HTTPHeaders()
        arena.lend(to: &a)
        a.add(name: "x-a", value: "1")
        var b = HTTPHeaders()
        arena.lend(to: &b)
        b.add(name: "x-b", value: "22")
        a.add(name: "x-c", value: "333")
        let block = a.first(name: "x-a")!.storage
        #expect(b.first(name: "x-b")!.storage === block && a.first(name: "x-c")!.storage === block)
        #expect(a.first(name: "x-a")!.offset == 3 && b.first(name: "x-b")!.offset == 7 && a.first(name: "x-c")!.offset == 12)
        #expect(a.firstString(name: "x-a") == "1" && b.firstString(name: "x-b") == "22" && a.firstString(name: "x-c") == "333")
        #expect(block.fill == 15)
    }

    @Test func blockStartsAgainOnceNothingPointsIntoIt() {
        let arena = HTTPHeaderArena(blockSize: 256, minimumRoom: 64)
        var a = HTTPHeaders()
        arena.lend(to: &a)
        a.add(name: "x-a", value: "first")
        let block = ObjectIdentifier(a.first(name: "x-a")!.storage)
        a = HTTPHeaders()
        var b = HTTPHeaders()
        arena.lend(to: &b)
        b.add(name: "x-b", value: "second")
        let value = b.first(name: "x-b")!
        #expect(ObjectIdentifier(value.storage) == block)
        #expect(b.first(name: "x-b")!.offset == 3 && b.firstString(name: "x-b") == "second")
    }

    @Test func bytesStillReferencedAreNotWrittenAgain() {
        let arena = HTTPHeaderArena(blockSize: 256, minimumRoom: 64)
        var a = HTTPHeaders()
        arena.lend(to: &a)
        a.add(name: "x-a", value: "kept")
        // A slice outlives the head (a value handed on): the block is still in use.
        let kept = a.first(name: "x-a")!
        a = HTTPHeaders()
        var b = HTTPHeaders()
        arena.lend(to: &b)
        b.add(name: "x-b", value: "over")
        #expect(b.first(name: "x-b")!.storage === kept.storage)
        #expect(b.first(name: "x-b")!.offset == 10)
        #expect(kept.string == "kept" && b.firstString(name: "x-b") == "over")
    }

    @Test func nearlyFullBlockIsReplacedAndTheOldOneKeptByItsHeads() {
        let arena = HTTPHeaderArena(blockSize: 64, minimumRoom: 32)
        var a = HTTPHeaders()
        arena.lend(to: &a)
        a.add(name: "x-a", value: String(repeating: "a", count: 30))
        var b = HTTPHeaders()
        arena.lend(to: &b)
        b.add(name: "x-b", value: "b")
        #expect(b.first(name: "x-b")!.storage !== a.first(name: "x-a")!.storage)
        #expect(b.first(name: "x-b")!.offset == 3)
        // More than a block's room left: the head's own arena takes the rest.
        b.add(name: "x-long", value: String(repeating: "l", count: 100))
        #expect(b.first(name: "x-long")!.storage !== b.first(name: "x-b")!.storage)
        #expect(a.firstString(name: "x-a") == String(repeating: "a", count: 30))
        #expect(b.firstString(name: "x-b") == "b" && b.firstString(name: "x-long") == String(repeating: "l", count: 100))
    }

    @Test func headWithAnArenaKeepsIt() {
        let arena = HTTPHeaderArena(blockSize: 256, minimumRoom: 64)
        let own = PooledBuffer(capacity: 64)
        var h = HTTPHeaders()
        h.copyAddedFields(into: own)
        arena.lend(to: &h)
        h.add(name: "x-a", value: "1")
        #expect(h.first(name: "x-a")!.storage === own)
    }

    @Test func threeStoragesInlineThenAnArray() {
        let buffers = (0..<5).map { PooledBuffer(copying: Array("n\($0)v\($0)".utf8)) }
        var h = HTTPHeaders()
        for b in buffers {
            h.add(name: ByteSlice(storage: b, offset: 0, count: 2), value: ByteSlice(storage: b, offset: 2, count: 2))
        }
        #expect(h.storages.tertiary === buffers[2] && h.storages.extra.count == 2)
        #expect(h.map(\.nameString) == ["n0", "n1", "n2", "n3", "n4"])
        #expect((0..<5).allSatisfy { h.firstString(name: "n\($0)") == "v\($0)" && h.first(name: "n\($0)")!.storage === buffers[$0] })
    }
}
