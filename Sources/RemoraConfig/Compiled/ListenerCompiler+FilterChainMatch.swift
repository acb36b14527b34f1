import RemoraAPI
import RemoraCore

/// `filter_chain_match` and `listener_filters`: the parts of a listener
/// that decide which chain a connection gets.
extension ListenerCompiler {
    static let httpInspectorType = Envoy_Extensions_Filters_Listener_HttpInspector_V3_HttpInspector.protoMessageName
    static let tlsInspectorType = Envoy_Extensions_Filters_Listener_TlsInspector_V3_TlsInspector.protoMessageName

    /// Builds the chain index with Envoy's two config-time checks: two chains
    /// whose `filter_chain_match` messages are equal ("has the same matching
    /// rules defined as"), and two chains that claim the same combination of
    /// values ("overlapping matching rules").
    static func buildMatcher(_ chains: [Envoy_Config_Listener_V3_FilterChain], compiled: [FilterChainConfig],
                             at path: String) throws(ConfigError) -> FilterChainMatcher {
        var matcher = FilterChainMatcher()
        var seen: [Envoy_Config_Listener_V3_FilterChainMatch: String] = [:]
        for (i, chain) in chains.enumerated() {
            let chainPath = FieldPath.index(FieldPath.join(path, "filter_chains"), i)
            if let first = seen[chain.filterChainMatch] {
                throw .invalid("filter chain '\(chain.name)' has the same matching rules defined as '\(first)'", at: chainPath)
            }
            seen[chain.filterChainMatch] = chain.name
            do {
                try matcher.add(compiled[i].match, index: i)
            } catch {
                throw .invalid("multiple filter chains with overlapping matching rules are defined", at: chainPath)
            }
        }
        matcher.seal()
        return matcher
    }

    static func compileMatch(_ match: Envoy_Config_Listener_V3_FilterChainMatch, at path: String) throws(ConfigError) -> FilterChainMatchCriteria {
        // address_suffix and suffix_len are refused by Envoy too ("unimplemented fields").
        try SupportedFields.require(match, only: [
            "destination_port", "prefix_ranges", "direct_source_prefix_ranges", "source_type", "source_prefix_ranges",
            "source_ports", "server_names", "transport_protocol", "application_protocols",
        ], at: path)
        var criteria = FilterChainMatchCriteria()
        if match.hasDestinationPort {
            guard match.destinationPort.value >= 1 && match.destinationPort.value <= 65535 else {
                throw .invalid("port out of range", at: FieldPath.join(path, "destination_port"))
            }
            criteria.destinationPort = UInt16(match.destinationPort.value)
        }
        criteria.destinationRanges = try ranges(match.prefixRanges, at: FieldPath.join(path, "prefix_ranges"))
        criteria.directSourceRanges = try ranges(match.directSourcePrefixRanges, at: FieldPath.join(path, "direct_source_prefix_ranges"))
        criteria.sourceRanges = try ranges(match.sourcePrefixRanges, at: FieldPath.join(path, "source_prefix_ranges"))
        switch match.sourceType {
        case .any: criteria.sourceType = .any
        case .sameIpOrLoopback: criteria.sourceType = .local
        case .external: criteria.sourceType = .external
        case .UNRECOGNIZED(let value):
            throw .invalid("unknown source type \(value)", at: FieldPath.join(path, "source_type"))
        }
        for (j, port) in match.sourcePorts.enumerated() {
            guard port >= 1 && port <= 65535 else {
                throw .invalid("port out of range", at: FieldPath.index(FieldPath.join(path, "source_ports"), j))
            }
            criteria.sourcePorts.append(UInt16(port))
        }
        for (j, name) in match.serverNames.enumerated() {
            // Only a leading "*." is a wildcard; Envoy refuses any other '*'.
            if name.contains("*") && !name.hasPrefix("*.") {
                throw .invalid("partial wildcards are not supported in \"server_names\"",
                               at: FieldPath.index(FieldPath.join(path, "server_names"), j))
            }
            criteria.serverNames.append(name.lowercased())
        }
        criteria.transportProtocol = match.transportProtocol
        criteria.applicationProtocols = match.applicationProtocols
        return criteria
    }

    private static func ranges(_ ranges: [Envoy_Config_Core_V3_CidrRange], at path: String) throws(ConfigError) -> [CIDRRange] {
        var out: [CIDRRange] = []
        for (j, range) in ranges.enumerated() {
            let rp = FieldPath.index(path, j)
            try SupportedFields.require(range, only: ["address_prefix", "prefix_len"], at: rp)
            guard !range.addressPrefix.isEmpty else { throw .missing(at: FieldPath.join(rp, "address_prefix")) }
            let length = range.hasPrefixLen ? Int(range.prefixLen.value) : 0
            guard length <= 128 else { throw .invalid("prefix length above 128", at: FieldPath.join(rp, "prefix_len")) }
            guard let cidr = CIDRRange(filterChainPrefix: range.addressPrefix, length: length) else {
                throw .invalid("malformed IP address: \(range.addressPrefix)", at: FieldPath.join(rp, "address_prefix"))
            }
            out.append(cidr)
        }
        return out
    }

    /// `TlsInspector` with Envoy 1.40's bounds. The fingerprints (JA3, JA4)
    /// are refused when enabled: Remora does not compute them.
    /// `initial_read_buffer_size` only sizes Envoy's first peek; Remora
    /// reads what arrives, so it is checked and has no other effect.
    static func compileTLSInspector(_ message: Envoy_Extensions_Filters_Listener_TlsInspector_V3_TlsInspector,
                                    at path: String) throws(ConfigError) -> TLSInspectorConfig {
        try SupportedFields.require(message, only: [
            "enable_ja3_fingerprinting", "enable_ja4_fingerprinting", "initial_read_buffer_size",
            "close_connection_on_client_hello_parsing_errors", "max_client_hello_size",
        ], at: path)
        if message.hasEnableJa3Fingerprinting && message.enableJa3Fingerprinting.value {
            throw .unsupported("JA3 fingerprinting is not implemented", at: FieldPath.join(path, "enable_ja3_fingerprinting"))
        }
        if message.hasEnableJa4Fingerprinting && message.enableJa4Fingerprinting.value {
            throw .unsupported("JA4 fingerprinting is not implemented", at: FieldPath.join(path, "enable_ja4_fingerprinting"))
        }
        var config = TLSInspectorConfig(closeOnParsingErrors: message.closeConnectionOnClientHelloParsingErrors)
        if message.hasMaxClientHelloSize {
            let size = message.maxClientHelloSize.value
            guard size > 255 && size <= 16384 else {
                throw .invalid("value must be inside range (255, 16384]", at: FieldPath.join(path, "max_client_hello_size"))
            }
            config.maxClientHelloSize = Int(size)
        }
        if message.hasInitialReadBufferSize {
            let size = message.initialReadBufferSize.value
            guard size > 255 && size < 65537 else {
                throw .invalid("value must be inside range (255, 65537)", at: FieldPath.join(path, "initial_read_buffer_size"))
            }
        }
        return config
    }

    /// `listener_filters`: `original_dst`, `http_inspector` and `tls_inspector`, in order;
    /// any other type is refused with its path.
    static func compileListenerFilters(_ filters: [Envoy_Config_Listener_V3_ListenerFilter], at path: String) throws(ConfigError) -> [ListenerFilter] {
        var compiled: [ListenerFilter] = []
        for (i, filter) in filters.enumerated() {
            let fp = FieldPath.index(FieldPath.join(path, "listener_filters"), i)
            try SupportedFields.require(filter, only: ["name", "typed_config"], at: fp)
            guard case .typedConfig(let any)? = filter.configType else {
                throw .missing(at: FieldPath.join(fp, "typed_config"))
            }
            let typePath = FieldPath.join(fp, "typed_config")
            switch TypeURL.messageName(any.typeURL) {
            case originalDestinationType:
                let message = try TypeURL.unpack(Envoy_Extensions_Filters_Listener_OriginalDst_V3_OriginalDst.self, from: any, at: typePath)
                try SupportedFields.require(message, only: [], at: typePath)
                compiled.append(.originalDestination)
            case httpInspectorType:
                let message = try TypeURL.unpack(Envoy_Extensions_Filters_Listener_HttpInspector_V3_HttpInspector.self, from: any, at: typePath)
                try SupportedFields.require(message, only: [], at: typePath)
                compiled.append(.httpInspector)
            case tlsInspectorType:
                let message = try TypeURL.unpack(Envoy_Extensions_Filters_Listener_TlsInspector_V3_TlsInspector.self, from: any, at: typePath)
                compiled.append(.tlsInspector(try compileTLSInspector(message, at: typePath)))
            case let typeName:
                throw .unsupported("unsupported listener filter type \(typeName)", at: typePath)
            }
        }
        return compiled
    }
}
