#if canImport(Glibc)
import Glibc
#endif
import Logging
import RemoraConfig
import RemoraCore
import RemoraEventLoop
import RemoraFilters
import RemoraTLS
import RemoraUpstream
import RemoraXDS

/// What the command line decides about a running server.
public struct ServerOptions: Sendable {
    public var concurrency: Int
    public var drainTimeSeconds: UInt64
    public var configPath: String
    public var logLevel: String
    public var serviceCluster: String?
    public var serviceNode: String?
    public var version: String
    /// `--file-flush-interval-msec`: how often access logs are written out.
    public var fileFlushIntervalMilliseconds: UInt64
    /// `--drain-strategy`: how draining connections are told to go.
    public var drainStrategy: DrainStrategy
    /// The rest of the command line, as `/server_info` shows it.
    public var configYAML = ""
    public var componentLogLevel = ""
    public var logFormat = LogPattern.envoyDefault
    public var logPath = ""
    public var baseID = 0
    public var useDynamicBaseID = false
    public var parentShutdownTimeSeconds = 900

    public init(concurrency: Int, drainTimeSeconds: UInt64, configPath: String, logLevel: String,
                serviceCluster: String?, serviceNode: String?, version: String, fileFlushIntervalMilliseconds: UInt64 = 10_000,
                drainStrategy: DrainStrategy = .gradual) {
        self.fileFlushIntervalMilliseconds = fileFlushIntervalMilliseconds
        self.drainStrategy = drainStrategy
        self.concurrency = concurrency
        self.drainTimeSeconds = drainTimeSeconds
        self.configPath = configPath
        self.logLevel = logLevel
        self.serviceCluster = serviceCluster
        self.serviceNode = serviceNode
        self.version = version
    }
}

/// The process: the main loop (config, admin, DNS, signals, drain) and the
/// workers (listeners and connections). `run()` blocks until exit.
///
/// Its state is touched only on the main loop. Workers hold a reference only
/// to post closures back to the main loop, which is why `@unchecked
/// Sendable` is safe.
public final class Server: @unchecked Sendable {
    let config: ServerConfig
    let options: ServerOptions
    let logger: Logger
    let mainLoop: EventLoop
    let store: StatsStore
    let serverStats: StatScope
    private(set) var workers: [Worker] = []
    var clusterManager: ClusterManager!
    /// Makes the xDS subscriptions (main loop).
    var xds: XDSSubscriptionFactory!
    /// CDS and EDS (nil before start-up reaches them).
    var clusterDiscovery: ClusterDiscovery?
    /// Drops the API schema's tables once xDS updates pause (main loop).
    lazy var configTablesRelease = ConfigTablesRelease(loop: mainLoop)
    /// Main-loop views of the static clusters xDS streams use, by name.
    var xdsClusters: [String: WorkerCluster] = [:]
    /// SDS secrets and the TLS contexts that rotate with them (set once
    /// start-up reaches the secrets, before CDS and LDS).
    private(set) var secretManager: SecretManager!
    private var admin: AdminServer?
    private var signals: [SignalWatcher] = []
    private var state = ServerState.preInitializing
    private let startMilliseconds: UInt64
    private var uptimeTimer: Timer?
    /// Envoy's stats flush (`stats_flush_interval`): snapshots histograms
    /// and feeds the statsd sink.
    private var statsFlushTimer: Timer?
    /// Gives back what a large config push freed (checked every second).
    private var heapTrim = HeapTrimPolicy()
    private let statsd: StatsdSink?
    private var exitCode: Int32 = 0
    private var drainedWorkers = 0
    /// `/drain_listeners` started a drain of every listener, or of the inbound ones.
    var adminDrainStarted = (all: false, inbound: false)
    /// `/drain_listeners` stopped every listener, or the inbound ones: LDS
    /// adds and updates of those are skipped from then on.
    var listenersStopped = (all: false, inbound: false)
    /// Every `listener.<prefix>.*` scope (for `server.total_connections`).
    var listenerScopes: [StatScope] = []
    /// Listener, chain and listener-filter stat scopes by name (see `makeListenerScopes(for:)`).
    var statScopes: [String: StatScope] = [:]
    /// LDS, RDS and the listeners they made (main loop).
    var listenerManager: ListenerManager!
    /// Start-up is over and the workers serve (Envoy's `isWorkerStarted`).
    private(set) var workersStarted = false
    /// The access-log files, written by their own flush thread.
    let accessLogFiles: AccessLogFiles
    /// Each listener's bound addresses (ports chosen), for /listeners.
    var boundAddresses: [String: [SocketAddress]] = [:]
    /// `/healthcheck/fail` and `/healthcheck/ok`.
    let health = ServerHealth()
    /// `listener_manager.*` (listeners stopped by /drain_listeners).
    let listenerManagerStats: StatScope
    /// `runtime.*`.
    let runtimeStats: StatScope
    /// The admin runtime layer (`/runtime_modify`).
    var runtimeOverrides: [String: String] = [:]
    /// Counter totals at the last /reset_counters (subtracted when printed).
    var counterBaseline: [String: Int64] = [:]
    /// When the config was loaded (config_dump's `last_updated`).
    let loadedAtSeconds: Double = {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }()

    public init(config: ServerConfig, options: ServerOptions, logger: Logger) throws(EventLoopError) {
        self.config = config
        self.options = options
        self.logger = logger
        mainLoop = try EventLoop()
        statsd = try config.stats.statsd.map { (c) throws(EventLoopError) in try StatsdSink(c, matcher: config.stats.matcher) }
        store = StatsStore(workerCount: options.concurrency, sampleSink: statsd)
        serverStats = ServerStat.makeScope(in: store)
        startMilliseconds = mainLoop.nowMilliseconds
        accessLogFiles = AccessLogFiles(store: store, flushIntervalMilliseconds: options.fileFlushIntervalMilliseconds)
        listenerManagerStats = ListenerManagerStat.makeScope(in: store)
        runtimeStats = RuntimeStat.makeScope(in: store)
    }

    /// Runs until the process is told to stop; returns the exit code.
    public func run() -> Int32 {
        mainLoop.execute { [self] in self.startUp() }
        mainLoop.run()
        // What the access logs still buffer is written before exit.
        accessLogFiles.stop()
        return exitCode
    }

    // MARK: - Start-up

    private func startUp() {
        setState(.preInitializing)
        loadRuntimeSnapshot()
        let main = serverStats.stats(ServerStat.self, thread: 0)
        main.set(.concurrency, Int64(options.concurrency))
        main.set(.hotRestartEpoch, 0)

        for signal in [SIGTERM, SIGINT] {
            do {
                signals.append(try SignalWatcher(loop: mainLoop, signal: signal) { [unowned self] in
                    self.logger.info("caught \(signal == SIGTERM ? "SIGTERM" : "SIGINT"), draining for \(self.options.drainTimeSeconds)s")
                    self.beginDrain()
                })
            } catch {
                fail("cannot watch signal \(signal): \(error)")
                return
            }
        }

        do {
            // SIGUSR1 reopens the access logs (logrotate), as in Envoy.
            signals.append(try SignalWatcher(loop: mainLoop, signal: SIGUSR1) { [unowned self] in
                self.accessLogFiles.reopen()
            })
        } catch {
            fail("cannot watch signal SIGUSR1: \(error)")
            return
        }
        for path in config.accessLogPaths {
            do throws(AccessLogFileError) {
                _ = try accessLogFiles.file(path: path)
            } catch {
                fail("\(error)")
                return
            }
        }

        if let adminConfig = config.admin {
            do {
                let logs = WorkerAccessLogs(files: accessLogFiles, thread: 0).set(for: adminConfig.accessLogs)
                admin = try AdminServer(loop: mainLoop, address: adminConfig.address, accessLogs: logs,
                                        stats: AdminStats(store: store)) { [unowned self] request in
                    self.handleAdmin(request)
                }
                logger.info("admin address: \(admin!.boundAddress)")
            } catch {
                fail("cannot bind admin address \(adminConfig.address): \(error)")
                return
            }
        }

        let tlsScopes = makeTLSScopes()
        for (prefix, scope) in tlsScopes where prefix.hasPrefix("listener.") { statScopes[prefix + "ssl."] = scope }
        do {
            for i in 1...options.concurrency {
                workers.append(Worker(index: i, loop: try EventLoop.startThread(name: "worker_\(i - 1)"),
                                      accessLogFiles: accessLogFiles, health: health,
                                      localClusterName: config.node.cluster, store: store, tlsScopes: tlsScopes,
                                      drainTimeSeconds: options.drainTimeSeconds, drainStrategy: options.drainStrategy))
            }
        } catch {
            fail("cannot start workers: \(error)")
            return
        }

        let uptime = Timer(loop: mainLoop)
        uptime.start(afterMilliseconds: 1000, repeatMilliseconds: 1000) { [unowned self] in self.refreshServerGauges() }
        uptimeTimer = uptime
        refreshServerGauges()

        let flushInterval = config.stats.flushIntervalMilliseconds
        let flush = Timer(loop: mainLoop)
        flush.start(afterMilliseconds: flushInterval, repeatMilliseconds: flushInterval) { [unowned self] in
            self.store.flushHistograms()
            self.statsd?.flush(self.store.snapshot())
        }
        statsFlushTimer = flush

        // PRE_INITIALIZING while the clusters (static, then CDS) initialize,
        // INITIALIZING while the listeners do, as Envoy's init manager
        // (started once the cluster manager is initialized) reports it.
        setState(.preInitializing)
        clusterManager = ClusterManager(loop: mainLoop, store: store) { [unowned self] name, hosts in
            for worker in self.workers {
                worker.loop.execute { worker.updateHosts(cluster: name, hosts: hosts) }
            }
        }
        xds = XDSSubscriptionFactory(loop: mainLoop, store: store)
        xds.grpc = makeXDSGRPCSources(tlsScopes: tlsScopes)
        // Envoy's initialization order: static clusters, then SDS secrets,
        // CDS clusters (and their EDS), then LDS listeners (and their RDS),
        // then every listener starts accepting and the server is live.
        clusterManager.start(config.clusters) { [unowned self] in
            self.installClusters()
            self.startSecrets { [unowned self] in
                self.startDynamicClusters { [unowned self] in
                    self.setState(.initializing)
                    self.startDynamicListeners { [unowned self] in
                        self.startListeners(self.config.listeners[...])
                    }
                }
            }
        }
    }

    /// Subscribes to the SDS secrets the TLS contexts read (after the static
    /// clusters, which an SDS gRPC stream may need) and calls `ready` once
    /// each had its first update or initial fetch timeout.
    private func startSecrets(then ready: @escaping () -> Void) {
        let secrets = SecretManager(loop: mainLoop, store: store, dependencies: config.sdsDependencies)
        secretManager = secrets
        do throws(ConfigError) {
            try secrets.start(xds, warm: ready)
        } catch {
            fail("cannot start SDS: \(error)")
        }
    }

    private func installClusters() {
        for entry in clusterManager.entries.values { install(entry) }
    }

    /// Starts the static listeners one at a time (see `bind`), then the
    /// server is live.
    private func startListeners(_ remaining: ArraySlice<ListenerConfig>) {
        guard let listener = remaining.first else {
            listenerManager.workersStarted()
            loadRuntimeSnapshot()
            serverStats.stats(ServerStat.self, thread: 0)
                .record(.initializationTimeMs, milliseconds: mainLoop.nowMilliseconds - startMilliseconds)
            workersStarted = true
            setState(.live)
            logger.info("all listeners started; server is live")
            // Config decoding and the API schema touched megabytes of code
            // and tables that serving never uses again: let them go.
            MessageSchema.releaseCache()
            ProcessMemory.trimHeap()
            ProcessMemory.releaseStartupPages()
            return
        }
        addListenerToWorkers(listener) { [unowned self] failure in
            if let failure {
                self.fail(failure)
                return
            }
            self.listenerManager.staticListenerStarted()
            self.startListeners(remaining.dropFirst())
        }
    }

    /// Gives a listener to every worker: binds its addresses (see `bind`),
    /// or for `bind_to_port: false` only tells the workers about it. `done`
    /// gets nil, or why a socket could not be bound.
    func addListenerToWorkers(_ listener: ListenerConfig, done body: @escaping (String?) -> Void) {
        let done = MainLoopCompletion(body)
        let scopes = makeListenerScopes(for: listener)
        let mainLoop = self.mainLoop
        if !listener.bindToPort {
            // No socket: each worker only learns the listener, for hand-offs.
            let pending = MainLoopCounter(workers.count)
            for worker in workers {
                worker.loop.execute { [unowned self] in
                    worker.addHandOffListener(listener, scopes: scopes)
                    mainLoop.execute { [unowned self] in
                        pending.value -= 1
                        if pending.value == 0 {
                            self.logger.info("listener '\(listener.name)' on \(listener.address) takes hand-offs only (bind_to_port: false)")
                            done.call(nil)
                        }
                    }
                }
            }
            return
        }
        bind(listener, listener.bindAddresses[...], scopes: scopes, done: done)
    }

    /// Binds a listener's addresses one at a time, then calls `done`. For
    /// each, the first worker binds (so that port 0 is settled once), then
    /// the others bind the same port with SO_REUSEPORT, or share the first
    /// socket when that is off.
    private func bind(_ listener: ListenerConfig, _ addresses: ArraySlice<ListenerConfig.BindAddress>, scopes: ListenerScopes,
                      done: MainLoopCompletion) {
        guard let target = addresses.first else { done.call(nil); return }
        let mainLoop = self.mainLoop
        let first = workers[0]
        let others = workers.dropFirst()
        first.loop.execute { [unowned self] in
            let result: Result<SharedListenSocket, EventLoopError>
            do throws(EventLoopError) {
                let socket = try first.addListener(listener, address: target.address, ipv4Compat: target.ipv4Compat, sharing: nil,
                                                   scopes: scopes)
                result = .success(try socket.makeShare())
            } catch {
                result = .failure(error)
            }
            mainLoop.execute { [unowned self] in
                switch result {
                case .failure(let error):
                    done.call("cannot bind listener '\(listener.name)' to \(target.address): \(error)")
                case .success(let shared):
                    let bound = shared.boundAddress
                    self.boundAddresses[listener.name, default: []].append(bound)
                    self.logger.info("listener '\(listener.name)' listening on \(bound)")
                    let pending = MainLoopCounter(others.count)
                    if pending.value == 0 { self.bind(listener, addresses.dropFirst(), scopes: scopes, done: done); return }
                    let share = !(listener.reusePort && bound.isIP)
                    for worker in others {
                        worker.loop.execute { [unowned self] in
                            var failure: EventLoopError? = nil
                            do throws(EventLoopError) {
                                _ = try worker.addListener(listener, address: bound, ipv4Compat: target.ipv4Compat,
                                                           sharing: share ? shared : nil, scopes: scopes)
                            } catch {
                                failure = error
                            }
                            let reported = failure
                            mainLoop.execute { [unowned self] in
                                if let reported {
                                    pending.value = -1
                                    done.call("cannot bind listener '\(listener.name)' to \(bound): \(reported)")
                                    return
                                }
                                pending.value -= 1
                                if pending.value == 0 { self.bind(listener, addresses.dropFirst(), scopes: scopes, done: done) }
                            }
                        }
                    }
                }
            }
        }
    }

    // MARK: - State and stats

    /// `listener.<prefix>.ssl.*` and `cluster.<name>.ssl.*` for every
    /// listener and cluster with TLS, keyed by the owner's prefix.
    private func makeTLSScopes() -> [String: StatScope] {
        var scopes: [String: StatScope] = [:]
        for listener in config.listeners {
            let chains = listener.allFilterChains
            guard chains.contains(where: { $0.tls != nil }) else { continue }
            let prefix = "listener.\(listener.statPrefix)."
            let scope = scopes[prefix] ?? SSLStat.makeScope(under: prefix, role: .server, in: store)
            scopes[prefix] = scope
            for chain in chains { chain.tls?.countUpdates(in: scope, store: store) }
        }
        for cluster in config.clusters where cluster.tls != nil {
            let prefix = "cluster.\(cluster.name)."
            let scope = SSLStat.makeScope(under: prefix, role: .client, in: store)
            scopes[prefix] = scope
            cluster.tls?.countUpdates(in: scope, store: store)
        }
        return scopes
    }

    private func setState(_ new: ServerState) {
        state = new
        let main = serverStats.stats(ServerStat.self, thread: 0)
        main.set(.state, new.rawValue)
        main.set(.live, new == .live ? 1 : 0)
    }

    func refreshServerGauges() {
        let main = serverStats.stats(ServerStat.self, thread: 0)
        main.set(.live, isLive ? 1 : 0)
        main.set(.uptime, Int64((mainLoop.nowMilliseconds - startMilliseconds) / 1000))
        var resident = ProcessMemory.residentBytes
        if heapTrim.shouldTrim(resident: resident) {
            ProcessMemory.trimHeap()
            resident = ProcessMemory.residentBytes
            heapTrim.trimmed(resident: resident)
        }
        main.set(.memoryPhysicalSize, Int64(resident))
        // Envoy reads these from tcmalloc; here glibc malloc's (mallinfo2).
        let heap = ProcessMemory.mallocStats
        main.set(.memoryAllocated, Int64(heap.allocated))
        main.set(.memoryHeapSize, Int64(heap.heapSize))
        let now = Int64(time(nil))
        main.set(.daysUntilFirstCertExpiring, TLSContext.daysUntilFirstCertificateExpires(now: now))
        main.set(.secondsUntilFirstOcspResponseExpiring, TLSContext.secondsUntilFirstOCSPResponseExpires(now: now))
        // Summed from the listener scopes directly: no snapshot of every stat each second.
        var total: Int64 = 0
        for scope in listenerScopes { total += scope.value(ListenerStat.downstreamCxActive.rawValue) }
        main.set(.totalConnections, total)
        clusterManager?.refreshCircuitBreakerGauges()
    }

    var uptimeSeconds: UInt64 { (mainLoop.nowMilliseconds - startMilliseconds) / 1000 }
    /// `/ready`'s word: a server failing health checks says DRAINING, as Envoy's does.
    var stateName: String { health.isFailed ? ServerState.draining.name : state.name }
    var isLive: Bool { state == .live && !health.isFailed }

    // MARK: - Drain and exit

    /// SIGTERM/SIGINT: stop accepting everywhere, let open connections
    /// finish for up to `--drain-time-s`, then exit 0.
    func beginDrain() {
        guard state != .draining else { return }
        setState(.draining)
        drainedWorkers = 0
        let deadline = Timer(loop: mainLoop)
        deadline.start(afterMilliseconds: options.drainTimeSeconds * 1000) { [unowned self] in
            self.logger.info("drain time elapsed; exiting")
            self.shutdown(code: 0)
        }
        uptimeTimer = deadline
        admin?.close()
        let mainLoop = self.mainLoop
        for worker in workers {
            worker.loop.execute { [unowned self] in
                worker.drain {
                    mainLoop.execute { [unowned self] in
                        self.drainedWorkers += 1
                        if self.drainedWorkers == self.workers.count {
                            self.logger.info("all connections closed; exiting")
                            self.shutdown(code: 0)
                        }
                    }
                }
            }
        }
    }

    func shutdown(code: Int32) {
        exitCode = code
        for worker in workers { worker.loop.stop() }
        for worker in workers { worker.loop.join() }
        mainLoop.stop()
    }

    func fail(_ message: String) {
        logger.critical("\(message)")
        shutdown(code: 1)
    }
}

/// What to do once a listener is on every worker (nil) or could not be
/// bound (why): crosses threads inside posted closures, called only on the
/// main loop (hence `@unchecked Sendable`), at most once.
final class MainLoopCompletion: @unchecked Sendable {
    private var body: ((String?) -> Void)?
    init(_ body: @escaping (String?) -> Void) { self.body = body }

    func call(_ failure: String?) {
        let body = self.body
        self.body = nil
        body?(failure)
    }
}

/// A count that crosses threads inside closures but is only read and
/// written on the main loop (hence `@unchecked Sendable`).
final class MainLoopCounter: @unchecked Sendable {
    var value: Int
    init(_ value: Int) { self.value = value }
}
