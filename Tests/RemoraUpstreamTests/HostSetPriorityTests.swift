import Testing
import RemoraConfig
import RemoraCore
@testable import RemoraUpstream

/// EDS priorities: the share of requests each priority takes, as Envoy's
/// LoadBalancerBase computes it (overprovisioning 1.4, panic per priority
/// below a total health of 100, load by host count when all panic).
@Suite struct HostSetPriorityTests {
    func endpoint(_ port: UInt16, priority: UInt32, _ health: EndpointConfig.Health = .healthy, weight: UInt32 = 1) -> EndpointConfig {
        EndpointConfig(address: SocketAddress.ip("127.0.0.1", port: port)!, health: health, weight: weight, priority: priority)
    }

    /// The loads Envoy's balancer would give each priority's healthy and
    /// degraded hosts.
    func loads(_ endpoints: [EndpointConfig]) -> (healthy: [UInt32], degraded: [UInt32]) {
        let plan = HostSet.PriorityPlan(endpoints, panicThresholdPercent: HostSet.defaultPanicThresholdPercent)
        return (plan.healthyLoads, plan.degradedLoads)
    }

    /// Each balanced host's share of the whole, in percent.
    func shares(_ set: HostSet) -> [UInt16: Double] {
        let weights = set.balancedWeights ?? Array(repeating: 1, count: set.balanced.count)
        let total = Double(weights.reduce(0) { $0 + UInt64($1) })
        var result: [UInt16: Double] = [:]
        for (host, w) in zip(set.balanced, weights) { result[host.port ?? 0] = (Double(w) / total * 1000).rounded() / 10 }
        return result
    }

    @Test func oneHealthyPriorityTakesEverything() {
        let set = HostSet(endpoints: [endpoint(1, priority: 0), endpoint(2, priority: 0), endpoint(3, priority: 1)])
        #expect(loads(set.endpoints!).healthy == [100, 0])
        #expect(shares(set) == [1: 50, 2: 50])
        #expect(!set.inPanic)
    }

    @Test func aPartlyHealthyPriorityOverflowsToTheNext() {
        // Priority 0: half healthy → health 70; priority 1 all healthy → 30 left for it.
        let set = HostSet(endpoints: [endpoint(1, priority: 0), endpoint(2, priority: 0, .unhealthy),
                                      endpoint(3, priority: 1), endpoint(4, priority: 1, weight: 3)])
        #expect(loads(set.endpoints!).healthy == [70, 30])
        #expect(shares(set) == [1: 70, 3: 7.5, 4: 22.5])
        #expect(!set.inPanic)
    }

    @Test func healthsBelowAHundredAreScaledAndThreeQuartersHealthyIsEnough() {
        // 140 × 3/4 = 105 → 100: priority 0 takes it all.
        var endpoints = (1...3).map { endpoint($0, priority: 0) } + [endpoint(4, priority: 0, .unhealthy)]
        #expect(loads(endpoints + [endpoint(9, priority: 1)]).healthy == [100, 0])
        // 140 × 3/5 = 84 and nothing healthy in priority 1: the total (84)
        // scales priority 0 to all of it; priority 1 is in panic but takes nothing.
        let scaled = HostSet(endpoints: (1...3).map { endpoint($0, priority: 0) }
            + [endpoint(4, priority: 0, .unhealthy), endpoint(5, priority: 0, .unhealthy),
               endpoint(6, priority: 1, .unhealthy), endpoint(7, priority: 1, .unhealthy)])
        #expect(loads(scaled.endpoints!).healthy == [100, 0])
        #expect(shares(scaled) == [1: 33.3, 2: 33.3, 3: 33.3])
        #expect(!scaled.inPanic)
        // 2/5 healthy (56) and 1/4 (35): a total of 91 would give 62 / 38, but
        // both are under the panic threshold, so load follows host counts
        // (5 and 4 of 9: 55 + 1 and 44) over every host.
        endpoints = [endpoint(1, priority: 0), endpoint(2, priority: 0, .unhealthy), endpoint(3, priority: 0, .unhealthy),
                     endpoint(4, priority: 0), endpoint(5, priority: 0, .unhealthy),
                     endpoint(6, priority: 1), endpoint(7, priority: 1, .unhealthy), endpoint(8, priority: 1, .unhealthy),
                     endpoint(9, priority: 1, .unhealthy)]
        let set = HostSet(endpoints: endpoints)
        #expect(loads(set.endpoints!).healthy == [56, 44])
        #expect(set.inPanic)
        #expect(Set(shares(set).keys) == Set(1...9))
    }

    @Test func everyPriorityInPanicSharesLoadByHostCount() {
        let set = HostSet(endpoints: [endpoint(1, priority: 0, .unhealthy), endpoint(2, priority: 1, .unhealthy),
                                      endpoint(3, priority: 1, .unhealthy), endpoint(4, priority: 1, .unhealthy)])
        #expect(loads(set.endpoints!).healthy == [25, 75])
        #expect(set.inPanic)
        #expect(shares(set) == [1: 25, 2: 25, 3: 25, 4: 25])
    }

    @Test func drainingHostsNeverBalancedAndAnEmptyMiddlePriorityTakesNothing() {
        let set = HostSet(endpoints: [endpoint(1, priority: 0, .draining), endpoint(2, priority: 2)])
        #expect(loads(set.endpoints!).healthy == [0, 0, 100])
        #expect(shares(set) == [2: 100])
    }

    /// DEGRADED hosts take what the healthy ones cannot (Envoy's degraded
    /// priority load), after every priority's healthy hosts.
    @Test func degradedHostsTakeWhatTheHealthyCannot() {
        // 1 healthy (70) and 1 degraded (70) of 2: 70 % healthy, 30 % degraded.
        let half = HostSet(endpoints: [endpoint(1, priority: 0), endpoint(2, priority: 0, .degraded)])
        #expect(loads(half.endpoints!).healthy == [70] && loads(half.endpoints!).degraded == [30])
        #expect(shares(half) == [1: 70, 2: 30])
        #expect(half.degradedCount == 1 && half.healthyCount == 1)
        // Three of four healthy: 105 → 100, the degraded host takes nothing.
        let mostly = HostSet(endpoints: (1...3).map { endpoint($0, priority: 0) } + [endpoint(4, priority: 0, .degraded)])
        #expect(loads(mostly.endpoints!).healthy == [100] && loads(mostly.endpoints!).degraded == [0])
        #expect(shares(mostly) == [1: 33.3, 2: 33.3, 3: 33.3])
        // Only degraded hosts: they take everything, not in panic.
        let all = HostSet(endpoints: [endpoint(1, priority: 0, .degraded), endpoint(2, priority: 0, .degraded)])
        #expect(loads(all.endpoints!).degraded == [100] && !all.inPanic)
        #expect(shares(all) == [1: 50, 2: 50])
        // A healthy priority 1 comes before priority 0's degraded hosts.
        let next = HostSet(endpoints: [endpoint(1, priority: 0), endpoint(2, priority: 0, .degraded), endpoint(3, priority: 1)])
        #expect(loads(next.endpoints!).healthy == [70, 30] && loads(next.endpoints!).degraded == [0, 0])
    }

    @Test func onePriorityKeepsThePlainPath() {
        let set = HostSet(endpoints: [endpoint(1, priority: 0), endpoint(2, priority: 0)])
        #expect(!set.weighsPriorities)
        #expect(set.balancedWeights == nil)
    }
}
