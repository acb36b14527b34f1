import RemoraConfig
import RemoraCore
import RemoraEventLoop
import RemoraHTTP

/// Identifies an EDS resource's bytes as the control plane sent them: their
/// count and a 64-bit hash (as Envoy skips a resource whose hash it has).
public struct AssignmentDigest: Equatable, Sendable {
    public let count: Int
    public let hash: UInt64

    public init(count: Int, hash: UInt64) {
        self.count = count
        self.hash = hash
    }
}

/// The clusters of the running config, on the main thread: creates their
/// stat scopes, resolves STRICT_DNS names (and re-resolves them every
/// `dns_refresh_rate`), takes EDS assignments, adds, replaces and removes
/// clusters that came over CDS, and tells the workers (`publish` for a new
/// membership, `onInstall` and `onRemove` for whole clusters).
///
/// A cluster that needs a first membership (STRICT_DNS, EDS) added at run
/// time is *warming*: the workers do not see it (nor, when it replaces one,
/// the new version) until its hosts are in, as in Envoy. One whose TLS
/// context waits for SDS secrets also warms until they arrived (or their
/// initial fetch timed out): Envoy's cluster init waits for the secrets'
/// init targets after its hosts.
public final class ClusterManager {
    public struct Entry {
        public let config: ClusterConfig
        public let stats: StatScope
        public let resources: ClusterResources
        public fileprivate(set) var hostSet: HostSet
        /// `cluster.<name>.http2.*`, listed from the first HTTP/2 connection;
        /// nil for a cluster that never speaks HTTP/2.
        public var http2Stats: StatScope? = nil
        /// `circuit_breakers.default.remaining_*` and `.high.`, with `track_remaining`.
        var remainingStats: (default: StatScope?, high: StatScope?) = (nil, nil)
        /// Came over CDS (Envoy's `added_via_api`); the bootstrap's cannot be changed or removed.
        public let addedViaAPI: Bool

        /// An EDS cluster fed by `service` from `source`.
        func reads(_ service: String, from source: ConfigSourceConfig) -> Bool {
            if case .eds(service, source) = config.discovery { return true }
            return false
        }
    }

    /// What `addOrUpdate` did.
    public enum AddOutcome: Equatable {
        case added, modified
        /// A bootstrap cluster has the name: Envoy skips the resource.
        case staticCluster
    }

    private let loop: EventLoop
    private let store: StatsStore
    private let publish: (String, HostSet) -> Void
    /// Active clusters: the ones the workers have.
    public private(set) var entries: [String: Entry] = [:]
    /// Clusters (or new versions of active ones) waiting for their first hosts.
    public private(set) var warming: [String: Entry] = [:]
    /// EDS clusters by (source, service), active and warming: built when
    /// first needed after the set of clusters changed, so that each of a
    /// thousand assignments finds its clusters without walking every cluster
    /// (a file per cluster is a thousand updates). Reset whenever a cluster
    /// is added or replaced (`clusterSetChanged`); a version that goes away
    /// (removed, or replaced by its warmed successor) is taken out of it at
    /// once (`unindex`), so that a service no cluster needs any more is not
    /// asked for, nor fed to a cluster that now reads another.
    private var edsIndex: [ConfigSourceConfig: [String: [String]]]?

    private func clusterSetChanged() { edsIndex = nil }

    /// `name`'s version `gone` left (removed, or replaced by the version
    /// that warmed): its service stops listing `name` unless the version
    /// left in its place reads the same one. Calls `onEDSServicesDropped`
    /// when no cluster may read that service any more.
    private func unindex(_ name: String, _ gone: Entry?) {
        guard case .eds(let service, let source)? = gone?.config.discovery else { return }
        for kept in [warming[name], entries[name]] {
            if case .eds(service, source)? = kept?.config.discovery { return }
        }
        guard edsIndex != nil else {
            // Rebuilt from the clusters when next asked; whether the service
            // is still read by another is not known here: say it may be gone.
            onEDSServicesDropped?()
            return
        }
        // Mutated in place (a copy of a thousand-service index per cluster would be quadratic).
        edsIndex?[source]?[service]?.removeAll { $0 == name }
        guard edsIndex?[source]?[service]?.isEmpty == true else { return }
        edsIndex?[source]?[service] = nil
        if edsIndex?[source]?.isEmpty == true { edsIndex?[source] = nil }
        onEDSServicesDropped?()
    }

    private func currentEDSIndex() -> [ConfigSourceConfig: [String: [String]]] {
        if let edsIndex { return edsIndex }
        var index: [ConfigSourceConfig: [String: [String]]] = [:]
        for (name, entry) in entries {
            if case .eds(let service, let source) = entry.config.discovery { index[source, default: [:]][service, default: []].append(name) }
        }
        for (name, entry) in warming {
            // A replacement warming beside its active version may name the same service.
            if case .eds(let service, let source) = entry.config.discovery,
               index[source]?[service]?.contains(name) != true {
                index[source, default: [:]][service, default: []].append(name)
            }
        }
        edsIndex = index
        return index
    }
    private var refreshers: [String: DNSRefresher] = [:]
    /// EDS: each warming EDS cluster's `initial_fetch_timeout`.
    private var warmingTimers: [String: Timer] = [:]
    /// Warming clusters whose TLS context waits for SDS secrets (`secretsArrived`).
    private var waitingForSecrets: Set<String> = []
    /// Of those, the ones whose hosts are in: they go active with their secrets.
    private var hostsReady: Set<String> = []
    /// `cluster.<name>.*` of EDS subscriptions (update_rejected, version, …).
    private var edsScopes: [String: StatScope] = [:]
    /// Last EDS assignment per service name, for clusters that name it later.
    private var assignments: [String: HostSet] = [:]
    /// What the control plane sent for each of those (`applyAssignment`'s
    /// `digest`): an assignment sent again unchanged is taken from
    /// `assignments` without being decoded (`applyUnchangedAssignment`).
    private var assignmentDigests: [String: AssignmentDigest] = [:]
    /// `cluster_manager.*`.
    public let managerStats: StatScope
    /// A cluster was installed on (`Entry`) or removed from (name) the workers.
    public var onInstall: ((Entry) -> Void)?
    public var onRemove: ((String) -> Void)?
    /// A warming cluster became active (or was removed): start-up may be waiting for none to be left.
    public var onWarmed: (() -> Void)?
    /// No cluster reads an EDS service any more (its last reader was removed
    /// or replaced by a version that reads another): its name may leave the
    /// EDS subscription, as Envoy drops the old version's watch.
    public var onEDSServicesDropped: (() -> Void)?

    /// `publish(cluster, hosts)` runs on the main loop whenever a cluster's hosts change.
    public init(loop: EventLoop, store: StatsStore, publish: @escaping (String, HostSet) -> Void) {
        self.loop = loop
        self.store = store
        self.publish = publish
        managerStats = store.makeScope(prefix: "cluster_manager.", ClusterManagerStat.self)
    }

    private var counters: Stats<ClusterManagerStat> { managerStats.stats(ClusterManagerStat.self, thread: 0) }

    /// Adds the bootstrap's clusters and starts their first resolution;
    /// `ready` runs on the main loop once every cluster has its first
    /// membership (Envoy's cluster warming: listeners start after it). An
    /// EDS cluster is active at once with no hosts; its assignment comes
    /// when the server subscribes (`startDynamicClusters` waits for it).
    public func start(_ clusters: [ClusterConfig], ready: @escaping () -> Void) {
        clusterSetChanged()
        var pending = 0
        var startupDone = false
        func oneReady() {
            pending -= 1
            if pending == 0 && startupDone { ready() }
        }
        for config in clusters {
            var entry = makeEntry(config, addedViaAPI: false, reusing: nil)
            if case .staticHosts(let hosts) = config.discovery { entry.hostSet = Self.staticHostSet(config, hosts) }
            entries[config.name] = entry
            counters.add(.clusterAdded)
            switch config.discovery {
            case .staticHosts: setMembership(entry.stats, entry.hostSet, changed: true)
            case .originalDestination: setMembership(entry.stats, entry.hostSet, changed: false)
            case .eds:
                // Its EDS subscription starts (Envoy counts the start as an attempt).
                entry.stats.stats(ClusterStat.self, thread: 0).add(.updateAttempt)
                setMembership(entry.stats, entry.hostSet, changed: false)
            case .strictDNS:
                pending += 1
                startResolving(config, firstDone: oneReady)
            }
        }
        updateGauges()
        startupDone = true
        if pending == 0 { ready() }
    }

    // MARK: - CDS

    /// A STATIC cluster's hosts, with their weights and health when it says them.
    static func staticHostSet(_ config: ClusterConfig, _ hosts: [SocketAddress]) -> HostSet {
        config.staticEndpoints.map { HostSet(endpoints: $0, panicThresholdPercent: config.healthyPanicThresholdPercent) }
            ?? HostSet(hosts: hosts)
    }

    /// Adds a cluster that came over CDS, or replaces the one of that name.
    /// A STATIC or ORIGINAL_DST cluster is installed at once; STRICT_DNS and
    /// EDS ones warm first. The caller decides whether the resource changed
    /// (Envoy compares the message's hash): this always replaces.
    /// `waitingForSecrets`: the cluster's TLS context waits for SDS secrets;
    /// it stays warming until `secretsArrived` too.
    public func addOrUpdate(_ config: ClusterConfig, waitingForSecrets waiting: Bool = false) -> AddOutcome {
        clusterSetChanged()
        loop.assertInLoop()
        let name = config.name
        if let active = entries[name], !active.addedViaAPI { return .staticCluster }
        let previous = warming[name] ?? entries[name]
        stopWarming(name)
        // A STRICT_DNS version's lookups stop whatever the new one is.
        refreshers.removeValue(forKey: name)?.stop()
        var entry = makeEntry(config, addedViaAPI: true, reusing: previous)
        if waiting { waitingForSecrets.insert(name) }
        if previous == nil { counters.add(.clusterAdded) } else { counters.add(.clusterModified) }
        switch config.discovery {
        case .staticHosts(let hosts):
            entry.hostSet = Self.staticHostSet(config, hosts)
            warming[name] = entry
            activate(name)
        case .originalDestination:
            warming[name] = entry
            activate(name)
        case .strictDNS:
            warming[name] = entry
            startResolving(config, firstDone: {})
        case .eds(let service, let source):
            entry.stats.stats(ClusterStat.self, thread: 0).add(.updateAttempt)
            if let known = assignments[service], source.kind != .ads {
                // A file source is read again for the new watch, and Envoy
                // opens a new stream for an `api_config_source` one, whose
                // first answer comes at once: the known assignment stands
                // for it, with no warming wait.
                entry.hostSet = known.withPanicThreshold(config.healthyPanicThresholdPercent)
                warming[name] = entry
                activate(name)
            } else {
                // Over ADS the new watch (a new cluster, or a new version of
                // one, whose old version serves meanwhile) asks for nothing
                // new: Envoy 1.40 warms it until the next response for its
                // service, or `initial_fetch_timeout` (then from its EDS
                // cache, `assignment_use_cached`).

                warming[name] = entry
                startWarmingTimer(name, milliseconds: source.initialFetchTimeoutMilliseconds)
            }
        }
        // Envoy's `warming_state`: 1 while this version waits for its hosts (or secrets).
        entry.stats.stats(ClusterStat.self, thread: 0).set(.warmingState, warming[name] != nil ? 1 : 0)
        updateGauges()
        return previous == nil ? .added : .modified
    }

    /// A CDS cluster that did not compile: Envoy counts it added (or
    /// modified) before it fails to load it.
    public func countFailedLoad(_ name: String) {
        counters.add(warming[name] == nil && entries[name] == nil ? .clusterAdded : .clusterModified)
    }

    /// Removes a cluster that came over CDS; false for a bootstrap cluster
    /// or an unknown name (Envoy ignores both). Requests already routed to
    /// it finish on the workers' old copies.
    @discardableResult
    public func remove(_ name: String) -> Bool {
        loop.assertInLoop()
        let active = entries[name]
        let pending = warming[name]
        guard let entry = pending ?? active, entry.addedViaAPI else { return false }
        stopWarming(name)
        refreshers.removeValue(forKey: name)?.stop()
        entries[name] = nil
        unindex(name, pending)
        unindex(name, active)
        store.remove(entry.stats)
        if let http2 = entry.http2Stats { store.remove(http2) }
        for scope in [entry.remainingStats.default, entry.remainingStats.high] { if let scope { store.remove(scope) } }
        if let eds = edsScopes.removeValue(forKey: name) { store.remove(eds) }
        counters.add(.clusterRemoved)
        updateGauges()
        if active != nil { onRemove?(name) }
        onWarmed?()
        return true
    }

    /// Names of the EDS services every cluster (warming or active) needs, by config source.
    public var edsServices: [ConfigSourceConfig: Set<String>] {
        currentEDSIndex().mapValues { Set($0.keys) }
    }

    /// The services the clusters of one EDS source are fed by.
    public func edsServices(from source: ConfigSourceConfig) -> Set<String> {
        Set(currentEDSIndex()[source]?.keys.map { $0 } ?? [])
    }

    // MARK: - EDS

    /// The clusters (active and warming, as names) fed by `service` from `source`.
    public func clusters(fedBy service: String, from source: ConfigSourceConfig) -> [String] {
        currentEDSIndex()[source]?[service] ?? []
    }

    /// The version of cluster `name` that `service` feeds: the warming one
    /// if it reads it, else the active one if that does (while a version
    /// reading another service warms, the active one still takes its own
    /// service's updates, as the old version's watch does in Envoy).
    private func version(of name: String, reading service: String, from source: ConfigSourceConfig) -> (Entry, isWarming: Bool)? {
        if let entry = warming[name], entry.reads(service, from: source) { return (entry, true) }
        if let entry = entries[name], entry.reads(service, from: source) { return (entry, false) }
        return nil
    }

    /// A new `ClusterLoadAssignment` for `service` on `source`: every
    /// cluster it feeds gets the hosts (a warming one becomes active).
    /// `versionHash` is Envoy's `version` gauge (the xxHash64 of `version_info`).
    /// `versionInfo` is its text (`version_text`), when there is one.
    /// `digest` identifies the resource's bytes as sent (nil: not known).
    public func applyAssignment(service: String, source: ConfigSourceConfig, endpoints: [EndpointConfig],
                                versionHash: Int64, versionInfo: String? = nil, timeMilliseconds: Int64,
                                digest: AssignmentDigest? = nil) {
        loop.assertInLoop()
        let hosts = HostSet(endpoints: endpoints)
        assignments[service] = hosts
        assignmentDigests[service] = digest
        deliver(hosts, service: service, source: source, versionHash: versionHash, versionInfo: versionInfo,
                timeMilliseconds: timeMilliseconds)
    }

    /// The assignment for `service` was sent again with the same `digest`
    /// as the one applied last: its clusters take it as `applyAssignment`
    /// would (counted, `update_no_rebuild` where nothing changed, a warming
    /// cluster goes active), from the host set already made. False (and
    /// nothing done) when the digest differs or no assignment is kept: the
    /// caller compiles the resource then. A state-of-the-world EDS response
    /// repeats every assignment the proxy asks for whenever the names
    /// change (a cluster moved to another service): decoding the thousand
    /// unchanged ones was most of a cluster push's CPU.
    public func applyUnchangedAssignment(service: String, source: ConfigSourceConfig, digest: AssignmentDigest,
                                         versionHash: Int64, versionInfo: String? = nil, timeMilliseconds: Int64) -> Bool {
        loop.assertInLoop()
        guard assignmentDigests[service] == digest, let hosts = assignments[service] else { return false }
        deliver(hosts, service: service, source: source, versionHash: versionHash, versionInfo: versionInfo,
                timeMilliseconds: timeMilliseconds)
        return true
    }

    private func deliver(_ hosts: HostSet, service: String, source: ConfigSourceConfig, versionHash: Int64,
                         versionInfo: String?, timeMilliseconds: Int64) {
        for name in clusters(fedBy: service, from: source) {
            guard let (entry, isWarming) = version(of: name, reading: service, from: source) else { continue }
            let started = loop.nowMilliseconds
            let hosts = hosts.withPanicThreshold(entry.config.healthyPanicThresholdPercent)
            let stats = entry.stats.stats(ClusterStat.self, thread: 0)
            let eds = edsStats(name)
            if !isWarming, entry.hostSet.sameMembership(as: hosts) {
                stats.add(.updateNoRebuild)
            } else {
                install(name, hosts: hosts, toActive: !isWarming)
            }
            // As Envoy's subscription counts a success once its handler returned.
            stats.add(.updateAttempt)
            stats.add(.updateSuccess)
            stats.set(.version, versionHash)
            if let versionInfo { eds.setText("version_text", versionInfo) }
            eds.set(.updateTime, timeMilliseconds)
            eds.record(.updateDuration, milliseconds: loop.nowMilliseconds - started)
        }
    }

    /// A state-of-the-world EDS update without `service` (Envoy's
    /// `update_empty`): its clusters keep their hosts, and a warming one
    /// goes active with none, as Envoy's EDS cluster ends its initialization.
    public func assignmentMissing(service: String, source: ConfigSourceConfig) {
        loop.assertInLoop()
        for name in clusters(fedBy: service, from: source) {
            guard let (entry, isWarming) = version(of: name, reading: service, from: source) else { continue }
            let stats = entry.stats.stats(ClusterStat.self, thread: 0)
            stats.add(.updateAttempt)
            stats.add(.updateSuccess)
            stats.add(.updateEmpty)
            edsStats(name).record(.updateDuration, milliseconds: 0)
            if isWarming { activate(name) }
        }
    }

    /// Drops remembered assignments no cluster asks for any more (a cluster
    /// naming one later waits for a fresh one, as a new Envoy watch does).
    public func forgetAssignments(except wanted: Set<String>) {
        assignments = assignments.filter { wanted.contains($0.key) }
        assignmentDigests = assignmentDigests.filter { wanted.contains($0.key) }
    }

    /// An assignment for `service` was refused: its clusters count it and keep their hosts.
    public func assignmentRejected(service: String, source: ConfigSourceConfig) {
        for name in clusters(fedBy: service, from: source) {
            guard let (entry, _) = version(of: name, reading: service, from: source) else { continue }
            entry.stats.stats(ClusterStat.self, thread: 0).add(.updateAttempt)
            edsStats(name).add(.updateRejected)
        }
    }

    /// The EDS source gave up its first fetch: its warming clusters go
    /// active with no hosts. With `replacements: false` (a refused update,
    /// which Envoy's mux reports to every EDS watch and which completes
    /// each EDS cluster's initialization), only clusters with no version
    /// serving yet go active; a warming replacement warms on while its
    /// active version serves (Envoy would put the empty one in its place).
    public func initialFetchFailed(source: ConfigSourceConfig, service: String? = nil, replacements: Bool = true) {
        for (name, entry) in warming {
            guard case .eds(let fed, source) = entry.config.discovery, service == nil || service == fed,
                  replacements || entries[name] == nil else { continue }
            activate(name)
        }
    }

    private func startWarmingTimer(_ name: String, milliseconds: UInt64) {
        guard milliseconds > 0 else { return }
        let timer = Timer(loop: loop)
        warmingTimers[name] = timer
        timer.start(afterMilliseconds: milliseconds) { [unowned self] in
            self.warmingTimers.removeValue(forKey: name)?.close()
            guard var entry = self.warming[name] else { return }
            self.edsStats(name).add(.initFetchTimeout)
            if case .eds(let service, let source) = entry.config.discovery, source.kind == .ads,
               let cached = self.assignments[service] {
                entry.hostSet = cached.withPanicThreshold(entry.config.healthyPanicThresholdPercent)
                self.warming[name] = entry
                entry.stats.stats(ClusterStat.self, thread: 0).add(.assignmentUseCached)
            }
            self.activate(name)
        }
    }

    private func stopWarming(_ name: String) {
        warmingTimers.removeValue(forKey: name)?.close()
        waitingForSecrets.remove(name)
        hostsReady.remove(name)
        _ = takeWarming(name)
    }

    /// The SDS secrets the warming cluster `name` waited for arrived (or
    /// their initial fetch timed out): it goes active once its hosts are in.
    public func secretsArrived(_ name: String) {
        loop.assertInLoop()
        guard waitingForSecrets.remove(name) != nil else { return }
        if hostsReady.remove(name) != nil { activate(name) }
    }

    /// Removes a warming entry. Once none is left, the tables sized for a
    /// whole push (a thousand entries, about 0.9 MiB) are let go: a
    /// dictionary keeps its capacity when emptied.
    private func takeWarming(_ name: String) -> Entry? {
        let entry = warming.removeValue(forKey: name)
        if warming.isEmpty && warming.capacity > 0 { warming = [:] }
        return entry
    }

    private func edsStats(_ name: String) -> Stats<EDSClusterStat> {
        if let scope = edsScopes[name] { return scope.stats(EDSClusterStat.self, thread: 0) }
        let scope = store.makeScope(prefix: "cluster.\(name).", layout: EDSClusterStat.layout)
        scope.setText("version_text", "")
        edsScopes[name] = scope
        return scope.stats(EDSClusterStat.self, thread: 0)
    }

    // MARK: - Entries

    /// A new entry; a replaced cluster's stat scopes carry over (Envoy's
    /// stats live by name, so a modified cluster keeps its counts).
    private func makeEntry(_ config: ClusterConfig, addedViaAPI: Bool, reusing previous: Entry?) -> Entry {
        let scope = previous?.stats ?? ClusterStat.makeScope(cluster: config.name, in: store)
        var http2 = previous?.http2Stats
        if config.http.http2 != nil, http2 == nil {
            http2 = store.makeScope(prefix: "cluster.\(config.name).http2.", HTTP2CodecStat.self, listedOnceUsed: true)
        }
        if case .eds = config.discovery { _ = edsStats(config.name) }
        else if let eds = edsScopes.removeValue(forKey: config.name) { store.remove(eds) }
        var entry = Entry(config: config, stats: scope, resources: Self.resources(config), hostSet: HostSet(hosts: []),
                          http2Stats: http2, addedViaAPI: addedViaAPI)
        let breakers = config.circuitBreakers
        entry.remainingStats = (
            remainingScope(config.name, "default", wanted: breakers.defaultPriority.trackRemaining, previous?.remainingStats.default),
            remainingScope(config.name, "high", wanted: breakers.highPriority.trackRemaining, previous?.remainingStats.high))
        // What no request can change is set once: HIGH priority is never
        // asked for, and `max_connection_pools` is refused.
        let stats = scope.stats(ClusterStat.self, thread: 0)
        for gauge in [ClusterStat.cbDefaultCxPoolOpen, .cbHighCxOpen, .cbHighCxPoolOpen, .cbHighRqOpen,
                      .cbHighRqPendingOpen, .cbHighRqRetryOpen] {
            stats.set(gauge, 0)
        }
        Self.refreshCircuitBreakerGauges(entry)
        return entry
    }

    private func remainingScope(_ cluster: String, _ priority: String, wanted: Bool, _ previous: StatScope?) -> StatScope? {
        guard wanted else {
            if let previous { store.remove(previous) }
            return nil
        }
        return previous ?? CircuitBreakerRemainingStat.makeScope(cluster: cluster, priority: priority, in: store)
    }

    /// Envoy's circuit-breaker gauges, from the counts the workers share:
    /// `*_open` is 1 while a resource is in use up to its limit (Envoy sets
    /// it as a unit is taken or given back, so a limit of 0 never opens
    /// it), and `remaining_*` is what is left. HIGH priority is never asked
    /// for (routes cannot), so its counts are 0. Refreshed with the
    /// server's gauges, every second and before an admin read.
    public func refreshCircuitBreakerGauges() {
        loop.assertInLoop()
        for entry in entries.values { Self.refreshCircuitBreakerGauges(entry) }
        for entry in warming.values { Self.refreshCircuitBreakerGauges(entry) }
    }

    private static func refreshCircuitBreakerGauges(_ entry: Entry) {
        let stats = entry.stats.stats(ClusterStat.self, thread: 0)
        let resources = entry.resources
        let breakers = entry.config.circuitBreakers
        func open(_ r: ClusterResources.Resource, _ limit: UInt32) -> Int64 {
            let count = resources.count(r)
            return count > 0 && count >= Int(limit) ? 1 : 0
        }
        let d = breakers.defaultPriority
        stats.set(.cbDefaultCxOpen, open(.connections, d.maxConnections))
        stats.set(.cbDefaultRqPendingOpen, open(.pendingRequests, d.maxPendingRequests))
        stats.set(.cbDefaultRqOpen, open(.requests, d.maxRequests))
        stats.set(.cbDefaultRqRetryOpen, open(.retries, d.maxRetries))
        func remaining(_ scope: StatScope?, _ t: CircuitBreakerThresholds, counted: Bool) {
            guard let scope else { return }
            let row = scope.stats(CircuitBreakerRemainingStat.self, thread: 0)
            func left(_ r: ClusterResources.Resource, _ limit: UInt32) -> Int64 {
                max(0, Int64(limit) - Int64(counted ? resources.count(r) : 0))
            }
            row.set(.remainingCx, left(.connections, t.maxConnections))
            row.set(.remainingPending, left(.pendingRequests, t.maxPendingRequests))
            row.set(.remainingRq, left(.requests, t.maxRequests))
            row.set(.remainingRetries, left(.retries, t.maxRetries))
        }
        remaining(entry.remainingStats.default, d, counted: true)
        remaining(entry.remainingStats.high, breakers.highPriority, counted: false)
    }

    /// A warming cluster goes live on the workers (once its secrets are in).
    private func activate(_ name: String) {
        if waitingForSecrets.contains(name) {
            if warming[name] != nil { hostsReady.insert(name) }
            warmingTimers.removeValue(forKey: name)?.close()
            return
        }
        guard let entry = takeWarming(name) else { return }
        warmingTimers.removeValue(forKey: name)?.close()
        entry.stats.stats(ClusterStat.self, thread: 0).set(.warmingState, 0)
        let replaced = entries.updateValue(entry, forKey: name)
        unindex(name, replaced)
        setMembership(entry.stats, entry.hostSet, changed: !entry.hostSet.hosts.isEmpty)
        updateGauges()
        onInstall?(entry)
        onWarmed?()
    }

    /// Whether any cluster is still waiting for its first hosts.
    public var isWarm: Bool { warming.isEmpty }

    private func updateGauges() {
        counters.set(.activeClusters, Int64(entries.count))
        counters.set(.warmingClusters, Int64(warming.count))
    }

    private func startResolving(_ config: ClusterConfig, firstDone: @escaping () -> Void) {
        guard case .strictDNS(let names, let family, let refresh) = config.discovery else { return }
        let name = config.name
        refreshers.removeValue(forKey: name)?.stop()
        let refresher = DNSRefresher(loop: loop, refreshMilliseconds: refresh)
        refreshers[name] = refresher
        refresher.start(
            resolve: { [weak self, unowned refresher] done in
                self?.resolve(name, names: names, family: family, by: refresher, done: done)
            },
            firstDone: firstDone)
    }

    private static func resources(_ config: ClusterConfig) -> ClusterResources {
        let t = config.circuitBreakers.defaultPriority
        return ClusterResources(limits: .init(
            maxConnections: Int(t.maxConnections), maxPendingRequests: Int(t.maxPendingRequests),
            maxRequests: Int(t.maxRequests), maxRetries: Int(t.maxRetries)))
    }

    private func resolve(_ name: String, names: [DNSEndpoint], family: ClusterConfig.DNSFamily, by refresher: DNSRefresher,
                         done: @escaping () -> Void) {
        guard let entry = warming[name] ?? entries[name] else { return }
        let stats = entry.stats.stats(ClusterStat.self, thread: 0)
        stats.add(.updateAttempt)
        var results = [[EndpointConfig]?](repeating: nil, count: names.count)
        var remaining = names.count
        var failed = false
        if remaining == 0 { done(); return }
        for (i, endpoint) in names.enumerated() {
            DNSResolver.resolve(loop: loop, host: endpoint.host, port: endpoint.port, family: Self.queryFamily(family)) { [weak self] result in
                switch result {
                case .success(let addresses):
                    // Each host keeps the name it was resolved from (`auto_host_sni`, /clusters' hostname).
                    results[i] = Self.pick(addresses, family: family).map { EndpointConfig(address: $0, hostname: endpoint.hostname) }
                case .failure: failed = true
                }
                remaining -= 1
                // A cluster replaced or removed meanwhile ignores its old lookups.
                guard remaining == 0, let self, self.refreshers[name] === refresher else { return }
                if failed {
                    stats.add(.updateFailure)
                    // Envoy keeps the last good hosts of an endpoint whose lookup failed.
                    if self.entries[name]?.hostSet.hosts.isEmpty == false, self.warming[name] == nil { done(); return }
                } else {
                    stats.add(.updateSuccess)
                }
                let hosts = results.compactMap { $0 }.flatMap { $0 }
                self.install(name, hosts: HostSet(endpoints: hosts))
                done()
            }
        }
    }

    /// A new membership: a warming cluster becomes active with it, an active
    /// one (or, with `toActive`, the active version beside a warming one)
    /// posts it to the workers (if it changed).
    private func install(_ name: String, hosts: HostSet, toActive: Bool = false) {
        if !toActive, var entry = warming[name] {
            entry.hostSet = hosts
            warming[name] = entry
            activate(name)
            return
        }
        guard var entry = entries[name], !entry.hostSet.sameMembership(as: hosts) else { return }
        entry.hostSet = hosts
        entries[name] = entry
        setMembership(entry.stats, hosts, changed: true)
        counters.add(.clusterUpdated)
        publish(name, hosts)
    }

    private func setMembership(_ scope: StatScope, _ hosts: HostSet, changed: Bool) {
        let stats = scope.stats(ClusterStat.self, thread: 0)
        stats.set(.membershipTotal, Int64(hosts.hosts.count))
        stats.set(.membershipHealthy, Int64(hosts.healthyCount))
        stats.set(.membershipDegraded, Int64(hosts.degradedCount))
        stats.set(.membershipExcluded, Int64(hosts.excludedCount))
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
/// loop: resolve, wait the refresh interval, resolve again, until `stop()`.
final class DNSRefresher {
    private let timer: Timer
    private let refreshMilliseconds: UInt64
    private var stopped = false

    init(loop: EventLoop, refreshMilliseconds: UInt64) {
        self.timer = Timer(loop: loop)
        self.refreshMilliseconds = refreshMilliseconds
    }

    /// `resolve(done)` performs one resolution and calls `done`; `firstDone`
    /// runs after the first one (cluster warming).
    func start(resolve: @escaping (@escaping () -> Void) -> Void, firstDone: @escaping () -> Void) {
        var first = true
        func cycle() {
            resolve { [weak self] in
                guard let self, !self.stopped else { return }
                if first { first = false; firstDone() }
                self.timer.start(afterMilliseconds: self.refreshMilliseconds) { cycle() }
            }
        }
        cycle()
    }

    /// The cluster was replaced or removed.
    func stop() {
        stopped = true
        timer.close()
    }
}
