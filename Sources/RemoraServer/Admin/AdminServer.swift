import RemoraCore
import RemoraEventLoop
import RemoraFilters
import RemoraHTTP

/// The admin HTTP endpoint (Envoy's paths), on the main loop. One request
/// per connection; the answer is written, then the connection is closed.
final class AdminServer {
    typealias Handler = (AdminRequest) -> AdminResponse

    private let loop: EventLoop
    private let listener: Listener
    private let handler: Handler
    private var connections: [ObjectIdentifier: AdminConnection] = [:]
    /// `admin.access_log`: a line per request, as Envoy's admin writes them.
    private let accessLogs: AccessLogSet?
    private let stats: AdminStats

    var boundAddress: SocketAddress { listener.boundAddress }

    init(loop: EventLoop, address: SocketAddress, accessLogs: AccessLogSet? = nil, stats: AdminStats,
         handler: @escaping Handler) throws(EventLoopError) {
        self.loop = loop
        self.handler = handler
        self.accessLogs = accessLogs
        self.stats = stats
        listener = try Listener.bind(loop: loop, address: address, reusePort: false)
        try listener.startAccepting { [unowned self] connection in
            let admin = AdminConnection(connection: connection, loop: loop, accessLogs: self.accessLogs, stats: self.stats,
                                        handler: self.handler) { [unowned self] done in
                self.connections[ObjectIdentifier(done)] = nil
            }
            self.connections[ObjectIdentifier(admin)] = admin
            connection.startReading()
        }
    }

    func close() {
        listener.stopAccepting()
    }
}

/// One admin connection: parses one request with the data path's
/// `HTTP1Parser` (the same limits and refusals as a listener's), answers it,
/// and closes. A request the parser refuses gets the parser's status.
final class AdminConnection: ConnectionDelegate {
    private let connection: Connection
    private let handler: AdminServer.Handler
    private var onClose: ((AdminConnection) -> Void)?
    private var parser = HTTP1Parser(kind: .request)
    /// The head, kept while a body it announced is still arriving.
    private var head: HTTP1RequestHead?
    private var answered = false
    private let loop: EventLoop
    private let accessLogs: AccessLogSet?
    private let info: StreamInfo?
    private let stats: AdminStats
    private let openedAt: UInt64
    /// When the request began (its first bytes); nil before, and once answered.
    private var requestStart: UInt64?
    /// The client ended the connection (EOF or a socket error) rather than us.
    private var closedByPeer = false

    init(connection: Connection, loop: EventLoop, accessLogs: AccessLogSet?, stats: AdminStats,
         handler: @escaping AdminServer.Handler, onClose: @escaping (AdminConnection) -> Void) {
        self.connection = connection
        self.handler = handler
        self.onClose = onClose
        self.loop = loop
        self.accessLogs = accessLogs
        self.stats = stats
        openedAt = loop.nowMilliseconds
        stats.connectionOpened(connection)
        if accessLogs != nil {
            let info = StreamInfo(startMilliseconds: loop.nowMilliseconds, downstreamRemoteAddress: connection.remoteAddress,
                                  downstreamLocalAddress: connection.localAddress)
            info.markWallStart()
            info.protocolName = "HTTP/1.1"
            self.info = info
        } else {
            self.info = nil
        }
        connection.delegate = self
    }

    func connection(_ connection: Connection, didRead data: ByteSlice) {
        stats.http.add(.downstreamCxRxBytesTotal, Int64(data.count))
        guard !answered else { return }
        if requestStart == nil {
            requestStart = loop.nowMilliseconds
            stats.requestStarted()
        }
        var sink = AdminRequestSink()
        do {
            let result = try parser.parse(data, delegate: &sink)
            if let parsed = sink.head { head = parsed }
            // Answered once the request is whole (its body, if any, read and
            // dropped) or, for an upgrade or CONNECT, once its head is in.
            guard result.stop == .messageComplete || result.stop == .upgrade, let head else { return }
            let target = head.targetString
            guard target.hasPrefix("/") else {
                respond(.text(400, "admin paths are origin-form (/path?query)\n"))
                return
            }
            respond(handler(AdminRequest(method: head.method.name, target: target)))
        } catch {
            respond(.text(error.status, "\(HTTP1Encoder.reasonPhrase(for: error.status))\n"))
        }
    }

    private func respond(_ response: AdminResponse) {
        answered = true
        connection.stopReading()
        // A HEAD gets the head alone (the same `content-length`).
        let responseHead = response.head
        connection.write(responseHead)
        var written = responseHead.count
        if head?.method != .head, !response.body.isEmpty {
            connection.write(response.body)
            written += response.body.count
        }
        stats.http.add(.downstreamCxTxBytesTotal, Int64(written))
        stats.responded(status: response.status, milliseconds: loop.nowMilliseconds - (requestStart ?? loop.nowMilliseconds))
        requestStart = nil
        if let accessLogs, let info {
            info.responseCode = response.status
            info.bytesSent = UInt64(response.body.count)
            var request: HTTPRequestMessage? = nil
            if let head {
                request = HTTPRequestMessage(method: head.method, path: head.targetString, authority: head.headers.firstString(name: "host"),
                                             scheme: "http", version: head.version, headers: head.headers)
            }
            accessLogs.log(AccessLogInput(info: info, request: request, responseHeaders: nil, responseTrailers: nil,
                                          endMilliseconds: loop.nowMilliseconds))
        }
        let after = response.afterWrite
        connection.shutdownWrite { [weak self] in
            self?.connection.close()
            after?()
        }
    }

    func connectionDidReadEOF(_ connection: Connection) {
        guard !answered else { return }
        closedByPeer = true
        connection.close()
    }

    func connection(_ connection: Connection, didFailWith error: EventLoopError) {
        if !connection.isClosed { closedByPeer = true }
        connection.close()
    }

    func connectionDidClose(_ connection: Connection) {
        if onClose != nil {
            stats.connectionClosed(remote: closedByPeer, requestActive: requestStart != nil,
                                   milliseconds: loop.nowMilliseconds - openedAt)
        }
        onClose?(self)
        onClose = nil
    }
}

/// Keeps the request head; the admin endpoints ignore bodies.
private struct AdminRequestSink: HTTP1ParserDelegate {
    var head: HTTP1RequestHead?

    mutating func onRequestHead(_ head: consuming HTTP1RequestHead) { self.head = head }
    mutating func onBody(_ chunk: ByteSlice) {}
    mutating func onMessageComplete() {}
}
