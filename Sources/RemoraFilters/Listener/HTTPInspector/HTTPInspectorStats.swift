import RemoraCore

/// `http_inspector.*` stats, with Envoy's names. As in Envoy they sit at
/// the root (listener filters get the server's scope), shared by every
/// listener with the filter.
public enum HTTPInspectorStat: Int, StatName {
    case readError, http10Found, http11Found, http2Found, httpNotFound

    public var name: String {
        switch self {
        case .readError: "read_error"
        case .http10Found: "http10_found"
        case .http11Found: "http11_found"
        case .http2Found: "http2_found"
        case .httpNotFound: "http_not_found"
        }
    }

    public var kind: StatKind { .counter }

    public static func makeScope(in store: StatsStore) -> StatScope {
        store.makeScope(prefix: "http_inspector.", HTTPInspectorStat.self)
    }
}
