public import RemoraAPI
import SwiftProtobuf

/// What LDS and RDS brought, for `/config_dump` (`dynamic_listeners`,
/// `dynamic_route_configs`, `ListenersConfigDump.version_info`).
public struct DynamicConfigDump: Sendable {
    /// One state of a listener (`active_state`, `warming_state`, `draining_state`).
    public struct ListenerState: Sendable {
        public var versionInfo: String
        public var listener: Envoy_Config_Listener_V3_Listener
        /// RFC 3339, as `last_updated` is printed.
        public var lastUpdated: String

        public init(versionInfo: String, listener: Envoy_Config_Listener_V3_Listener, lastUpdated: String) {
            self.versionInfo = versionInfo
            self.listener = listener
            self.lastUpdated = lastUpdated
        }
    }

    /// `error_state`: a refused update of this listener (with its time), or
    /// one refusal of the last LDS update (a nameless entry, no time).
    public struct ErrorState: Sendable {
        public var failedConfiguration: Envoy_Config_Listener_V3_Listener?
        public var lastUpdateAttempt: String?
        public var details: String

        public init(failedConfiguration: Envoy_Config_Listener_V3_Listener?, lastUpdateAttempt: String?, details: String) {
            self.failedConfiguration = failedConfiguration
            self.lastUpdateAttempt = lastUpdateAttempt
            self.details = details
        }
    }

    public struct Listener: Sendable {
        public var name: String
        public var active: ListenerState?
        public var warming: ListenerState?
        public var draining: ListenerState?
        public var error: ErrorState?

        public init(name: String, active: ListenerState?, warming: ListenerState?, draining: ListenerState?,
                    error: ErrorState? = nil) {
            self.name = name
            self.active = active
            self.warming = warming
            self.draining = draining
            self.error = error
        }
    }

    public struct RouteConfig: Sendable {
        public var versionInfo: String
        public var routeConfig: Envoy_Config_Route_V3_RouteConfiguration
        public var lastUpdated: String

        public init(versionInfo: String, routeConfig: Envoy_Config_Route_V3_RouteConfiguration, lastUpdated: String) {
            self.versionInfo = versionInfo
            self.routeConfig = routeConfig
            self.lastUpdated = lastUpdated
        }
    }

    /// The last LDS `version_info` applied.
    public var listenersVersionInfo: String
    public var listeners: [Listener]
    public var routeConfigs: [RouteConfig]

    public init(listenersVersionInfo: String = "", listeners: [Listener] = [], routeConfigs: [RouteConfig] = []) {
        self.listenersVersionInfo = listenersVersionInfo
        self.listeners = listeners
        self.routeConfigs = routeConfigs
    }

    static let listenerWrapper = "envoy.admin.v3.ListenersConfigDump.DynamicListener"
    static let routeWrapper = "envoy.admin.v3.RoutesConfigDump.DynamicRouteConfig"

    /// `DynamicListener` in Envoy's JSON (without its `@type`).
    static func json(_ listener: Listener) -> String {
        "{" + fields(listener).map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    /// `DynamicRouteConfig` in Envoy's JSON (without its `@type`).
    static func json(_ route: RouteConfig) -> String {
        "{" + fields(route).map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    /// An element of `resource=` with `mask=`: only whole top-level fields
    /// can be kept (`name`, `active_state`, ...); nil for a deeper path.
    static func masked(_ fields: [(String, String)], _ mask: [[String]]) -> String? {
        guard mask.allSatisfy({ $0.count == 1 }) else { return nil }
        let keep = Set(mask.map { $0[0] })
        return "{" + fields.filter { keep.contains($0.0) }.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    static func fields(_ listener: Listener) -> [(String, String)] {
        func state(_ s: ListenerState) -> String {
            var fields: [String] = []
            if !s.versionInfo.isEmpty { fields.append("\"version_info\":\(ConfigDump.quoted(s.versionInfo))") }
            fields.append("\"listener\":\(ConfigDump.typed(Envoy_Config_Listener_V3_Listener.protoMessageName, ConfigDump.json(s.listener)))")
            fields.append("\"last_updated\":\(ConfigDump.quoted(s.lastUpdated))")
            return "{" + fields.joined(separator: ",") + "}"
        }
        var fields: [(String, String)] = listener.name.isEmpty ? [] : [("name", ConfigDump.quoted(listener.name))]
        if let active = listener.active { fields.append(("active_state", state(active))) }
        if let warming = listener.warming { fields.append(("warming_state", state(warming))) }
        if let draining = listener.draining { fields.append(("draining_state", state(draining))) }
        if let error = listener.error {
            var inner: [String] = []
            if let failed = error.failedConfiguration {
                inner.append("\"failed_configuration\":\(ConfigDump.typed(Envoy_Config_Listener_V3_Listener.protoMessageName, ConfigDump.json(failed)))")
            }
            if let attempt = error.lastUpdateAttempt {
                inner.append("\"last_update_attempt\":\(ConfigDump.quoted(attempt))")
            }
            inner.append("\"details\":\(ConfigDump.quoted(error.details))")
            fields.append(("error_state", "{" + inner.joined(separator: ",") + "}"))
        }
        return fields
    }

    static func fields(_ route: RouteConfig) -> [(String, String)] {
        var fields: [(String, String)] = []
        if !route.versionInfo.isEmpty { fields.append(("version_info", ConfigDump.quoted(route.versionInfo))) }
        fields.append(("route_config", ConfigDump.typed(Envoy_Config_Route_V3_RouteConfiguration.protoMessageName,
                                                        ConfigDump.json(route.routeConfig))))
        fields.append(("last_updated", ConfigDump.quoted(route.lastUpdated)))
        return fields
    }
}
