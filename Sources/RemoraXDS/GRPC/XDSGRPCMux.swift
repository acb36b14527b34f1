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
    /// Watches `type` on this stream (wildcard types ignore `names`). Several
    /// watches of one type share it: the stream asks for the union of their
    /// names and each hears of its own (Envoy's `WatchMap`). The stream opens on the loop's next turn after
    /// the first subscription, so that those made together ask together.
    func subscribe(_ type: XDSResourceType, names: Set<String>, stats: Stats<XDSSubscriptionStat>,
                   initialFetchTimeoutMilliseconds: UInt64, handler: any XDSUpdateHandler) -> any XDSSubscription
    /// The stream is up (`control_plane.connected_state`).
    var isConnected: Bool { get }
    /// A live subscription to `type` is on this stream.
    func hasSubscription(_ type: XDSResourceType) -> Bool
    /// Closes the stream for good; no handler call follows.
    func shutdown()
    /// Holds back `type`'s requests, its ACKs included, until as many
    /// `resumeRequests` (Envoy's `GrpcMux::pause`); responses are still handled.
    func pauseRequests(_ type: XDSResourceType)
    /// Ends one `pauseRequests`; what was held back goes out once none is left.
    func resumeRequests(_ type: XDSResourceType)
}

/// One xDS gRPC stream (Envoy's `GrpcMuxImpl`/`NewGrpcMuxImpl` with its
/// `GrpcStream`): a protocol state machine (`Machine`) driven by a
/// `GRPCAsyncClient` call, re-opened after a failure with jittered
/// exponential back-off, its subscriptions asked again on every new stream.
/// A failed stream keeps the last good config: handlers simply hear nothing
/// (their `update_failure` counts). Everything runs on `loop` (main).
final class XDSGRPCMux<Machine: XDSMuxMachine>: XDSGRPCMuxing, XDSGRPCMuxInternal, GRPCStreamCallbacks {
    private let loop: EventLoop
    /// The client of each new stream (nil: the cluster is not there yet,
    /// which counts as a failed connection).
    private let client: () -> GRPCAsyncClient?
    private let method: XDSGRPCMethod
    private var machine: Machine
    private let stats: Stats<XDSControlPlaneStat>
    private var backOff: XDSBackOff
    private var stream: GRPCStream?
    private let timer: Timer
    private var started = false
    private var stopped = false
    /// The watches of each type; weak, the subscription's owner keeps it.
    private var subscriptions: [XDSResourceType: [Weak]] = [:]
    /// Delays of the re-connections so far (tests read them).
    private(set) var retryDelays: [UInt64] = []
    /// `rate_limit_settings`: requests wait in `queued` for a token; a
    /// timer sends them when the next one is due (Envoy's drain timer).
    private var rateLimit: XDSTokenBucket?
    private var queued: [Machine.Request] = []
    private var queuedHead = 0
    private var drainTimer: Timer?
    /// `pending_requests` is set once it was non-zero (Envoy's `used()` check).
    private var pendingRequestsUsed = false

    private struct Weak { weak var subscription: XDSGRPCSubscription? }

    /// `initial_metadata`: sent on every stream's head.
    private let metadata: [(name: String, value: String)]

    init(loop: EventLoop, client: @escaping () -> GRPCAsyncClient?, method: XDSGRPCMethod, machine: Machine,
         controlPlaneStats: StatScope, backOff: XDSBackOff = XDSBackOff(), rateLimit: GRPCSourceConfig.RateLimitSettings? = nil,
         metadata: [(name: String, value: String)] = []) {
        self.metadata = metadata
        self.loop = loop
        self.client = client
        self.method = method
        self.machine = machine
        self.stats = controlPlaneStats.stats(XDSControlPlaneStat.self, thread: 0)
        stats.setText("identifier", "")
        self.backOff = backOff
        self.timer = Timer(loop: loop)
        if let rateLimit {
            self.rateLimit = XDSTokenBucket(maxTokens: rateLimit.maxTokens, fillRatePerSecond: rateLimit.fillRatePerSecond,
                                            nowMilliseconds: loop.nowMilliseconds)
            drainTimer = Timer(loop: loop)
        }
    }

    deinit {
        timer.close()
        drainTimer?.close()
    }

    var isConnected: Bool { stream != nil }

    func hasSubscription(_ type: XDSResourceType) -> Bool { !watches(type).isEmpty }

    private func watches(_ type: XDSResourceType) -> [XDSGRPCSubscription] {
        subscriptions[type]?.compactMap(\.subscription) ?? []
    }

    private func unionOfNames(_ type: XDSResourceType) -> Set<String> {
        watches(type).reduce(into: Set<String>()) { $0.formUnion($1.names) }
    }

    func subscribe(_ type: XDSResourceType, names: Set<String>, stats: Stats<XDSSubscriptionStat>,
                   initialFetchTimeoutMilliseconds: UInt64, handler: any XDSUpdateHandler) -> any XDSSubscription {
        loop.assertInLoop()
        let others = watches(type)
        let subscription = XDSGRPCSubscription(type: type, names: names, mux: self, handler: handler, stats: stats, loop: loop,
                                               initialFetchTimeoutMilliseconds: initialFetchTimeoutMilliseconds)
        subscriptions[type] = others.map { Weak(subscription: $0) } + [Weak(subscription: subscription)]
        subscription.stats.add(.updateAttempt)
        send(others.isEmpty ? machine.subscribe(type, names: names) : machine.setNames(type, unionOfNames(type)))
        if !started {
            started = true
            timer.start(afterMilliseconds: 0) { [unowned self] in self.connect() }
        }
        return subscription
    }

    func namesChanged(_ type: XDSResourceType) {
        send(machine.setNames(type, unionOfNames(type)))
    }

    func unsubscribe(_ subscription: XDSGRPCSubscription) {
        let type = subscription.type
        let rest = watches(type).filter { $0 !== subscription }
        subscriptions[type] = rest.isEmpty ? nil : rest.map { Weak(subscription: $0) }
        send(rest.isEmpty ? machine.unsubscribe(type) : machine.setNames(type, unionOfNames(type)))
    }

    func pauseRequests(_ type: XDSResourceType) {
        loop.assertInLoop()
        machine.pause([type])
    }

    func resumeRequests(_ type: XDSResourceType) {
        loop.assertInLoop()
        send(machine.resume([type]))
    }

    func shutdown() {
        stopped = true
        timer.stop()
        drainTimer?.stop()
        clearQueue()
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
        guard let client = client() else {
            onRemoteClose(status: .unavailable, message: "no cluster for the xDS stream")
            return
        }
        stream = client.startStream(service: method.service, method: method.method, metadata: metadata, callbacks: self)
        stats.set(.connectedState, 1)
        clearQueue()
        send(machine.streamEstablished())
    }

    private func send(_ requests: [Machine.Request]) {
        guard stream != nil, !requests.isEmpty else { return }
        guard rateLimit != nil else {
            for request in requests { write(request) }
            return
        }
        queued += requests
        drainQueue()
    }

    private func write(_ request: Machine.Request) {
        guard let stream, let bytes: [UInt8] = try? request.serializedBytes() else { return }
        stream.sendMessage(bytes)
    }

    /// Envoy's `drainRequests`: sends while there are tokens; the first
    /// refusal counts `rate_limit_enforced` and arms the drain timer.
    private func drainQueue() {
        guard stream != nil, var bucket = rateLimit else { return }
        while queuedHead < queued.count {
            guard bucket.consume(nowMilliseconds: loop.nowMilliseconds) else {
                stats.add(.rateLimitEnforced)
                if let drainTimer, !drainTimer.isActive {
                    drainTimer.start(afterMilliseconds: Swift.max(1, bucket.millisecondsToNextToken())) { [unowned self] in
                        self.drainQueue()
                    }
                }
                break
            }
            let request = queued[queuedHead]
            queuedHead += 1
            write(request)
        }
        rateLimit = bucket
        if queuedHead == queued.count {
            queued.removeAll(keepingCapacity: true)
            queuedHead = 0
        }
        setPendingRequests(queued.count - queuedHead)
    }

    private func clearQueue() {
        queued = []
        queuedHead = 0
        setPendingRequests(0)
    }

    private func setPendingRequests(_ count: Int) {
        guard count > 0 || pendingRequestsUsed else { return }
        pendingRequestsUsed = true
        stats.set(.pendingRequests, Int64(count))
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
        if let identifier = (response as? any XDSControlPlaneNaming)?.controlPlaneIdentifier {
            stats.setText("identifier", identifier)
        }
        handle(machine.receive(response))
    }

    func onRemoteClose(status: GRPCStatus, message: String) {
        stream = nil
        drainTimer?.stop()
        stats.set(.connectedState, 0)
        machine.streamClosed()
        for watch in subscriptions.values.joined() {
            watch.subscription?.connectionFailed()
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
            for watch in watches(type) { watch.rejected(rejection) }
            send(machine.complete(rejection: rejection))
        case .deliver(let update):
            // One watch takes the update as it is; several take their shares,
            // and the first refusal is the NACK's.
            let watches = watches(update.type)
            var verdict: XDSRejection?
            for watch in watches {
                guard let share = watches.count == 1 ? update : watch.share(of: update) else { continue }
                if let refusal = watch.deliver(share), verdict == nil { verdict = refusal }
            }
            send(machine.complete(rejection: verdict))
        }
    }
}

/// Makes xDS gRPC streams (one for `ads_config`, one per `api_config_source`
/// subscription).
enum XDSGRPCStreams {
    static func make(delta: Bool, setNodeOnFirstMessageOnly: Bool, method: XDSGRPCMethod, loop: EventLoop,
                     node: Envoy_Config_Core_V3_Node, controlPlaneStats: StatScope, backOff: XDSBackOff = XDSBackOff(),
                     rateLimit: GRPCSourceConfig.RateLimitSettings? = nil, metadata: [(name: String, value: String)] = [],
                     client: @escaping () -> GRPCAsyncClient?) -> any XDSGRPCMuxing {
        if delta {
            return XDSGRPCMux(loop: loop, client: client, method: method, machine: DeltaMuxState(node: node, setNodeOnFirstMessageOnly: setNodeOnFirstMessageOnly),
                              controlPlaneStats: controlPlaneStats, backOff: backOff, rateLimit: rateLimit, metadata: metadata)
        }
        return XDSGRPCMux(loop: loop, client: client, method: method,
                          machine: SotWMuxState(node: node, setNodeOnFirstMessageOnly: setNodeOnFirstMessageOnly),
                          controlPlaneStats: controlPlaneStats, backOff: backOff, rateLimit: rateLimit, metadata: metadata)
    }
}
