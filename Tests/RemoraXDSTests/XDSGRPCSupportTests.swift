import Testing
@testable import RemoraXDS

@Suite struct XDSGRPCSupportTests {
    struct Counter: RandomNumberGenerator {
        var value: UInt64 = 0
        mutating func next() -> UInt64 { value &+= 7_919; return value }
    }

    @Test func backOffIsJitteredBelowADoublingIntervalUpToTheMaximum() {
        var backOff = XDSBackOff(random: Counter())
        var intervals: [UInt64] = []
        for _ in 0..<10 {
            let interval = backOff.interval
            intervals.append(interval)
            #expect(backOff.nextMilliseconds() < interval)
        }
        #expect(intervals == [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000])
        backOff.reset()
        #expect(backOff.interval == 500)
    }

    @Test func methodsAreEnvoys() {
        #expect(XDSGRPCMethod.aggregated(delta: false).method == "StreamAggregatedResources")
        #expect(XDSGRPCMethod.aggregated(delta: true).service == "envoy.service.discovery.v3.AggregatedDiscoveryService")
        #expect(XDSGRPCMethod.perType(.listener, delta: true) ==
            XDSGRPCMethod(service: "envoy.service.listener.v3.ListenerDiscoveryService", method: "DeltaListeners"))
        #expect(XDSGRPCMethod.perType(.clusterLoadAssignment, delta: false).method == "StreamEndpoints")
        #expect(XDSGRPCMethod.perType(.secret, delta: false).service == "envoy.service.secret.v3.SecretDiscoveryService")
    }

    @Test func nodeGetsTheUserAgent() {
        let node = XDSNode.make(bootstrap: XDSTestResources.node, version: "1.2.3-dev")
        #expect(node.id == "node-1" && node.userAgentName == "remora")
        #expect(node.userAgentBuildVersion.version.majorNumber == 1 && node.userAgentBuildVersion.version.patch == 3)
    }
}
