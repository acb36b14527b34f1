public import RemoraAPI
public import RemoraConfig
public import RemoraCore
public import RemoraEventLoop
import RemoraHTTP
public import RemoraUpstream
import SwiftProtobuf

/// Envoy's management-server stats (`control_plane.*`, `ControlPlaneStats`):
/// rooted at `control_plane.` for ADS, under the subscription's prefix for
/// an `api_config_source`.
public enum XDSControlPlaneStat: Int, StatName {
    case rateLimitEnforced, connectedState, pendingRequests

    public var name: String {
        switch self {
        case .rateLimitEnforced: "rate_limit_enforced"
        case .connectedState: "connected_state"
        case .pendingRequests: "pending_requests"
        }
    }

    public var kind: StatKind { self == .rateLimitEnforced ? .counter : .gauge }
}

/// What an xDS gRPC stream offers its users: subscriptions by type.
public protocol XDSGRPCMuxing: AnyObject {
    /// Watches `type` on this stream (one subscription per type; wildcard
    /// types ignore `names`). The stream opens on the loop's next turn after
    /// the first subscription, so that those made together ask together.
    func subscribe(_ type: XDSResourceType, names: Set<String>, statPrefix: String,
                   initialFetchTimeoutMilliseconds: UInt64, handler: any XDSUpdateHandler) -> any XDSSubscription
    /// The stream is up (`control_plane.connected_state`).
    var isConnected: Bool { get }
    /// Closes the stream for good; no handler call follows.
    func shutdown()
}

/// One xDS gRPC stream (Envoy's `GrpcMuxImpl`/`NewGrpcMuxImpl` with its
/// `GrpcStream`): a protocol state machine (`Machine`) driven by a
/// `GRPCAsyncClient` call, re-opened after a failure with jittered
/// exponential back-off, its subscriptions asked again on every new stream.
/// A failed stream keeps the last good config: handlers simply hear nothing
/// (their `update_failure` counts). Everything runs on `loop` (main).
final class XDSGRPCMux<Machine: XDSMuxMachine>: XDSGRPCMuxing, XDSGRPCMuxInternal, GRPCStreamCallbacks {
    private let loop: EventLoop
    private let client: GRPCAsyncClient
    private let method: XDSGRPCMethod
    private var machine: Machine
    private let stats: Stats<XDSControlPlaneStat>
    private let store: StatsStore
    /// Called before each stream opens (refreshes the cluster's hosts).
    private let beforeConnect: () -> Void
    private var backOff: XDSBackOff
    private var stream: GRPCStream?
    private let timer: Timer
    private var started = false
    private var stopped = false
    /// By type; weak, the subscription's owner keeps it.
    private var subscriptions: [XDSResourceType: Weak] = [:]
    /// Delays of the re-connections so far (tests read them).
    private(set) var retryDelays: [UInt64] = []

    private struct Weak { weak var subscription: XDSGRPCSubscription? }

    init(loop: EventLoop, client: GRPCAsyncClient, method: XDSGRPCMethod, machine: Machine, controlPlaneStats: StatScope,
         store: StatsStore, backOff: XDSBackOff = XDSBackOff(), beforeConnect: @escaping () -> Void = {}) {
        self.loop = loop
        self.client = client
        self.method = method
        self.machine = machine
        self.stats = controlPlaneStats.stats(XDSControlPlaneStat.self, thread: 0)
        self.store = store
        self.backOff = backOff
        self.beforeConnect = beforeConnect
        self.timer = Timer(loop: loop)
    }

    deinit {
        timer.close()
    }

    var isConnected: Bool { stream != nil }

    func subscribe(_ type: XDSResourceType, names: Set<String>, statPrefix: String, initialFetchTimeoutMilliseconds: UInt64,
                   handler: any XDSUpdateHandler) -> any XDSSubscription {
        loop.assertInLoop()
        precondition(subscriptions[type]?.subscription == nil, "one subscription per type and stream")
        let scope = store.makeScope(prefix: statPrefix, XDSSubscriptionStat.self)
        let subscription = XDSGRPCSubscription(type: type, mux: self, handler: handler, stats: scope, loop: loop,
                                               initialFetchTimeoutMilliseconds: initialFetchTimeoutMilliseconds)
        subscriptions[type] = Weak(subscription: subscription)
        subscription.stats.add(.updateAttempt)
        send(machine.subscribe(type, names: names))
        if !started {
            started = true
            timer.start(afterMilliseconds: 0) { [unowned self] in self.connect() }
        }
        return subscription
    }

    func setNames(_ type: XDSResourceType, _ names: Set<String>) {
        send(machine.setNames(type, names))
    }

    func unsubscribe(_ type: XDSResourceType) {
        subscriptions[type] = nil
        send(machine.unsubscribe(type))
    }

    func shutdown() {
        stopped = true
        timer.stop()
        subscriptions = [:]
        if let stream {
            self.stream = nil
            stream.resetStream()
        }
        machine.streamClosed()
        stats.set(.connectedState, 0)
    }

    // MARK: - Stream

    private func connect() {
        guard !stopped, stream == nil else { return }
        beforeConnect()
        stream = client.startStream(service: method.service, method: method.method, callbacks: self)
        stats.set(.connectedState, 1)
        stats.set(.pendingRequests, 0)
        send(machine.streamEstablished())
    }

    private func send(_ requests: [Machine.Request]) {
        guard let stream else { return }
        for request in requests {
            guard let bytes: [UInt8] = try? request.serializedBytes() else { continue }
            stream.sendMessage(bytes)
        }
    }

    func onReceiveInitialMetadata(_ metadata: HTTPHeaders) {}
    func onReceiveTrailingMetadata(_ metadata: HTTPHeaders) {}

    func onReceiveMessage(_ message: [UInt8]) {
        // GrpcStream: a message resets the back-off and marks the stream up.
        backOff.reset()
        stats.set(.connectedState, 1)
        guard let response = try? Machine.Response(serializedBytes: message) else {
            // The typed client fails a call whose message does not parse.
            stream?.resetStream()
            onRemoteClose(status: .internal, message: "cannot parse the discovery response")
            return
        }
        handle(machine.receive(response))
    }

    func onRemoteClose(status: GRPCStatus, message: String) {
        stream = nil
        stats.set(.connectedState, 0)
        machine.streamClosed()
        for entry in subscriptions.values {
            entry.subscription?.connectionFailed()
        }
        guard !stopped else { return }
        let delay = backOff.nextMilliseconds()
        retryDelays.append(delay)
        timer.start(afterMilliseconds: delay) { [unowned self] in self.connect() }
    }

    // MARK: - Responses

    private func handle(_ outcome: XDSResponseOutcome<Machine.Request>) {
        switch outcome {
        case .ignored:
            return
        case .reply(let requests):
            send(requests)
        case .acknowledge:
            send(machine.complete(rejection: nil))
        case .reject(let type, let rejection):
            subscriptions[type]?.subscription?.rejected(rejection)
            send(machine.complete(rejection: rejection))
        case .deliver(let update):
            var verdict: XDSRejection?
            if let subscription = subscriptions[update.type]?.subscription {
                verdict = subscription.deliver(update)
            }
            send(machine.complete(rejection: verdict))
        }
    }
}

/// Makes xDS gRPC streams for `GRPCSourceConfig`s (`ads_config`, and each
/// `api_config_source` subscription, which gets a stream of its own).
public enum XDSGRPCStreams {
    /// A stream over `cluster` (a main-loop `WorkerCluster` of the source's
    /// static cluster); `beforeConnect` runs before each (re)connection.
    public static func make(source: GRPCSourceConfig, method: XDSGRPCMethod, cluster: WorkerCluster, loop: EventLoop,
                            node: Envoy_Config_Core_V3_Node, controlPlaneStatPrefix: String, store: StatsStore,
                            beforeConnect: @escaping () -> Void = {}) throws(GRPCClientError) -> any XDSGRPCMuxing {
        try make(source: source, method: method, cluster: cluster, loop: loop, node: node,
                 controlPlaneStatPrefix: controlPlaneStatPrefix, store: store, backOff: XDSBackOff(), beforeConnect: beforeConnect)
    }

    static func make(source: GRPCSourceConfig, method: XDSGRPCMethod, cluster: WorkerCluster, loop: EventLoop,
                     node: Envoy_Config_Core_V3_Node, controlPlaneStatPrefix: String, store: StatsStore, backOff: XDSBackOff,
                     beforeConnect: @escaping () -> Void) throws(GRPCClientError) -> any XDSGRPCMuxing {
        let client = try GRPCAsyncClient(cluster: cluster, loop: loop, options: .init(authority: source.authority))
        let scope = store.makeScope(prefix: controlPlaneStatPrefix + "control_plane.", XDSControlPlaneStat.self)
        if source.delta {
            return XDSGRPCMux(loop: loop, client: client, method: method, machine: DeltaMuxState(node: node),
                              controlPlaneStats: scope, store: store, backOff: backOff, beforeConnect: beforeConnect)
        }
        return XDSGRPCMux(loop: loop, client: client, method: method,
                          machine: SotWMuxState(node: node, setNodeOnFirstMessageOnly: source.setNodeOnFirstMessageOnly),
                          controlPlaneStats: scope, store: store, backOff: backOff, beforeConnect: beforeConnect)
    }

    /// An `api_config_source` subscription: its own stream to the type's
    /// service, closed when the subscription is cancelled. Its
    /// `control_plane.*` stats go under `statPrefix`, as Envoy scopes them.
    public static func subscribe(_ type: XDSResourceType, source: GRPCSourceConfig, cluster: WorkerCluster, loop: EventLoop,
                                 node: Envoy_Config_Core_V3_Node, names: Set<String>, statPrefix: String,
                                 initialFetchTimeoutMilliseconds: UInt64, store: StatsStore, handler: any XDSUpdateHandler,
                                 beforeConnect: @escaping () -> Void = {}) throws(GRPCClientError) -> any XDSSubscription {
        let mux = try make(source: source, method: .perType(type, delta: source.delta), cluster: cluster, loop: loop, node: node,
                           controlPlaneStatPrefix: statPrefix, store: store, beforeConnect: beforeConnect)
        let subscription = mux.subscribe(type, names: names, statPrefix: statPrefix,
                                         initialFetchTimeoutMilliseconds: initialFetchTimeoutMilliseconds, handler: handler)
        (subscription as? XDSGRPCSubscription)?.ownedMux = mux
        return subscription
    }
}
