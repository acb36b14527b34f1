import RemoraCore
import Testing
@testable import RemoraHTTP

@Suite("HTTPHeaders")
struct HTTPHeadersTests {
    @Test func lookupIgnoresCaseAndKeepsOrder() {
        var h = HTTPHeaders()
        h.add(name: "Content-Type", value: "text/plain")
        h.add(name: "X-Multi", value: "a")
        h.add(name: "x-multi", value: "b")
        #expect(h.count == 3)
        #expect(h.firstString(name: "content-type") == "text/plain")
        #expect(h.firstString(name: "CONTENT-TYPE") == "text/plain")
        #expect(h.first(name: "x-MULTI")?.bytes == Array("a".utf8))
        #expect(h.valueStrings(name: "X-Multi") == ["a", "b"])
        #expect(h.values(name: "x-multi").map(\.bytes) == [Array("a".utf8), Array("b".utf8)])
        #expect(h.contains(name: "x-multi"))
        #expect(!h.contains(name: "x-mult"))
        #expect(h.firstString(name: "missing") == nil)
        #expect(h.map(\.nameString) == ["Content-Type", "X-Multi", "x-multi"])
        #expect(h.map(\.lowercasedNameString) == ["content-type", "x-multi", "x-multi"])
        #expect(h.byteCount == "Content-Type".utf8.count + "text/plain".utf8.count + 7 + 1 + 7 + 1)
    }

    @Test func setReplacesTheFirstInPlaceAndDropsTheRest() {
        var h: HTTPHeaders = ["a": "1", "b": "2", "A": "3", "c": "4"]
        h.set(name: "a", value: "9")
        #expect(h.map(\.nameString) == ["a", "b", "c"])
        #expect(h.valueStrings(name: "a") == ["9"])
        h.set(name: "d", value: "5")
        #expect(h.map(\.nameString) == ["a", "b", "c", "d"])
        h.set(name: "b", value: slice("bytes"))
        #expect(h.firstString(name: "b") == "bytes")
    }

    @Test func removeReturnsHowManyWent() {
        var h: HTTPHeaders = ["a": "1", "b": "2", "A": "3"]
        #expect(h.remove(name: "A") == 2)
        #expect(h.remove(name: "a") == 0)
        #expect(h.map(\.nameString) == ["b"])
        h.remove(at: 0)
        #expect(h.isEmpty)
    }

    @Test func addingSlicesReferencesTheirBytes() {
        let buffer = slice("host: example.com")
        var h = HTTPHeaders()
        h.add(name: buffer.dropFirst(0).prefix(4), value: buffer.dropFirst(6))
        #expect(h.firstString(name: "HOST") == "example.com")
        #expect(h.value(at: 0).storage === buffer.storage)
        #expect(h.value(at: 0).offset == 6)
        h.add(name: "via", value: buffer.dropFirst(6))
        #expect(h.value(at: 1).storage === buffer.storage)
    }

    @Test func copiesAreIndependent() {
        var a = HTTPHeaders()
        a.add(name: "x", value: "1")
        var b = a
        a.add(name: "y", value: "from-a")
        b.add(name: "y", value: "from-b")
        #expect(a.firstString(name: "y") == "from-a")
        #expect(b.firstString(name: "y") == "from-b")
        #expect(a.firstString(name: "x") == "1" && b.firstString(name: "x") == "1")
    }

    /// Copies share one arena (no new arena per copy): each appends after
    /// the other's bytes, and neither sees the other's fields.
    @Test func copiesSharingAnArenaDoNotOverwriteEachOther() {
        var a = HTTPHeaders()
        a.add(name: "x", value: "1")
        var b = a
        let slice = a.first(name: "x")!
        for i in 0..<40 {
            a.add(name: "a\(i)", value: "from-a-\(i)")
            b.add(name: "b\(i)", value: "from-b-\(i)")
        }
        for i in 0..<40 {
            #expect(a.firstString(name: "a\(i)") == "from-a-\(i)")
            #expect(b.firstString(name: "b\(i)") == "from-b-\(i)")
            #expect(a.first(name: "b\(i)") == nil && b.first(name: "a\(i)") == nil)
        }
        #expect(slice.bytes == Array("1".utf8))
        #expect(a.count == 41 && b.count == 41)
    }

    @Test func bytesValuesAreCopied() {
        var h = HTTPHeaders()
        var id = Array("abc".utf8)
        id.withUnsafeBytes { h.add(name: "x-request-id", value: $0) }
        id[0] = UInt8(ascii: "z")
        #expect(h.firstString(name: "x-request-id") == "abc")
        Array("new".utf8).withUnsafeBytes { h.set(name: "X-Request-Id", value: $0) }
        #expect(h.firstString(name: "x-request-id") == "new" && h.count == 1)
    }

    @Test func slicesHandedOutSurviveLaterAdds() {
        var h = HTTPHeaders()
        h.add(name: "x", value: "first")
        let v = h.first(name: "x")!
        for i in 0..<200 { h.add(name: "n\(i)", value: String(repeating: "v", count: 20)) }
        h.set(name: "x", value: "second")
        #expect(v.bytes == Array("first".utf8))
        #expect(h.firstString(name: "x") == "second")
        #expect(h.count == 201)
    }

    @Test func largeValuesGetTheirOwnArena() {
        var h = HTTPHeaders()
        let big = String(repeating: "z", count: 10_000)
        h.add(name: "big", value: big)
        h.add(name: "small", value: "s")
        #expect(h.firstString(name: "big") == big)
        #expect(h.firstString(name: "small") == "s")
    }

    @Test func tokensInLists() {
        let h: HTTPHeaders = ["Connection": "keep-alive, Upgrade", "connection": " close "]
        #expect(h.containsToken("upgrade", inFieldsNamed: "connection"))
        #expect(h.containsToken("CLOSE", inFieldsNamed: "Connection"))
        #expect(!h.containsToken("keep", inFieldsNamed: "connection"))
        #expect(!h.containsToken("close", inFieldsNamed: "upgrade"))
    }

    @Test func equalityComparesNamesIgnoringCase() {
        let a: HTTPHeaders = ["Host": "x", "Accept": "*/*"]
        let b: HTTPHeaders = ["host": "x", "accept": "*/*"]
        let c: HTTPHeaders = ["accept": "*/*", "host": "x"]
        let d: HTTPHeaders = ["host": "X", "accept": "*/*"]
        #expect(a == b)
        #expect(a != c)
        #expect(a != d)
        #expect(a.description == "[Host: x, Accept: */*]")
    }

    @Test func byteAdditions() {
        var h = HTTPHeaders(minimumCapacity: 4)
        h.add(name: Array("x-bytes".utf8), value: [0x61, 0xFF])
        #expect(h.first(name: "X-Bytes")?.bytes == [0x61, 0xFF])
        #expect(h.withEachField { _, _ in () } == ())
    }

    @Test func validation() {
        #expect(HTTPHeaders.isValidName(Array("x-ok_1".utf8)))
        #expect(!HTTPHeaders.isValidName(Array("".utf8)))
        #expect(!HTTPHeaders.isValidName(Array("x a".utf8)))
        #expect(!HTTPHeaders.isValidName(Array("x:a".utf8)))
        #expect(HTTPHeaders.isValidValue(Array("a b\tc".utf8)))
        #expect(HTTPHeaders.isValidValue([0x80, 0xFF]))
        #expect(HTTPHeaders.isValidValue([]))
        #expect(!HTTPHeaders.isValidValue(Array("a\r\nb".utf8)))
        #expect(!HTTPHeaders.isValidValue([0x61, 0x00]))
        #expect(!HTTPHeaders.isValidValue(Array(" a".utf8)))
        #expect(!HTTPHeaders.isValidValue(Array("a ".utf8)))
    }

    @Test func addContentsOfReferencesTheOtherHeadsBytes() {
        var source = HTTPHeaders()
        source.add(name: "a", value: "1")
        let block = PooledBuffer(copying: Array("b2c3".utf8))
        source.add(name: ByteSlice(storage: block, offset: 0, count: 1), value: ByteSlice(storage: block, offset: 1, count: 1))
        source.add(name: ByteSlice(storage: block, offset: 2, count: 1), value: ByteSlice(storage: block, offset: 3, count: 1))
        var head = HTTPHeaders()
        head.add(name: ":method", value: "GET")
        head.add(contentsOf: source)
        #expect(head.map(\.nameString) == [":method", "a", "b", "c"])
        #expect(head.valueStrings(name: "b") == ["2"] && head.valueStrings(name: "c") == ["3"])
        #expect(head.first(name: "c")!.storage === block)
        #expect(head.firstString(name: "a") == "1")
    }

    @Test func addedFieldsGoIntoASharedArenaWhileItHasRoom() {
        let arena = PooledBuffer(capacity: 64)
        arena.fill = 10  // bytes another head wrote: never overwritten
        var h = HTTPHeaders()
        h.copyAddedFields(into: arena)
        h.add(name: "x-one", value: "1")
        #expect(h.first(name: "x-one")!.storage === arena)
        #expect(arena.fill == 16)
        var other = HTTPHeaders()
        other.copyAddedFields(asIn: h)
        other.add(name: "x-two", value: "2")
        #expect(other.first(name: "x-two")!.storage === arena && arena.fill == 22)
        // What does not fit goes to an arena of its own (the name still fits).
        h.add(name: "x-long", value: String(repeating: "v", count: 100))
        #expect(h.first(name: "x-long")!.storage !== arena && arena.fill == 28)
        #expect(h.firstString(name: "x-long") == String(repeating: "v", count: 100))
        #expect(h.firstString(name: "x-one") == "1" && other.firstString(name: "x-two") == "2")
    }
}

extension ByteSlice {
    func prefix(_ n: Int) -> ByteSlice { ByteSlice(storage: storage, offset: offset, count: n) }
}
