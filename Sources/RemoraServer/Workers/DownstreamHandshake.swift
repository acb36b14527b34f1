import RemoraCore
import RemoraEventLoop

/// A downstream TLS handshake in progress: the connection's delegate from
/// the moment its filter chain's transport is installed until the handshake
/// is done, fails, or `transport_socket_connect_timeout` passes. Only then
/// does the chain's network filter start, so a `tcp_proxy` opens no
/// upstream connection for a peer that never finishes its handshake (Envoy
/// opens one anyway). Memory per pending handshake is the session's own
/// (OpenSSL's buffers for one flight) plus this object. On the worker's loop.
final class DownstreamHandshake: ConnectionDelegate {
    private let connection: Connection
    private var timer: Timer?
    private var done: ((DownstreamHandshake, Bool) -> Void)?
    /// `transport_socket_connect_timeout` ended it.
    private(set) var timedOut = false

    init(connection: Connection, done: @escaping (DownstreamHandshake, Bool) -> Void) {
        self.connection = connection
        self.done = done
    }

    /// Takes the connection, replays what a listener filter already read,
    /// and reads on. `timeoutMilliseconds` 0 means no limit.
    func start(loop: EventLoop, timeoutMilliseconds: UInt64, replaying received: [ByteSlice]) {
        connection.delegate = self
        if timeoutMilliseconds > 0 {
            let timer = Timer(loop: loop)
            self.timer = timer
            timer.start(afterMilliseconds: timeoutMilliseconds) { [unowned self] in
                self.timedOut = true
                self.finish(succeeded: false)
            }
        }
        for slice in received where done != nil { connection.replayThroughTransport(slice) }
        if done != nil { connection.startReading() }
    }

    private func finish(succeeded: Bool) {
        guard let done else { return }
        self.done = nil
        timer?.close()
        timer = nil
        if !succeeded {
            connection.delegate = nil
            connection.close()
        }
        done(self, succeeded)
    }

    func connectionDidCompleteHandshake(_ connection: Connection) {
        // The chain's filter takes over the connection (and its reads)
        // before this read's plaintext is delivered.
        connection.stopReading()
        finish(succeeded: true)
    }

    func connection(_ connection: Connection, didRead data: ByteSlice) {}

    func connectionDidReadEOF(_ connection: Connection) {
        finish(succeeded: false)
    }

    func connection(_ connection: Connection, didFailWith error: EventLoopError) {
        finish(succeeded: false)
    }

    func connectionDidClose(_ connection: Connection) {
        finish(succeeded: false)
    }
}
