import RemoraAPI
import RemoraCore
import SwiftProtobuf

/// Validates a bootstrap and compiles it into a `ServerConfig`.
///
/// What Remora does not implement is refused with the field path, never
/// ignored (see `SupportedFields`). Runs on the main thread.
public enum ConfigCompiler {
    public static let defaultBufferLimit = 1024 * 1024

    public static func compile(_ bootstrap: Envoy_Config_Bootstrap_V3_Bootstrap) throws(ConfigError) -> ServerConfig {
        try SupportedFields.require(bootstrap, only: [
            "node", "static_resources", "dynamic_resources", "admin", "stats_flush_interval", "stats_config", "stats_sinks",
            "layered_runtime",
        ], at: "")
        let runtimeLayers = bootstrap.hasLayeredRuntime
            ? try RuntimeCompiler.compile(bootstrap.layeredRuntime, at: "layered_runtime") : []

        let stats = try StatsSettings.compile(bootstrap)
        let node = try compileNode(bootstrap)
        let admin = try bootstrap.hasAdmin ? compileAdmin(bootstrap.admin) : nil

        let resources = bootstrap.staticResources
        try SupportedFields.require(resources, only: ["listeners", "clusters", "secrets"], at: "static_resources")
        let sds = SDSDependencies()
        var secrets = StaticSecrets(dependencies: sds, nodeIsNamed: !node.id.isEmpty && !node.cluster.isEmpty,
                                    hasADS: bootstrap.hasDynamicResources && bootstrap.dynamicResources.hasAdsConfig)
        for (i, secret) in resources.secrets.enumerated() {
            let path = "static_resources.secrets[\(i)]"
            try SupportedFields.require(secret, only: ["name", "tls_certificate", "validation_context", "session_ticket_keys"], at: path)
            guard !secret.name.isEmpty else { throw .missing(at: FieldPath.join(path, "name")) }
            guard secret.type != nil else { throw .missing(at: FieldPath.join(path, "tls_certificate")) }
            guard secrets.byName.updateValue(secret, forKey: secret.name) == nil else {
                throw .invalid("duplicate secret name '\(secret.name)'", at: FieldPath.join(path, "name"))
            }
        }

        var clusters: [ClusterConfig] = []
        var clusterNames: Set<String> = []
        let hasADS = bootstrap.hasDynamicResources && bootstrap.dynamicResources.hasAdsConfig
        for (i, cluster) in resources.clusters.enumerated() {
            let path = "static_resources.clusters[\(i)]"
            let compiled = try ClusterCompiler.compile(cluster, secrets: secrets, hasADS: hasADS, at: path)
            guard clusterNames.insert(compiled.name).inserted else {
                throw .invalid("duplicate cluster name '\(compiled.name)'", at: FieldPath.join(path, "name"))
            }
            clusters.append(compiled)
        }

        var listeners: [ListenerConfig] = []
        var listenerNames: Set<String> = []
        var addresses: Set<SocketAddress> = []
        for (i, listener) in resources.listeners.enumerated() {
            let path = "static_resources.listeners[\(i)]"
            let compiled = try ListenerCompiler.compile(listener, index: i, secrets: secrets,
                                                        hasADS: bootstrap.dynamicResources.hasAdsConfig, at: path)
            guard listenerNames.insert(compiled.name).inserted else {
                throw .invalid("duplicate listener name '\(compiled.name)'", at: FieldPath.join(path, "name"))
            }
            if compiled.address.port != 0 {
                guard addresses.insert(compiled.address).inserted else {
                    throw .invalid("listener '\(compiled.name)' has a duplicate address \(compiled.address)", at: FieldPath.join(path, "address"))
                }
            }
            listeners.append(compiled)
        }
        try ListenerCompiler.validateRouteClusters(listeners, clusterNames: clusterNames)

        var config = ServerConfig(node: node, admin: admin, listeners: listeners, clusters: clusters, stats: stats)
        config.secrets = secrets
        config.sdsDependencies = sds.all
        config.runtimeLayers = runtimeLayers
        if bootstrap.hasDynamicResources {
            let dynamic = try ConfigSourceCompiler.compileDynamicResources(bootstrap.dynamicResources)
            // A gRPC config source talks to a static cluster (Envoy: "must be a static cluster").
            for (source, path) in [(dynamic.ads, "dynamic_resources.ads_config"),
                                   (dynamic.lds?.grpcSource, "dynamic_resources.lds_config.api_config_source"),
                                   (dynamic.cds?.grpcSource, "dynamic_resources.cds_config.api_config_source")] {
                guard let source else { continue }
                guard clusterNames.contains(source.clusterName) else {
                    throw .invalid("unknown static cluster '\(source.clusterName)' for the xDS gRPC service",
                                   at: FieldPath.join(path, "grpc_services[0].envoy_grpc.cluster_name"))
                }
            }
            config.dynamicResources = dynamic
        }
        return config
    }

    private static func compileNode(_ bootstrap: Envoy_Config_Bootstrap_V3_Bootstrap) throws(ConfigError) -> NodeInfo {
        guard bootstrap.hasNode else { return NodeInfo(id: "", cluster: "", json: "{}") }
        try SupportedFields.require(bootstrap.node, only: [
            "id", "cluster", "metadata", "locality", "user_agent_name", "user_agent_version",
            "user_agent_build_version", "extensions", "client_features",
        ], at: "node")
        return NodeInfo(id: bootstrap.node.id, cluster: bootstrap.node.cluster, json: nodeJSON(bootstrap.node),
                        message: bootstrap.node)
    }

    /// Node JSON with proto field names, as Envoy's /server_info prints it.
    public static func nodeJSON(_ node: Envoy_Config_Core_V3_Node) -> String {
        var options = JSONEncodingOptions()
        options.preserveProtoFieldNames = true
        return (try? node.jsonString(options: options)) ?? "{}"
    }

    private static func compileAdmin(_ admin: Envoy_Config_Bootstrap_V3_Admin) throws(ConfigError) -> AdminConfig? {
        try SupportedFields.require(admin, only: ["address", "access_log_path", "access_log", "profile_path"], at: "admin")
        guard admin.hasAddress else { return nil }
        var config = AdminConfig(address: try AddressCompiler.listenAddress(admin.address, at: "admin.address"))
        var logs = try AccessLogCompiler.compile(admin.accessLog, at: "admin.access_log").entries
        // The deprecated `access_log_path`: Envoy's default format to that file.
        if !admin.accessLogPath.isEmpty && admin.accessLogPath != "/dev/null" {
            let format = try AccessLogCompiler.compileFormat(nil, at: "admin.access_log_path")
            logs.append(AccessLogConfig(destination: .file(admin.accessLogPath), format: format, filter: nil))
        }
        config.accessLogs = AccessLogList(logs)
        return config
    }

    // MARK: - Shared conversions

    /// Envoy's `DurationUtil::durationToMilliseconds`: negative durations,
    /// nanos outside `0...999_999_999` and seconds whose nanosecond count
    /// may not fit an `Int64` (`validateDurationAsMilliseconds`) are
    /// refused. JSON decoding checks the protobuf range already; binary
    /// messages from a control plane are not checked by anyone else, so
    /// every number is checked here.
    static func milliseconds(_ d: Google_Protobuf_Duration, at path: @autoclosure () -> String) throws(ConfigError) -> UInt64 {
        guard d.seconds >= 0, d.nanos >= 0 else { throw .invalid("duration must not be negative", at: path()) }
        guard d.nanos <= 999_999_999, d.seconds <= maxDurationSeconds else {
            throw .invalid(
                "duration out of range (at most \(maxDurationSeconds)s, nanos at most 999999999)", at: path())
        }
        let (ms, overflow) = UInt64(d.seconds).multipliedReportingOverflow(by: 1000)
        precondition(!overflow, "bounded by maxDurationSeconds")
        return ms + UInt64(d.nanos) / 1_000_000
    }

    /// An optional duration field: nil when the field is not set.
    static func milliseconds(
        _ d: Google_Protobuf_Duration, ifSet isSet: Bool, at path: @autoclosure () -> String
    ) throws(ConfigError) -> UInt64? {
        isSet ? try milliseconds(d, at: path()) : nil
    }

    /// The most seconds Envoy 1.40 takes in a millisecond duration:
    /// `9223372035s` loads, `9223372036s` is "Duration out-of-range"
    /// (checked with `envoy --mode validate`), one below `INT64_MAX / 1e9`.
    static let maxDurationSeconds = Int64.max / 1_000_000_000 - 1
}

/// Addresses in listener, admin and endpoint configs.
enum AddressCompiler {
    static func listenAddress(_ address: Envoy_Config_Core_V3_Address, at path: String) throws(ConfigError) -> SocketAddress {
        switch address.address {
        case .socketAddress(let socket)?:
            let sp = FieldPath.join(path, "socket_address")
            try SupportedFields.require(socket, only: ["address", "port_value", "protocol", "ipv4_compat"], at: sp)
            guard socket.protocol == .tcp else {
                throw .unsupported("only TCP listeners are implemented", at: FieldPath.join(sp, "protocol"))
            }
            guard case .portValue(let port)? = socket.portSpecifier else {
                throw .missing(at: FieldPath.join(sp, "port_value"))
            }
            guard port <= 65535 else {
                throw .invalid("port \(port) out of range (at most 65535)", at: FieldPath.join(sp, "port_value"))
            }
            guard let ip = SocketAddress.ip(socket.address, port: UInt16(port)) else {
                throw .invalid("malformed IP address: \(socket.address)", at: FieldPath.join(sp, "address"))
            }
            return ip
        case .pipe(let pipe)?:
            let pp = FieldPath.join(path, "pipe")
            try SupportedFields.require(pipe, only: ["path"], at: pp)
            guard !pipe.path.isEmpty else { throw .missing(at: FieldPath.join(pp, "path")) }
            return .unix(pipe.path)
        case .envoyInternalAddress?:
            throw .unsupported("internal addresses are not implemented", at: FieldPath.join(path, "envoy_internal_address"))
        case nil:
            throw .missing(at: path)
        }
    }
}
