import RemoraAPI
import RemoraConfig
import RemoraCore
import RemoraEventLoop
import RemoraXDS
import SwiftProtobuf

/// Envoy's `ListenerManagerImpl` and `LdsApiImpl`: listeners added, updated
/// and removed by name from LDS, each warming (its RDS tables) before it
/// serves; the bootstrap's listeners stay as they are.
///
/// Main loop only. Workers get each listener as an immutable
/// `ListenerConfig`: an update on the same addresses keeps the sockets
/// (`Worker.updateListener`), and only the connections of filter chains that
/// changed or went away drain; a removed listener stops accepting at once.
final class ListenerManager: XDSUpdateHandler {
    /// One state of a dynamic listener: what it is, from which version, since when.
    struct Version {
        let listener: DynamicListener
        let versionInfo: String
        let lastUpdated: Double
        /// Tells a warming version apart from the one that replaced it.
        let generation: Int
    }

    /// A dynamic listener by name: the version serving, and the one warming.
    final class Entry {
        var active: Version?
        var warming: Version?
        /// When LDS first named it: /config_dump and /listeners list
        /// listeners in this order, as Envoy's listener vectors keep them.
        let order: Int

        init(order: Int) {
            self.order = order
        }
        /// Its sockets are being bound: workers learn the listener one
        /// after another, so a change or removal waits for the end (else a
        /// worker bound last would get the old config after the change).
        var binding = false
        var afterBinding: [() -> Void] = []

        func bindingDone() {
            binding = false
            let deferred = afterBinding
            afterBinding = []
            for action in deferred { action() }
        }
    }

    private unowned let server: Server
    let routes: RouteConfigManager
    private let stats: Stats<ListenerManagerStat>
    /// The bootstrap's listeners: LDS cannot change them.
    private let staticListeners: [ListenerConfig]
    private(set) var entries: [String: Entry] = [:]
    /// Listeners removed or replaced whose connections still drain (for
    /// `total_listeners_draining` and config_dump's `draining_state`; an
    /// in-place update's chains count only in `total_filter_chains_draining`,
    /// which config_dump does not show, as in Envoy).
    private(set) var draining: [(name: String, version: Version)] = []
    private var subscription: (any XDSSubscription)?
    private var generation = 0
    /// The last LDS `version_info` that changed something (Envoy's
    /// `system_version_info_`).
    private var versionInfo = ""
    /// Refused listeners by name, until one of that name is taken (Envoy's
    /// `error_state_tracker_`: config_dump's `error_state` of that listener).
    private var errors: [String: (resource: XDSResource, at: Double, details: String)] = [:]
    /// Every refusal of the last update, in order (Envoy's
    /// `overall_error_state_`: config_dump entries with only an `error_state`).
    private var updateFailures: [(resource: XDSResource, details: String)] = []

    /// Start-up: what must be done before `ready` is called.
    private var startupPending = 0
    private var onReady: (() -> Void)?
    /// The first LDS update's listeners still warming or binding.
    private var initialListeners: Set<String>?

    init(server: Server, staticListeners: [ListenerConfig]) {
        self.server = server
        self.staticListeners = staticListeners
        routes = RouteConfigManager(server: server)
        stats = server.listenerManagerStats.stats(ListenerManagerStat.self, thread: 0)
    }

    // MARK: - Start-up

    /// Subscribes to the bootstrap's RDS tables and to LDS; `ready` runs
    /// once those tables and the first LDS update's listeners have warmed
    /// (or their initial fetch gave up), as Envoy's init manager does.
    func start(lds: ConfigSourceConfig?, then ready: @escaping () -> Void) throws(ConfigError) {
        onReady = ready
        startupPending = 1
        var uses: [(reference: RDSReference, statPrefix: String)] = []
        for listener in staticListeners { uses += Self.routeUses(listener) }
        try routes.retain(uses)
        startupPending += 1
        routes.whenReady(uses.map(\.reference)) { [unowned self] in self.startupStepDone() }
        if let lds {
            startupPending += 1
            subscription = try server.xds.subscribe(.listener, source: lds, names: [], statPrefix: "listener_manager.lds.",
                                                    handler: self)
        }
        startupStepDone()
    }

    private func startupStepDone() {
        startupPending -= 1
        guard startupPending == 0, let ready = onReady else { return }
        onReady = nil
        ready()
    }

    /// The first LDS update (or its failure) is in; start-up waits for its
    /// listeners.
    private func initialUpdateSeen(_ names: Set<String>) {
        guard initialListeners == nil, onReady != nil else { return }
        initialListeners = names
        if names.isEmpty { startupStepDone() }
    }

    private func initialListenerDone(_ name: String) {
        guard var pending = initialListeners, pending.remove(name) != nil else { return }
        initialListeners = pending
        if pending.isEmpty { startupStepDone() }
    }

    /// The workers serve (Envoy's `workers_started`, once start-up is done).
    func workersStarted() {
        stats.set(.workersStarted, 1)
    }

    /// Counts the static listeners once they are on the workers.
    func staticListenerStarted() {
        stats.add(.listenerAdded)
        stats.add(.listenerCreateSuccess, Int64(server.workers.count))
        refreshGauges()
    }

    // MARK: - LDS

    func apply(_ update: XDSUpdate) throws(XDSRejection) {
        // Envoy removes before adding, so that a new listener may take the
        // address of one removed in the same update.
        var removed = Set(update.removed)
        if update.isStateOfTheWorld {
            let present = Set(update.updated.map(\.name))
            removed.formUnion(entries.keys.filter { !present.contains($0) })
        }
        for name in removed.sorted() { remove(name) }

        var message = ""
        updateFailures = []
        var seen: Set<String> = []
        var warming: Set<String> = []
        var gates: [String: WarmGate] = [:]
        let clusterNames = server.knownClusterNames
        for resource in update.updated {
            func failed(_ error: String) {
                message += "\(resource.name): \(error)\n"
                errors[resource.name] = (resource, RouteConfigManager.now(), error)
                updateFailures.append((resource, error))
            }
            guard seen.insert(resource.name).inserted else {
                failed("duplicate listener \(resource.name) found")
                continue
            }
            if skippedAsStopped(resource) {
                server.logger.debug("lds: listener '\(resource.name)' can not be added because its listeners are stopped")
                continue
            }
            if staticListeners.contains(where: { $0.name == resource.name }) {
                errors[resource.name] = nil
                // Envoy's `blockUpdate`: a static listener is skipped, not refused.
                server.logger.debug("lds: add/update listener '\(resource.name)' skipped (static)")
                continue
            }
            let compiled: DynamicListener
            do throws(ConfigError) {
                compiled = try DynamicListenerCompiler.compile(resource.resource, server: server.config, clusterNames: clusterNames,
                                                               currentSecrets: server.secretManager.current)
            } catch {
                failed("\(error)")
                continue
            }
            let entry = entries[resource.name]
            if let current = entry?.warming ?? entry?.active, current.listener.sourceBytes == compiled.sourceBytes {
                errors[resource.name] = nil
                continue
            }
            if let entry, let warming = entry.warming, entry.active?.listener.sourceBytes == compiled.sourceBytes {
                // Back to the version serving: the warming one goes (Envoy's
                // `addOrUpdateListenerInternal`), nothing drains.
                entry.warming = nil
                release(warming)
                errors[resource.name] = nil
                stats.add(.listenerModified)
                server.logger.info("lds: listener '\(resource.name)' back to its active version")
                continue
            }
            if let duplicate = duplicateAddress(compiled.config) {
                failed("error adding listener: '\(resource.name)' has duplicate address '\(duplicate)' as existing listener")
                continue
            }
            let current = entry?.warming ?? entry?.active
            if current.map({ !ListenerDiff(old: $0.listener.config, new: compiled.config).keepsSockets }) ?? true,
               let failure = probeBind(compiled.config) {
                stats.add(.listenerCreateFailure)
                failed(failure)
                continue
            }
            do throws(ConfigError) {
                try routes.retain(Self.routeUses(compiled.config))
            } catch {
                failed("\(error)")
                continue
            }
            generation += 1
            // Warm once its route tables and its SDS secrets are in.
            let gate = WarmGate(count: 2) { [weak self, generation] in self?.warmed(resource.name, generation: generation) }
            if !compiled.sdsDependencies.isEmpty { server.makeSSLScope(for: compiled.config) }
            do throws(ConfigError) {
                try server.secretManager.register(compiled.sdsDependencies, owner: Self.secretOwner(generation)) { gate.done() }
            } catch {
                routes.release(compiled.config.rdsReferences)
                failed("\(error)")
                continue
            }
            gates[resource.name] = gate
            let version = Version(listener: compiled, versionInfo: resource.version, lastUpdated: RouteConfigManager.now(),
                                  generation: generation)
            let target = entry ?? Entry(order: generation)
            entries[resource.name] = target
            if entry?.active != nil || entry?.warming != nil { stats.add(.listenerModified) } else { stats.add(.listenerAdded) }
            if let replaced = target.warming { release(replaced) }
            target.warming = version
            errors[resource.name] = nil
            warming.insert(resource.name)
            server.logger.info("lds: add/update listener '\(resource.name)'")
        }
        if !removed.isEmpty || !warming.isEmpty { versionInfo = update.versionInfo }
        server.configTablesRelease.updateApplied(large: update.updated.count >= 100)
        refreshGauges()
        initialUpdateSeen(warming)
        for name in warming.sorted() {
            guard let version = entries[name]?.warming, let gate = gates[name] else { continue }
            routes.whenReady(version.listener.config.rdsReferences) { gate.done() }
        }
        if !message.isEmpty { throw XDSRejection("Error adding/updating listener(s) \(message)") }
    }

    /// Envoy's `listenersStopped`: once `/drain_listeners` stopped every
    /// listener, or the inbound ones, an LDS add or update of such a
    /// listener is skipped (not refused; removals still apply).
    private func skippedAsStopped(_ resource: XDSResource) -> Bool {
        let stopped = server.listenersStopped
        if stopped.all { return true }
        guard stopped.inbound, let message = try? Envoy_Config_Listener_V3_Listener(unpackingAny: resource.resource) else {
            return false
        }
        return message.trafficDirection == .inbound
    }

    func initialFetchFailed(_ type: XDSResourceType) {
        initialUpdateSeen([])
    }

    /// Envoy binds a new listener's sockets on the main thread while it
    /// applies the update, so an address in use NACKs it. Remora binds on
    /// the workers after warming; a probe socket, bound and closed here,
    /// finds the same failure in time to refuse the listener. IP addresses
    /// with a port only (port 0 always binds; a Unix path would be
    /// replaced).
    private func probeBind(_ config: ListenerConfig) -> String? {
        guard config.bindToPort else { return nil }
        for bind in config.bindAddresses where bind.address.isIP && bind.address.port != 0 {
            do throws(EventLoopError) {
                let probe = try Listener.bind(loop: server.mainLoop, address: bind.address, reusePort: config.reusePort,
                                              backlog: config.backlog, ipv4Compat: bind.ipv4Compat)
                probe.stopAccepting()
            } catch {
                let reason = error.uvCode == EventLoopError.addressInUse.uvCode ? "Address already in use" : "\(error)"
                return "cannot bind '\(bind.address)': \(reason)"
            }
        }
        return nil
    }

    /// A listener whose address (port 0 aside) another listener already has.
    private func duplicateAddress(_ config: ListenerConfig) -> SocketAddress? {
        let others = staticListeners + entries.filter { $0.key != config.name }.values.compactMap { ($0.warming ?? $0.active)?.listener.config }
        for bind in config.bindAddresses where bind.address.port != 0 {
            for other in others where other.bindAddresses.contains(where: { $0.address == bind.address }) {
                return bind.address
            }
        }
        return nil
    }

    // MARK: - Warming, adding, updating, removing

    private func warmed(_ name: String, generation: Int) {
        guard let entry = entries[name], let version = entry.warming, version.generation == generation else { return }
        if entry.binding {
            entry.afterBinding.append { [weak self] in self?.warmed(name, generation: generation) }
            return
        }
        entry.warming = nil
        let config = version.listener.config
        guard let previous = entry.active else {
            entry.active = version
            refreshGauges()
            bind(entry, name: name, version: version)
            return
        }
        entry.active = version
        let diff = ListenerDiff(old: previous.listener.config, new: config)
        let scopes = server.makeListenerScopes(for: config)
        if diff.keepsSockets {
            let inPlace = Self.differsOnlyInChains(previous.listener.message, version.listener.message)
            if inPlace { stats.add(.listenerInPlaceUpdated) }
            for worker in server.workers {
                worker.loop.execute { worker.updateListener(config, scopes: scopes, inPlace: inPlace) }
            }
            server.logger.info("lds: listener '\(name)' updated in place (\(diff.removedChains.count) filter chain(s) draining)")
            // Envoy's gauges: an in-place update drains filter chains; any
            // other change drains the old listener (Remora still drains only
            // the chains that went away).
            finishReplacing(previous, name: name, drainingChains: diff.removedChains.count, listenerDrains: !inPlace)
            initialListenerDone(name)
        } else {
            // New addresses: the old sockets close, the new ones bind; the
            // connections of the chains kept stay.
            let kept = config.chainSources
            for worker in server.workers {
                worker.loop.execute { worker.removeListener(named: name, keeping: kept) }
            }
            server.boundAddresses[name] = nil
            finishReplacing(previous, name: name, drainingChains: diff.removedChains.count, listenerDrains: true)
            bind(entry, name: name, version: version)
        }
        refreshGauges()
    }

    private func bind(_ entry: Entry, name: String, version: Version) {
        entry.binding = true
        server.addListenerToWorkers(version.listener.config) { [weak self] failure in
            self?.added(name, version: version, failure: failure)
            entry.bindingDone()
        }
    }

    /// The listener is on every worker, or could not bind (then, as in
    /// Envoy, it is removed and counted as a failure).
    private func added(_ name: String, version: Version, failure: String?) {
        defer { initialListenerDone(name) }
        guard let failure else {
            stats.add(.listenerCreateSuccess, Int64(server.workers.count))
            return
        }
        server.logger.error("lds: \(failure)")
        stats.add(.listenerCreateFailure)
        guard let entry = entries[name], entry.active?.generation == version.generation else { return }
        entry.active = nil
        for worker in server.workers {
            worker.loop.execute { worker.removeListener(named: name) }
        }
        server.boundAddresses[name] = nil
        release(version)
        if entry.warming == nil { entries[name] = nil }
        refreshGauges()
    }

    private func remove(_ name: String) {
        guard let entry = entries.removeValue(forKey: name) else { return }
        stats.add(.listenerRemoved)
        server.logger.info("lds: remove listener '\(name)'")
        if entry.binding {
            // Gone for LDS now; the workers hear of it once each has it.
            entry.afterBinding.append { [weak self] in self?.retire(entry, name: name) }
        } else {
            retire(entry, name: name)
        }
        refreshGauges()
    }

    /// A removed listener lets go of its tables; its sockets stop and its
    /// connections drain.
    private func retire(_ entry: Entry, name: String) {
        if let warming = entry.warming { release(warming) }
        if let active = entry.active {
            for worker in server.workers {
                worker.loop.execute { worker.removeListener(named: name) }
            }
            server.boundAddresses[name] = nil
            finishReplacing(active, name: name, drainingChains: active.listener.config.chainSources.count, listenerDrains: true)
        }
        refreshGauges()
    }

    /// The replaced or removed version lets go of its route tables and
    /// counts as draining for the drain time, as Envoy's gauges do: a
    /// removed or re-bound listener, or one changed outside its chains, in
    /// `total_listeners_draining` (and config_dump's `draining_state`); an
    /// in-place update's removed chains in `total_filter_chains_draining`.
    private func finishReplacing(_ old: Version, name: String, drainingChains chains: Int, listenerDrains: Bool) {
        release(old)
        let countedChains = listenerDrains ? 0 : chains
        guard listenerDrains || chains > 0 else { return }
        if listenerDrains { draining.append((name, old)) }
        stats.add(.totalFilterChainsDraining, Int64(countedChains))
        let timer = Timer(loop: server.mainLoop)
        timer.start(afterMilliseconds: server.options.drainTimeSeconds * 1000) { [weak self] in
            timer.close()
            guard let self else { return }
            self.draining.removeAll { $0.version.generation == old.generation }
            self.stats.add(.totalFilterChainsDraining, -Int64(countedChains))
            self.refreshGauges()
        }
    }

    /// A version no longer serving or warming lets go of its route tables
    /// and SDS secrets.
    private func release(_ version: Version) {
        routes.release(version.listener.config.rdsReferences)
        server.secretManager.release(owner: Self.secretOwner(version.generation))
    }

    private static func secretOwner(_ generation: Int) -> String { "listener \(generation)" }

    private func refreshGauges() {
        let active = entries.values.filter { $0.active != nil }.count
        stats.set(.totalListenersActive, Int64(staticListeners.count + active))
        stats.set(.totalListenersWarming, Int64(entries.values.filter { $0.warming != nil }.count))
        stats.set(.totalListenersDraining, Int64(draining.count))
    }

    // MARK: - Helpers

    /// The RDS tables a listener's connection managers name, with the
    /// manager's stat prefix (for the table's stats).
    static func routeUses(_ listener: ListenerConfig) -> [(reference: RDSReference, statPrefix: String)] {
        var seen: Set<RDSReference> = []
        var uses: [(reference: RDSReference, statPrefix: String)] = []
        for chain in listener.allFilterChains {
            guard let hcm = chain.httpConnectionManager, case .rds(let reference) = hcm.routes,
                  seen.insert(reference).inserted else { continue }
            uses.append((reference, hcm.statPrefix))
        }
        return uses
    }

    /// Envoy's in-place filter-chain update: nothing but the chains changed.
    static func differsOnlyInChains(_ a: Envoy_Config_Listener_V3_Listener, _ b: Envoy_Config_Listener_V3_Listener) -> Bool {
        var a = a
        var b = b
        a.filterChains = []
        a.clearDefaultFilterChain()
        b.filterChains = []
        b.clearDefaultFilterChain()
        return a == b
    }

    /// `dynamic_listeners` and `dynamic_route_configs` of /config_dump.
    func configDump(timestamp: (Double) -> String) -> DynamicConfigDump {
        func state(_ v: Version) -> DynamicConfigDump.ListenerState {
            .init(versionInfo: v.versionInfo, listener: v.listener.message, lastUpdated: timestamp(v.lastUpdated))
        }
        // Active listeners, then those only warming (Envoy's order).
        func rank(_ entry: Entry) -> (Int, Int) { (entry.active == nil ? 1 : 0, entry.order) }
        let ordered = entries.sorted { rank($0.value) < rank($1.value) }
        var listeners = ordered.map { name, entry in
            DynamicConfigDump.Listener(name: name, active: entry.active.map(state), warming: entry.warming.map(state), draining: nil)
        }
        for (name, version) in draining {
            if let i = listeners.firstIndex(where: { $0.name == name }) {
                listeners[i].draining = state(version)
            } else {
                listeners.append(.init(name: name, active: nil, warming: nil, draining: state(version)))
            }
        }
        for (name, error) in errors.sorted(by: { $0.key < $1.key }) {
            let failed = try? Envoy_Config_Listener_V3_Listener(unpackingAny: error.resource.resource)
            let state = DynamicConfigDump.ErrorState(failedConfiguration: failed, lastUpdateAttempt: timestamp(error.at),
                                                     details: error.details)
            if let i = listeners.firstIndex(where: { $0.name == name }) {
                listeners[i].error = state
            } else {
                listeners.append(.init(name: name, active: nil, warming: nil, draining: nil, error: state))
            }
        }
        for failure in updateFailures {
            let failed = try? Envoy_Config_Listener_V3_Listener(unpackingAny: failure.resource.resource)
            listeners.append(.init(name: "", active: nil, warming: nil, draining: nil,
                                   error: .init(failedConfiguration: failed, lastUpdateAttempt: nil, details: failure.details)))
        }
        let tables = routes.providers.values.compactMap { provider -> DynamicConfigDump.RouteConfig? in
            guard let message = provider.message else { return nil }
            return .init(versionInfo: provider.version, routeConfig: message, lastUpdated: timestamp(provider.lastUpdated))
        }.sorted { $0.routeConfig.name < $1.routeConfig.name }
        return DynamicConfigDump(listenersVersionInfo: versionInfo, listeners: listeners, routeConfigs: tables)
    }

    /// The dynamic listeners, active and warming, for /listeners.
    var activeConfigs: [ListenerConfig] {
        entries.values.sorted { $0.order < $1.order }.compactMap { $0.active?.listener.config }
    }
}

/// Runs its action once `done()` was called `count` times (a listener
/// waits for its route tables and its secrets).
final class WarmGate {
    private var count: Int
    private let action: () -> Void

    init(count: Int, action: @escaping () -> Void) {
        self.count = count
        self.action = action
    }

    func done() {
        count -= 1
        if count == 0 { action() }
    }
}
