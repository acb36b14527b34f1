public import RemoraCore

/// The TLS transport of one connection: a `TLSEngine` fed from the
/// connection's reads, its records handed back to the connection's batched
/// writes, its plaintext delivered to the connection's delegate. Counts the
/// session in Envoy's `ssl.*` stats. Owned by one connection, on its loop.
final class TLSTransportSocket: TransportSocket {
    let engine: TLSEngine
    private let factory: TLSTransportFactory
    private let pool: BufferPool
    /// Plaintext written before the handshake finished.
    private var waiting: [ByteSlice] = []
    private var established = false
    private var failed = false
    private var facts: SecurityInfo?

    /// Read from the session on first use: most connections never ask for
    /// the peer's SANs, digest or subject, so the handshake does not pay
    /// for parsing them.
    var securityInfo: SecurityInfo? {
        guard established else { return nil }
        if let facts { return facts }
        let made = engine.securityInfo()
        facts = made
        return made
    }

    func peerCertificatesPEM() -> (leaf: String, chain: String)? {
        established ? engine.peerCertificatesPEM() : nil
    }

    func peerCertificateChainFacts() -> PeerCertificateChainFacts? {
        established ? engine.peerCertificateChainFacts() : nil
    }

    init(engine: TLSEngine, factory: TLSTransportFactory, pool: BufferPool) {
        self.engine = engine
        self.factory = factory
        self.pool = pool
    }

    func start(_ callbacks: any TransportSocketCallbacks) {
        guard engine.context.settings.role == .client else { return }
        handshake(callbacks)
    }

    func received(_ bytes: ByteSlice, _ callbacks: any TransportSocketCallbacks) {
        guard !failed else { return }
        bytes.withUnsafeBytes { engine.feed($0) }
        if !established {
            guard handshake(callbacks) else { return }
        }
        readPlaintext(callbacks)
        flush(callbacks)
    }

    func send(_ plaintext: ByteSlice, _ callbacks: any TransportSocketCallbacks) {
        guard !failed else { return }
        guard established else {
            waiting.append(plaintext)
            return
        }
        if engine.isDetached && sealIntoBlocks(plaintext, callbacks) { return }
        if let failure = plaintext.withUnsafeBytes({ engine.write($0) }) {
            factory.countFailureAfterHandshake()
            fail(failure.reason, callbacks)
            return
        }
        flush(callbacks)
    }

    func shutdown(_ callbacks: any TransportSocketCallbacks) {
        guard !failed, established else { return }
        engine.close()
        flush(callbacks)
    }

    func closed() {
        waiting.removeAll()
    }

    /// Runs the handshake on; true once it is done (and reported).
    @discardableResult
    private func handshake(_ callbacks: any TransportSocketCallbacks) -> Bool {
        let progress = engine.advance()
        // Our next flight (or the alert that refuses the peer) goes out first.
        flush(callbacks)
        switch progress {
        case .handshaking:
            return false
        case .failed(let failure):
            factory.countFailure(engine)
            fail(failure.reason, callbacks)
            return false
        case .established:
            established = true
            factory.countHandshake(engine)
            if engine.context.settings.role == .server {
                // A TLS 1.3 server session leaves OpenSSL (~13 KB less per connection).
                engine.detachRecordLayer(ciphers: factory.recordCiphers)
            }
            callbacks.transportSocketHandshakeCompleted()
            let early = waiting
            waiting = []
            for slice in early { send(slice, callbacks) }
            return !failed
        }
    }

    private func readPlaintext(_ callbacks: any TransportSocketCallbacks) {
        while true {
            let (block, offset) = factory.plaintextArea.space(from: pool, minimum: TLSTransportFactory.minimumSpace)
            let result = engine.read(into: UnsafeMutableRawBufferPointer(start: block.base + offset, count: block.capacity - offset))
            switch result {
            case .bytes(let count):
                factory.plaintextArea.consume(count)
                callbacks.transportSocketDeliver(ByteSlice(storage: block, offset: offset, count: count))
            case .wantMore:
                return
            case .closed:
                flush(callbacks)
                callbacks.transportSocketPeerClosed()
                return
            case .failed(let failure):
                factory.countFailureAfterHandshake()
                flush(callbacks)
                fail(failure.reason, callbacks)
                return
            }
        }
    }

    /// A session that left OpenSSL seals its records straight into the
    /// worker's pooled blocks (one copy, no zero fill); false when the
    /// engine's own output must go first (`write` then does it all).
    private func sealIntoBlocks(_ plaintext: ByteSlice, _ callbacks: any TransportSocketCallbacks) -> Bool {
        plaintext.withUnsafeBytes { bytes in
            var offset = 0
            // A record fits in one pooled block.
            let largest = min(TLSEngine.maximumRecordPlaintext, pool.blockSize - TLSEngine.recordOverhead)
            while offset < bytes.count {
                let count = min(largest, bytes.count - offset)
                let size = count + TLSEngine.recordOverhead
                let (block, at) = factory.recordArea.space(from: pool, minimum: size)
                let record = UnsafeMutableRawBufferPointer(start: block.base + at, count: size)
                guard engine.sealRecord(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count]), into: record) else {
                    // Nothing sealed yet goes the other way; what was sealed is sent.
                    if offset == 0 { return false }
                    if let failure = engine.write(UnsafeRawBufferPointer(rebasing: bytes[offset...])) {
                        factory.countFailureAfterHandshake()
                        fail(failure.reason, callbacks)
                    } else {
                        flush(callbacks)
                    }
                    return true
                }
                factory.recordArea.consume(size)
                callbacks.transportSocketSend(ByteSlice(storage: block, offset: at, count: size))
                offset += count
            }
            return true
        }
    }

    /// Hands every record the engine produced to the connection's writes.
    private func flush(_ callbacks: any TransportSocketCallbacks) {
        while engine.pendingOutput > 0 {
            let (block, offset) = factory.recordArea.space(from: pool, minimum: min(engine.pendingOutput, TLSTransportFactory.minimumSpace))
            let count = engine.takeOutput(into: UnsafeMutableRawBufferPointer(start: block.base + offset, count: block.capacity - offset))
            guard count > 0 else { return }
            factory.recordArea.consume(count)
            callbacks.transportSocketSend(ByteSlice(storage: block, offset: offset, count: count))
        }
    }

    private func fail(_ reason: String, _ callbacks: any TransportSocketCallbacks) {
        guard !failed else { return }
        failed = true
        waiting.removeAll()
        callbacks.transportSocketFailed(reason)
    }
}

/// Makes the TLS transports of one filter chain or cluster on one worker:
/// holds the shared context, that worker's row of the `ssl.*` stats, and
/// the worker's scratch areas for records and plaintext (slices of pooled
/// blocks, so an idle session holds no buffer of its own).
public final class TLSTransportFactory: TransportSocketFactory {
    public let context: TLSContext
    private let stats: Stats<SSLStat>?
    fileprivate var plaintextArea = ReadArea()
    fileprivate var recordArea = ReadArea()
    /// The AEAD contexts of the sessions that left OpenSSL.
    fileprivate let recordCiphers = TLSRecordCiphers()
    fileprivate static let minimumSpace = 4096

    public init(context: TLSContext, stats: Stats<SSLStat>?) {
        self.context = context
        self.stats = stats
    }

    public func makeTransportSocket(pool: BufferPool) -> any TransportSocket {
        let engine = TLSEngine(context: context)
        countSecretsNotReady(engine)
        return TLSTransportSocket(engine: engine, factory: self, pool: pool)
    }

    /// A session of a context still waiting for its SDS secrets fails at
    /// once; Envoy's factory counts it (and no `ssl.*` stat).
    fileprivate func countSecretsNotReady(_ engine: TLSEngine) {
        let settings = engine.context.settings
        guard settings.waitingForSecrets, let stats else { return }
        stats.add(settings.role == .server ? .downstreamSecretsNotReady : .upstreamSecretsNotReady)
    }

    public func withOptions(_ options: TransportSocketOptions) -> any TransportSocketFactory {
        options == TransportSocketOptions() ? self : TLSOptionsTransportFactory(base: self, options: options)
    }

    fileprivate func countHandshake(_ engine: TLSEngine) {
        guard let stats else { return }
        countOCSP(engine, stats)
        stats.add(.handshake)
        if engine.sessionReused { stats.add(.sessionReused) }
        if engine.context.settings.role == .server && !engine.hasPeerCertificate { stats.add(.noCertificate) }
        if let version = SSLStat.version(engine.version) { stats.add(version) }
        if let cipher = SSLStat.cipher(engine.cipher) { stats.add(cipher) }
        if let group = engine.negotiatedGroup, let curve = SSLStat.curve(group) { stats.add(curve) }
        if let algorithm = engine.peerSignatureAlgorithm, let sigalg = SSLStat.signatureAlgorithm(algorithm) { stats.add(sigalg) }
    }

    /// Envoy counts each client that asked for a staple, and what it got.
    private func countOCSP(_ engine: TLSEngine, _ stats: Stats<SSLStat>) {
        guard let outcome = engine.ocspOutcome else { return }
        stats.add(.ocspStapleRequests)
        switch outcome {
        case .staple: stats.add(.ocspStapleResponses)
        case .omit: stats.add(.ocspStapleOmitted)
        case .fail: stats.add(.ocspStapleFailed)
        }
    }

    /// A session that fails after its handshake (a bad record, a refused
    /// renegotiation) counts `ssl.connection_error` twice, as Envoy 1.40's
    /// does (measured): once for the failed read or write, and once more
    /// for the close_notify its `shutdownSsl` then cannot send. A peer that
    /// just closes counts nothing, there as here.
    fileprivate func countFailureAfterHandshake() {
        stats?.add(.connectionError, 2)
    }

    fileprivate func countFailure(_ engine: TLSEngine) {
        guard let stats, !engine.context.settings.waitingForSecrets else { return }
        countOCSP(engine, stats)
        // As Envoy 1.40 counts: a refused peer certificate only under its
        // verify counter, anything else (garbage, no common version) as a
        // connection error.
        switch engine.verifyFailure {
        case .chain: stats.add(.failVerifyError)
        case .subjectAltName: stats.add(.failVerifySan)
        case .certificateHash: stats.add(.failVerifyCertHash)
        case .noCertificate: stats.add(.failVerifyNoCert)
        case .untrusted: break
        case nil: stats.add(.connectionError)
        }
    }
}

/// A cluster's TLS transports for one set of per-request options (the SNI
/// and the names to verify that `auto_sni` / `auto_san_validation` take
/// from the request): the cluster factory's context, stats and scratch
/// areas, each session made with the options. One per connection pool.
final class TLSOptionsTransportFactory: TransportSocketFactory {
    private let base: TLSTransportFactory
    private let options: TransportSocketOptions

    init(base: TLSTransportFactory, options: TransportSocketOptions) {
        self.base = base
        self.options = options
    }

    func makeTransportSocket(pool: BufferPool) -> any TransportSocket {
        let engine = TLSEngine(context: base.context, serverName: options.serverName,
                               verifySubjectAltNames: options.verifySubjectAltNames)
        base.countSecretsNotReady(engine)
        return TLSTransportSocket(engine: engine, factory: base, pool: pool)
    }

    func withOptions(_ options: TransportSocketOptions) -> any TransportSocketFactory {
        base.withOptions(options)
    }
}
