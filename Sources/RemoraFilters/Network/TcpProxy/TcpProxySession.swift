import RemoraConfig
import RemoraCore
import RemoraEventLoop
import RemoraUpstream

/// One downstream connection proxied byte-for-byte to one upstream host
/// (`envoy.filters.network.tcp_proxy`).
///
/// Owned by the worker loop that accepted the downstream; every callback
/// runs there. Bytes move as `ByteSlice`s from one side's read to the other
/// side's write, never copied. When one side's write buffer passes its high
/// watermark, reading stops on the other side until it drains. Half-close
/// passes through: a FIN from one side becomes a shutdown of the other's
/// write side, and the session ends when both directions are finished.
public final class TcpProxySession: ConnectionDelegate {
    /// Called once when both connections are gone.
    public typealias Completion = (TcpProxySession) -> Void

    private let loop: EventLoop
    private let config: TcpProxyConfig
    private let cluster: WorkerCluster?
    private let proxyStats: Stats<TcpProxyStat>
    private let downstream: Connection
    private var upstream: Connection?
    private var attempt: ConnectAttempt?
    private var attempts = 0
    private var lastHost: SocketAddress?
    /// The stats of the host of the latest attempt (`/clusters`).
    private var hostStats: HostStats?
    /// The session counts in `upstream_rq_active` (connected, not yet closed).
    private var requestActive = false
    /// The upstream reset, or sent its FIN after we had sent ours.
    private var upstreamClosedRemotely = false
    /// Our FIN to the upstream is on its way (the downstream half-closed).
    private var upstreamWriteShut = false
    private var idleTimer: Timer?
    private var lastActivity: UInt64 = 0
    private var upstreamStart: UInt64 = 0
    private var downstreamEOF = false
    private var upstreamEOF = false
    private var finished = false
    /// Close callbacks still to come: the downstream's, and the upstream's once it connected.
    private var openConnections = 1
    /// Downstream bytes read before the session started, sent once connected.
    private var replay: [ByteSlice] = []
    private var onComplete: Completion?
    /// The session's access logs, and what they print (only when there are logs).
    private let accessLogs: AccessLogSet?
    private let info: StreamInfo?

    public init(loop: EventLoop, downstream: Connection, config: TcpProxyConfig, cluster: WorkerCluster?,
                stats: Stats<TcpProxyStat>, accessLogs: AccessLogSet? = nil, requestedServerName: String? = nil,
                onComplete: @escaping Completion) {
        self.loop = loop
        self.downstream = downstream
        self.config = config
        self.cluster = cluster
        self.proxyStats = stats
        self.onComplete = onComplete
        self.accessLogs = accessLogs
        if accessLogs != nil {
            let info = StreamInfo(startMilliseconds: loop.nowMilliseconds, downstreamRemoteAddress: downstream.remoteAddress,
                                  downstreamLocalAddress: downstream.localAddress,
                                  downstreamLocalAddressRestored: downstream.isLocalAddressRestored)
            info.markWallStart()
            info.upstreamCluster = config.cluster
            // SNI from the TLS inspector (`%REQUESTED_SERVER_NAME%`).
            info.requestedServerName = requestedServerName
            info.downstreamSecurity = downstream.securityInfo
            self.info = info
        } else {
            self.info = nil
        }
    }

    /// Starts the session: picks a host and connects. Downstream bytes are
    /// not read until the upstream is connected (Envoy does the same);
    /// `received`, bytes a listener filter already read (the HTTP
    /// inspector's), go upstream first then.
    public func start(replaying received: [ByteSlice] = []) {
        loop.assertInLoop()
        downstream.delegate = self
        downstream.bufferGauges = proxyStats.bufferGauges(rx: .downstreamCxRxBytesBuffered, tx: .downstreamCxTxBytesBuffered)
        replay = received
        proxyStats.add(.downstreamCxTotal)
        guard cluster != nil else {
            proxyStats.add(.downstreamCxNoRoute)
            info?.responseFlags.insert(.noClusterFound)
            finish()
            return
        }
        if config.idleTimeoutMilliseconds > 0 {
            let timer = Timer(loop: loop)
            idleTimer = timer
            lastActivity = loop.nowMilliseconds
            armIdleTimer(after: config.idleTimeoutMilliseconds)
        }
        connectNext()
    }

    // MARK: - Upstream connection

    private func connectNext() {
        guard let cluster else { return }
        // The ORIGINAL_DST cluster reads the restored destination.
        let context = HostSelectionContext(originalDestination: downstream.isLocalAddressRestored ? downstream.localAddress : nil)
        guard let host = cluster.chooseHost(excluding: lastHost, context: context) else {
            cluster.stats.add(.upstreamCxNoneHealthy)
            info?.responseFlags.insert(.noHealthyUpstream)
            finish()
            return
        }
        attempts += 1
        lastHost = host
        info?.upstreamHost = host
        info?.attemptCount = attempts
        cluster.stats.add(.upstreamCxTotal)
        cluster.stats.add(.upstreamCxActive)
        let hostStats = cluster.resources.hostStats.stats(for: host)
        self.hostStats = hostStats
        HostStats.add(hostStats.cxTotal)
        HostStats.add(hostStats.cxActive)
        // Envoy's TCP pool: the session waits as a pending request until
        // the connection is up, then counts as a request.
        cluster.stats.add(.upstreamRqPendingTotal)
        cluster.stats.add(.upstreamRqPendingActive)
        let started = loop.nowMilliseconds
        attempt = cluster.connect(to: host, loop: loop) { [weak self] result in
            guard let self else { return }
            self.attempt = nil
            cluster.stats.add(.upstreamRqPendingActive, -1)
            switch result {
            case .success(let connection):
                cluster.stats.record(.upstreamCxConnectMs, milliseconds: self.loop.nowMilliseconds - started)
                self.upstreamConnected(connection)
            case .failure(let error):
                // As Envoy counts it: the attempt's connection was created, then destroyed remotely.
                cluster.stats.add(.upstreamCxActive, -1)
                cluster.stats.add(.upstreamCxConnectFail)
                HostStats.add(hostStats.cxActive, -1)
                HostStats.add(hostStats.cxConnectFail)
                cluster.stats.add(.upstreamCxDestroy)
                cluster.stats.add(.upstreamCxDestroyRemote)
                if error == .timedOut { cluster.stats.add(.upstreamCxConnectTimeout) }
                if self.finished { return }
                // The session was the pool's pending request, failed with its connection.
                cluster.stats.add(.upstreamRqPendingFailureEject)
                if self.attempts < self.config.maxConnectAttempts {
                    self.connectNext()
                } else {
                    cluster.stats.add(.upstreamCxConnectAttemptsExceeded)
                    self.info?.responseFlags.formUnion([.upstreamConnectionFailure, .upstreamRetryLimitExceeded])
                    self.info?.upstreamTransportFailureReason = error.connectFailureReason
                    self.finish()
                }
            }
        }
    }

    private func upstreamConnected(_ connection: Connection) {
        guard !finished, let cluster else {
            cluster?.stats.add(.upstreamCxActive, -1)
            if let hostStats { HostStats.add(hostStats.cxActive, -1) }
            connection.close()
            return
        }
        upstream = connection
        connection.bufferGauges = cluster.stats.bufferGauges(rx: .upstreamCxRxBytesBuffered, tx: .upstreamCxTxBytesBuffered)
        openConnections += 1
        upstreamStart = loop.nowMilliseconds
        cluster.stats.add(.upstreamRqTotal)
        cluster.stats.add(.upstreamRqActive)
        requestActive = true
        info?.upstreamLocalAddress = connection.localAddress
        connection.delegate = self
        connection.highWatermark = cluster.config.bufferLimitBytes
        touch()
        connection.startReading()
        let received = replay
        replay = []
        for slice in received { self.connection(downstream, didRead: slice) }
        downstream.startReading()
    }

    // MARK: - ConnectionDelegate

    public func connection(_ connection: Connection, didRead data: ByteSlice) {
        touch()
        let count = Int64(data.count)
        if connection === downstream {
            proxyStats.add(.downstreamCxRxBytesTotal, count)
            cluster?.stats.add(.upstreamCxTxBytesTotal, count)
            info?.bytesReceived += UInt64(count)
            upstream?.write(data)
        } else {
            cluster?.stats.add(.upstreamCxRxBytesTotal, count)
            proxyStats.add(.downstreamCxTxBytesTotal, count)
            info?.bytesSent += UInt64(count)
            downstream.write(data)
        }
    }

    public func connectionDidReadEOF(_ connection: Connection) {
        touch()
        if connection === downstream {
            downstreamEOF = true
            upstreamWriteShut = upstream != nil
            upstream?.shutdownWrite { [weak self] in self?.finishIfDone() }
        } else {
            upstreamEOF = true
            if upstreamWriteShut { upstreamClosedRemotely = true }
            downstream.shutdownWrite { [weak self] in self?.finishIfDone() }
        }
        finishIfDone()
    }

    public func connection(_ connection: Connection, didFailWith error: EventLoopError) {
        // A reset (or other error) on one side: the other side gets what is
        // already queued for it, then is closed (Envoy's FlushWrite close).
        if connection === downstream {
            closeAfterFlush(upstream)
            downstream.close()
        } else {
            upstreamClosedRemotely = true
            closeAfterFlush(downstream)
            connection.close()
        }
    }

    public func connectionWriteBufferAboveHighWatermark(_ connection: Connection) {
        if connection === downstream {
            upstream?.stopReading()
            cluster?.stats.add(.upstreamFlowControlPausedReadingTotal)
        } else {
            downstream.stopReading()
            proxyStats.add(.downstreamFlowControlPausedReadingTotal)
        }
    }

    public func connectionWriteBufferBelowLowWatermark(_ connection: Connection) {
        if connection === downstream {
            if !upstreamEOF { upstream?.startReading() }
            cluster?.stats.add(.upstreamFlowControlResumedReadingTotal)
        } else {
            if !downstreamEOF { downstream.startReading() }
            proxyStats.add(.downstreamFlowControlResumedReadingTotal)
        }
    }

    public func connectionDidClose(_ connection: Connection) {
        if connection === downstream {
            closeAfterFlush(upstream)
        } else {
            if let cluster {
                cluster.stats.add(.upstreamCxActive, -1)
                if let hostStats { HostStats.add(hostStats.cxActive, -1) }
                // Envoy's TCP pool: the session holds the connection's one
                // request until the connection closes under it.
                let withActiveRequest = requestActive
                if requestActive {
                    requestActive = false
                    cluster.stats.add(.upstreamRqActive, -1)
                }
                cluster.stats.add(.upstreamCxDestroy)
                // Envoy's close event: remote when the upstream reset, or sent
                // its FIN after ours (the connection was then closed by it);
                // a FIN of its own first is only a half-close, and the later
                // close is local.
                cluster.stats.countConnectionClosed(remote: upstreamClosedRemotely, withActiveRequests: withActiveRequest)
                cluster.stats.record(.upstreamCxLengthMs, milliseconds: loop.nowMilliseconds - upstreamStart)
            }
            closeAfterFlush(downstream)
        }
        openConnections -= 1
        if openConnections == 0 { complete() }
    }

    // MARK: - Ending

    /// Both directions are done once each side has sent its FIN and the
    /// other side has written everything, FIN included.
    private func finishIfDone() {
        guard downstreamEOF, upstreamEOF,
              downstream.writeBufferedBytes == 0, upstream?.writeBufferedBytes ?? 0 == 0 else { return }
        finish()
    }

    private func closeAfterFlush(_ connection: Connection?) {
        guard let connection, !connection.isClosed else { return }
        if connection.writeBufferedBytes == 0 {
            connection.close()
        } else {
            connection.stopReading()
            connection.shutdownWrite { [weak connection] in connection?.close() }
        }
    }

    /// Closes everything now (idle timeout, connect failure, drain).
    public func finish() {
        guard !finished else { return }
        finished = true
        attempt?.cancel()
        attempt = nil
        idleTimer?.close()
        idleTimer = nil
        upstream?.close()
        downstream.close()
    }

    private func complete() {
        idleTimer?.close()
        idleTimer = nil
        if let accessLogs, let info {
            accessLogs.log(AccessLogInput(info: info, request: nil, responseHeaders: nil, responseTrailers: nil,
                                          endMilliseconds: loop.nowMilliseconds))
        }
        guard let done = onComplete else { return }
        onComplete = nil
        done(self)
    }

    // MARK: - Idle timeout

    private func touch() {
        if idleTimer != nil { lastActivity = loop.nowMilliseconds }
    }

    /// The timer is armed once per timeout period, not on every byte: when it
    /// fires it checks the last activity and re-arms for the remainder.
    private func armIdleTimer(after ms: UInt64) {
        idleTimer?.start(afterMilliseconds: ms) { [weak self] in
            guard let self else { return }
            let idle = self.loop.nowMilliseconds - self.lastActivity
            if idle >= self.config.idleTimeoutMilliseconds {
                self.proxyStats.add(.idleTimeout)
                self.finish()
            } else {
                self.armIdleTimer(after: self.config.idleTimeoutMilliseconds - idle)
            }
        }
    }
}
