import RemoraConfig
import RemoraCore
import RemoraEventLoop
import RemoraFilters

/// What listener filters learned about an accepted connection before its
/// filter chain is chosen, carried from filter to filter (and across a
/// `use_original_dst` hand-off, where the target listener's filters run too).
struct AcceptedConnectionState {
    /// Bytes the HTTP inspector read, in order; the chain's filter gets them first.
    var received: [ByteSlice] = []
    /// What `application_protocols` matching sees (set by the HTTP inspector).
    var applicationProtocols: [String] = []
}

/// `envoy.filters.listener.http_inspector` at work on one accepted
/// connection: the connection's delegate until a verdict, a close, or the
/// listener's `listener_filters_timeout`.
///
/// Envoy peeks (MSG_PEEK) and re-reads; Remora reads the bytes once into
/// the loop's pooled blocks, keeps the slices (at most 64 KiB plus the
/// last read) and replays them to the chosen chain's filter, so no byte is
/// lost or read twice and no extra syscall is made.
///
/// As in Envoy 1.40: a verdict sets the application protocol (or none) and
/// the remaining listener filters run; a peer that closes or resets before
/// a verdict has its connection closed (`downstream_listener_filter_remote_close`);
/// 64 KiB without a verdict counts `http_inspector.read_error` and closes;
/// the timeout counts `downstream_pre_cx_timeout` and closes, or with
/// `continue_on_listener_filters_timeout` goes on without a protocol.
/// A close after bytes were read is a reset, as Envoy's close of a socket
/// with unread bytes is.
///
/// Owned by the worker's loop. The connection holds it (as its delegate)
/// until it closes; the worker holds it while it waits (for drain).
final class HTTPInspection: ConnectionDelegate {
    enum Outcome {
        /// Go on with the listener's next filter, with what was learned.
        case proceed(AcceptedConnectionState)
        /// The connection was closed.
        case closed
    }

    private let connection: Connection
    private let listenerStats: Stats<ListenerStat>
    private let inspectorStats: Stats<HTTPInspectorStat>
    private let continueOnTimeout: Bool
    private var state: AcceptedConnectionState
    private var inspector = HTTPInspector()
    private var timer: Timer?
    private var onDone: ((HTTPInspection, Outcome) -> Void)?

    init(connection: Connection, state: AcceptedConnectionState, listenerStats: Stats<ListenerStat>,
         inspectorStats: Stats<HTTPInspectorStat>, continueOnTimeout: Bool,
         onDone: @escaping (HTTPInspection, Outcome) -> Void) {
        self.connection = connection
        self.state = state
        self.listenerStats = listenerStats
        self.inspectorStats = inspectorStats
        self.continueOnTimeout = continueOnTimeout
        self.onDone = onDone
    }

    /// Starts waiting for bytes; `onDone` may run before this returns (when
    /// bytes carried from a previous listener already decide).
    func start(loop: EventLoop, timeoutMilliseconds: UInt64) {
        listenerStats.add(.downstreamPreCxActive)
        connection.delegate = self
        for slice in state.received {
            if decide(inspector.inspect(slice)) { return }
        }
        if timeoutMilliseconds > 0 {
            let timer = Timer(loop: loop)
            self.timer = timer
            timer.start(afterMilliseconds: timeoutMilliseconds) { [unowned self] in self.timedOut() }
        }
        connection.startReading()
    }

    var isWaiting: Bool { onDone != nil }

    // MARK: - ConnectionDelegate

    func connection(_ connection: Connection, didRead data: ByteSlice) {
        guard isWaiting else { return }
        state.received.append(data)
        _ = decide(inspector.inspect(data))
    }

    func connectionDidReadEOF(_ connection: Connection) {
        // Envoy watches for the peer's close while it waits: any FIN or
        // reset before a verdict ends the connection.
        guard isWaiting else { return }
        listenerStats.add(.downstreamListenerFilterRemoteClose)
        close()
    }

    func connection(_ connection: Connection, didFailWith error: EventLoopError) {
        guard isWaiting else { return }
        listenerStats.add(error == .connectionReset ? .downstreamListenerFilterRemoteClose : .downstreamListenerFilterError)
        close()
    }

    func connectionDidClose(_ connection: Connection) {
        finish(.closed)
    }

    // MARK: - Decisions

    /// Acts on a verdict; true when the inspection is over.
    private func decide(_ verdict: HTTPInspector.Verdict) -> Bool {
        switch verdict {
        case .needMoreData:
            return false
        case .detected(let detected):
            switch detected {
            case .http10: inspectorStats.add(.http10Found)
            case .http11: inspectorStats.add(.http11Found)
            case .http2: inspectorStats.add(.http2Found)
            }
            state.applicationProtocols = detected.alpnList
            proceed()
        case .notHTTP:
            inspectorStats.add(.httpNotFound)
            proceed()
        case .tooLarge:
            inspectorStats.add(.readError)
            close()
        }
        return true
    }

    private func timedOut() {
        guard isWaiting else { return }
        listenerStats.add(.downstreamPreCxTimeout)
        if continueOnTimeout {
            proceed()
        } else {
            close()
        }
    }

    private func proceed() {
        connection.stopReading()
        finish(.proceed(state))
    }

    private func close() {
        guard isWaiting, !connection.isClosed else { return }
        connection.close(reset: !state.received.isEmpty)
        finish(.closed)
    }

    private func finish(_ outcome: Outcome) {
        guard let onDone else { return }
        self.onDone = nil
        timer?.close()
        timer = nil
        listenerStats.add(.downstreamPreCxActive, -1)
        if case .closed = outcome { state.received = [] }
        onDone(self, outcome)
    }
}
