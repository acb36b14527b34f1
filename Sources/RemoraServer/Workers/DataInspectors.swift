import RemoraConfig
import RemoraCore
import RemoraFilters

/// `envoy.filters.listener.http_inspector` on a connection: the verdict of
/// `HTTPInspector` and its `http_inspector.*` stats.
///
/// As in Envoy, a connection whose transport was already detected as TLS
/// (by `tls_inspector`) is not inspected: the bytes are a ClientHello.
struct HTTPInspectorFilter: DataInspector {
    private var inspector = HTTPInspector()
    let stats: Stats<HTTPInspectorStat>

    init(stats: Stats<HTTPInspectorStat>) {
        self.stats = stats
    }

    mutating func inspect(_ data: ByteSlice, state: inout AcceptedConnectionState) -> InspectionDecision? {
        switch inspector.inspect(data) {
        case .needMoreData:
            return nil
        case .detected(let detected):
            switch detected {
            case .http10: stats.add(.http10Found)
            case .http11: stats.add(.http11Found)
            case .http2: stats.add(.http2Found)
            }
            state.applicationProtocols = detected.alpnList
            return .proceed
        case .notHTTP:
            stats.add(.httpNotFound)
            return .proceed
        case .tooLarge:
            // 64 KiB without a verdict: Envoy's read_error, and a close.
            stats.add(.readError)
            return .close
        }
    }
}

/// `envoy.filters.listener.tls_inspector` on a connection: the verdict of
/// `TLSClientHelloParser`, what Envoy 1.40's filter sets from it
/// (transport `tls`, the SNI as Envoy keeps it, the ALPN list) and its stats.
///
/// Envoy's outcomes: a ClientHello counts `tls_found`, `sni_found` or
/// `sni_not_found`, `alpn_found` or `alpn_not_found`; bytes that are not
/// one count `tls_not_found` and go on as plaintext (or close, with
/// `close_connection_on_client_hello_parsing_errors`); a ClientHello whose
/// legacy version is not TLS 1.0 to 1.3 counts its SNI and `tls_not_found`
/// and closes; a `close_notify` alert before the ClientHello closes,
/// counting nothing; `max_client_hello_size`
/// bytes without a verdict count `client_hello_too_large` and close; every
/// verdict records `bytes_processed`.
struct TLSInspectorFilter: DataInspector {
    private var parser: TLSClientHelloParser
    private let closeOnParsingErrors: Bool
    /// Envoy's `read_`: bytes it peeked, at most `max_client_hello_size`.
    private var inspected = 0
    let stats: Stats<TLSInspectorStat>

    static let tls = "tls"

    init(config: TLSInspectorConfig, stats: Stats<TLSInspectorStat>) {
        parser = TLSClientHelloParser(maxClientHelloSize: config.maxClientHelloSize)
        closeOnParsingErrors = config.closeOnParsingErrors
        self.stats = stats
    }

    mutating func inspect(_ data: ByteSlice, state: inout AcceptedConnectionState) -> InspectionDecision? {
        inspected = min(inspected + data.count, parser.maxClientHelloSize)
        let verdict = parser.inspect(data)
        if verdict != .needMoreData {
            stats.record(.bytesProcessed, milliseconds: UInt64(parser.processedBytes))
        }
        switch verdict {
        case .needMoreData:
            return nil
        case .tls(let hello):
            if hello.serverName != nil {
                stats.add(.sniFound)
                state.serverName = hello.serverName
            } else {
                stats.add(.sniNotFound)
            }
            stats.add(.tlsFound)
            if hello.applicationProtocols.isEmpty {
                stats.add(.alpnNotFound)
            } else {
                stats.add(.alpnFound)
                state.applicationProtocols = hello.applicationProtocols
            }
            state.transportProtocol = Self.tls
            return .proceed
        case .notTLS:
            // Counted even when the connection is then closed (measured on Envoy 1.40).
            stats.add(.tlsNotFound)
            guard closeOnParsingErrors else { return .proceed }
            if inspected >= parser.maxClientHelloSize { stats.add(.clientHelloTooLarge) }
            return .close
        case .unsupportedVersion(let name):
            stats.add(name == nil ? .sniNotFound : .sniFound)
            stats.add(.tlsNotFound)
            return .close
        case .closed:
            return .close
        case .tooLarge:
            stats.add(.clientHelloTooLarge)
            return .close
        }
    }
}

/// The root scopes of the listener filters with stats (`http_inspector.*`,
/// `tls_inspector.*`), nil for a filter the listener does not have.
struct InspectorScopes: Sendable {
    var http: StatScope?
    var tls: StatScope?

    /// One worker's rows.
    func stats(thread: Int) -> InspectorStats {
        InspectorStats(http: http?.stats(HTTPInspectorStat.self, thread: thread),
                       tls: tls?.stats(TLSInspectorStat.self, thread: thread))
    }
}

/// One worker's rows of the listener filters' stats.
struct InspectorStats {
    let http: Stats<HTTPInspectorStat>?
    let tls: Stats<TLSInspectorStat>?
}
