import Testing
import RemoraCore
@testable import RemoraConfig

/// Envoy's filter-chain selection (`FilterChainManagerImpl::findFilterChain`)
/// field by field, and the precedence between and within levels.
@Suite struct FilterChainMatcherTests {
    typealias Criteria = FilterChainMatchCriteria

    static func ip(_ text: String, _ port: UInt16) -> SocketAddress { SocketAddress.ip(text, port: port)! }
    static func cidr(_ text: String, _ length: Int) -> CIDRRange { CIDRRange(filterChainPrefix: text, length: length)! }

    static func matcher(_ chains: [Criteria]) throws -> FilterChainMatcher {
        var matcher = FilterChainMatcher()
        for (i, chain) in chains.enumerated() { try matcher.add(chain, index: i) }
        matcher.seal()
        return matcher
    }

    static func input(local: String = "10.0.0.1", port: UInt16 = 80, remote: String = "10.0.0.9", remotePort: UInt16 = 5000,
                      sni: String? = nil, transport: String = "raw_buffer", alpn: [String] = []) -> FilterChainMatchInput {
        FilterChainMatchInput(localAddress: ip(local, port), directRemoteAddress: ip(remote, remotePort),
                              remoteAddress: ip(remote, remotePort), serverName: sni, transportProtocol: transport,
                              applicationProtocols: alpn)
    }

    static func criteria(_ edit: (inout Criteria) -> Void) -> Criteria {
        var c = Criteria()
        edit(&c)
        return c
    }

    @Test func destinationPortExactBeatsCatchAll() throws {
        let m = try Self.matcher([Self.criteria { _ in }, Self.criteria { $0.destinationPort = 80 }])
        #expect(m.match(Self.input(port: 80)) == 1)
        #expect(m.match(Self.input(port: 81)) == 0)
    }

    @Test func noBacktrackingFromAnExactPort() throws {
        // Port 80 has a branch (for another destination IP): a connection to
        // port 80 that misses it gets the default chain, not the catch-all port.
        let m = try Self.matcher([
            Self.criteria { _ in },
            Self.criteria { $0.destinationPort = 80; $0.destinationRanges = [Self.cidr("192.168.0.0", 16)] },
        ])
        #expect(m.match(Self.input(local: "192.168.1.1", port: 80)) == 1)
        #expect(m.match(Self.input(local: "10.0.0.1", port: 80)) == nil)
        #expect(m.match(Self.input(local: "10.0.0.1", port: 81)) == 0)
    }

    @Test func longestDestinationPrefixWins() throws {
        let m = try Self.matcher([
            Self.criteria { $0.destinationRanges = [Self.cidr("10.0.0.0", 8)] },
            Self.criteria { $0.destinationRanges = [Self.cidr("10.1.0.0", 16)] },
            Self.criteria { $0.destinationRanges = [Self.cidr("10.1.2.3", 32)] },
            Self.criteria { _ in },
        ])
        #expect(m.match(Self.input(local: "10.1.2.3")) == 2)
        #expect(m.match(Self.input(local: "10.1.9.9")) == 1)
        #expect(m.match(Self.input(local: "10.2.0.1")) == 0)
        #expect(m.match(Self.input(local: "11.0.0.1")) == 3)
        #expect(m.match(Self.input(local: "::1")) == 3)
    }

    @Test func ipv6Prefixes() throws {
        let m = try Self.matcher([
            Self.criteria { $0.destinationRanges = [Self.cidr("2001:db8::", 32)] },
            Self.criteria { $0.destinationRanges = [Self.cidr("2001:db8::1", 128)] },
        ])
        #expect(m.match(Self.input(local: "2001:db8::1")) == 1)
        #expect(m.match(Self.input(local: "2001:db8:ffff::1")) == 0)
        #expect(m.match(Self.input(local: "2001:db9::1")) == nil)
        #expect(m.match(Self.input(local: "10.0.0.1")) == nil)
    }

    @Test func prefixIsCanonicalAndIPv4LengthIsClamped() {
        #expect(Self.cidr("10.1.2.3", 8) == Self.cidr("10.0.0.0", 8))
        #expect(Self.cidr("10.1.2.3", 8).address == Self.ip("10.0.0.0", 0))
        #expect(Self.cidr("10.1.2.3", 40).prefixLength == 32)
        #expect(Self.cidr("10.1.2.3", 40).address == Self.ip("10.1.2.3", 0))
        #expect(Self.cidr("2001:db8::ff", 120).address == Self.ip("2001:db8::", 0))
        #expect(CIDRRange(filterChainPrefix: "10.0.0", length: 8) == nil)
        #expect(CIDRRange(filterChainPrefix: "::", length: 129) == nil)
        #expect(Self.cidr("10.0.0.0", 8).contains(Self.ip("10.255.0.1", 1)))
        #expect(!Self.cidr("10.0.0.0", 8).contains(Self.ip("11.0.0.1", 1)))
    }

    @Test func serverNames() throws {
        let m = try Self.matcher([
            Self.criteria { $0.serverNames = ["www.example.com"] },
            Self.criteria { $0.serverNames = ["*.example.com"] },
            Self.criteria { $0.serverNames = ["*.com"] },
            Self.criteria { _ in },
        ])
        #expect(m.match(Self.input(sni: "www.example.com")) == 0)
        #expect(m.match(Self.input(sni: "api.example.com")) == 1)
        #expect(m.match(Self.input(sni: "a.b.example.com")) == 1)
        #expect(m.match(Self.input(sni: "example.com")) == 2)
        #expect(m.match(Self.input(sni: "example.org")) == 3)
        // No SNI (no TLS yet): only chains without server names.
        #expect(m.match(Self.input()) == 3)
    }

    @Test func serverNamesWithoutCatchAllMissToDefault() throws {
        let m = try Self.matcher([Self.criteria { $0.serverNames = ["*.example.com"] }])
        #expect(m.match(Self.input()) == nil)
        #expect(m.match(Self.input(sni: "x.example.com")) == 0)
    }

    @Test func transportProtocol() throws {
        let m = try Self.matcher([
            Self.criteria { $0.transportProtocol = "tls" },
            Self.criteria { $0.transportProtocol = "raw_buffer"; $0.applicationProtocols = ["http/1.1"] },
            Self.criteria { _ in },
        ])
        #expect(m.match(Self.input(transport: "tls")) == 0)
        #expect(m.match(Self.input(alpn: ["http/1.1"])) == 1)
        // raw_buffer has a branch: a miss inside it does not fall back to "any transport".
        #expect(m.match(Self.input()) == nil)
    }

    @Test func applicationProtocolsInClientOrder() throws {
        let m = try Self.matcher([
            Self.criteria { $0.applicationProtocols = ["http/1.1", "h2c"] },
            Self.criteria { $0.applicationProtocols = ["h2"] },
            Self.criteria { _ in },
        ])
        #expect(m.match(Self.input(alpn: ["http/1.1"])) == 0)
        #expect(m.match(Self.input(alpn: ["h2c"])) == 0)
        #expect(m.match(Self.input(alpn: ["h2", "http/1.1"])) == 1)
        #expect(m.match(Self.input(alpn: ["http/1.0"])) == 2)
        #expect(m.match(Self.input()) == 2)
    }

    @Test func directSourceThenSourceTypeThenSource() throws {
        let m = try Self.matcher([
            Self.criteria { $0.directSourceRanges = [Self.cidr("10.0.0.0", 24)] },
            Self.criteria { $0.sourceType = .local },
            Self.criteria { $0.sourceType = .external; $0.sourceRanges = [Self.cidr("192.168.0.0", 16)] },
            Self.criteria { _ in },
        ])
        #expect(m.match(Self.input(remote: "10.0.0.7")) == 0)
        #expect(m.match(Self.input(remote: "127.0.0.1")) == 1)
        // Envoy's loopback is 127.0.0.1 only; another 127/8 peer is external.
        #expect(m.match(Self.input(remote: "127.0.0.2")) == nil)
        // Same IP as the local address counts as local.
        #expect(m.match(Self.input(local: "10.0.1.5", remote: "10.0.1.5")) == 1)
        #expect(m.match(Self.input(remote: "192.168.3.4")) == 2)
        // External connections have a branch: a miss there does not fall back to ANY.
        #expect(m.match(Self.input(remote: "172.16.0.1")) == nil)
        #expect(m.match(Self.input(local: "::1", remote: "::1")) == 1)
    }

    @Test func sourceTypeFallsBackToAnyWhenItsKindHasNoChain() throws {
        let m = try Self.matcher([Self.criteria { $0.sourceType = .external }, Self.criteria { _ in }])
        #expect(m.match(Self.input(remote: "127.0.0.1")) == 1)
        #expect(m.match(Self.input(remote: "172.16.0.1")) == 0)
    }

    @Test func sourcePrefixAndPorts() throws {
        let m = try Self.matcher([
            Self.criteria { $0.sourceRanges = [Self.cidr("10.0.0.0", 8)] },
            Self.criteria { $0.sourceRanges = [Self.cidr("10.0.0.0", 8)]; $0.sourcePorts = [4000, 4001] },
            Self.criteria { $0.sourcePorts = [4000] },
        ])
        #expect(m.match(Self.input(remote: "10.1.1.1", remotePort: 4001)) == 1)
        #expect(m.match(Self.input(remote: "10.1.1.1", remotePort: 5000)) == 0)
        #expect(m.match(Self.input(remote: "11.1.1.1", remotePort: 4000)) == 2)
        #expect(m.match(Self.input(remote: "11.1.1.1", remotePort: 4002)) == nil)
    }

    @Test func destinationLevelComesBeforeServerNameAndProtocols() throws {
        // A longer destination prefix wins even though a shorter one would
        // have matched the application protocol.
        let m = try Self.matcher([
            Self.criteria { $0.destinationRanges = [Self.cidr("10.0.0.0", 8)]; $0.applicationProtocols = ["http/1.1"] },
            Self.criteria { $0.destinationRanges = [Self.cidr("10.0.0.0", 24)] },
        ])
        #expect(m.match(Self.input(local: "10.0.0.1", alpn: ["http/1.1"])) == 1)
        #expect(m.match(Self.input(local: "10.9.0.1", alpn: ["http/1.1"])) == 0)
        #expect(m.match(Self.input(local: "10.9.0.1")) == nil)
    }

    @Test func unixAddressesOnlyTakeCatchAlls() throws {
        let m = try Self.matcher([
            Self.criteria { $0.destinationPort = 80 },
            Self.criteria { $0.sourceType = .local },
            Self.criteria { $0.sourceType = .external },
        ])
        let unix = FilterChainMatchInput(localAddress: .unix("/tmp/s"), directRemoteAddress: nil, remoteAddress: nil)
        // Pipes count as local, have no port, and look up as 255.255.255.255.
        #expect(m.match(unix) == 1)
    }

    @Test func overlappingCombinationsAreRefused() throws {
        #expect(throws: FilterChainMatcher.AddError.overlapping) {
            _ = try Self.matcher([Self.criteria { $0.sourcePorts = [1, 2] }, Self.criteria { $0.sourcePorts = [2] }])
        }
        #expect(throws: FilterChainMatcher.AddError.overlapping) {
            _ = try Self.matcher([
                Self.criteria { $0.applicationProtocols = ["h2c", "http/1.1"] },
                Self.criteria { $0.applicationProtocols = ["http/1.1"] },
            ])
        }
        #expect(throws: FilterChainMatcher.AddError.overlapping) {
            _ = try Self.matcher([
                Self.criteria { $0.destinationRanges = [Self.cidr("10.0.0.1", 8)] },
                Self.criteria { $0.destinationRanges = [Self.cidr("10.0.0.0", 8)] },
            ])
        }
        // An explicit 0.0.0.0/0 is another key than "no ranges", as in Envoy.
        _ = try Self.matcher([Self.criteria { $0.destinationRanges = [Self.cidr("0.0.0.0", 0)] }, Self.criteria { _ in }])
    }

    @Test func istioInboundShape() throws {
        // The Istio inbound shape: ports, then ALPN, catch-alls elsewhere.
        let m = try Self.matcher([
            Self.criteria { $0.destinationPort = 8080; $0.applicationProtocols = ["http/1.1", "h2c"] },
            Self.criteria { $0.destinationPort = 8080 },
            Self.criteria { $0.applicationProtocols = ["http/1.1", "h2c"] },
            Self.criteria { _ in },
        ])
        #expect(m.match(Self.input(port: 8080, alpn: ["http/1.1"])) == 0)
        #expect(m.match(Self.input(port: 8080, alpn: ["h2c"])) == 0)
        #expect(m.match(Self.input(port: 8080)) == 1)
        #expect(m.match(Self.input(port: 9090, alpn: ["http/1.1"])) == 2)
        #expect(m.match(Self.input(port: 9090, alpn: ["http/1.0"])) == 3)
    }
}
