import RemoraConfig
import RemoraCore
import RemoraEventLoop
import RemoraFilters

/// What listener filters learned about an accepted connection before its
/// filter chain is chosen, carried from filter to filter (and across a
/// `use_original_dst` hand-off, where the target listener's filters run too).
struct AcceptedConnectionState {
    /// Bytes the inspectors read, in order; the chain's filter gets them first.
    var received: [ByteSlice] = []
    /// What `application_protocols` matching sees (ALPN from the TLS
    /// inspector, or what the HTTP inspector detected).
    var applicationProtocols: [String] = []
    /// SNI from the TLS inspector, lowercased (Envoy's `requestedServerName`).
    var serverName: String?
    /// `tls` once the TLS inspector found a ClientHello; nil is `raw_buffer`.
    var transportProtocol: String?
}

/// A listener filter that decides from the connection's first bytes
/// (`http_inspector`, `tls_inspector`): fed each read, it returns nil while
/// it needs more, and records what it learnt in the connection's state.
protocol DataInspector {
    mutating func inspect(_ data: ByteSlice, state: inout AcceptedConnectionState) -> InspectionDecision?
}

enum InspectionDecision {
    /// Go on with the listener's next filter.
    case proceed
    /// Close the connection.
    case close
}

/// A data-reading listener filter at work on one accepted connection: the
/// connection's delegate until a verdict, a close, or the listener's
/// `listener_filters_timeout`.
///
/// Envoy peeks (MSG_PEEK) and re-reads; Remora reads the bytes once into
/// the loop's pooled blocks, keeps the slices (bounded by the inspector's
/// limit plus the last read) and replays them to the next inspector and to
/// the chosen chain's filter, so no byte is lost or read twice and no extra
/// syscall is made.
///
/// As in Envoy 1.40: a verdict records what was learnt and the remaining
/// listener filters run; a peer that closes or resets before a verdict has
/// its connection closed (`downstream_listener_filter_remote_close`); the
/// timeout counts `downstream_pre_cx_timeout` and closes, or with
/// `continue_on_listener_filters_timeout` goes on with nothing learnt.
/// A close after bytes were read is a reset, as Envoy's close of a socket
/// with unread bytes is.
///
/// Owned by the worker's loop. The connection holds it (as its delegate)
/// until it closes; the worker holds it while it waits (for drain).
final class ListenerFilterInspection<Inspector: DataInspector>: ConnectionDelegate {
    enum Outcome {
        /// Go on with the listener's next filter, with what was learned.
        case proceed(AcceptedConnectionState)
        /// The connection was closed.
        case closed
    }

    private let connection: Connection
    private let listenerStats: Stats<ListenerStat>
    private let continueOnTimeout: Bool
    private var state: AcceptedConnectionState
    private var inspector: Inspector
    private var timer: Timer?
    private var onDone: ((AnyObject, Outcome) -> Void)?

    init(connection: Connection, inspector: Inspector, state: AcceptedConnectionState, listenerStats: Stats<ListenerStat>,
         continueOnTimeout: Bool, onDone: @escaping (AnyObject, Outcome) -> Void) {
        self.connection = connection
        self.inspector = inspector
        self.state = state
        self.listenerStats = listenerStats
        self.continueOnTimeout = continueOnTimeout
        self.onDone = onDone
    }

    /// Starts waiting for bytes; `onDone` may run before this returns (when
    /// bytes carried from a previous listener already decide).
    func start(loop: EventLoop, timeoutMilliseconds: UInt64) {
        listenerStats.add(.downstreamPreCxActive)
        connection.delegate = self
        for slice in state.received {
            if decide(inspector.inspect(slice, state: &state)) { return }
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
        _ = decide(inspector.inspect(data, state: &state))
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
    private func decide(_ decision: InspectionDecision?) -> Bool {
        switch decision {
        case nil: return false
        case .proceed?: proceed()
        case .close?: close()
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
