#if canImport(Glibc)
import Glibc
#endif
import RemoraCore
import RemoraEventLoop

/// One type watched on an xDS gRPC stream (Envoy's `GrpcSubscriptionImpl`):
/// hands updates to its handler, keeps the subscription stats, and runs
/// `initial_fetch_timeout`. Main loop; its owner keeps it (the mux holds it
/// weakly), and for an `api_config_source` it keeps its own stream alive.
final class XDSGRPCSubscription: XDSSubscription {
    let type: XDSResourceType
    /// The names this watch asked for (the stream asks for the union of
    /// every watch's of the type).
    private(set) var names: Set<String>
    /// Whether its last state-of-the-world delivery held resources (an
    /// update without any of its names then tells it they are gone).
    private var holdsResources = false
    private weak var mux: (any XDSGRPCMuxInternal)?
    /// The stream of an `api_config_source`, which only this subscription uses.
    var ownedMux: (any XDSGRPCMuxing)?
    /// That stream's `control_plane.*` scope (removed with it).
    var ownedStatScope: (StatsStore, StatScope)?
    private var handler: (any XDSUpdateHandler)?
    let stats: Stats<XDSSubscriptionStat>
    private let loop: EventLoop
    private var initialFetchTimer: Timer?

    init(type: XDSResourceType, names: Set<String>, mux: any XDSGRPCMuxInternal, handler: any XDSUpdateHandler,
         stats: Stats<XDSSubscriptionStat>, loop: EventLoop, initialFetchTimeoutMilliseconds: UInt64) {
        self.type = type
        self.names = names
        self.mux = mux
        self.handler = handler
        self.stats = stats
        self.loop = loop
        if initialFetchTimeoutMilliseconds > 0 {
            let timer = Timer(loop: loop)
            timer.start(afterMilliseconds: initialFetchTimeoutMilliseconds) { [unowned self] in self.initialFetchTimedOut() }
            initialFetchTimer = timer
        }
    }

    deinit {
        initialFetchTimer?.close()
        // Dropped without cancel(): stop all the same (a stream would
        // otherwise keep itself alive through its callbacks).
        if handler != nil {
            mux?.unsubscribe(self)
            shutdownOwnedStream()
        }
    }

    func setResourceNames(_ names: Set<String>) {
        guard handler != nil else { return }
        stats.add(.updateAttempt)
        self.names = names
        mux?.namesChanged(type)
    }

    func cancel() {
        guard handler != nil else { return }
        handler = nil
        stopInitialFetchTimer()
        mux?.unsubscribe(self)
        shutdownOwnedStream()
    }

    private func shutdownOwnedStream() {
        ownedMux?.shutdown()
        if let (store, scope) = ownedStatScope {
            ownedStatScope = nil
            store.remove(scope)
        }
    }

    // MARK: - From the mux

    /// What of `update` is this watch's when others watch the type too
    /// (Envoy's `WatchMap`): the resources it named; nil when there is
    /// nothing to tell it.
    func share(of update: XDSUpdate) -> XDSUpdate? {
        var mine = update
        mine.updated = update.updated.filter { names.contains($0.name) }
        mine.removed = update.removed.filter { names.contains($0) }
        if update.isStateOfTheWorld {
            guard !mine.updated.isEmpty || holdsResources else { return nil }
            holdsResources = !mine.updated.isEmpty
        } else if mine.updated.isEmpty && mine.removed.isEmpty {
            return nil
        }
        return mine
    }

    /// Applies an update; returns the rejection to NACK with, if any.
    func deliver(_ update: XDSUpdate) -> XDSRejection? {
        guard let handler else { return nil }
        stopInitialFetchTimer()
        // Envoy counts a Delta attempt before the handler runs (so a refused
        // one counts twice), a state-of-the-world one after it succeeds.
        if !update.isStateOfTheWorld { stats.add(.updateAttempt) }
        let started = loop.nowMilliseconds
        do {
            try handler.apply(update)
        } catch {
            rejected(error)
            return error
        }
        stats.add(.updateSuccess)
        if update.isStateOfTheWorld { stats.add(.updateAttempt) }
        stats.set(.updateTime, Self.wallClockMilliseconds())
        stats.set(.version, Int64(bitPattern: XXHash64.hash(update.versionInfo)))
        stats.setText("version_text", update.versionInfo)
        stats.record(.updateDuration, milliseconds: loop.nowMilliseconds - started)
        return nil
    }

    /// A refused update (by the handler, or malformed).
    func rejected(_ rejection: XDSRejection) {
        stopInitialFetchTimer()
        stats.add(.updateRejected)
        stats.add(.updateAttempt)
    }

    /// The stream failed (or could not open): the config stays as it is.
    func connectionFailed() {
        guard handler != nil else { return }
        stats.add(.updateFailure)
        stats.add(.updateAttempt)
    }

    private func initialFetchTimedOut() {
        stopInitialFetchTimer()
        stats.add(.initFetchTimeout)
        stats.add(.updateAttempt)
        handler?.initialFetchFailed(type)
    }

    private func stopInitialFetchTimer() {
        initialFetchTimer?.stop()
    }

    private static func wallClockMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}

/// What a subscription asks of its stream.
protocol XDSGRPCMuxInternal: AnyObject {
    /// A watch of `type` changed its names.
    func namesChanged(_ type: XDSResourceType)
    func unsubscribe(_ subscription: XDSGRPCSubscription)
}
