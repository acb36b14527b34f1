import RemoraAPI
import RemoraCore
import SwiftProtobuf

/// Listener → `ListenerConfig`: address, listener filters, filter chains
/// (their `filter_chain_match` index) and their network filters.
enum ListenerCompiler {
    static let tcpProxyType = Envoy_Extensions_Filters_Network_TcpProxy_V3_TcpProxy.protoMessageName
    static let httpConnectionManagerType =
        Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager.protoMessageName

    static func compile(_ listener: Envoy_Config_Listener_V3_Listener, index: Int, secrets: StaticSecrets = .none,
                        hasADS: Bool = false, at path: String) throws(ConfigError) -> ListenerConfig {
        try SupportedFields.require(listener, only: [
            "name", "address", "filter_chains", "default_filter_chain", "stat_prefix",
            "per_connection_buffer_limit_bytes", "metadata", "traffic_direction", "enable_reuse_port",
            "tcp_backlog_size", "drain_type", "listener_filters", "use_original_dst", "bind_to_port",
            "additional_addresses", "access_log",
            "listener_filters_timeout", "continue_on_listener_filters_timeout",
        ], at: path)
        guard listener.hasAddress else { throw .missing(at: FieldPath.join(path, "address")) }
        let address = try AddressCompiler.listenAddress(listener.address, at: FieldPath.join(path, "address"))

        var chains: [FilterChainConfig] = []
        for (i, chain) in listener.filterChains.enumerated() {
            chains.append(try compileChain(chain, secrets: secrets, hasADS: hasADS, at: FieldPath.index(FieldPath.join(path, "filter_chains"), i)))
        }
        let matcher = try buildMatcher(listener.filterChains, compiled: chains, at: path)
        let defaultChain = try listener.hasDefaultFilterChain
            ? compileChain(listener.defaultFilterChain, secrets: secrets, hasADS: hasADS, at: FieldPath.join(path, "default_filter_chain"))
            : nil
        if chains.isEmpty && defaultChain == nil {
            throw .invalid("listener has no filter chains", at: FieldPath.join(path, "filter_chains"))
        }

        let name = listener.name.isEmpty ? address.description : listener.name
        let statPrefix = listener.statPrefix.isEmpty ? StatNames.sanitize(address.description) : listener.statPrefix
        let limit = listener.hasPerConnectionBufferLimitBytes
            ? Int(listener.perConnectionBufferLimitBytes.value) : ConfigCompiler.defaultBufferLimit
        let backlog = listener.hasTcpBacklogSize ? Int32(clamping: listener.tcpBacklogSize.value) : 1024
        let reusePort = listener.hasEnableReusePort ? listener.enableReusePort.value : true
        var config = ListenerConfig(
            name: name, address: address, statPrefix: statPrefix, bufferLimitBytes: limit,
            backlog: backlog, reusePort: reusePort, filterChains: chains, defaultFilterChain: defaultChain
        )
        config.chainMatcher = matcher
        config.listenerFilters = try compileListenerFilters(listener.listenerFilters, at: path)
        if listener.hasListenerFiltersTimeout {
            config.listenerFiltersTimeoutMilliseconds = try ConfigCompiler.milliseconds(
                listener.listenerFiltersTimeout, at: FieldPath.join(path, "listener_filters_timeout"))
        }
        config.continueOnListenerFiltersTimeout = listener.continueOnListenerFiltersTimeout
        config.useOriginalDestination = listener.hasUseOriginalDst && listener.useOriginalDst.value
        config.bindToPort = listener.hasBindToPort ? listener.bindToPort.value : true
        config.isInbound = listener.trafficDirection == .inbound
        config.drainsOnHealthCheckFail = listener.drainType != .modifyOnly
        config.ipv4Compat = ipv4Compat(address, listener.address)
        config.additionalAddresses = try compileAdditionalAddresses(listener, main: address, at: path)
        config.accessLogs = try AccessLogCompiler.compile(listener.accessLog, at: FieldPath.join(path, "access_log"))
        if config.useOriginalDestination || config.restoresOriginalDestination || !config.bindToPort {
            guard address.isIP else {
                let field = config.useOriginalDestination ? "use_original_dst"
                    : (config.restoresOriginalDestination ? "listener_filters" : "bind_to_port")
                throw .unsupported("only IP listeners can use original destinations or skip binding", at: FieldPath.join(path, field))
            }
        }
        return config
    }

    private static func ipv4Compat(_ address: SocketAddress, _ proto: Envoy_Config_Core_V3_Address) -> Bool {
        guard case .v6 = address, case .socketAddress(let socket)? = proto.address else { return false }
        return socket.ipv4Compat
    }

    /// `additional_addresses`: IP addresses only, on an IP listener (what
    /// Istio's dual-stack listeners use); `socket_options` are refused.
    static func compileAdditionalAddresses(
        _ listener: Envoy_Config_Listener_V3_Listener, main: SocketAddress, at path: String
    ) throws(ConfigError) -> [ListenerConfig.BindAddress] {
        var result: [ListenerConfig.BindAddress] = []
        for (i, additional) in listener.additionalAddresses.enumerated() {
            let ap = FieldPath.index(FieldPath.join(path, "additional_addresses"), i)
            try SupportedFields.require(additional, only: ["address"], at: ap)
            guard additional.hasAddress else { throw .missing(at: FieldPath.join(ap, "address")) }
            let address = try AddressCompiler.listenAddress(additional.address, at: FieldPath.join(ap, "address"))
            guard address.isIP, main.isIP else {
                throw .unsupported("only IP listeners can have additional addresses, and only IP ones", at: ap)
            }
            result.append(.init(address: address, ipv4Compat: ipv4Compat(address, additional.address)))
        }
        return result
    }

    static let originalDestinationType = Envoy_Extensions_Filters_Listener_OriginalDst_V3_OriginalDst.protoMessageName

    /// `hasADS`: the bootstrap has `ads_config`, so an HCM's `rds` may say `ads: {}`.
    static func compileChain(_ chain: Envoy_Config_Listener_V3_FilterChain, secrets: StaticSecrets = .none,
                             hasADS: Bool = false, at path: String) throws(ConfigError) -> FilterChainConfig {
        try SupportedFields.require(chain, only: [
            "filter_chain_match", "filters", "name", "metadata", "transport_socket", "transport_socket_connect_timeout",
        ], at: path)
        let match = try compileMatch(chain.filterChainMatch, at: FieldPath.join(path, "filter_chain_match"))
        var terminal: FilterChainConfig.TerminalFilter? = nil
        for (i, filter) in chain.filters.enumerated() {
            let fp = FieldPath.index(FieldPath.join(path, "filters"), i)
            try SupportedFields.require(filter, only: ["name", "typed_config"], at: fp)
            if let terminal {
                let terminalName: String
                switch terminal {
                case .tcpProxy: terminalName = "tcp_proxy"
                case .httpConnectionManager: terminalName = "http_connection_manager"
                }
                throw .invalid("filter '\(filter.name)' comes after the terminal filter \(terminalName)", at: fp)
            }
            guard case .typedConfig(let any)? = filter.configType else {
                throw .missing(at: FieldPath.join(fp, "typed_config"))
            }
            let typePath = FieldPath.join(fp, "typed_config")
            let typeName = TypeURL.messageName(any.typeURL)
            switch typeName {
            case tcpProxyType:
                let proxy = try TypeURL.unpack(Envoy_Extensions_Filters_Network_TcpProxy_V3_TcpProxy.self, from: any, at: typePath)
                terminal = .tcpProxy(try compileTcpProxy(proxy, at: typePath))
            case httpConnectionManagerType:
                let hcm = try TypeURL.unpack(
                    Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager.self, from: any, at: typePath)
                terminal = .httpConnectionManager(SharedHttpConnectionManagerConfig(
                    try HttpConnectionManagerCompiler.compile(hcm, hasADS: hasADS, at: typePath)))
            default:
                throw .unsupported("unsupported type \(typeName)", at: typePath)
            }
        }
        var config = FilterChainConfig(name: chain.name, match: match, terminal: terminal)
        config.source = FilterChainSource(chain)
        if chain.hasTransportSocket {
            config.tls = try TransportSocketCompiler.downstream(chain.transportSocket, secrets: secrets,
                                                                at: FieldPath.join(path, "transport_socket"))
        }
        if chain.hasTransportSocketConnectTimeout {
            config.transportSocketConnectTimeoutMilliseconds = try ConfigCompiler.milliseconds(
                chain.transportSocketConnectTimeout, at: FieldPath.join(path, "transport_socket_connect_timeout"))
        }
        return config
    }

    /// Envoy's `validate_clusters` for inline route configurations: every
    /// cluster a route, weighted cluster or mirror policy names must exist
    /// among `clusterNames`. Call once all clusters and listeners are compiled.
    static func validateRouteClusters(_ listeners: [ListenerConfig], clusterNames: Set<String>) throws(ConfigError) {
        for listener in listeners {
            let chains = listener.filterChains + (listener.defaultFilterChain.map { [$0] } ?? [])
            for chain in chains {
                guard case .inline(let table)? = chain.httpConnectionManager?.routes, table.validateClusters else { continue }
                for reference in table.clusterReferences where !clusterNames.contains(reference.cluster) {
                    throw .invalid(reference.unknownClusterMessage, at: reference.path)
                }
            }
        }
    }

    static func compileTcpProxy(
        _ proxy: Envoy_Extensions_Filters_Network_TcpProxy_V3_TcpProxy, at path: String
    ) throws(ConfigError) -> TcpProxyConfig {
        try SupportedFields.require(proxy, only: ["stat_prefix", "cluster", "idle_timeout", "max_connect_attempts", "access_log"], at: path)
        guard !proxy.statPrefix.isEmpty else { throw .missing(at: FieldPath.join(path, "stat_prefix")) }
        guard case .cluster(let cluster)? = proxy.clusterSpecifier, !cluster.isEmpty else {
            throw .missing(at: FieldPath.join(path, "cluster"))
        }
        let idle = proxy.hasIdleTimeout
            ? try ConfigCompiler.milliseconds(proxy.idleTimeout, at: FieldPath.join(path, "idle_timeout"))
            : 3_600_000
        var attempts = 1
        if proxy.hasMaxConnectAttempts {
            guard proxy.maxConnectAttempts.value >= 1 else {
                throw .invalid("must be at least 1", at: FieldPath.join(path, "max_connect_attempts"))
            }
            attempts = Int(proxy.maxConnectAttempts.value)
        }
        var config = TcpProxyConfig(statPrefix: proxy.statPrefix, cluster: cluster, idleTimeoutMilliseconds: idle,
                                    maxConnectAttempts: attempts)
        config.accessLogs = try AccessLogCompiler.compile(proxy.accessLog, at: FieldPath.join(path, "access_log"))
        return config
    }
}

/// `type.googleapis.com/x.y.Z` handling and checked unpacking of `Any`.
public enum TypeURL {
    public static func messageName(_ url: String) -> String {
        guard let slash = url.lastIndex(of: "/") else { return url }
        return String(url[url.index(after: slash)...])
    }

    /// Unpacks and checks the payload against the schema: a typo inside a
    /// `typed_config` only surfaces here, so every `Any` Remora uses goes
    /// through this.
    public static func unpack<M: SwiftProtobuf.Message>(_ type: M.Type, from any: Google_Protobuf_Any, at path: String) throws(ConfigError) -> M {
        AnyRegistry.registerAll()
        do {
            return try M(unpackingAny: any)
        } catch {
            throw .invalid("cannot unpack \(M.protoMessageName): \(error)", at: path)
        }
    }
}
