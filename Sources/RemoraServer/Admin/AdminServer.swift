import RemoraCore
import RemoraEventLoop

/// The admin HTTP endpoint (Envoy's paths), on the main loop. One request
/// per connection; the answer is written, then the connection is closed.
final class AdminServer {
    typealias Handler = (AdminRequest) -> AdminResponse

    private let loop: EventLoop
    private let listener: Listener
    private let handler: Handler
    private var connections: [ObjectIdentifier: AdminConnection] = [:]

    var boundAddress: SocketAddress { listener.boundAddress }

    init(loop: EventLoop, address: SocketAddress, handler: @escaping Handler) throws(EventLoopError) {
        self.loop = loop
        self.handler = handler
        listener = try Listener.bind(loop: loop, address: address, reusePort: false)
        try listener.startAccepting { [unowned self] connection in
            let admin = AdminConnection(connection: connection, handler: self.handler) { [unowned self] done in
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

/// One admin connection: reads a request head, answers, closes.
final class AdminConnection: ConnectionDelegate {
    private let connection: Connection
    private let handler: AdminServer.Handler
    private var onClose: ((AdminConnection) -> Void)?
    private var buffer: [UInt8] = []
    private var answered = false

    init(connection: Connection, handler: @escaping AdminServer.Handler, onClose: @escaping (AdminConnection) -> Void) {
        self.connection = connection
        self.handler = handler
        self.onClose = onClose
        connection.delegate = self
    }

    func connection(_ connection: Connection, didRead data: ByteSlice) {
        guard !answered else { return }
        data.withUnsafeBytes { buffer.append(contentsOf: $0) }
        switch AdminRequest.parse(buffer) {
        case .incomplete:
            return
        case .invalid:
            respond(.text(400, "bad request\n"))
        case .request(let request, _):
            respond(handler(request))
        }
    }

    private func respond(_ response: AdminResponse) {
        answered = true
        connection.stopReading()
        connection.write(response.serialized())
        let after = response.afterWrite
        connection.shutdownWrite { [weak self] in
            self?.connection.close()
            after?()
        }
    }

    func connectionDidReadEOF(_ connection: Connection) {
        if !answered { connection.close() }
    }

    func connection(_ connection: Connection, didFailWith error: EventLoopError) {
        connection.close()
    }

    func connectionDidClose(_ connection: Connection) {
        onClose?(self)
        onClose = nil
    }
}
