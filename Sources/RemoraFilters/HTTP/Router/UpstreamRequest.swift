import RemoraConfig
import RemoraCore
import RemoraEventLoop
import RemoraHTTP
import RemoraUpstream

/// Why an upstream attempt ended without a (complete) response.
enum UpstreamResetReason: Equatable {
    case overflow
    case connectionFailure
    case connectionTimeout
    case connectionTermination
    case protocolError
    case localReset
    /// HTTP/2: the upstream reset the stream (RST_STREAM).
    case remoteReset
    /// HTTP/2: the upstream refused the stream (REFUSED_STREAM, or above its GOAWAY).
    case remoteRefusedStreamReset

    /// Envoy's words, as in `... reset reason: connection termination`.
    var text: String {
        switch self {
        case .overflow: "overflow"
        case .connectionFailure: "remote connection failure"
        case .connectionTimeout: "connection timeout"
        case .connectionTermination: "connection termination"
        case .protocolError: "protocol error"
        case .localReset: "local reset"
        case .remoteReset: "remote reset"
        case .remoteRefusedStreamReset: "remote refused stream reset"
        }
    }
}

/// Receives what one upstream attempt produces.
protocol UpstreamRequestOwner: AnyObject {
    /// The response head: `status` and the regular fields (moved out by the owner).
    func upstreamHeaders(_ request: any UpstreamAttempt, status: Int, headers: inout HTTPHeaders, endStream: Bool)
    func upstreamData(_ request: any UpstreamAttempt, _ data: ByteSlice, endStream: Bool)
    func upstreamTrailers(_ request: any UpstreamAttempt, _ trailers: HTTPHeaders)
    func upstreamReset(_ request: (any UpstreamAttempt)?, _ reason: UpstreamResetReason)
    func upstreamTunnelData(_ request: any UpstreamAttempt, _ data: ByteSlice)
    /// The upstream ended the tunnel: its connection closed (HTTP/1), or
    /// it ended its stream (HTTP/2, `connectionClosed` false).
    func upstreamTunnelEnded(_ request: any UpstreamAttempt, connectionClosed: Bool)
    func upstreamWriteBuffer(_ request: any UpstreamAttempt, aboveHigh: Bool)
}

/// One attempt of a request upstream, whatever the wire: HTTP/1.1 on an
/// exclusive pooled connection (`UpstreamRequest`) or a stream on a
/// multiplexed HTTP/2 connection (`HTTP2UpstreamRequest`). The router sends
/// body and trailers before or after `start()`; what comes before the
/// connection or stream is ready is queued (bounded by the buffer limit).
protocol UpstreamAttempt: AnyObject {
    var hostStats: HostStats { get }
    var localAddress: SocketAddress? { get }
    /// The connection the attempt was sent on (for its TLS facts).
    var upstreamConnection: Connection? { get }
    var sentAt: UInt64 { get }
    var transportFailureReason: String? { get }
    func start()
    func sendData(_ data: ByteSlice, endStream: Bool)
    func sendTrailers(_ trailers: HTTPHeaders)
    /// Flow control from the owner's downstream.
    func setReading(_ enabled: Bool)
    /// The owner gives up on the attempt; no event follows.
    func cancel()
    func sendTunnelData(_ data: ByteSlice)
    func endTunnel()
}

/// One attempt of a request on one HTTP/1.1 connection from a host's pool:
/// writes the request, parses the response, and gives the connection back
/// (reusable only if both messages were whole and keep-alive held).
/// Owned by the router (or a shadow), on the worker loop.
final class UpstreamRequest: UpstreamAttempt, HTTP1PoolRequester, ConnectionDelegate {
    /// Strong until the attempt ends (`cancel()` or the last event sent to
    /// the owner lets go), which breaks the owner ↔ request cycle. Not weak:
    /// a weak reference gives the owner a side table and slow refcounting.
    private var owner: UpstreamRequestOwner?
    let pool: HTTP1ConnectionPool
    let host: SocketAddress
    private let loop: EventLoop
    private let head: ByteSlice
    private let chunked: Bool
    private var connection: Connection?
    private var ticket: HTTP1ConnectionPool.Ticket?
    private var parser: HTTP1Parser
    private var encoder: HTTP1Encoder
    /// What waits for the connection (bounded by the cluster's buffer limit).
    private var pending: PendingRequestBody
    /// The owner asked for no response bytes (its downstream is full): one
    /// read-disable count on the connection, given back before it is released.
    private var holdsReadDisable = false
    private var readingWanted = true
    private(set) var requestSent = false
    private(set) var responseStarted = false
    private var responseKeepAlive = false
    private var done = false
    private var tunneling = false
    /// The parser saw the response's end; acted on once the parse call returns.
    private var responseEnded = false
    private(set) var sentAt: UInt64 = 0
    /// Why the connection could not be made (Envoy's transport failure reason).
    private(set) var transportFailureReason: String?
    /// The local address of the connection the attempt was sent on.
    var localAddress: SocketAddress? { connection?.localAddress }
    var upstreamConnection: Connection? { connection }
    var hostStats: HostStats { pool.hostStats }

    init(owner: UpstreamRequestOwner, pool: HTTP1ConnectionPool, loop: EventLoop, head: ByteSlice, chunked: Bool,
         method: HTTPMethod, maxResponseHeadBytes: Int, maxResponseHeaders: Int, bufferLimit: Int) {
        self.owner = owner
        self.pending = PendingRequestBody(limit: bufferLimit)
        self.pool = pool
        self.host = pool.host
        self.loop = loop
        self.head = head
        self.chunked = chunked
        var configuration = HTTP1Parser.Configuration.response
        configuration.maxHeadBytes = maxResponseHeadBytes
        configuration.maxHeaderCount = maxResponseHeaders
        parser = HTTP1Parser(kind: .response, configuration: configuration)
        parser.requestMethod = method
        encoder = HTTP1Encoder(pool: loop.bufferPool)
    }

    func start() {
        switch pool.request(for: self) {
        case .ready(let connection):
            attach(connection)
        case .pending(let ticket):
            self.ticket = ticket
        case .overflow:
            done = true
            takeOwner()?.upstreamReset(self, .overflow)
        }
    }

    /// The owner, for the attempt's last event; the request lets go of it.
    private func takeOwner() -> UpstreamRequestOwner? {
        let owner = self.owner
        self.owner = nil
        return owner
    }

    // MARK: - HTTP1PoolRequester

    func pool(_ pool: HTTP1ConnectionPool, didProvide connection: Connection) {
        ticket = nil
        guard !done else {
            pool.release(connection, reusable: true)
            return
        }
        attach(connection)
    }

    func pool(_ pool: HTTP1ConnectionPool, didFail failure: HTTP1ConnectionPool.Failure) {
        ticket = nil
        guard !done else { return }
        done = true
        let outcome = failure.attemptOutcome
        transportFailureReason = outcome.transportFailure
        takeOwner()?.upstreamReset(self, outcome.reason)
    }

    private func attach(_ connection: Connection) {
        self.connection = connection
        connection.delegate = self
        sentAt = loop.nowMilliseconds
        send(head, on: connection)
        for slice in pending.slices { writeBody(slice) }
        if pending.ended { writeEnd(trailers: pending.trailers) }
        if !readingWanted { setReading(false) }
        connection.startReading()
        // The queue now sits in the connection's buffer, which reports its
        // own watermarks: give back the queue's.
        if pending.drain() { owner?.upstreamWriteBuffer(self, aboveHigh: false) }
    }

    // MARK: - Request body

    func sendData(_ data: ByteSlice, endStream: Bool) {
        guard !done else { return }
        if connection == nil {
            if pending.append(data, endStream: endStream) { owner?.upstreamWriteBuffer(self, aboveHigh: true) }
            return
        }
        if data.count > 0 { writeBody(data) }
        if endStream { writeEnd(trailers: nil) }
    }

    func sendTrailers(_ trailers: HTTPHeaders) {
        guard !done else { return }
        if connection == nil { pending.end(with: trailers); return }
        writeEnd(trailers: trailers)
    }

    private func writeBody(_ data: ByteSlice) {
        guard let connection else { return }
        if chunked {
            send(encoder.chunkHeader(size: data.count), on: connection)
            send(data, on: connection)
            send(HTTP1Encoder.crlf, on: connection)
        } else {
            send(data, on: connection)
        }
    }

    /// Writes to the upstream, counted in `upstream_cx_tx_bytes_total`.
    private func send(_ slice: ByteSlice, on connection: Connection) {
        pool.stats.add(.upstreamCxTxBytesTotal, Int64(slice.count))
        connection.write(slice)
    }

    private func writeEnd(trailers: HTTPHeaders?) {
        guard let connection, !requestSent else { return }
        requestSent = true
        if chunked { send(encoder.encodeLastChunk(trailers: trailers), on: connection) }
    }

    /// Raw bytes after an accepted upgrade.
    func sendTunnelData(_ data: ByteSlice) {
        guard let connection else { return }
        send(data, on: connection)
    }

    func endTunnel() {
        connection?.shutdownWrite()
    }

    /// Flow control from the owner's downstream: no response bytes are
    /// read while it is full.
    func setReading(_ enabled: Bool) {
        readingWanted = enabled
        guard let connection, holdsReadDisable == enabled else { return }
        holdsReadDisable = !enabled
        connection.readDisable(!enabled)
    }

    // MARK: - ConnectionDelegate

    func connection(_ connection: Connection, didRead data: ByteSlice) {
        pool.stats.add(.upstreamCxRxBytesTotal, Int64(data.count))
        if tunneling {
            owner?.upstreamTunnelData(self, data)
            return
        }
        var input = data
        while !done, input.count > 0 {
            var sink = ResponseSink(request: self)
            let result: HTTP1ParseResult
            do {
                result = try parser.parse(input, delegate: &sink)
            } catch {
                pool.stats.add(.upstreamCxProtocolError)
                fail(.protocolError)
                return
            }
            input = input.dropFirst(min(result.consumed, input.count))
            switch result.stop {
            case .needMoreData:
                continue
            case .messageComplete:
                // Bytes after a whole response, with no request to answer,
                // mean the peer and the parser disagree on framing: the
                // connection is not reused (Envoy: `r/extra-bytes`).
                if responseEnded { responseComplete(reusable: input.count == 0) }
                continue
            case .upgrade:
                tunneling = true
                if input.count > 0 { owner?.upstreamTunnelData(self, input) }
                return
            case .closed:
                return
            }
        }
    }

    func connectionDidReadEOF(_ connection: Connection) {
        if tunneling {
            takeOwner()?.upstreamTunnelEnded(self, connectionClosed: true)
            return
        }
        guard !done else { return }
        var sink = ResponseSink(request: self)
        do {
            try parser.finish(delegate: &sink)
        } catch {
            fail(.connectionTermination)
            return
        }
        if responseEnded { responseComplete(reusable: false) }
        if !done { fail(.connectionTermination) }
    }

    func connection(_ connection: Connection, didFailWith error: EventLoopError) {
        if tunneling {
            takeOwner()?.upstreamTunnelEnded(self, connectionClosed: true)
            connection.close()
            return
        }
        fail(.connectionTermination)
    }

    func connectionWriteBufferAboveHighWatermark(_ connection: Connection) {
        owner?.upstreamWriteBuffer(self, aboveHigh: true)
    }

    func connectionWriteBufferBelowLowWatermark(_ connection: Connection) {
        owner?.upstreamWriteBuffer(self, aboveHigh: false)
    }

    func connectionDidClose(_ connection: Connection) {
        pool.connectionClosed(connection)
        if self.connection === connection { self.connection = nil }
        if tunneling && !done {
            done = true
            takeOwner()?.upstreamTunnelEnded(self, connectionClosed: true)
        } else if !done {
            fail(.connectionTermination)
        }
    }

    // MARK: - Response events

    fileprivate func responseHead(_ head: consuming HTTP1ResponseHead) {
        if head.isInformational { return }  // Envoy drops upstream 1xx (100-continue is answered locally)
        responseStarted = true
        responseKeepAlive = head.keepAlive
        let endStream = head.framing == .none && head.status != 101
        owner?.upstreamHeaders(self, status: head.status, headers: &head.headers, endStream: endStream)
    }

    fileprivate func responseBody(_ chunk: ByteSlice) {
        owner?.upstreamData(self, chunk, endStream: false)
    }

    fileprivate func responseTrailers(_ trailers: HTTPHeaders) {
        owner?.upstreamTrailers(self, trailers)
    }

    fileprivate func responseMessageEnded() {
        responseEnded = true
    }

    private func responseComplete(reusable: Bool) {
        guard !done else { return }
        done = true
        releaseConnection(reusable: reusable && responseKeepAlive && requestSent)
        takeOwner()?.upstreamData(self, HTTP1Encoder.crlf.dropFirst(2), endStream: true)
    }

    // MARK: - Ending

    private func fail(_ reason: UpstreamResetReason) {
        guard !done else { return }
        done = true
        releaseConnection(reusable: false)
        takeOwner()?.upstreamReset(self, reason)
    }

    private func releaseConnection(reusable: Bool, reset: Bool = false) {
        guard let connection else { return }
        self.connection = nil
        if holdsReadDisable {
            holdsReadDisable = false
            connection.readDisable(false)
        }
        if reusable {
            pool.release(connection, reusable: true)
        } else {
            connection.delegate = nil
            connection.close(reset: reset)
            pool.connectionClosed(connection)
        }
    }

    /// The owner gives up on this attempt (timeout, downstream reset, retry).
    func cancel() {
        if let ticket {
            pool.cancel(ticket)
            self.ticket = nil
        }
        done = true
        owner = nil
        // An abandoned exchange: RST frees what the kernels hold at both
        // ends at once and tells the upstream the request is not whole.
        releaseConnection(reusable: false, reset: true)
    }
}

private struct ResponseSink: HTTP1ParserDelegate {
    /// Lives only inside a parse call on `request`.
    unowned(unsafe) let request: UpstreamRequest

    mutating func onResponseHead(_ head: consuming HTTP1ResponseHead) { request.responseHead(head) }
    mutating func onBody(_ chunk: ByteSlice) { request.responseBody(chunk) }
    mutating func onTrailers(_ trailers: HTTPHeaders) { request.responseTrailers(trailers) }
    mutating func onMessageComplete() { request.responseMessageEnded() }
}
