import Testing
@testable import RemoraUpstream

/// LEAST_REQUEST without sockets: the loads are plain numbers.
@Suite struct LeastRequestBalancerTests {
    @Test func twoChoicesPreferTheLessLoadedHost() {
        var balancer = LeastRequestBalancer(choiceCount: 2, activeRequestBias: 1, seed: 7)
        let loads: [Int64] = [5, 0]
        var picks = [0, 0]
        for _ in 0..<4000 { picks[balancer.next(active: { loads[$0] }, count: 2)] += 1 }
        // Host 0 wins only when both draws are host 0: a quarter of the time.
        #expect(picks[0] > 800 && picks[0] < 1200, "\(picks)")
    }

    @Test func manyChoicesAlmostAlwaysFindTheIdleHost() {
        var balancer = LeastRequestBalancer(choiceCount: 20, activeRequestBias: 1, seed: 11)
        // Missing the idle host in all twenty draws: (3/4)^20, about 0.3 % of picks.
        let loads: [Int64] = [3, 3, 0, 3]
        var idle = 0
        for _ in 0..<1000 where balancer.next(active: { loads[$0] }, count: 4) == 2 { idle += 1 }
        #expect(idle > 980, "\(idle)")
    }

    @Test func equalLoadsSpreadEvenly() {
        var balancer = LeastRequestBalancer(choiceCount: 2, activeRequestBias: 1, seed: 3)
        var picks = [0, 0, 0]
        for _ in 0..<3000 { picks[balancer.next(active: { _ in 0 }, count: 3)] += 1 }
        #expect(picks.allSatisfy { $0 > 850 && $0 < 1150 }, "\(picks)")
    }

    @Test func weightsAreDividedByActiveRequests() {
        // Weights 2:1, but the heavier host has 3 requests in flight: 2/4 vs 1/1.
        var balancer = LeastRequestBalancer(choiceCount: 2, activeRequestBias: 1, seed: 5)
        let loads: [Int64] = [3, 0]
        var picks = [0, 0]
        for _ in 0..<300 { picks[balancer.next(weights: [2, 1], active: { loads[$0] })] += 1 }
        #expect(picks == [100, 200])
        // Bias 0: the weights alone.
        var plain = LeastRequestBalancer(choiceCount: 2, activeRequestBias: 0, seed: 5)
        picks = [0, 0]
        for _ in 0..<300 { picks[plain.next(weights: [2, 1], active: { loads[$0] })] += 1 }
        #expect(picks == [200, 100])
    }
}
