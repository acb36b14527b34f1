import RemoraConfig
import RemoraCore
import RemoraEventLoop
import RemoraHTTP

/// The clusters of the running config, on the main thread: creates their
/// stat scopes, resolves STRICT_DNS names (and re-resolves them every
/// `dns_refresh_rate`), and hands each new membership to `publish`, which
/// posts it to the workers.
public final class ClusterManager {
    public struct Entry {
        public let config: ClusterConfig
        public let stats: StatScope
        public let resources: ClusterResources
        public fileprivate(set) var hostSet: HostSet
        /// `cluster.<name>.http2.*`, listed from the first HTTP/2 connection;
        /// nil for a cluster that never speaks HTTP/2.
        public var http2Stats: StatScope? = nil
    }

    private let loop: EventLoop
    private let store: StatsStore
    private let publish: (String, HostSet) -> Void
    public private(set) var entries: [String: Entry] = [:]
    private var refreshers: [DNSRefresher] = []

    /// `publish(cluster, hosts)` runs on the main loop whenever a cluster's hosts change.
    public init(loop: EventLoop, store: StatsStore, publish: @escaping (String, HostSet) -> Void) {
        self.loop = loop
        self.store = store
        self.publish = publish
    }

    /// Adds the clusters and starts their first resolution; `ready` runs on
    /// the main loop once every cluster has its first membership (Envoy's
    /// cluster warming: listeners start after it).
    public func start(_ clusters: [ClusterConfig], ready: @escaping () -> Void) {
        var pending = 0
        var startupDone = false
        func oneReady() {
            pending -= 1
            if pending == 0 && startupDone { ready() }
        }
        for config in clusters {
            let scope = ClusterStat.makeScope(cluster: config.name, in: store)
            defer {
                if config.http.http2 != nil {
                    entries[config.name]?.http2Stats = store.makeScope(
                        prefix: "cluster.\(config.name).http2.", HTTP2CodecStat.self, listedOnceUsed: true)
                }
            }
            switch config.discovery {
            case .staticHosts(let hosts):
                let set = HostSet(hosts: hosts)
                entries[config.name] = Entry(config: config, stats: scope, resources: Self.resources(config), hostSet: set)
                setMembership(scope, hosts.count, changed: true)
            case .originalDestination:
                // Hosts are made per connection, on the workers: nothing to wait for.
                entries[config.name] = Entry(config: config, stats: scope, resources: Self.resources(config), hostSet: HostSet(hosts: []))
                setMembership(scope, 0, changed: false)
            case .strictDNS(let names, let family, let refresh):
                entries[config.name] = Entry(config: config, stats: scope, resources: Self.resources(config), hostSet: HostSet(hosts: []))
                pending += 1
                let refresher = DNSRefresher(loop: loop, cluster: config.name, names: names, family: family,
                                             refreshMilliseconds: refresh)
                refreshers.append(refresher)
                refresher.start(
                    resolve: { [weak self] done in
                        self?.resolve(config.name, names: names, family: family, done: done)
                    },
                    firstDone: oneReady)
            }
        }
        startupDone = true
        if pending == 0 { ready() }
    }

    private static func resources(_ config: ClusterConfig) -> ClusterResources {
        let t = config.circuitBreakers.defaultPriority
        return ClusterResources(limits: .init(
            maxConnections: Int(t.maxConnections), maxPendingRequests: Int(t.maxPendingRequests),
            maxRequests: Int(t.maxRequests), maxRetries: Int(t.maxRetries)))
    }

    private func resolve(_ name: String, names: [DNSEndpoint], family: ClusterConfig.DNSFamily, done: @escaping () -> Void) {
        guard let entry = entries[name] else { return }
        let stats = entry.stats.stats(ClusterStat.self, thread: 0)
        stats.add(.updateAttempt)
        var results = [[SocketAddress]?](repeating: nil, count: names.count)
        var remaining = names.count
        var failed = false
        if remaining == 0 { done(); return }
        for (i, endpoint) in names.enumerated() {
            DNSResolver.resolve(loop: loop, host: endpoint.host, port: endpoint.port, family: Self.queryFamily(family)) { [weak self] result in
                switch result {
                case .success(let addresses): results[i] = Self.pick(addresses, family: family)
                case .failure: failed = true
                }
                remaining -= 1
                guard remaining == 0, let self else { return }
                if failed {
                    stats.add(.updateFailure)
                    // Envoy keeps the last good hosts of an endpoint whose lookup failed.
                    if self.entries[name]?.hostSet.hosts.isEmpty == false { done(); return }
                } else {
                    stats.add(.updateSuccess)
                }
                let hosts = results.compactMap { $0 }.flatMap { $0 }
                self.install(name, hosts: hosts)
                done()
            }
        }
    }

    private func install(_ name: String, hosts: [SocketAddress]) {
        guard var entry = entries[name] else { return }
        let changed = entry.hostSet.hosts != hosts
        guard changed else { return }
        entry.hostSet = HostSet(hosts: hosts)
        entries[name] = entry
        setMembership(entry.stats, hosts.count, changed: true)
        publish(name, entry.hostSet)
    }

    private func setMembership(_ scope: StatScope, _ count: Int, changed: Bool) {
        let stats = scope.stats(ClusterStat.self, thread: 0)
        stats.set(.membershipTotal, Int64(count))
        stats.set(.membershipHealthy, Int64(count))
        if changed { stats.add(.membershipChange) }
    }

    private static func queryFamily(_ family: ClusterConfig.DNSFamily) -> DNSResolver.Family {
        switch family {
        case .v4Only: .v4Only
        case .v6Only: .v6Only
        case .auto, .v4Preferred, .all: .any
        }
    }

    /// Envoy's STRICT_DNS: every address of the answer becomes a host, in
    /// the families `dns_lookup_family` allows (AUTO prefers v6, V4_PREFERRED v4).
    static func pick(_ addresses: [SocketAddress], family: ClusterConfig.DNSFamily) -> [SocketAddress] {
        var unique: [SocketAddress] = []
        for a in addresses where !unique.contains(a) { unique.append(a) }
        let v4 = unique.filter { if case .v4 = $0 { true } else { false } }
        let v6 = unique.filter { if case .v6 = $0 { true } else { false } }
        switch family {
        case .v4Only: return v4
        case .v6Only: return v6
        case .auto: return v6.isEmpty ? v4 : v6
        case .v4Preferred: return v4.isEmpty ? v6 : v4
        case .all: return unique
        }
    }
}

/// Re-resolves one STRICT_DNS cluster every `dns_refresh_rate`, on the main
/// loop: resolve, wait the refresh interval, resolve again.
final class DNSRefresher {
    private let timer: Timer
    private let refreshMilliseconds: UInt64

    init(loop: EventLoop, cluster: String, names: [DNSEndpoint], family: ClusterConfig.DNSFamily, refreshMilliseconds: UInt64) {
        self.timer = Timer(loop: loop)
        self.refreshMilliseconds = refreshMilliseconds
    }

    /// `resolve(done)` performs one resolution and calls `done`; `firstDone`
    /// runs after the first one (cluster warming).
    func start(resolve: @escaping (@escaping () -> Void) -> Void, firstDone: @escaping () -> Void) {
        var first = true
        func cycle() {
            resolve { [weak self] in
                guard let self else { return }
                if first { first = false; firstDone() }
                self.timer.start(afterMilliseconds: self.refreshMilliseconds) { cycle() }
            }
        }
        cycle()
    }
}
