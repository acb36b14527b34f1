import Testing
import RemoraCore
@testable import RemoraEventLoop

@Suite("DNSResolver")
struct DNSResolverTests {
    // Only names answered from /etc/hosts or numeric literals: no DNS traffic.
    @Test func resolvesLocalhost() throws {
        let loop = try EventLoop()
        var outcome: Result<[SocketAddress], EventLoopError>?
        DNSResolver.resolve(loop: loop, host: "localhost", port: 8080, family: .any) { result in
            outcome = result
            loop.stop()
        }
        runLoop(loop)
        let addresses = try #require(try outcome?.get())
        #expect(!addresses.isEmpty)
        #expect(addresses.allSatisfy { $0.port == 8080 })
        #expect(addresses.contains(.v4(0x7f00_0001, port: 8080)) || addresses.contains(.v6(high: 0, low: 1, port: 8080)))
        #expect(Set(addresses).count == addresses.count)
    }

    @Test func resolvesNumericLiteralsByFamily() throws {
        let loop = try EventLoop()
        var v4: [SocketAddress] = []
        var v6: [SocketAddress] = []
        DNSResolver.resolve(loop: loop, host: "127.0.0.1", port: 1, family: .v4Only) { result in
            v4 = (try? result.get()) ?? []
            DNSResolver.resolve(loop: loop, host: "::1", port: 2, family: .v6Only) { result in
                v6 = (try? result.get()) ?? []
                loop.stop()
            }
        }
        runLoop(loop)
        #expect(v4 == [.v4(0x7f00_0001, port: 1)])
        #expect(v6 == [.v6(high: 0, low: 1, port: 2)])
    }
}
