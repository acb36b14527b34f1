import RemoraCore

/// `tls_inspector.*` stats, with Envoy 1.40's names. As in Envoy they sit at
/// the root (listener filters get the server's scope), shared by every
/// listener with the filter.
public enum TLSInspectorStat: Int, StatName {
    case clientHelloTooLarge, tlsFound, tlsNotFound, alpnFound, alpnNotFound, sniFound, sniNotFound, bytesProcessed

    public var name: String {
        switch self {
        case .clientHelloTooLarge: "client_hello_too_large"
        case .tlsFound: "tls_found"
        case .tlsNotFound: "tls_not_found"
        case .alpnFound: "alpn_found"
        case .alpnNotFound: "alpn_not_found"
        case .sniFound: "sni_found"
        case .sniNotFound: "sni_not_found"
        case .bytesProcessed: "bytes_processed"
        }
    }

    /// `bytes_processed` is a histogram of bytes (recorded through the
    /// store's one histogram kind, whose unit is only its name).
    public var kind: StatKind { self == .bytesProcessed ? .histogram : .counter }

    public static func makeScope(in store: StatsStore) -> StatScope {
        store.makeScope(prefix: "tls_inspector.", TLSInspectorStat.self)
    }
}
