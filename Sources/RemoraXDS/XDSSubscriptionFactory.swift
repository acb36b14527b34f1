public import RemoraConfig
public import RemoraCore
public import RemoraEventLoop

/// Makes the server's subscriptions, one per type and config source (the
/// caller keeps them and sets the union of the names it needs). On the main
/// loop.
public final class XDSSubscriptionFactory {
    public let loop: EventLoop
    private let store: StatsStore
    private var sharedWatcher: FileWatcher?

    /// The loop's one inotify watcher, for every file subscription and file
    /// watch of the server (made on first use).
    public func fileWatcher() throws(EventLoopError) -> FileWatcher {
        if let sharedWatcher { return sharedWatcher }
        let made = try FileWatcher(loop: loop)
        sharedWatcher = made
        return made
    }

    /// ADS and `api_config_source` streams (set by the server; nil: gRPC
    /// sources are refused).
    public var grpc: XDSGRPCSources?

    public init(loop: EventLoop, store: StatsStore) {
        self.loop = loop
        self.store = store
    }

    /// Starts a subscription to `type` from `source`. `names` are the
    /// resources wanted (ignored for wildcard types); `statPrefix` is where
    /// its stats go (`listener_manager.lds.`, `cluster_manager.cds.`,
    /// `http.<prefix>.rds.<name>.`, …; empty: none listed). An
    /// `api_config_source` stream's `control_plane.*` go under
    /// `controlPlaneStatPrefix`, or `<statPrefix>control_plane.`. The handler is called on later loop
    /// turns, never from inside this call.
    public func subscribe(_ type: XDSResourceType, source: ConfigSourceConfig, names: Set<String>, statPrefix: String,
                          controlPlaneStatPrefix: String? = nil,
                          handler: any XDSUpdateHandler) throws(ConfigError) -> any XDSSubscription {
        loop.assertInLoop()
        let scope = store.makeScope(prefix: statPrefix, XDSSubscriptionStat.self)
        // No prefix: the caller counts per resource (EDS, under each cluster), so the subscription's own are not listed.
        if statPrefix.isEmpty { store.remove(scope) }
        let stats = scope.stats(XDSSubscriptionStat.self, thread: 0)
        stats.setText("version_text", "")
        switch source.kind {
        case .path(let path, let watchedDirectory):
            do {
                return try FileSubscription(loop: loop, watcher: fileWatcher(), type: type, path: path,
                                            watchedDirectory: watchedDirectory, names: names, stats: stats, handler: handler)
            } catch {
                throw .io("cannot watch \(path) for \(type.shortName): \(error)")
            }
        case .ads, .grpc:
            guard let grpc else { throw .unsupported("xDS over gRPC is not set up", at: "api_config_source") }
            return try grpc.subscribe(type, source: source, names: names, statPrefix: statPrefix,
                                      controlPlaneStatPrefix: controlPlaneStatPrefix, stats: stats, handler: handler)
        }
    }
}
