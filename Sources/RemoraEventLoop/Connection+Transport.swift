public import RemoraCore

// The transport-socket seam: a TLS session (RemoraTLS) sits between the
// socket and the delegate. Reads go through it before the delegate sees
// them, writes go through it before the socket does, and its ciphertext
// leaves with the loop's batched writes like any other bytes.

extension Connection: TransportSocketCallbacks {
    /// Puts `transport` between the socket and the delegate, and starts its
    /// session (a client sends its ClientHello). Call once, before reading
    /// starts (bytes already read go through `replayThroughTransport`). The delegate hears `connectionDidCompleteHandshake` when the
    /// handshake is done; writes made before then wait in the session.
    public func installTransport(_ transport: any TransportSocket) {
        loop.assertInLoop()
        precondition(self.transport == nil, "transport installed twice")
        self.transport = transport
        transport.start(self)
    }

    /// Bytes a listener filter read before the transport was installed
    /// (the HTTP inspector's): they go through the transport as if read now.
    public func replayThroughTransport(_ data: ByteSlice) {
        loop.assertInLoop()
        guard let transport, !isClosed else { return }
        transport.received(data, self)
    }

    /// The TLS facts once the handshake is done; nil on a raw connection.
    public var securityInfo: SecurityInfo? { transport?.securityInfo }

    /// The peer's certificate and chain in PEM (see `TransportSocket`).
    public func peerCertificatesPEM() -> (leaf: String, chain: String)? { transport?.peerCertificatesPEM() }
    public func peerCertificateChainFacts() -> PeerCertificateChainFacts? { transport?.peerCertificateChainFacts() }

    /// For this connection's transport only.
    public func transportSocketSend(_ bytes: ByteSlice) {
        guard bytes.count > 0, !isClosed, !writeFailed, shutdownState == .none || shutdownState == .requested else { return }
        writeToSocket(bytes)
    }

    public func transportSocketDeliver(_ plaintext: ByteSlice) {
        guard !isClosed, !isReadClosed else { return }
        plaintextThisRead += plaintext.count
        // One read can hold several records: once the delegate stops
        // reading, the rest waits for it (as bytes wait in the kernel).
        guard readsWanted, heldPlaintext.isEmpty else {
            heldPlaintext.append(plaintext)
            return
        }
        delegate?.connection(self, didRead: plaintext)
    }

    public func transportSocketHandshakeCompleted() {
        guard !isClosed else { return }
        delegate?.connectionDidCompleteHandshake(self)
    }

    public func transportSocketPeerClosed() {
        guard !isClosed, !isReadClosed else { return }
        stopReadingAtEOF()
        guard heldPlaintext.isEmpty else {
            heldEOF = true
            return
        }
        delegate?.connectionDidReadEOF(self)
    }

    public func transportSocketFailed(_ reason: String) {
        guard !isClosed else { return }
        fail(.transportFailure(reason, operation: "TLS with \(peerDescription)"))
    }
}
