/// What a transport socket needs from the connection that owns it (Envoy's
/// `TransportSocketCallbacks`): a way to put bytes on the wire, to hand
/// plaintext to the layers above, and to report the handshake and failures.
/// Passed in on every call, never stored, so no cycle forms.
public protocol TransportSocketCallbacks: AnyObject {
    /// Bytes for the wire, in order (written with the connection's batched writes).
    func transportSocketSend(_ bytes: ByteSlice)
    /// Plaintext for the connection's delegate; never empty.
    func transportSocketDeliver(_ plaintext: ByteSlice)
    /// The handshake finished: `TransportSocket.securityInfo` is now set.
    func transportSocketHandshakeCompleted()
    /// The peer ended the session cleanly (TLS close_notify): as an EOF.
    func transportSocketPeerClosed()
    /// The session failed (handshake refused, bad record); the owner closes.
    /// `reason` is Envoy's transport failure text.
    func transportSocketFailed(_ reason: String)
}

/// A connection's transport: the TLS session between the socket and the
/// plaintext that filters see (DESIGN.md §3, "Seams"). A connection without
/// one moves raw bytes with no indirection at all. Owned by one connection,
/// on its loop.
public protocol TransportSocket: AnyObject {
    /// Starts the session (a client sends its ClientHello).
    func start(_ callbacks: any TransportSocketCallbacks)
    /// Bytes read from the socket.
    func received(_ bytes: ByteSlice, _ callbacks: any TransportSocketCallbacks)
    /// Plaintext to send; held until the handshake is done.
    func send(_ plaintext: ByteSlice, _ callbacks: any TransportSocketCallbacks)
    /// Ends the session cleanly (close_notify), before a FIN.
    func shutdown(_ callbacks: any TransportSocketCallbacks)
    /// The socket is closing: release what the session holds, count what was not finished.
    func closed()
    /// Set once the handshake is done.
    var securityInfo: SecurityInfo? { get }
    /// The peer's certificate and its whole chain (leaf first) in PEM, made
    /// on demand (for `x-forwarded-client-cert`'s `Cert` and `Chain`); nil
    /// without a peer certificate.
    func peerCertificatesPEM() -> (leaf: String, chain: String)?
    /// The peer chain's digests, serials and verified issuer, made on
    /// demand; nil without a peer certificate.
    func peerCertificateChainFacts() -> PeerCertificateChainFacts?
}

extension TransportSocket {
    public func peerCertificatesPEM() -> (leaf: String, chain: String)? { nil }
    public func peerCertificateChainFacts() -> PeerCertificateChainFacts? { nil }
}

/// Makes the transport socket of each new connection of one listener chain
/// or cluster, on one worker (it holds that worker's stat row).
public protocol TransportSocketFactory: AnyObject {
    func makeTransportSocket(pool: BufferPool) -> any TransportSocket
    /// The factory for connections made with per-request `options` (the
    /// router's `auto_sni` / `auto_san_validation`); a raw transport has
    /// nothing to override and returns itself.
    func withOptions(_ options: TransportSocketOptions) -> any TransportSocketFactory
}

extension TransportSocketFactory {
    public func withOptions(_ options: TransportSocketOptions) -> any TransportSocketFactory { self }
}

/// What one upstream request asks of the connection's TLS beyond the
/// cluster's context (Envoy's `TransportSocketOptions`): the SNI to send
/// instead of the context's `sni`, and the names the server's certificate
/// must carry. Connections made with different options are never shared,
/// so the pools key on them.
public struct TransportSocketOptions: Sendable, Hashable {
    /// Envoy's `serverNameOverride()`; nil keeps the context's `sni`.
    public var serverName: String?
    /// Envoy's `verifySubjectAltNameListOverride()`: a DNS SAN matches one
    /// of these as a host name (with `*.` wildcards), any other SAN exactly.
    public var verifySubjectAltNames: [String]

    public init(serverName: String? = nil, verifySubjectAltNames: [String] = []) {
        self.serverName = serverName
        self.verifySubjectAltNames = verifySubjectAltNames
    }
}
