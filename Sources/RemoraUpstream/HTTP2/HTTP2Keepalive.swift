import RemoraConfig
import RemoraEventLoop

/// `http2_protocol_options.connection_keepalive` for one connection, either
/// side: a PING every interval (plus up to `interval_jitter` percent), and
/// the connection given up when its ACK takes longer than the timeout.
/// The owner sends the PING and closes; this holds the timer and the state.
public final class HTTP2Keepalive {
    private let settings: HTTP2ProtocolOptions.Keepalive
    private let timer: Timer
    private var pingOutstanding = false

    /// Nil without periodic PINGs (no `connection_keepalive`, or no interval).
    public init?(_ settings: HTTP2ProtocolOptions.Keepalive?, loop: EventLoop) {
        guard let settings, settings.intervalMilliseconds > 0 else { return nil }
        self.settings = settings
        self.timer = Timer(loop: loop)
    }

    /// Waits an interval, then calls `sendPing`; if no `pingAcknowledged()`
    /// comes within the timeout, `timedOut`. `jitter` is a random value.
    public func arm(jitter: UInt64, sendPing: @escaping () -> Void, timedOut: @escaping () -> Void) {
        let range = UInt64(Double(settings.intervalMilliseconds) * settings.jitterPercent / 100)
        let timeout = settings.timeoutMilliseconds
        timer.start(afterMilliseconds: settings.intervalMilliseconds + (range > 0 ? jitter % range : 0)) { [self] in
            self.pingOutstanding = true
            sendPing()
            self.timer.start(afterMilliseconds: timeout) { [self] in
                guard self.pingOutstanding else { return }
                timedOut()
            }
        }
    }

    /// The PING's ACK arrived.
    public func pingAcknowledged() {
        pingOutstanding = false
    }

    public func close() {
        timer.close()
    }
}
