#if canImport(Glibc)
import Glibc
#endif
import RemoraAPI
import RemoraConfig
import RemoraCore
import RemoraEventLoop
import RemoraXDS
import SwiftProtobuf

/// RDS (Envoy's `RouteConfigProviderManager` and `RdsRouteConfigSubscription`):
/// one route table per `rds` (config source and `route_config_name`),
/// shared by every connection manager that names it; one subscription per
/// config source, asking for the union of the names in use (over an
/// `api_config_source`, one per table, each its own stream, as Envoy). A new table is
/// posted to every worker as an immutable value; streams that start after
/// it use it (see `RouteConfigSlot`).
///
/// Main loop only. Listeners hold the tables they use (`retain`/`release`);
/// a listener warms until each of its tables had a first update, or its
/// source's `initial_fetch_timeout` passed (`whenReady`).
final class RouteConfigManager {
    /// One route configuration in use.
    final class Provider {
        let reference: RDSReference
        var users = 0
        /// The last accepted configuration's bytes (nil until the first).
        /// Only /config_dump reads the message: it is decoded there again
        /// rather than held (1,000 routes as a message tree are 2.5 MiB, as
        /// bytes 0.1 MiB).
        var messageBytes: [UInt8]?
        var message: Envoy_Config_Route_V3_RouteConfiguration? {
            messageBytes.flatMap { try? Envoy_Config_Route_V3_RouteConfiguration(serializedBytes: $0) }
        }
        var version = ""
        var lastUpdated = 0.0
        /// A first update came, or the initial fetch gave up: listeners
        /// naming it may serve (with an empty table in the second case).
        var ready = false
        var initialFetchTimer: Timer?
        /// `http.<stat_prefix>.rds.<route_config_name>.*`; nil for the
        /// route whose prefix the source's subscription counts in.
        var stats: Stats<XDSSubscriptionStat>?
        /// `config_reload`, `config_reload_time_ms`, `update_empty`.
        var reloads: Stats<RDSStat>?

        init(reference: RDSReference) { self.reference = reference }
    }

    /// One subscription per config source (by kind: sources that differ
    /// only in `initial_fetch_timeout` share it; each table keeps its own
    /// timeout), with the names it asks for; per table over an
    /// `api_config_source` (`name` set).
    private final class SourceSubscription: XDSUpdateHandler {
        unowned let manager: RouteConfigManager
        let key: SubscriptionKey
        var source: ConfigSourceConfig.Kind { key.kind }
        var subscription: (any XDSSubscription)?

        init(manager: RouteConfigManager, key: SubscriptionKey) {
            self.manager = manager
            self.key = key
        }

        func apply(_ update: XDSUpdate) throws(XDSRejection) {
            do {
                try manager.apply(update, from: source)
            } catch {
                // A refused update ends the first fetch of every table this
                // subscription waits for (Envoy's mux tells each RDS watch of
                // the failure, and RdsRouteConfigSubscription readies its init
                // target): their listeners warm with what they have.
                manager.initialFetchFailed(key)
                throw error
            }
        }
        func initialFetchFailed(_ type: XDSResourceType) { manager.initialFetchFailed(key) }
    }

    /// Envoy opens a stream per RDS subscription; over ADS or a file the
    /// tables of one source share a subscription.
    private struct SubscriptionKey: Hashable {
        let kind: ConfigSourceConfig.Kind
        let name: String?

        init(_ reference: RDSReference) {
            kind = reference.source.kind
            if case .grpc = kind { name = reference.routeConfigName } else { name = nil }
        }

        func covers(_ reference: RDSReference) -> Bool {
            reference.source.kind == kind && (name == nil || name == reference.routeConfigName)
        }
    }

    private unowned let server: Server
    private(set) var providers: [RDSReference: Provider] = [:]
    private var subscriptions: [SubscriptionKey: SourceSubscription] = [:]
    private var waiters: [(references: [RDSReference], done: () -> Void)] = []

    init(server: Server) {
        self.server = server
    }

    // MARK: - Use by listeners

    /// A listener uses these tables (with its connection managers' stat
    /// prefixes, for the stats of a table made now). Subscribes as needed.
    func retain(_ uses: [(reference: RDSReference, statPrefix: String)]) throws(ConfigError) {
        var changed: Set<SubscriptionKey> = []
        var retained: [RDSReference] = []
        for (reference, statPrefix) in uses {
            if let provider = providers[reference] {
                provider.users += 1
                retained.append(reference)
                continue
            }
            let provider = Provider(reference: reference)
            provider.users = 1
            let prefix = "http.\(statPrefix).rds.\(reference.routeConfigName)."
            provider.reloads = server.store.makeScope(prefix: prefix, RDSStat.self).stats(RDSStat.self, thread: 0)
            let key = SubscriptionKey(reference)
            if subscriptions[key] == nil {
                // The source's subscription counts in the first table's stats.
                let handler = SourceSubscription(manager: self, key: key)
                do throws(ConfigError) {
                    handler.subscription = try server.xds.subscribe(
                        .routeConfiguration, source: reference.source, names: [reference.routeConfigName],
                        statPrefix: prefix, handler: handler)
                } catch {
                    release(retained)
                    throw error
                }
                subscriptions[key] = handler
                providers[reference] = provider
                retained.append(reference)
            } else {
                provider.stats = server.store.makeScope(prefix: prefix, XDSSubscriptionStat.self)
                    .stats(XDSSubscriptionStat.self, thread: 0)
                provider.stats?.setText("version_text", "")
                providers[reference] = provider
                retained.append(reference)
                changed.insert(key)
            }
            startInitialFetchTimer(provider)
        }
        for source in changed { updateNames(source) }
    }

    /// A listener no longer uses these tables; one nobody uses is dropped
    /// (and its name no longer asked for).
    func release(_ references: [RDSReference]) {
        var changed: Set<SubscriptionKey> = []
        for reference in references {
            guard let provider = providers[reference] else { continue }
            provider.users -= 1
            guard provider.users == 0 else { continue }
            provider.initialFetchTimer?.close()
            providers[reference] = nil
            changed.insert(SubscriptionKey(reference))
            for worker in server.workers {
                worker.loop.execute { worker.dropRoutes(reference) }
            }
        }
        for source in changed { updateNames(source) }
    }

    /// Calls `done` once every table in `references` is ready (at once if
    /// they are).
    func whenReady(_ references: [RDSReference], _ done: @escaping () -> Void) {
        if references.allSatisfy({ providers[$0]?.ready ?? true }) {
            done()
            return
        }
        waiters.append((references, done))
    }

    private func updateNames(_ key: SubscriptionKey) {
        guard let handler = subscriptions[key] else { return }
        let names = Set(providers.keys.filter { key.covers($0) }.map(\.routeConfigName))
        if names.isEmpty {
            handler.subscription?.cancel()
            subscriptions[key] = nil
        } else {
            handler.subscription?.setResourceNames(names)
        }
    }

    // MARK: - Updates

    /// An RDS update from `source`: each configuration compiled on its own;
    /// the good ones apply, the bad ones NACK the update with their names.
    private func apply(_ update: XDSUpdate, from source: ConfigSourceConfig.Kind) throws(XDSRejection) {
        var failures: [String] = []
        for resource in update.updated {
            let named = providers.values.filter { $0.reference.routeConfigName == resource.name && $0.reference.source.kind == source }
            guard !named.isEmpty else { continue }
            let bytes = [UInt8](resource.resource.value)
            if named.allSatisfy({ $0.ready && $0.messageBytes == bytes }) {
                // The configuration every table of the name serves, sent
                // again (a state-of-the-world resend, a reconnect): counted,
                // not compiled or validated again, as Envoy's
                // `RouteConfigUpdateReceiverImpl` skips a config whose hash
                // it has.
                for provider in named { install(nil, bytes: bytes, from: resource, in: provider) }
                continue
            }
            let compiled: (RouteTable, Envoy_Config_Route_V3_RouteConfiguration)
            do throws(ConfigError) {
                compiled = try DynamicListenerCompiler.compileRoutes(resource.resource, clusterNames: server.knownClusterNames)
            } catch {
                for provider in named {
                    provider.stats?.add(.updateAttempt)
                    provider.stats?.add(.updateRejected)
                }
                failures.append("\(resource.name): \(error)")
                continue
            }
            for provider in named { install(compiled.0, bytes: bytes, from: resource, in: provider) }
        }
        if update.updated.isEmpty, case .path = source {
            // A file with no table is an empty update to each table it feeds
            // (Envoy's `validateUpdateSize`); they keep what they have. Over
            // gRPC, Envoy's mux tells a named watch only of what it found.
            for provider in providers.values where provider.reference.source.kind == source {
                provider.reloads?.add(.updateEmpty)
            }
        }
        // Envoy's RdsRouteConfigSubscription ignores a Delta removal: the
        // listeners keep the table they have (test_xds_delta_removals.py).
        for name in update.removed {
            server.logger.error("rds: the server removed route config '\(name)' (Delta); ignoring, as Envoy does")
        }
        server.configTablesRelease.updateApplied()
        if !failures.isEmpty { throw XDSRejection(failures.joined(separator: "\n")) }
    }

    /// A table accepted for `provider`: posted to every worker unless the
    /// same configuration is already there (`table` nil: the caller found
    /// it is, and did not compile it).
    private func install(_ table: RouteTable?, bytes: [UInt8], from resource: XDSResource, in provider: Provider) {
        let reference = provider.reference
        provider.stats?.add(.updateAttempt)
        provider.stats?.add(.updateSuccess)
        provider.stats?.set(.version, Int64(bitPattern: XXHash64.hash(resource.version)))
        provider.stats?.setText("version_text", resource.version)
        provider.stats?.set(.updateTime, Int64(Self.now() * 1000))
        guard let table, bytes != provider.messageBytes || !provider.ready else { return }
        provider.messageBytes = bytes
        provider.version = resource.version
        provider.lastUpdated = Self.now()
        provider.reloads?.add(.configReload)
        provider.reloads?.set(.configReloadTimeMs, Int64(provider.lastUpdated * 1000))
        let mainLoop = server.mainLoop
        for worker in server.workers {
            worker.loop.execute {
                // The replaced table (a thousand routes are ten thousand
                // objects) is freed on the main loop, not by the worker
                // between the swap and the first request it serves.
                let replaced = worker.updateRoutes(reference, table: table)
                mainLoop.execute { withExtendedLifetime(replaced) {} }
            }
        }
        server.logger.info("rds: loaded route config '\(resource.name)' version \(resource.version)")
        markReady(provider)
    }

    /// The source gave up its first fetch, or refused an update: its tables
    /// that had none serve empty (every request a 404), and their listeners
    /// warm without them.
    private func initialFetchFailed(_ key: SubscriptionKey) {
        for provider in providers.values where key.covers(provider.reference) && !provider.ready {
            markReady(provider)
        }
    }

    /// Envoy's per-subscription `initial_fetch_timeout`: a name the source
    /// never delivers does not hold its listeners back forever.
    private func startInitialFetchTimer(_ provider: Provider) {
        let timeout = provider.reference.source.initialFetchTimeoutMilliseconds
        guard timeout > 0 else { return }
        let timer = Timer(loop: server.mainLoop)
        timer.start(afterMilliseconds: timeout) { [weak self, weak provider] in
            timer.close()
            guard let self, let provider, !provider.ready else { return }
            provider.stats?.add(.initFetchTimeout)
            self.server.logger.warning("rds: route config '\(provider.reference.routeConfigName)' not received within initial_fetch_timeout")
            self.markReady(provider)
        }
        provider.initialFetchTimer = timer
    }

    private func markReady(_ provider: Provider) {
        provider.initialFetchTimer?.close()
        provider.initialFetchTimer = nil
        guard !provider.ready else { return }
        provider.ready = true
        let pending = waiters
        waiters = []
        for waiter in pending {
            if waiter.references.allSatisfy({ providers[$0]?.ready ?? true }) {
                waiter.done()
            } else {
                waiters.append(waiter)
            }
        }
    }

    static func now() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}
