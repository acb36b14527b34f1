import Synchronization

/// Envoy's "health check failed" state (`POST /healthcheck/fail`, undone by
/// `/healthcheck/ok`): while set, every HTTP connection closes after its
/// response (`connection: close`), `/ready` answers 503 `DRAINING` and
/// `server.live` is 0. Set on the main thread, read by workers.
public final class ServerHealth: Sendable {
    private let failed = Atomic<Bool>(false)

    public init() {}

    public var isFailed: Bool { failed.load(ordering: .relaxed) }

    public func setFailed(_ value: Bool) { failed.store(value, ordering: .relaxed) }
}
