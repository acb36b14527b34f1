import Testing
@testable import RemoraCore

@Suite struct StatScopeTests {
    @Test func socketAddressTextForms() {
        #expect(SocketAddress.ip("127.0.0.1", port: 80)?.description == "127.0.0.1:80")
        #expect(SocketAddress.ip("::1", port: 80)?.description == "[::1]:80")
        #expect(SocketAddress.ip("2001:db8::1:0:0:1", port: 1)?.host == "2001:db8::1:0:0:1")
        #expect(SocketAddress.ip("::ffff:10.0.0.1", port: 1)?.host == "::ffff:a00:1")
        #expect(SocketAddress.ip("1.2.3", port: 1) == nil)
        #expect(SocketAddress.ip("256.1.1.1", port: 1) == nil)
        #expect(SocketAddress.ip("1::2::3", port: 1) == nil)
        #expect(SocketAddress.ip("localhost", port: 1) == nil)
    }
}

@Suite struct RequestIDGeneratorTests {
    @Test func producesDistinctVersion4UUIDs() {
        var g = RequestIDGenerator()
        var seen = Set<String>()
        for _ in 0..<1000 {
            let id = g.next()
            #expect(id.utf8.count == 36)
            let parts = id.split(separator: "-")
            #expect(parts.map(\.count) == [8, 4, 4, 4, 12])
            #expect(parts[2].first == "4")
            #expect("89ab".contains(parts[3].first!))
            #expect(id.allSatisfy { "0123456789abcdef-".contains($0) })
            seen.insert(id)
        }
        #expect(seen.count == 1000)
    }
}
