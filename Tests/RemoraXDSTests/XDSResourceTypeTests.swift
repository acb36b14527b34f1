import Testing
@testable import RemoraXDS

@Suite struct XDSResourceTypeTests {
    @Test func typeURLsRoundTrip() {
        for type in XDSResourceType.allCases {
            #expect(XDSResourceType(typeURL: type.typeURL) == type)
        }
        #expect(XDSResourceType(typeURL: "type.googleapis.com/envoy.config.listener.v2.Listener") == nil)
    }

    @Test func onlyListenersAndClustersAreWildcard() {
        #expect(XDSResourceType.allCases.filter(\.isWildcard) == [.listener, .cluster])
    }
}
