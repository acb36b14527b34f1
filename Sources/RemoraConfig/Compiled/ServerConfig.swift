public import RemoraAPI
import RemoraCore
public import RemoraTLS

/// Everything the server needs from a bootstrap, validated and compiled.
/// Immutable and `Sendable`: the main thread builds it, workers read it.
public struct ServerConfig: Sendable {
    public var node: NodeInfo
    public var admin: AdminConfig?
    public var listeners: [ListenerConfig]
    public var clusters: [ClusterConfig]
    /// The bootstrap as loaded, in protobuf binary (for /config_dump; set
    /// when serving).
    public var bootstrapBytes: [UInt8] = []
    /// `stats_config` and `stats_flush_interval`.
    public var stats = StatsSettings()
    /// `dynamic_resources`: where listeners and clusters beyond the static
    /// ones come from (nil: a static bootstrap).
    public var dynamicResources: DynamicResourcesConfig?
    /// `static_resources.secrets`, for listeners and clusters compiled later (LDS, CDS).
    var secrets = StaticSecrets()
    /// TLS contexts built from SDS secrets, which rotate when the secrets do.
    public var sdsDependencies: [SDSContextDependency] = []
    /// `layered_runtime.layers`, for `/runtime` and `/runtime_modify`.
    public var runtimeLayers: [RuntimeLayerConfig] = []

    public func cluster(named name: String) -> ClusterConfig? {
        clusters.first { $0.name == name }
    }

    /// Every access-log path of every listener, connection manager and
    /// `tcp_proxy` (opened at start-up, before anything is logged).
    public var accessLogPaths: [String] {
        var lists: [AccessLogList] = [admin?.accessLogs ?? .none]
        for listener in listeners {
            lists.append(listener.accessLogs)
            for chain in listener.filterChains + (listener.defaultFilterChain.map { [$0] } ?? []) {
                if let hcm = chain.httpConnectionManager { lists.append(hcm.accessLogs) }
                if let proxy = chain.tcpProxy { lists.append(proxy.accessLogs) }
            }
        }
        var seen: Set<String> = []
        return lists.flatMap(\.entries).map(\.destination.path).filter { seen.insert($0).inserted }
    }
}

public struct NodeInfo: Sendable, Equatable {
    public var id: String
    public var cluster: String
    /// The bootstrap's `node`, as JSON with proto field names (for /server_info).
    public var json: String
    /// The bootstrap's `node` itself (what xDS requests carry).
    public var message = Envoy_Config_Core_V3_Node()
}

public struct AdminConfig: Sendable, Equatable {
    public var address: SocketAddress
    /// `access_log` and `access_log_path`: one line per admin request.
    public var accessLogs = AccessLogList.none
}

/// One static listener: where it binds and how connections find a chain.
public struct ListenerConfig: Sendable {
    public var name: String
    public var address: SocketAddress
    /// Prefix of this listener's stats, with Envoy's sanitizing: `127.0.0.1_10000`.
    public var statPrefix: String
    public var bufferLimitBytes: Int
    public var backlog: Int32
    public var reusePort: Bool
    public var filterChains: [FilterChainConfig]
    public var defaultFilterChain: FilterChainConfig?
    /// `listener_filters`, in order; they run on each accepted connection
    /// before its filter chain is chosen.
    public var listenerFilters: [ListenerFilter] = []
    /// `listener_filters_timeout` (default 15 s; 0 turns it off): how long
    /// listener filters may wait for bytes.
    public var listenerFiltersTimeoutMilliseconds: UInt64 = 15_000
    /// `continue_on_listener_filters_timeout`: on that timeout, choose a
    /// chain with what is known instead of closing the connection.
    public var continueOnListenerFiltersTimeout = false
    /// `use_original_dst`: a connection whose restored destination is the
    /// address of another listener is handed to that listener.
    public var useOriginalDestination = false
    /// `bind_to_port`: false makes a listener that binds no socket and only
    /// takes connections handed off by a `use_original_dst` listener.
    public var bindToPort = true
    /// `traffic_direction` (`/drain_listeners?inboundonly` drains the inbound ones).
    public var isInbound = false
    /// `drain_type`: DEFAULT (true) also drains the listener's connections
    /// while the server is health-check failed (`/healthcheck/fail`);
    /// MODIFY_ONLY (false) drains them only when the listener changes or
    /// the server drains (Envoy's `DrainManagerImpl::drainClose`).
    public var drainsOnHealthCheckFail = true
    /// `socket_address.ipv4_compat` on an IPv6 address: the socket is not
    /// v6-only, so `::` takes IPv4 connections too.
    public var ipv4Compat = false
    /// `access_log` of the listener: connections no filter chain takes.
    public var accessLogs = AccessLogList.none
    /// `additional_addresses`: more sockets of this listener (Istio's
    /// dual-stack listeners add `[::]:<port>` to `0.0.0.0:<port>`). Their
    /// connections are the listener's own: same chains and stats.
    public var additionalAddresses: [BindAddress] = []

    /// One address a listener binds, with its own `ipv4_compat`.
    public struct BindAddress: Sendable, Equatable {
        public var address: SocketAddress
        public var ipv4Compat: Bool
        public init(address: SocketAddress, ipv4Compat: Bool) {
            self.address = address
            self.ipv4Compat = ipv4Compat
        }
    }

    /// The main address, then the additional ones.
    public var bindAddresses: [BindAddress] {
        [BindAddress(address: address, ipv4Compat: ipv4Compat)] + additionalAddresses
    }
    /// The index over `filterChains`' `filter_chain_match`es.
    public var chainMatcher = FilterChainMatcher()

    /// The `original_dst` listener filter is configured: each connection's
    /// local address becomes its original destination (`SO_ORIGINAL_DST`).
    public var restoresOriginalDestination: Bool { listenerFilters.contains(.originalDestination) }

    /// Some listener filter reads the connection's first bytes.
    public var inspectsData: Bool { listenerFilters.contains { $0.readsData } }

    /// The `tls_inspector` of this listener, if it has one (Envoy's
    /// `tls_inspector.*` stats are shared by every listener with the filter).
    public var hasTLSInspector: Bool { listenerFilters.contains { if case .tlsInspector = $0 { true } else { false } } }

    /// Envoy's `findFilterChain`: the most specific matching chain, else the
    /// default chain, else nil (the connection is closed).
    public func filterChain(for input: FilterChainMatchInput) -> FilterChainConfig? {
        if let index = chainMatcher.match(input) { return filterChains[index] }
        return defaultFilterChain
    }

    /// The chain for a plain connection to `127.0.0.1:port` from `127.0.0.1`
    /// (no SNI, no application protocol); for tests and tools.
    public func filterChain(forDestinationPort port: UInt16) -> FilterChainConfig? {
        let loopback: UInt32 = 0x7F00_0001
        return filterChain(for: FilterChainMatchInput(
            localAddress: .v4(loopback, port: port), directRemoteAddress: .v4(loopback, port: 40000),
            remoteAddress: .v4(loopback, port: 40000)))
    }
}

/// A listener filter Remora implements, as configured in `listener_filters`.
public enum ListenerFilter: Sendable, Equatable {
    /// `envoy.filters.listener.original_dst`
    case originalDestination
    /// `envoy.filters.listener.http_inspector`
    case httpInspector
    /// `envoy.filters.listener.tls_inspector`
    case tlsInspector(TLSInspectorConfig)

    /// The filter waits for the connection's first bytes.
    public var readsData: Bool {
        switch self {
        case .originalDestination: false
        case .httpInspector, .tlsInspector: true
        }
    }
}

/// `envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector`, compiled.
public struct TLSInspectorConfig: Sendable, Equatable {
    /// `max_client_hello_size` (256...16384, default 16384): bytes read
    /// without a verdict before `client_hello_too_large`.
    public var maxClientHelloSize: Int
    /// `close_connection_on_client_hello_parsing_errors`: bytes that are not
    /// a valid ClientHello close the connection instead of going on as
    /// plaintext.
    public var closeOnParsingErrors: Bool

    public init(maxClientHelloSize: Int = 16384, closeOnParsingErrors: Bool = false) {
        self.maxClientHelloSize = maxClientHelloSize
        self.closeOnParsingErrors = closeOnParsingErrors
    }
}

public struct FilterChainConfig: Sendable {
    /// The network filter that ends a chain and owns its connections.
    public enum TerminalFilter: Sendable {
        case tcpProxy(TcpProxyConfig)
        case httpConnectionManager(SharedHttpConnectionManagerConfig)
    }

    public var name: String
    public var match: FilterChainMatchCriteria
    /// The terminal network filter; nil for a chain with no filters, whose
    /// connections are closed at once.
    public var terminal: TerminalFilter?
    /// `transport_socket` with `DownstreamTlsContext`: the chain's
    /// connections are TLS (nil: raw TCP).
    public var tls: TLSContext?
    /// `transport_socket_connect_timeout`: how long the TLS handshake may
    /// take (0: no limit, Envoy's default).
    public var transportSocketConnectTimeoutMilliseconds: UInt64 = 0
    /// The `FilterChain` message it was compiled from: a listener update
    /// keeps the connections of a chain whose source did not change.
    public var source = FilterChainSource()

    /// The chain's TCP proxy, if that is its terminal filter.
    public var tcpProxy: TcpProxyConfig? {
        if case .tcpProxy(let proxy)? = terminal { return proxy }
        return nil
    }

    /// The chain's HTTP connection manager, if that is its terminal filter.
    public var httpConnectionManager: HttpConnectionManagerConfig? {
        sharedHTTPConnectionManager?.config
    }

    /// The same, as the one copy that every connection of the chain shares.
    public var sharedHTTPConnectionManager: SharedHttpConnectionManagerConfig? {
        if case .httpConnectionManager(let hcm)? = terminal { return hcm }
        return nil
    }
}

/// A filter chain's `FilterChain` message in deterministic binary form:
/// two chains are the same chain when these bytes are equal (Envoy compares
/// the messages' hashes the same way in `ListenerImpl`'s chain diff).
public struct FilterChainSource: Hashable, Sendable {
    public let bytes: [UInt8]

    public init(bytes: [UInt8] = []) { self.bytes = bytes }
}

/// `envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy`, as far as Remora implements it.
public struct TcpProxyConfig: Sendable, Equatable {
    public var statPrefix: String
    public var cluster: String
    /// 0 disables the timeout. Envoy's default is one hour.
    public var idleTimeoutMilliseconds: UInt64
    public var maxConnectAttempts: Int
    /// `access_log`: one line per connection, written when it ends.
    public var accessLogs = AccessLogList.none
}

public struct ClusterConfig: Sendable, Equatable {
    public enum Discovery: Sendable, Equatable {
        case staticHosts([SocketAddress])
        /// Names resolved by the main thread and re-resolved every `refreshMilliseconds`.
        case strictDNS([DNSEndpoint], family: DNSFamily, refreshMilliseconds: UInt64)
        /// `ORIGINAL_DST`: no configured hosts; each connection goes to the
        /// downstream's original destination, made a host on first use.
        case originalDestination(OriginalDestinationOptions)
        /// `EDS`: hosts come from `ClusterLoadAssignment`s named `serviceName`
        /// (`eds_cluster_config.service_name`, else the cluster's name) on `source`.
        case eds(serviceName: String, source: ConfigSourceConfig)
    }

    /// `original_dst_lb_config` and `cleanup_interval` of an ORIGINAL_DST cluster.
    public struct OriginalDestinationOptions: Sendable, Equatable {
        /// `use_http_header`: an HTTP request's destination header (an IP
        /// address and port) overrides the connection's original destination.
        public var useHTTPHeader: Bool
        /// `http_header_name`, lowercased; Envoy's default `x-envoy-original-dst-host`.
        public var headerName: String
        /// Hosts unused for this long are dropped (Envoy's default 5 s).
        public var cleanupIntervalMilliseconds: UInt64

        public init(useHTTPHeader: Bool = false, headerName: String = "x-envoy-original-dst-host",
                    cleanupIntervalMilliseconds: UInt64 = 5000) {
            self.useHTTPHeader = useHTTPHeader
            self.headerName = headerName
            self.cleanupIntervalMilliseconds = cleanupIntervalMilliseconds
        }
    }

    public enum DNSFamily: Sendable, Equatable {
        /// AUTO: IPv6 if there is any, else IPv4 (Envoy's AUTO).
        case auto
        case v4Only
        case v6Only
        /// V4_PREFERRED: IPv4 if there is any, else IPv6.
        case v4Preferred
        case all
    }

    public enum LoadBalancing: Sendable, Equatable {
        case roundRobin
        case random
        /// `LEAST_REQUEST`: the fewest active requests among `choiceCount`
        /// random hosts (equal weights), or weights divided by
        /// (active requests + 1)^`activeRequestBias` (Envoy's).
        case leastRequest(choiceCount: Int, activeRequestBias: Double)
        /// `CLUSTER_PROVIDED`: the cluster picks (ORIGINAL_DST only).
        case clusterProvided
    }

    public var name: String
    public var discovery: Discovery
    /// A STATIC cluster's endpoints when they carry weights or health
    /// statuses (its hosts balance as EDS ones do); nil otherwise.
    public var staticEndpoints: [EndpointConfig]?
    /// `upstream_connection_options.tcp_keepalive` (nil: no keep-alive).
    public var tcpKeepalive: TCPKeepalive?
    /// `common_lb_config.healthy_panic_threshold` (Envoy's default 50 %; 0: never in panic).
    public var healthyPanicThresholdPercent: Double = 50
    public var connectTimeoutMilliseconds: UInt64
    public var loadBalancing: LoadBalancing
    public var bufferLimitBytes: Int
    /// HTTP settings for connections to this cluster's hosts.
    public var http: UpstreamHTTPConfig = UpstreamHTTPConfig()
    /// `circuit_breakers`, with Envoy's defaults when absent.
    public var circuitBreakers: CircuitBreakers = CircuitBreakers()
    /// `upstream_bind_config.source_address`: upstream sockets are bound to
    /// this address (port 0 lets the kernel choose) before they connect.
    public var sourceAddress: SocketAddress?
    /// `upstream_bind_config.extra_source_addresses` (or the deprecated
    /// `additional_source_addresses`): at most one, of the other IP family.
    public var extraSourceAddress: SocketAddress?
    /// `transport_socket` with `UpstreamTlsContext`: connections to the
    /// hosts are TLS (nil: raw TCP).
    public var tls: TLSContext?
    /// `UpstreamTlsContext.auto_host_sni`: a connection sends its host's
    /// hostname as the SNI when it has one and the request names none.
    public var autoHostSNI = false

    /// Envoy's `DefaultLocalAddressSelector`: the source address of the
    /// host's IP family if there is one, else `source_address`.
    public func sourceAddress(for host: SocketAddress) -> SocketAddress? {
        switch (extraSourceAddress, host) {
        case (.v4?, .v4), (.v6?, .v6): return extraSourceAddress
        default: return sourceAddress
        }
    }
}

public struct DNSEndpoint: Sendable, Equatable {
    public var host: String
    public var port: UInt16
    /// The hostname of the hosts it resolves to: the endpoint's `hostname`, else `host`.
    public var hostname: String

    public init(host: String, port: UInt16, hostname: String? = nil) {
        self.host = host
        self.port = port
        self.hostname = hostname ?? host
    }
}
