#if canImport(Glibc)
import Glibc
#endif
import RemoraAPI
import RemoraConfig
import RemoraCore
import RemoraEventLoop
import RemoraTLS
import RemoraUpstream
import RemoraXDS
import SwiftProtobuf

/// CDS and EDS on the main loop (Envoy's `CdsApiHelper` and EDS clusters):
/// compiles each `Cluster` of a CDS update and hands it to the cluster
/// manager (added, replaced when its bytes changed, removed), keeps one EDS
/// subscription per config source with the union of the service names the
/// EDS clusters need, and turns each `ClusterLoadAssignment` into a host set.
///
/// It does not care where updates come from: files, or later gRPC.
final class ClusterDiscovery: XDSUpdateHandler {
    /// A CDS cluster as `/config_dump` shows it.
    struct Record {
        var versionInfo: String
        /// The `Cluster`, deterministically serialized (also what "modified" compares).
        var bytes: [UInt8]
        var lastUpdatedSeconds: Double
        /// The resource's bytes as the server sent them, when they differ
        /// from `bytes` (rarely: most servers write fields in number order).
        var sentBytes: [UInt8]? = nil

        /// Whether the server sent exactly this cluster's bytes again: a
        /// state-of-the-world CDS update repeats every cluster, and this
        /// spares decoding and re-serializing the unchanged ones.
        func isSentAgain<Bytes: Collection<UInt8>>(_ value: Bytes) -> Bool {
            let known = sentBytes ?? bytes
            return value.count == known.count && value.elementsEqual(known)
        }
    }

    private let config: ServerConfig
    private let manager: ClusterManager
    private let secrets: SecretManager
    /// The secret-manager owner of each CDS cluster's SDS-reading contexts.
    private var secretOwners: [String: String] = [:]
    private var secretGeneration = 0
    private let factory: XDSSubscriptionFactory
    private let store: StatsStore
    private var cds: (any XDSSubscription)?
    /// `cluster_manager.cds.config_reload*`, with a CDS subscription.
    private var cdsReloads: Stats<CDSStat>?
    /// EDS subscriptions: one per file or ADS source, asking for the union
    /// of its clusters' services; over an `api_config_source` one per
    /// service, each with its own stream, as Envoy makes one per cluster
    /// (`service` set).
    private var eds: [EDSSubscriptionKey: (subscription: any XDSSubscription, handler: EDSHandler)] = [:]

    private struct EDSSubscriptionKey: Hashable {
        let source: ConfigSourceConfig
        let service: String?
    }
    /// CDS clusters the workers have, by name.
    private(set) var active: [String: Record] = [:]
    /// CDS clusters (or new versions of active ones) waiting for their first hosts.
    private(set) var warming: [String: Record] = [:]
    /// `cluster.<name>.ssl.*` of CDS clusters with TLS.
    private(set) var sslScopes: [String: StatScope] = [:]
    /// Whether the first CDS update (or its failure) is in.
    private var cdsInitialized: Bool
    private var ready: (() -> Void)?
    /// A subscription could not be made; start-up fails with this.
    private let fail: (String) -> Void

    private let tablesRelease: ConfigTablesRelease

    init(config: ServerConfig, manager: ClusterManager, secrets: SecretManager, factory: XDSSubscriptionFactory,
         store: StatsStore, tablesRelease: ConfigTablesRelease, fail: @escaping (String) -> Void) {
        self.config = config
        self.manager = manager
        self.secrets = secrets
        self.factory = factory
        self.store = store
        self.tablesRelease = tablesRelease
        self.fail = fail
        cdsInitialized = config.dynamicResources?.cds == nil
    }

    /// Subscribes to CDS (if configured) and to the EDS of the bootstrap's
    /// EDS clusters; `ready` runs once the first CDS update is in and no
    /// cluster is warming (Envoy's cluster-manager initialization).
    func start(then ready: @escaping () -> Void) {
        self.ready = ready
        manager.onWarmed = { [unowned self] in
            self.checkReady()
            self.holdCDSWhileWarming()
        }
        manager.onEDSServicesDropped = { [unowned self] in
            // Within an update, once at its end (a thousand replaced clusters
            // would otherwise each walk every cluster); else (a warming timer)
            // at once.
            if self.handlingUpdate { self.edsNamesStale = true } else { self.updateEDSSubscriptions() }
        }
        if let source = config.dynamicResources?.cds {
            do {
                cds = try subscribe(.cluster, source: source, names: [], statPrefix: "cluster_manager.cds.", handler: self)
                cdsReloads = store.makeScope(prefix: "cluster_manager.cds.", CDSStat.self).stats(CDSStat.self, thread: 0)
            } catch {
                fail("dynamic_resources.cds_config: \(error)")
                return
            }
        }
        if let error = updateEDSSubscriptions() {
            fail("\(error)")
            return
        }
        for config in config.clusters {
            guard case .eds(let service, let source) = config.discovery,
                  eds[EDSSubscriptionKey(source: source, service: nil)] != nil
                    || eds[EDSSubscriptionKey(source: source, service: service)] != nil else { continue }
            staticEDSWaiting.insert(config.name)
            startStaticTimer(config.name, source.initialFetchTimeoutMilliseconds)
        }
        checkReady()
    }

    private func checkReady() {
        guard cdsInitialized, manager.isWarm, !pendingStaticEDS, let ready else { return }
        self.ready = nil
        ready()
    }

    /// Envoy's `ClusterManagerImpl::updateClusterCounts`: once start-up's
    /// clusters are initialized, the ADS stream holds back CDS requests,
    /// the ACK of the update that began the warming included, while any
    /// cluster warms, so that the control plane hears the ACK once the
    /// clusters it sent are ready (and sends routes to them only then).
    private var cdsHeldForWarming = false

    private func holdCDSWhileWarming() {
        guard ready == nil else { return }
        let hold = !manager.isWarm
        guard hold != cdsHeldForWarming else { return }
        cdsHeldForWarming = hold
        factory.grpc?.setADSRequestsPaused(.cluster, hold)
    }

    /// A CDS or EDS update is being applied (`onEDSServicesDropped` waits for its end).
    private var handlingUpdate = false
    /// A service lost its last cluster during the update: the EDS names are asked again at its end.
    private var edsNamesStale = false

    /// A bootstrap EDS cluster still waiting for its first assignment (it is
    /// active, with no hosts, from the start).
    private var staticEDSWaiting: Set<String> = []
    private var pendingStaticEDS: Bool { !staticEDSWaiting.isEmpty }

    // MARK: - CDS

    func apply(_ update: XDSUpdate) throws(XDSRejection) {
        let log = LogControl.shared
        log.log(.info, logger: "upstream", "cds: response indicates \(update.updated.count) added/updated cluster(s), "
            + "\(update.removed.count) removed cluster(s); applying changes")
        AnyRegistry.registerAll()
        handlingUpdate = true
        defer { handlingUpdate = false }
        var failures: [String] = []
        var applied = 0
        var skipped = 0
        let now = Self.nowSeconds()
        var seen: Set<String> = []
        for resource in update.updated {
            let name = resource.name
            guard seen.insert(name).inserted else {
                // Envoy's CdsApiHelper: the first of the duplicates stays applied.
                failures.append("\(name): duplicate cluster \(name) found")
                continue
            }
            if manager.entries[name]?.addedViaAPI != false, (warming[name] ?? active[name])?.isSentAgain(resource.resource.value) == true {
                log.log(.debug, logger: "upstream", "cds: add/update cluster '\(name)' skipped")
                skipped += 1
                continue
            }
            let cluster: Envoy_Config_Cluster_V3_Cluster
            let compiled: ClusterConfig
            let bytes: [UInt8]
            do {
                cluster = try Envoy_Config_Cluster_V3_Cluster(unpackingAny: resource.resource)
                var options = BinaryEncodingOptions()
                options.useDeterministicOrdering = true
                bytes = try cluster.serializedBytes(options: options)
            } catch {
                failures.append("\(name): cannot decode the cluster: \(error)")
                continue
            }
            if manager.entries[name]?.addedViaAPI == false || (warming[name] ?? active[name])?.bytes == bytes {
                // A bootstrap cluster cannot change; an identical one is not "modified" (Envoy's hash).
                log.log(.debug, logger: "upstream", "cds: add/update cluster '\(name)' skipped")
                skipped += 1
                continue
            }
            let dependencies: [SDSContextDependency]
            let waitingForSecrets: Bool
            do {
                (compiled, dependencies) = try config.compileDynamicCluster(cluster, currentSecrets: secrets.current)
                waitingForSecrets = try registerSecrets(dependencies, of: name)
            } catch {
                // Envoy counts the cluster added (or modified) before it fails to load it.
                manager.countFailedLoad(name)
                log.log(.warning, logger: "upstream", "cds: cluster '\(name)' config rejected: \(error)")
                failures.append("\(name): \(error)")
                continue
            }
            if let tls = compiled.tls {
                let scope = sslScopes[name] ?? SSLStat.makeScope(under: "cluster.\(name).", role: .client, in: store)
                sslScopes[name] = scope
                tls.countUpdates(in: scope, store: store)
            }
            var record = Record(versionInfo: resource.version, bytes: bytes, lastUpdatedSeconds: now)
            if !resource.resource.value.elementsEqual(bytes) { record.sentBytes = [UInt8](resource.resource.value) }
            warming[name] = record
            // Installed at once (onInstall moved it to `active`), or warming.
            _ = manager.addOrUpdate(compiled, waitingForSecrets: waitingForSecrets)
            log.log(.debug, logger: "upstream", "cds: add/update cluster '\(name)'")
            applied += 1
        }
        var removed = 0
        for name in update.removed where manager.remove(name) {
            if let owner = secretOwners.removeValue(forKey: name) { secrets.release(owner: owner) }
            active[name] = nil
            warming[name] = nil
            if let ssl = sslScopes.removeValue(forKey: name) { store.remove(ssl) }
            log.log(.debug, logger: "upstream", "cds: remove cluster '\(name)'")
            removed += 1
        }
        log.log(.info, logger: "upstream", "cds: added/updated \(applied) cluster(s) (skipped \(skipped) unmodified cluster(s)); "
            + "removed \(removed) cluster(s)")
        if applied + removed > 0 { versionInfo = update.versionInfo }
        // Compiling touched the API schema's tables, and decoding a large
        // update leaves free heap pages behind: both go once updates pause.
        tablesRelease.updateApplied(large: update.updated.count >= 100)
        edsNamesStale = false
        updateEDSSubscriptions()
        cdsInitialized = true
        checkReady()
        holdCDSWhileWarming()
        if !failures.isEmpty {
            throw XDSRejection("Error adding/updating cluster(s) \(failures.joined(separator: ", "))")
        }
        if applied > 0 {
            cdsReloads?.add(.configReload)
            cdsReloads?.set(.configReloadTimeMs, Int64(Self.nowSeconds() * 1000))
        }
    }

    /// The SDS secrets a CDS cluster's TLS context reads: subscribed to and
    /// rotated from now on; the previous version's are let go. Returns
    /// whether some have not arrived yet: the cluster then warms until they
    /// do or their `initial_fetch_timeout` passes, as in Envoy (until then
    /// the previous version, if any, serves).
    private func registerSecrets(_ dependencies: [SDSContextDependency], of name: String) throws(ConfigError) -> Bool {
        let previous = secretOwners.removeValue(forKey: name)
        var waiting = false
        if !dependencies.isEmpty {
            secretGeneration += 1
            let owner = "cluster \(secretGeneration)"
            var registering = true
            waiting = true
            do throws(ConfigError) {
                try secrets.register(dependencies, owner: owner) { [weak self] in
                    if registering {
                        waiting = false
                    } else if let self, self.secretOwners[name] == owner {
                        self.manager.secretsArrived(name)
                    }
                }
                registering = false
            } catch {
                // The previous version keeps its secrets (it stays active).
                secretOwners[name] = previous
                throw error
            }
            secretOwners[name] = owner
        }
        if let previous { secrets.release(owner: previous) }
        return waiting
    }

    /// A CDS cluster went live on the workers: its warming record is the active one now.
    func activated(_ name: String) {
        if let record = warming.removeValue(forKey: name) { active[name] = record }
        // An emptied dictionary keeps the capacity a full push gave it.
        if warming.isEmpty && warming.capacity > 0 { warming = [:] }
    }

    /// The CDS `version_info` last applied (config_dump's `version_info`).
    private(set) var versionInfo = ""

    func initialFetchFailed(_ type: XDSResourceType) {
        cdsInitialized = true
        checkReady()
    }

    // MARK: - EDS

    /// One subscription per EDS config source, asking for every service name
    /// its clusters need (per service over an `api_config_source`); one no
    /// cluster uses any more is cancelled.
    /// Envoy refuses any subscription without a node to present: "<type>:
    /// node 'id' and 'cluster' are required. …" (checked for files too).
    private func subscribe(_ type: XDSResourceType, source: ConfigSourceConfig, names: Set<String>, statPrefix: String,
                           controlPlaneStatPrefix: String? = nil,
                           handler: any XDSUpdateHandler) throws(ConfigError) -> any XDSSubscription {
        guard !config.node.id.isEmpty, !config.node.cluster.isEmpty else {
            throw .invalid("\(type.typeURL): node 'id' and 'cluster' are required. Set it either in 'node' config or via "
                + "--service-node and --service-cluster options.", at: "")
        }
        return try factory.subscribe(type, source: source, names: names, statPrefix: statPrefix,
                                     controlPlaneStatPrefix: controlPlaneStatPrefix, handler: handler)
    }

    /// Returns the first subscription that could not be made (its clusters
    /// stop waiting for it).
    @discardableResult
    private func updateEDSSubscriptions() -> ConfigError? {
        var failure: ConfigError? = nil
        var wanted = manager.edsServices
        for config in config.clusters {
            guard case .eds(let service, let source) = config.discovery else { continue }
            wanted[source, default: []].insert(service)
        }
        var keys: [EDSSubscriptionKey: Set<String>] = [:]
        for (source, names) in wanted {
            if case .grpc = source.kind {
                for name in names { keys[EDSSubscriptionKey(source: source, service: name)] = [name] }
            } else {
                keys[EDSSubscriptionKey(source: source, service: nil)] = names
            }
        }
        for (key, names) in keys {
            if let existing = eds[key] {
                existing.subscription.setResourceNames(names)
                continue
            }
            let handler = EDSHandler(source: key.source, service: key.service, owner: self)
            do {
                // The EDS stats are each cluster's (`cluster.<name>.`), counted
                // by the cluster manager; the subscription keeps none. A
                // stream of its own reports under the cluster it feeds
                // (Envoy's `cluster.<name>.control_plane.*`).
                let controlPlane = key.service.map { "cluster.\(edsClusterName(fedBy: $0, from: key.source)).control_plane." }
                let subscription = try subscribe(.clusterLoadAssignment, source: key.source, names: names, statPrefix: "",
                                                 controlPlaneStatPrefix: controlPlane, handler: handler)
                eds[key] = (subscription, handler)
            } catch {
                failure = failure ?? error
                LogControl.shared.log(.warning, logger: "upstream", "eds: \(error)")
                manager.initialFetchFailed(source: key.source, service: key.service)
                staticEDSWaiting.subtract(staticEDSClusters(of: key.source, service: key.service))
            }
        }
        manager.forgetAssignments(except: wanted.values.reduce(into: Set<String>()) { $0.formUnion($1) })
        for (key, entry) in eds where keys[key] == nil {
            entry.subscription.cancel()
            eds[key] = nil
        }
        return failure
    }

    /// The cluster whose name an EDS stream of its own reports under: the
    /// first (by name) of those `service` feeds.
    private func edsClusterName(fedBy service: String, from source: ConfigSourceConfig) -> String {
        let names = manager.clusters(fedBy: service, from: source) + staticEDSClusters(of: source, service: service)
        return names.min() ?? service
    }

    private var staticTimers: [String: Timer] = [:]

    private func staticEDSClusters(of source: ConfigSourceConfig, service: String? = nil) -> [String] {
        config.clusters.filter {
            if case .eds(let fed, source) = $0.discovery { return service == nil || service == fed }
            return false
        }.map(\.name)
    }

    /// A bootstrap EDS cluster waits for its first assignment at most its `initial_fetch_timeout`.
    private func startStaticTimer(_ name: String, _ milliseconds: UInt64) {
        guard milliseconds > 0 else { return }
        let timer = Timer(loop: factory.loop)
        staticTimers[name] = timer
        timer.start(afterMilliseconds: milliseconds) { [unowned self] in
            self.staticTimers.removeValue(forKey: name)?.close()
            if self.staticEDSWaiting.remove(name) != nil { self.checkReady() }
        }
    }

    fileprivate func applyEDS(_ update: XDSUpdate, source: ConfigSourceConfig) throws(XDSRejection) {
        AnyRegistry.registerAll()
        handlingUpdate = true
        defer { handlingUpdate = false }
        var failures: [String] = []
        let version = Int64(bitPattern: XXHash64.hash(update.versionInfo))
        let now = Int64(Self.nowSeconds() * 1000)
        for resource in update.updated {
            let sent = [UInt8](resource.resource.value)
            let digest = AssignmentDigest(count: sent.count, hash: XXHash64.hash(sent))
            do {
                if !manager.applyUnchangedAssignment(service: resource.name, source: source, digest: digest, versionHash: version,
                                                     versionInfo: update.versionInfo, timeMilliseconds: now) {
                    let endpoints = try LoadAssignmentCompiler.compile(resource.resource)
                    manager.applyAssignment(service: resource.name, source: source, endpoints: endpoints, versionHash: version,
                                            versionInfo: update.versionInfo, timeMilliseconds: now, digest: digest)
                }
                for name in staticEDSClusters(of: source) where staticEDSWaiting.contains(name) {
                    if case .eds(resource.name, _) = config.cluster(named: name)?.discovery {
                        staticEDSWaiting.remove(name)
                        staticTimers.removeValue(forKey: name)?.close()
                    }
                }
            } catch {
                manager.assignmentRejected(service: resource.name, source: source)
                failures.append("ClusterLoadAssignment '\(resource.name)': \(error)")
            }
        }
        // A file read is the whole type: Envoy's per-cluster file subscription
        // hands a cluster missing from it an empty update (`update_empty`),
        // which ends its warming. Over gRPC a missing name just has not come
        // yet: the cluster warms on until it does or `initial_fetch_timeout`.
        // A Delta removal is such an empty update too: Envoy's EDS cluster
        // ignores `removed_resources` and counts the update as empty, so the
        // cluster keeps its hosts (checked against Envoy 1.40 in
        // test_xds_delta_removals.py).
        var isMissing: ((String) -> Bool)?
        if !update.isStateOfTheWorld {
            let removed = Set(update.removed)
            isMissing = { removed.contains($0) }
        } else if case .path = source.kind {
            let present = Set(update.updated.map(\.name))
            isMissing = { !present.contains($0) }
        }
        if let isMissing {
            for service in manager.edsServices(from: source).filter(isMissing).sorted() {
                manager.assignmentMissing(service: service, source: source)
            }
            for name in staticEDSWaiting {
                if case .eds(let service, source)? = config.cluster(named: name)?.discovery, isMissing(service) {
                    staticEDSWaiting.remove(name)
                    staticTimers.removeValue(forKey: name)?.close()
                }
            }
        }
        tablesRelease.updateApplied(large: update.updated.count >= 100)
        if edsNamesStale {
            // A cluster that warmed on this update replaced a version reading
            // another service: that name leaves the subscription (on this
            // update's ACK, EDS being paused while it is handled), as Envoy
            // drops the old version's watch. Without it, a cluster moved back
            // to that service later would ask for nothing new and wait.
            edsNamesStale = false
            updateEDSSubscriptions()
        }
        checkReady()
        if !failures.isEmpty { throw XDSRejection(failures.joined(separator: ", ")) }
    }

    fileprivate func edsInitialFetchFailed(source: ConfigSourceConfig, service: String?) {
        manager.initialFetchFailed(source: source, service: service)
        staticEDSWaiting.subtract(staticEDSClusters(of: source, service: service))
        checkReady()
    }

    /// A refused EDS update ends the wait of the clusters this subscription
    /// feeds that have no version serving yet, and of the bootstrap's EDS
    /// clusters at start-up, as Envoy's EdsClusterImpl completes its
    /// initialization on any failure: start-up does not wait for
    /// `initial_fetch_timeout` over a bad assignment.
    fileprivate func edsUpdateRefused(source: ConfigSourceConfig, service: String?) {
        manager.initialFetchFailed(source: source, service: service, replacements: false)
        staticEDSWaiting.subtract(staticEDSClusters(of: source, service: service))
        checkReady()
    }

    static func nowSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}

/// The handler of one EDS subscription (the update does not say which
/// source it came from); `service` when the subscription asks for one only.
private final class EDSHandler: XDSUpdateHandler {
    let source: ConfigSourceConfig
    let service: String?
    unowned let owner: ClusterDiscovery

    init(source: ConfigSourceConfig, service: String?, owner: ClusterDiscovery) {
        self.source = source
        self.service = service
        self.owner = owner
    }

    func apply(_ update: XDSUpdate) throws(XDSRejection) {
        do {
            try owner.applyEDS(update, source: source)
        } catch {
            owner.edsUpdateRefused(source: source, service: service)
            throw error
        }
    }

    func initialFetchFailed(_ type: XDSResourceType) {
        owner.edsInitialFetchFailed(source: source, service: service)
    }
}
