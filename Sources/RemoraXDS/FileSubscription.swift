import RemoraAPI
import RemoraConfig
import RemoraCore
import RemoraEventLoop
#if canImport(Glibc)
import Glibc
#endif

/// A `path_config_source` subscription (Envoy's `FilesystemSubscriptionImpl`):
/// the file holds a `DiscoveryResponse` (YAML or JSON) with every resource of
/// the type, read when the subscription starts and again whenever a file is
/// moved onto the path (or, with `watched_directory`, into that directory).
/// Each read is a state-of-the-world update.
///
/// On the main loop. A file that cannot be read or parsed counts
/// `update_failure` and keeps the config as it was; an update the handler
/// refuses counts `update_rejected`.
final class FileSubscription: XDSSubscription {
    private let loop: EventLoop
    private let type: XDSResourceType
    private let path: String
    private let stats: Stats<XDSSubscriptionStat>
    private weak var handler: (any XDSUpdateHandler)?
    private let watcher: FileWatcher
    private var tokens: [FileWatcher.Token] = []
    private var firstRead: Timer?
    private var names: Set<String>
    /// Names delivered by the last accepted read (for removals of wildcard types).
    private var known: Set<String> = []
    private var hadFirstUpdate = false
    private var cancelled = false

    init(loop: EventLoop, watcher: FileWatcher, type: XDSResourceType, path: String, watchedDirectory: String?,
         names: Set<String>, stats: Stats<XDSSubscriptionStat>, handler: any XDSUpdateHandler) throws(EventLoopError) {
        loop.assertInLoop()
        self.loop = loop
        self.type = type
        self.path = path
        self.names = names
        self.stats = stats
        self.handler = handler
        self.watcher = watcher
        // As Envoy: with a watched_directory, moves there reload the file; else moves onto the file do.
        if let watchedDirectory {
            tokens.append(try watcher.watchMovedTo(directory: watchedDirectory, name: nil) { [weak self] in self?.refresh() })
        } else {
            let (directory, file) = Self.split(path)
            tokens.append(try watcher.watchMovedTo(directory: directory, name: file) { [weak self] in self?.refresh() })
        }
        // The first read comes on the next loop turn, so that the caller has
        // finished setting up before its handler is called.
        let first = Timer(loop: loop)
        first.start(afterMilliseconds: 0) { [weak self] in self?.refresh() }
        firstRead = first
    }

    func setResourceNames(_ names: Set<String>) {
        loop.assertInLoop()
        guard names != self.names else { return }
        let added = !names.subtracting(self.names).isEmpty
        self.names = names
        // The file may already hold what is now asked for.
        if added && hadFirstUpdate { refresh() }
    }

    func cancel() {
        cancelled = true
        firstRead?.close()
        for token in tokens { watcher.unwatch(token) }
        tokens = []
    }

    private func refresh() {
        guard !cancelled, let handler else { return }
        stats.add(.updateAttempt)
        let response: Envoy_Service_Discovery_V3_DiscoveryResponse
        do {
            response = try BootstrapLoader.load(Envoy_Service_Discovery_V3_DiscoveryResponse.self, path: path)
        } catch {
            stats.add(.updateFailure)
            LogControl.shared.log(.warning, logger: "config", "Filesystem config update failure: \(error)")
            failFirstFetch(handler)
            return
        }
        var updated: [XDSResource] = []
        var present: Set<String> = []
        for (i, read) in response.resources.enumerated() {
            // A resource read from JSON is held as JSON until its bytes are
            // asked for; turned into bytes once here, the name is read from
            // them and the handler decodes bytes, not the JSON again.
            var resource = read
            resource.value = read.value
            guard let name = XDSResourceName.peek(resource, type: type) else {
                reject(handler, "\(path): resources[\(i)]: type URL \(resource.typeURL) is not \(type.typeURL) "
                    + "or the resource cannot be read")
                return
            }
            guard present.insert(name).inserted else {
                reject(handler, "\(path): duplicate \(type.shortName) resource '\(name)'")
                return
            }
            if type.isWildcard || names.contains(name) {
                updated.append(XDSResource(name: name, version: response.versionInfo, resource: resource))
            }
        }
        let removed = type.isWildcard ? known.subtracting(present).sorted() : []
        let update = XDSUpdate(type: type, versionInfo: response.versionInfo, updated: updated, removed: removed,
                               isStateOfTheWorld: true)
        do throws(XDSRejection) {
            try handler.apply(update)
        } catch {
            reject(handler, error.message)
            return
        }
        if type.isWildcard { known = present }
        hadFirstUpdate = true
        stats.set(.updateTime, Self.nowMilliseconds())
        stats.set(.version, Int64(bitPattern: XXHash64.hash(response.versionInfo)))
        stats.setText("version_text", response.versionInfo)
        stats.add(.updateSuccess)
    }

    private func reject(_ handler: any XDSUpdateHandler, _ message: String) {
        stats.add(.updateRejected)
        LogControl.shared.log(.warning, logger: "config", "Filesystem config update rejected: \(message)")
        failFirstFetch(handler)
    }

    /// Envoy ends the initial fetch on a failed or rejected first read, so
    /// that start-up goes on without it.
    private func failFirstFetch(_ handler: any XDSUpdateHandler) {
        guard !hadFirstUpdate else { return }
        hadFirstUpdate = true
        handler.initialFetchFailed(type)
    }

    private static func split(_ path: String) -> (directory: String, file: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }

    private static func nowMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
