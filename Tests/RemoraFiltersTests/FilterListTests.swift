import Testing
@testable import RemoraFilters

@Suite struct FilterListTests {
    @Test func keepsOrderWithTheFirstInlineAndTheRestInAnArray() {
        var list = FilterList<String>()
        #expect(list.isEmpty)
        #expect(Array(list) == [])
        list.append("router")
        #expect(list.count == 1)
        #expect(list[0] == "router")
        list.append("b")
        list.append("c")
        #expect(list.count == 3)
        #expect(Array(list) == ["router", "b", "c"])
        #expect(Array(list.reversed()) == ["c", "b", "router"])
        #expect(list[2] == "c")
        list.removeAll()
        #expect(list.isEmpty)
        list.append("again")
        #expect(Array(list) == ["again"])
    }
}
