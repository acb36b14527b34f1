import RemoraCore

/// What a connection offers to filter-chain matching (Envoy's
/// `ConnectionSocket` as `FilterChainManagerImpl::findFilterChain` reads it).
/// Plain values: building one allocates nothing.
public struct FilterChainMatchInput {
    /// The local address, after `original_dst` restored the destination.
    public var localAddress: SocketAddress?
    /// The peer as the socket saw it (no PROXY protocol in Remora, so the
    /// same as `remoteAddress`).
    public var directRemoteAddress: SocketAddress?
    public var remoteAddress: SocketAddress?
    /// SNI, lowercased; nil until a TLS inspector provides one.
    public var serverName: String?
    /// `raw_buffer` unless a listener filter detected another transport.
    public var transportProtocol: String
    /// In preference order (ALPN, or what the HTTP inspector detected).
    public var applicationProtocols: [String]

    public init(localAddress: SocketAddress?, directRemoteAddress: SocketAddress?, remoteAddress: SocketAddress?,
                serverName: String? = nil, transportProtocol: String = FilterChainMatchInput.rawBuffer,
                applicationProtocols: [String] = []) {
        self.localAddress = localAddress
        self.directRemoteAddress = directRemoteAddress
        self.remoteAddress = remoteAddress
        self.serverName = serverName
        self.transportProtocol = transportProtocol
        self.applicationProtocols = applicationProtocols
    }

    public static let rawBuffer = "raw_buffer"
}

/// One chain's `filter_chain_match`, compiled: empty lists match anything.
public struct FilterChainMatchCriteria: Sendable, Equatable {
    public enum SourceType: Sendable, Equatable {
        case any
        /// `SAME_IP_OR_LOOPBACK`: the peer is a loopback address, or has the local IP.
        case local
        /// `EXTERNAL`: not local.
        case external
    }

    public var destinationPort: UInt16?
    public var destinationRanges: [CIDRRange] = []
    /// Lowercased; a wildcard `*.example.com` is kept as written (lowercased).
    public var serverNames: [String] = []
    public var transportProtocol: String = ""
    public var applicationProtocols: [String] = []
    public var directSourceRanges: [CIDRRange] = []
    public var sourceType: SourceType = .any
    public var sourceRanges: [CIDRRange] = []
    public var sourcePorts: [UInt16] = []

    public init(destinationPort: UInt16? = nil) {
        self.destinationPort = destinationPort
    }
}
