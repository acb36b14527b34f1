public import RemoraAPI
public import RemoraConfig
public import RemoraCore
public import RemoraEventLoop
public import RemoraUpstream

/// The gRPC half of `XDSSubscriptionFactory` (main loop): the ADS stream,
/// shared by every `ads: {}` source and opened with the first of them, and
/// a stream of its own for each `api_config_source` subscription (closed
/// when it is cancelled), as Envoy makes them. Streams reach their static
/// cluster through a main-loop `WorkerCluster` the server provides.
public final class XDSGRPCSources {
    /// What the server knows of its static clusters.
    public struct Clusters {
        /// The static cluster's config (nil: there is none of that name).
        public var config: (String) -> ClusterConfig?
        /// A main-loop view of the cluster with its current hosts, asked
        /// before each connection (nil: not set up yet).
        public var cluster: (String) -> WorkerCluster?

        public init(config: @escaping (String) -> ClusterConfig?, cluster: @escaping (String) -> WorkerCluster?) {
            self.config = config
            self.cluster = cluster
        }
    }

    private let loop: EventLoop
    private let store: StatsStore
    private let node: Envoy_Config_Core_V3_Node
    private let ads: GRPCSourceConfig?
    private let clusters: Clusters
    private var adsStream: (any XDSGRPCMuxing)?

    public init(loop: EventLoop, store: StatsStore, node: Envoy_Config_Core_V3_Node, ads: GRPCSourceConfig?, clusters: Clusters) {
        self.loop = loop
        self.store = store
        self.node = node
        self.ads = ads
        self.clusters = clusters
    }

    /// Holds back (`paused`) or lets go the ADS stream's requests of `type`;
    /// nothing without an ADS stream.
    public func setADSRequestsPaused(_ type: XDSResourceType, _ paused: Bool) {
        guard let adsStream else { return }
        if paused { adsStream.pauseRequests(type) } else { adsStream.resumeRequests(type) }
    }

    /// A subscription on ADS (`source.kind == .ads`) or on an
    /// `api_config_source` stream (`.grpc`); `stats` are its own, under
    /// `statPrefix` (where an `api_config_source`'s `control_plane.*` go too,
    /// unless `controlPlaneStatPrefix` says otherwise).
    public func subscribe(_ type: XDSResourceType, source: ConfigSourceConfig, names: Set<String>, statPrefix: String,
                          controlPlaneStatPrefix: String? = nil, stats: Stats<XDSSubscriptionStat>,
                          handler: any XDSUpdateHandler) throws(ConfigError) -> any XDSSubscription {
        loop.assertInLoop()
        switch source.kind {
        case .ads:
            guard let ads else {
                throw .invalid("ads: {} needs dynamic_resources.ads_config in the bootstrap", at: "ads")
            }
            let stream: any XDSGRPCMuxing
            if let adsStream {
                stream = adsStream
            } else {
                // Envoy roots the ADS stream's stats at `control_plane.`.
                stream = try makeStream(ads, method: .aggregated(delta: ads.delta),
                                        controlPlaneStats: store.makeScope(prefix: "control_plane.", XDSControlPlaneStat.self))
                adsStream = stream
            }
            guard !type.isWildcard || !stream.hasSubscription(type) else {
                // One listener manager, one cluster manager: a second wildcard watch is a bug.
                throw .invalid("a second \(type.shortName) subscription on ADS", at: statPrefix)
            }
            return stream.subscribe(type, names: names, stats: stats,
                                    initialFetchTimeoutMilliseconds: source.initialFetchTimeoutMilliseconds, handler: handler)
        case .grpc(let grpc):
            let scope = store.makeScope(prefix: controlPlaneStatPrefix ?? statPrefix + "control_plane.", XDSControlPlaneStat.self)
            let stream: any XDSGRPCMuxing
            do {
                stream = try makeStream(grpc, method: .perType(type, delta: grpc.delta), controlPlaneStats: scope)
            } catch {
                store.remove(scope)
                throw error
            }
            let subscription = stream.subscribe(type, names: names, stats: stats,
                                                initialFetchTimeoutMilliseconds: source.initialFetchTimeoutMilliseconds,
                                                handler: handler)
            if let owned = subscription as? XDSGRPCSubscription {
                owned.ownedMux = stream
                // Its `control_plane.*` leave with it (a removed cluster's do).
                owned.ownedStatScope = (store, scope)
            }
            return subscription
        case .path:
            preconditionFailure("file sources are XDSSubscriptionFactory's")
        }
    }

    private func makeStream(_ source: GRPCSourceConfig, method: XDSGRPCMethod,
                            controlPlaneStats scope: StatScope) throws(ConfigError) -> any XDSGRPCMuxing {
        guard let config = clusters.config(source.clusterName) else {
            throw .invalid("unknown static cluster '\(source.clusterName)' for the xDS gRPC service",
                           at: "grpc_services[0].envoy_grpc.cluster_name")
        }
        guard config.http.http2 != nil, config.http.protocolSelection != .http1 else {
            throw .invalid("\(GRPCClientError.notHTTP2(cluster: source.clusterName))", at: "grpc_services[0].envoy_grpc.cluster_name")
        }
        let (loop, clusters) = (self.loop, self.clusters)
        var client: GRPCAsyncClient?
        let backOff = source.retryBackOff.map { XDSBackOff(base: $0.baseMilliseconds, max: $0.maxMilliseconds) } ?? XDSBackOff()
        return XDSGRPCStreams.make(delta: source.delta, setNodeOnFirstMessageOnly: source.setNodeOnFirstMessageOnly,
                                   method: method, loop: loop, node: node, controlPlaneStats: scope, backOff: backOff,
                                   rateLimit: source.rateLimit,
                                   metadata: source.initialMetadata.map { (name: $0.name, value: $0.value) }) {
            // The cluster's hosts are refreshed by the provider; one client per stream.
            guard let cluster = clusters.cluster(source.clusterName) else { return nil }
            if client == nil || client!.cluster !== cluster {
                client = try? GRPCAsyncClient(cluster: cluster, loop: loop, options: .init(
                    authority: source.authority, maxReceiveMessageBytes: source.maxReceiveMessageBytes))
            }
            return client
        }
    }
}
