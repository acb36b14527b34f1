#if canImport(Glibc)
import Glibc
#endif
import RemoraConfig
import RemoraCore
import RemoraEventLoop
import RemoraTLS
import RemoraXDS

/// SDS secrets and the TLS contexts built from them (Envoy's `SdsApi` and
/// secret manager): one subscription per secret, and a watch on the files
/// a secret names. When a secret or its files change, every context that
/// read it is built again and swapped in: new handshakes use the new
/// certificate, sessions already made keep theirs. A secret or file that
/// does not build keeps the old context (the update is refused, or
/// `sds.<name>.key_rotation_failed` counts a bad file).
///
/// On the main loop.
final class SecretManager {
    let loop: EventLoop
    private let store: StatsStore
    /// The bootstrap's contexts, read for the server's whole life.
    private let staticDependencies: [SDSContextDependency]
    /// The contexts of listeners and clusters that came over xDS, by owner
    /// (one per version of a listener or cluster): released with it.
    private var owned: [String: [SDSContextDependency]] = [:]
    /// The secrets as last accepted, by name.
    private(set) var current: [String: SDSSecret.Secret] = [:]
    /// For /config_dump: each secret's last accepted `version_info` and
    /// when (or when it was first asked for, while it is awaited).
    private var versions: [String: (versionInfo: String, at: Double)] = [:]
    private var watches: [String: SecretWatch] = [:]
    /// Secrets whose first update (or failed first fetch) is still awaited.
    private var warming: Set<String> = []
    private var onWarm: (() -> Void)?
    /// Owners waiting for secrets to warm, and what to do then.
    private var waiters: [(owner: String, pending: Set<String>, action: () -> Void)] = []
    private var factory: XDSSubscriptionFactory?

    init(loop: EventLoop, store: StatsStore, dependencies: [SDSContextDependency]) {
        self.loop = loop
        self.store = store
        staticDependencies = dependencies
        for source in dependencies.flatMap(\.secrets) {
            if let secret = source.secret { current[source.name] = secret }
        }
    }

    private var dependencies: [SDSContextDependency] {
        staticDependencies + owned.values.joined()
    }

    /// Subscribes to every secret the contexts read; `warm` runs once every
    /// secret had its first update or its initial fetch failed (Envoy's
    /// listeners and clusters wait for their secrets the same way).
    func start(_ factory: XDSSubscriptionFactory, warm: @escaping () -> Void) throws(ConfigError) {
        self.factory = factory
        onWarm = warm
        try subscribe(staticDependencies.flatMap(\.secrets))
        checkWarm()
    }

    private func subscribe(_ sources: [SDSSecretSource]) throws(ConfigError) {
        guard let factory else { return }
        for source in sources where watches[source.name] == nil {
            let watch = SecretWatch(name: source.name, manager: self, store: store, factory: factory)
            watches[source.name] = watch
            versions[source.name] = ("uninitialized", Self.now())
            warming.insert(source.name)
            if current[source.name] == nil, let secret = source.secret { current[source.name] = secret }
            if let secret = current[source.name] { watch.watchFiles(of: secret) }
            watch.subscription = try factory.subscribe(.secret, source: source.source, names: [source.name],
                                                       statPrefix: "sds.\(source.name).", handler: watch)
        }
    }

    /// A listener or cluster from xDS whose TLS contexts read SDS secrets:
    /// subscribes to the secrets nobody asked for yet, rebuilds those
    /// contexts when the secrets change, and runs `warm` once each secret
    /// had its first update or initial fetch timeout (at once if all had).
    func register(_ dependencies: [SDSContextDependency], owner: String, warm: @escaping () -> Void) throws(ConfigError) {
        let sources = dependencies.flatMap(\.secrets)
        owned[owner, default: []] += dependencies
        do throws(ConfigError) {
            try subscribe(sources)
        } catch {
            release(owner: owner)
            throw error
        }
        let pending = Set(sources.map(\.name)).intersection(warming)
        if pending.isEmpty {
            warm()
        } else {
            waiters.append((owner, pending, warm))
        }
    }

    /// The listener or cluster version `owner` is gone: secrets no context
    /// reads any more are unsubscribed (Envoy drops an SDS subscription
    /// with its last user).
    func release(owner: String) {
        guard owned.removeValue(forKey: owner) != nil else { return }
        waiters.removeAll { $0.owner == owner }
        let read = Set(dependencies.flatMap { $0.secrets.map(\.name) })
        for (name, watch) in watches where !read.contains(name) {
            watch.cancel()
            watches[name] = nil
            current[name] = nil
            versions[name] = nil
            warming.remove(name)
        }
    }

    /// `name` had its first update, or will not have one soon.
    fileprivate func warmed(_ name: String) {
        guard warming.remove(name) != nil else { return }
        var ready: [() -> Void] = []
        waiters = waiters.compactMap { waiter in
            var pending = waiter.pending
            pending.remove(name)
            if pending.isEmpty {
                ready.append(waiter.action)
                return nil
            }
            return (waiter.owner, pending, waiter.action)
        }
        for action in ready { action() }
        checkWarm()
    }

    private func checkWarm() {
        guard warming.isEmpty, let warm = onWarm else { return }
        onWarm = nil
        warm()
    }

    /// The secret's first update (or failed first fetch) is still awaited.
    func isWarming(_ name: String) -> Bool { warming.contains(name) }

    /// `dynamic_active_secrets` and `dynamic_warming_secrets` of /config_dump,
    /// by name.
    func configDump(timestamp: (Double) -> String) -> SecretsDump {
        var dump = SecretsDump()
        for name in watches.keys.sorted() {
            let (versionInfo, at) = versions[name] ?? ("", 0)
            if warming.contains(name) || current[name] == nil {
                dump.warming.append(.init(name: name, versionInfo: "uninitialized", lastUpdated: timestamp(at), secret: nil))
            } else {
                dump.active.append(.init(name: name, versionInfo: versionInfo, lastUpdated: timestamp(at), secret: current[name]))
            }
        }
        return dump
    }

    private static func now() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// A new version of `name` arrived: rebuild what reads it, or refuse.
    fileprivate func update(_ name: String, to secret: SDSSecret.Secret, versionInfo: String) throws(XDSRejection) {
        let previous = current[name]
        if let previous, previous == secret {
            // The bootstrap read it already: its first delivery only says which
            // version it is (Envoy builds its contexts then, and counts it).
            if versions[name]?.versionInfo == "uninitialized" {
                versions[name] = (versionInfo, Self.now())
                for reader in readers(of: name) { reader.context.countUpdateBySDS() }
            }
            return
        }
        current[name] = secret
        do throws(ConfigError) {
            try rebuild(readers(of: name), secretChanged: true)
        } catch {
            current[name] = previous
            throw XDSRejection("secret '\(name)': \(error)")
        }
        versions[name] = (versionInfo, Self.now())
        watches[name]?.watchFiles(of: secret)
    }

    /// A file of `name` was moved: read its files again.
    fileprivate func filesMoved(_ name: String) {
        guard current[name] != nil else { return }
        do throws(ConfigError) {
            try rebuild(readers(of: name), secretChanged: false)
            LogControl.shared.log(.info, logger: "secret", "secret '\(name)': files reloaded")
        } catch {
            watches[name]?.rotationFailed()
            LogControl.shared.log(.warning, logger: "secret", "secret '\(name)': cannot reload its files, keeping the old ones: \(error)")
        }
    }

    private func readers(of name: String) -> [SDSContextDependency] {
        dependencies.filter { $0.secrets.contains { $0.name == name } }
    }

    /// Builds every context's settings first, then swaps them all, so a
    /// failure leaves every context as it was.
    private func rebuild(_ readers: [SDSContextDependency], secretChanged: Bool) throws(ConfigError) {
        var built: [(TLSContext, TLSSettings)] = []
        for reader in readers {
            // The secrets it reads that have not arrived yet keep what the config was built with.
            let settings = try reader.rebuild(current)
            // A move that changed no bytes changes nothing (Envoy compares file hashes).
            let now = reader.context.settings
            if !secretChanged && settings.certificateChainPEM == now.certificateChainPEM
                && settings.privateKeyPEM == now.privateKeyPEM && settings.privateKeyPassword == now.privateKeyPassword
                && settings.trustedCAPEM == now.trustedCAPEM
                && settings.revocationListPEM == now.revocationListPEM && settings.additionalCertificates == now.additionalCertificates
                && settings.ocspStaples == now.ocspStaples && settings.sessionTicketKeys == now.sessionTicketKeys {
                continue
            }
            built.append((reader.context, settings))
        }
        for (context, settings) in built {
            do throws(TLSConfigError) {
                try context.replace(with: settings)
            } catch {
                throw .invalid(error.message, at: error.field)
            }
        }
        for (context, _) in built { context.countUpdateBySDS() }
    }
}

/// One secret's subscription and file watch.
private final class SecretWatch: XDSUpdateHandler {
    let name: String
    unowned let manager: SecretManager
    var subscription: (any XDSSubscription)?
    private let factory: XDSSubscriptionFactory
    private var tokens: [FileWatcher.Token] = []
    private var watchedFiles: ([String], String?) = ([], nil)
    private let stats: StatSlots

    init(name: String, manager: SecretManager, store: StatsStore, factory: XDSSubscriptionFactory) {
        self.name = name
        self.manager = manager
        self.factory = factory
        stats = store.makeScope(prefix: "sds.\(name).", stats: [("key_rotation_failed", .counter)]).slots(thread: 0)
    }

    func apply(_ update: XDSUpdate) throws(XDSRejection) {
        guard let resource = update.updated.first(where: { $0.name == name }) else { return }
        let secret: SDSSecret.Secret
        do throws(ConfigError) {
            secret = try SDSSecret.decode(resource.resource, at: "secret '\(name)'")
        } catch {
            throw XDSRejection("\(error)")
        }
        defer { manager.warmed(name) }
        try manager.update(name, to: secret, versionInfo: resource.version)
    }

    func initialFetchFailed(_ type: XDSResourceType) { manager.warmed(name) }

    /// Nobody reads the secret any more.
    func cancel() {
        subscription?.cancel()
        subscription = nil
        if let watcher = try? factory.fileWatcher() {
            for token in tokens { watcher.unwatch(token) }
        }
        tokens = []
    }

    func rotationFailed() { stats.add(0) }

    func watchFiles(of secret: SDSSecret.Secret) {
        let (files, directory) = SDSSecret.files(of: secret)
        guard files != watchedFiles.0 || directory != watchedFiles.1 else { return }
        watchedFiles = (files, directory)
        guard let watcher = try? factory.fileWatcher() else { return }
        for token in tokens { watcher.unwatch(token) }
        tokens = []
        guard !files.isEmpty else { return }
        do throws(EventLoopError) {
            if let directory {
                tokens.append(try watcher.watchMovedTo(directory: directory, name: nil) { [unowned self] in
                    self.manager.filesMoved(self.name)
                })
            } else {
                for file in files {
                    let slash = file.lastIndex(of: "/")
                    let dir = slash.map { String(file[..<$0]) } ?? "."
                    let base = slash.map { String(file[file.index(after: $0)...]) } ?? file
                    tokens.append(try watcher.watchMovedTo(directory: dir.isEmpty ? "/" : dir, name: base) { [unowned self] in
                        self.manager.filesMoved(self.name)
                    })
                }
            }
        } catch {
            LogControl.shared.log(.warning, logger: "secret", "secret '\(name)': cannot watch its files: \(error)")
        }
    }
}
