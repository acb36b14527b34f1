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

    /// A field of a dump message: its JSON, or a message of its own whose
    /// fields a mask may pick.
    indirect enum Field {
        case json(String)
        case message([(String, Field)])
    }

    /// `DynamicListener` in Envoy's JSON (without its `@type`).
    static func json(_ listener: Listener) -> String {
        render(fields(listener), mask: nil)
    }

    /// `DynamicRouteConfig` in Envoy's JSON (without its `@type`).
    static func json(_ route: RouteConfig) -> String {
        "{" + fields(route).map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    /// The fields in order, those `mask` keeps (all without a mask); a
    /// path that ends inside a field printed whole keeps it whole.
    static func render(_ fields: [(String, Field)], mask: ConfigDump.MaskTree?) -> String {
        var items: [String] = []
        for (name, field) in fields {
            var child: ConfigDump.MaskTree?
            if let mask {
                guard let kept = mask.children[name] else { continue }
                child = kept.isLeaf ? nil : kept
            }
            switch field {
            case .json(let json): items.append("\"\(name)\":\(json)")
            case .message(let inner): items.append("\"\(name)\":\(render(inner, mask: child))")
            }
        }
        return "{" + items.joined(separator: ",") + "}"
    }

    /// Envoy applies a `resource=dynamic_listeners` mask to the
    /// `DynamicListener` message itself (its `Any`s are not looked into):
    /// each path must name fields of it, through singular messages.
    static func isValidListenerPath(_ path: [String]) -> Bool {
        let state: [String: [String]?] = ["version_info": nil, "listener": nil, "last_updated": ["seconds", "nanos"]]
        let failure: [String: [String]?] = ["failed_configuration": nil, "last_update_attempt": ["seconds", "nanos"],
                                            "details": nil, "version_info": nil]
        let top: [String: [String: [String]?]?] = ["name": nil, "client_status": nil, "active_state": state,
                                                  "warming_state": state, "draining_state": state, "error_state": failure]
        guard let first = path.first, let fields = top[first] else { return false }
        guard path.count > 1 else { return true }
        guard let fields, let second = fields[path[1]] else { return false }
        guard path.count > 2 else { return true }
        guard let leaves = second, path.count == 3 else { return false }
        return leaves.contains(path[2])
    }

    static func fields(_ listener: Listener) -> [(String, Field)] {
        func state(_ s: ListenerState) -> Field {
            var fields: [(String, Field)] = []
            if !s.versionInfo.isEmpty { fields.append(("version_info", .json(ConfigDump.quoted(s.versionInfo)))) }
            fields.append(("listener", .json(ConfigDump.typed(Envoy_Config_Listener_V3_Listener.protoMessageName, ConfigDump.json(s.listener)))))
            fields.append(("last_updated", .json(ConfigDump.quoted(s.lastUpdated))))
            return .message(fields)
        }
        var fields: [(String, Field)] = listener.name.isEmpty ? [] : [("name", .json(ConfigDump.quoted(listener.name)))]
        if let active = listener.active { fields.append(("active_state", state(active))) }
        if let warming = listener.warming { fields.append(("warming_state", state(warming))) }
        if let draining = listener.draining { fields.append(("draining_state", state(draining))) }
        if let error = listener.error {
            var inner: [(String, Field)] = []
            if let failed = error.failedConfiguration {
                inner.append(("failed_configuration",
                              .json(ConfigDump.typed(Envoy_Config_Listener_V3_Listener.protoMessageName, ConfigDump.json(failed)))))
            }
            if let attempt = error.lastUpdateAttempt {
                inner.append(("last_update_attempt", .json(ConfigDump.quoted(attempt))))
            }
            inner.append(("details", .json(ConfigDump.quoted(error.details))))
            fields.append(("error_state", .message(inner)))
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
