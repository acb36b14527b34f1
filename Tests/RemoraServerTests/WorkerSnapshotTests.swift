import Foundation
import Testing
@testable import RemoraConfig
import RemoraCore
import RemoraEventLoop
import RemoraUpstream
@testable import RemoraServer

/// Configuration reaches a worker as immutable snapshots posted to its loop;
/// the worker swaps them in between events.
@Suite struct WorkerSnapshotTests {
    /// Runs `body` on the worker's loop and waits for its result.
    func onWorker<T: Sendable>(_ worker: Worker, _ body: @escaping @Sendable () -> T) -> T {
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox<T>()
        worker.loop.execute {
            box.value = body()
            done.signal()
        }
        done.wait()
        return box.value!
    }

    @Test func hostSetSnapshotIsSwappedInOnTheWorkerLoop() throws {
        let loop = try EventLoop.startThread(name: "test-worker")
        defer { loop.stop(); loop.join() }
        let worker = Worker(index: 1, loop: loop)
        let store = StatsStore(workerCount: 1)
        let scope = ClusterStat.makeScope(cluster: "c", in: store)
        let config = ClusterConfig(name: "c", discovery: .staticHosts([]), connectTimeoutMilliseconds: 1000,
                                   loadBalancing: .roundRobin, bufferLimitBytes: 1 << 20)
        let a = SocketAddress.v4(0x7f00_0001, port: 1)
        let b = SocketAddress.v4(0x7f00_0001, port: 2)

        worker.loop.execute { worker.installCluster(config, hosts: HostSet(hosts: [a]), stats: scope, resources: ClusterResources(limits: .envoyDefaults)) }
        #expect(onWorker(worker) { worker.cluster(named: "c")?.chooseHost() } == a)

        // A new snapshot posted from this (non-worker) thread.
        let next = HostSet(hosts: [b])
        worker.loop.execute { worker.updateHosts(cluster: "c", hosts: next) }
        #expect(onWorker(worker) { worker.cluster(named: "c")?.chooseHost() } == b)
        #expect(onWorker(worker) { worker.cluster(named: "c")?.hostSet === next })
    }

    @Test func statsWrittenByWorkersAreSummedWhenRead() throws {
        let store = StatsStore(workerCount: 2)
        let scope = store.makeScope(prefix: "x.", stats: [("c", .counter), ("g", .gauge), ("h", .histogram), ("s", .sparseCounter)])
        let loops = try (1...2).map { try EventLoop.startThread(name: "w\($0)") }
        defer { for l in loops { l.stop(); l.join() } }
        let workers = loops.enumerated().map { Worker(index: $0.offset + 1, loop: $0.element) }
        for w in workers {
            _ = onWorker(w) {
                let slots = scope.slots(thread: w.index)
                for _ in 0..<1000 { slots.add(0) }
                slots.add(1, 5)
                slots.add(1, -2)
                slots.record(2, milliseconds: 7)
                return true
            }
        }
        store.flushHistograms()
        let snapshot = Dictionary(uniqueKeysWithValues: store.snapshot().map { ($0.name, $0) })
        #expect(snapshot["x.c"]?.value == 2000)
        #expect(snapshot["x.g"]?.value == 6)
        #expect(snapshot["x.h"]?.histogram?.cumulative.count == 2)
        #expect(snapshot["x.h"]?.histogram?.cumulative.bins.map(\.bin) == [7])
        #expect(snapshot["x.s"] == nil, "a sparse counter is listed only once used")
    }
}

final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}
