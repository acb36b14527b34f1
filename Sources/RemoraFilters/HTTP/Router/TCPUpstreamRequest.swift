import RemoraConfig
import RemoraCore
import RemoraEventLoop
import RemoraHTTP
import RemoraUpstream

/// One attempt of a terminated CONNECT (a route whose CONNECT upgrade has a
/// `connect_config`): a raw TCP connection to the host, made for this
/// request alone, as Envoy's `TcpUpstream`. Once it is up the owner hears a
/// `200` head; the payload then flows both ways as tunnel bytes, the
/// downstream's end is a half-close of the upstream, and the upstream's FIN
/// ends the tunnel (its reset or close without FIN ends it as closed).
/// Owned by the router, on the worker loop.
final class TCPUpstreamRequest: UpstreamAttempt, ConnectionDelegate {
    /// Strong until the attempt's last event or `cancel()` (see `UpstreamRequest`).
    private var owner: UpstreamRequestOwner?
    private let cluster: WorkerCluster
    private let host: SocketAddress
    private let loop: EventLoop
    let hostStats: HostStats
    private let tunnelPool: TCPTunnelPool
    /// Waiting for a connection slot (`max_connections`).
    private var ticket: UInt64?
    /// Counted in `upstream_rq_pending_active` (until the connect is done).
    private var pendingHeld = false
    private var attempt: ConnectAttempt?
    private var connection: Connection?
    /// Tunnel bytes from the downstream before the connection is up.
    private var pending: PendingRequestBody
    private var readingWanted = true
    private var holdsReadDisable = false
    /// Counted in `upstream_cx_active` (from the connect until the close).
    private var countsConnection = false
    private var countsRequest = false
    private var done = false
    private(set) var sentAt: UInt64 = 0
    private(set) var transportFailureReason: String?
    var localAddress: SocketAddress? { connection?.localAddress }
    /// The connection the tunnel runs on (for its TLS facts).
    var upstreamConnection: Connection? { connection }

    init(owner: UpstreamRequestOwner, cluster: WorkerCluster, host: SocketAddress, loop: EventLoop) {
        self.owner = owner
        self.cluster = cluster
        self.host = host
        self.loop = loop
        self.hostStats = cluster.resources.hostStats.stats(for: host)
        self.tunnelPool = cluster.tunnelPool(for: host)
        self.pending = PendingRequestBody(limit: cluster.config.bufferLimitBytes)
    }

    func start() {
        sentAt = loop.nowMilliseconds
        // Envoy's TCP pool: pending until connected, within `max_connections`.
        let pool = tunnelPool
        switch pool.request({ [weak self] in
            guard let self else {
                // Dropped without `cancel()`: the slot and the pending count go back.
                pool.leavePending()
                pool.connectionGone()
                return
            }
            self.ticket = nil
            self.connect()
        }) {
        case .overflow:
            done = true
            takeOwner()?.upstreamReset(self, .overflow)
        case .queued(let ticket):
            self.ticket = ticket
            pendingHeld = true
        case .connect:
            pendingHeld = true
            connect()
        }
    }

    private func connect() {
        let stats = cluster.stats
        stats.add(.upstreamCxTotal)
        stats.add(.upstreamCxActive)
        HostStats.add(hostStats.cxTotal)
        HostStats.add(hostStats.cxActive)
        countsConnection = true
        let started = loop.nowMilliseconds
        attempt = cluster.connect(to: host, loop: loop) { [self] result in
            self.attempt = nil
            self.leavePending()
            switch result {
            case .success(let connection):
                stats.record(.upstreamCxConnectMs, milliseconds: self.loop.nowMilliseconds - started)
                self.connected(connection)
            case .failure(let error):
                stats.add(.upstreamCxConnectFail)
                HostStats.add(self.hostStats.cxConnectFail)
                if error == .timedOut { stats.add(.upstreamCxConnectTimeout) }
                self.connectionGone()
                guard !self.done else { return }
                self.done = true
                self.transportFailureReason = error.connectFailureReason
                self.takeOwner()?.upstreamReset(self, error == .timedOut ? .connectionTimeout : .connectionFailure)
            }
        }
    }

    private func leavePending() {
        guard pendingHeld else { return }
        pendingHeld = false
        tunnelPool.leavePending()
    }

    private func takeOwner() -> UpstreamRequestOwner? {
        let owner = self.owner
        self.owner = nil
        return owner
    }

    private func connected(_ connection: Connection) {
        guard !done else {
            connection.close()
            return
        }
        self.connection = connection
        connection.delegate = self
        connection.highWatermark = cluster.config.bufferLimitBytes
        cluster.stats.add(.upstreamRqTotal)
        cluster.stats.add(.upstreamRqActive)
        countsRequest = true
        for slice in pending.slices { write(slice, on: connection) }
        if pending.ended { connection.shutdownWrite() }
        if pending.drain() { owner?.upstreamWriteBuffer(self, aboveHigh: false) }
        if !readingWanted { setReading(false) }
        connection.startReading()
        // Envoy answers a terminated CONNECT with a bare 200 once the upstream is up.
        var headers = HTTPHeaders()
        owner?.upstreamHeaders(self, status: 200, headers: &headers, endStream: false)
    }

    private func write(_ slice: ByteSlice, on connection: Connection) {
        cluster.stats.add(.upstreamCxTxBytesTotal, Int64(slice.count))
        connection.write(slice)
    }

    // MARK: - Request side (tunnel bytes)

    func sendTunnelData(_ data: ByteSlice) {
        guard !done, data.count > 0 else { return }
        guard let connection else {
            if pending.append(data, endStream: false) { owner?.upstreamWriteBuffer(self, aboveHigh: true) }
            return
        }
        write(data, on: connection)
    }

    func endTunnel() {
        guard !done else { return }
        guard let connection else {
            _ = pending.append(emptySlice, endStream: true)
            return
        }
        connection.shutdownWrite()
    }

    /// A CONNECT has no body: what comes is tunnel bytes.
    func sendData(_ data: ByteSlice, endStream: Bool) {
        sendTunnelData(data)
        if endStream { endTunnel() }
    }

    func sendTrailers(_ trailers: HTTPHeaders) {
        endTunnel()
    }

    func setReading(_ enabled: Bool) {
        readingWanted = enabled
        guard let connection, holdsReadDisable == enabled else { return }
        holdsReadDisable = !enabled
        connection.readDisable(!enabled)
    }

    func cancel() {
        done = true
        owner = nil
        attempt?.cancel()
        attempt = nil
        if let ticket {
            self.ticket = nil
            tunnelPool.cancel(ticket)
        }
        leavePending()
        if let connection {
            self.connection = nil
            connection.delegate = nil
            connection.close()
        }
        connectionGone()
    }

    // MARK: - ConnectionDelegate

    func connection(_ connection: Connection, didRead data: ByteSlice) {
        cluster.stats.add(.upstreamCxRxBytesTotal, Int64(data.count))
        owner?.upstreamTunnelData(self, data)
    }

    func connectionDidReadEOF(_ connection: Connection) {
        // The upstream ended its side: the tunnel's response ends (Envoy's
        // TCP upstream reads half-closes as end of stream).
        guard !done else { return }
        done = true
        takeOwner()?.upstreamTunnelEnded(self, connectionClosed: false)
    }

    func connection(_ connection: Connection, didFailWith error: EventLoopError) {
        connection.close()
    }

    func connectionWriteBufferAboveHighWatermark(_ connection: Connection) {
        owner?.upstreamWriteBuffer(self, aboveHigh: true)
    }

    func connectionWriteBufferBelowLowWatermark(_ connection: Connection) {
        owner?.upstreamWriteBuffer(self, aboveHigh: false)
    }

    func connectionDidClose(_ connection: Connection) {
        if self.connection === connection { self.connection = nil }
        connectionGone()
        guard !done else { return }
        done = true
        takeOwner()?.upstreamTunnelEnded(self, connectionClosed: true)
    }

    /// The connection's slot in the stats goes (once).
    private func connectionGone() {
        if countsRequest {
            countsRequest = false
            cluster.stats.add(.upstreamRqActive, -1)
        }
        guard countsConnection else { return }
        countsConnection = false
        cluster.stats.add(.upstreamCxActive, -1)
        cluster.stats.add(.upstreamCxDestroy)
        HostStats.add(hostStats.cxActive, -1)
        // Last: the slot may go to a waiting tunnel right away.
        tunnelPool.connectionGone()
    }
}
