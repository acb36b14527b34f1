import RemoraAPI
import SwiftProtobuf

/// `/config_dump` of a static config in Envoy's `envoy.admin.v3.ConfigDump`
/// shape: the bootstrap, then static clusters, static listeners, scoped
/// routes (none), static route configurations (the HTTP connection
/// managers' inline `route_config`s) and secrets (none), each resource with
/// its `@type` and `last_updated`, fields named as in the protos.
public enum ConfigDump {
    public enum Failure: Error, Equatable {
        /// `resource=` names no repeated field of the dump.
        case unknownResource(String)
        /// The server kept no bootstrap (not serving).
        case unavailable
        /// `mask=` (without `resource`) is valid for no dump message.
        case maskNotApplicable(String)
        /// `mask=` (with `resource`) is not valid for the resource's elements.
        case maskNotUsable([String])
    }

    /// One element of a `resource=` dump: its wrapper type, the field of
    /// its `Any`, and the resource as that `Any` holds it.
    private struct Element {
        let wrapper: String
        let anyField: String
        let type: String
        let resourceJSON: String
        /// The resource's JSON trimmed to a mask.
        let trim: (MaskTree) -> String

        init<M: SwiftProtobuf.Message>(wrapper: String, anyField: String, message: M) {
            self.wrapper = wrapper
            self.anyField = anyField
            type = M.protoMessageName
            let json = ConfigDump.json(message)
            resourceJSON = json
            trim = { tree in ConfigDump.trimmed(json, to: tree, as: M.self) }
        }

        /// Nil when `mask` is not valid for the element.
        func json(updated: String, mask: [[String]]?) -> String? {
            guard let mask else {
                return "{\"\(anyField)\":\(ConfigDump.typed(type, resourceJSON)),\"last_updated\":\(updated)}"
            }
            var inner: [[String]] = []
            var withUpdated = false
            for path in mask {
                if path.first == anyField, path.count > 1, ConfigDump.isValid(path.dropFirst(), in: type) {
                    inner.append(Array(path.dropFirst()))
                } else if path.first == "last_updated",
                          path.count == 1 || ConfigDump.isValid(path.dropFirst(), in: "google.protobuf.Timestamp") {
                    withUpdated = true
                } else {
                    return nil
                }
            }
            var fields: [String] = []
            if !inner.isEmpty {
                fields.append("\"\(anyField)\":\(ConfigDump.typed(type, trim(MaskTree(paths: inner))))")
            }
            if withUpdated { fields.append("\"last_updated\":\(updated)") }
            return "{" + fields.joined(separator: ",") + "}"
        }
    }

    /// The dump; with `resource`, only that repeated field's elements (each
    /// typed as its element message); `named` keeps resources by name;
    /// `mask` trims what is dumped (see `ConfigDump+Mask`).
    public static func json(bootstrapBytes: [UInt8], lastUpdated: String, resource: String?, mask: String? = nil,
                            dynamic: DynamicConfigDump = DynamicConfigDump(),
                            named: (String) -> Bool) -> Result<String, Failure> {
        AnyRegistry.registerAll()
        guard !bootstrapBytes.isEmpty,
              let bootstrap = try? Envoy_Config_Bootstrap_V3_Bootstrap(serializedBytes: bootstrapBytes) else {
            return .failure(.unavailable)
        }
        let paths = mask.flatMap(maskPaths)
        let updated = quoted(lastUpdated)
        let admin = "envoy.admin.v3."
        let clusters = bootstrap.staticResources.clusters.filter { named($0.name) }.map {
            Element(wrapper: admin + "ClustersConfigDump.StaticCluster", anyField: "cluster", message: $0)
        }
        let listeners = bootstrap.staticResources.listeners.filter { named($0.name) }.map {
            Element(wrapper: admin + "ListenersConfigDump.StaticListener", anyField: "listener", message: $0)
        }
        let dynamicListeners = dynamic.listeners.filter { named($0.name) }
        let dynamicRoutes = dynamic.routeConfigs.filter { named($0.routeConfig.name) }
        let inlineSources = bootstrap.staticResources.listeners
            + dynamic.listeners.compactMap { ($0.active ?? $0.warming)?.listener }
        let routes = inlineRouteConfigs(inlineSources).filter { named($0.name) }.map {
            Element(wrapper: admin + "RoutesConfigDump.StaticRouteConfig", anyField: "route_config", message: $0)
        }
        if let resource {
            let elements: [Element]
            switch resource {
            case "static_clusters": elements = clusters
            case "static_listeners": elements = listeners
            case "static_route_configs": elements = routes
            case "dynamic_listeners", "dynamic_route_configs":
                let (wrapper, elements) = resource == "dynamic_listeners"
                    ? (DynamicConfigDump.listenerWrapper, dynamicListeners.map(DynamicConfigDump.fields))
                    : (DynamicConfigDump.routeWrapper, dynamicRoutes.map(DynamicConfigDump.fields))
                var items: [String] = []
                for fields in elements {
                    // A mask keeps whole top-level fields only.
                    guard let json = paths.map({ DynamicConfigDump.masked(fields, $0) })
                            ?? DynamicConfigDump.masked(fields, fields.map { [$0.0] }) else {
                        return .failure(.maskNotUsable(paths?.map { $0.joined(separator: ".") } ?? []))
                    }
                    items.append(typed(wrapper, json))
                }
                return .success(configs(items))
            case "dynamic_active_clusters", "dynamic_warming_clusters",
                 "dynamic_scoped_route_configs", "inline_scoped_route_configs", "static_secrets", "dynamic_active_secrets",
                 "dynamic_warming_secrets":
                elements = []
            default:
                return .failure(.unknownResource(resource))
            }
            var items: [String] = []
            for element in elements {
                guard let json = element.json(updated: updated, mask: paths) else {
                    return .failure(.maskNotUsable(paths?.map { $0.joined(separator: ".") } ?? []))
                }
                items.append(typed(element.wrapper, json))
            }
            return .success(configs(items))
        }
        var dumped = bootstrap
        dumped.node.userAgentName = "remora"
        let tree = paths.map { MaskTree(paths: $0) }
        var sections: [String] = []
        func section(_ type: String, _ fields: [(String, String)]) {
            if let paths, !isValid(paths, fields: dumpFields[type] ?? [:]) { return }
            let kept = fields.filter { name, _ in tree.map { $0.children[name] != nil } ?? true }
            sections.append("{\"@type\":\"type.googleapis.com/\(admin)\(type)\""
                + kept.map { ",\"\($0.0)\":\($0.1)" }.joined() + "}")
        }
        func list(_ field: String, _ elements: [Element]) -> [(String, String)] {
            elements.isEmpty ? [] : [(field, "[" + elements.compactMap { $0.json(updated: updated, mask: nil) }.joined(separator: ",") + "]")]
        }
        var bootstrapJSON = json(dumped)
        if let child = tree?.children["bootstrap"], !child.isLeaf {
            bootstrapJSON = trimmed(bootstrapJSON, to: child, as: Envoy_Config_Bootstrap_V3_Bootstrap.self)
        }
        section("BootstrapConfigDump", [("bootstrap", bootstrapJSON), ("last_updated", updated)])
        section("ClustersConfigDump", list("static_clusters", clusters))
        var listenerFields: [(String, String)] = []
        if !dynamic.listenersVersionInfo.isEmpty { listenerFields.append(("version_info", quoted(dynamic.listenersVersionInfo))) }
        listenerFields += list("static_listeners", listeners)
        if !dynamicListeners.isEmpty {
            listenerFields.append(("dynamic_listeners", "[" + dynamicListeners.map(DynamicConfigDump.json).joined(separator: ",") + "]"))
        }
        section("ListenersConfigDump", listenerFields)
        section("ScopedRoutesConfigDump", [])
        var routeFields = list("static_route_configs", routes)
        if !dynamicRoutes.isEmpty {
            routeFields.append(("dynamic_route_configs", "[" + dynamicRoutes.map(DynamicConfigDump.json).joined(separator: ",") + "]"))
        }
        section("RoutesConfigDump", routeFields)
        section("SecretsConfigDump", [])
        if sections.isEmpty, let mask { return .failure(.maskNotApplicable(mask)) }
        return .success(configs(sections))
    }

    /// Envoy prints an empty dump as `{}`.
    private static func configs(_ items: [String]) -> String {
        items.isEmpty ? "{}\n" : "{\"configs\":[\(items.joined(separator: ",\n"))]}\n"
    }

    static func typed(_ type: String, _ json: String) -> String {
        let tag = "\"@type\":\"type.googleapis.com/\(type)\""
        return json == "{}" ? "{\(tag)}" : "{\(tag)," + json.dropFirst()
    }

    static func json(_ message: some SwiftProtobuf.Message) -> String {
        var options = JSONEncodingOptions()
        options.preserveProtoFieldNames = true
        return (try? message.jsonString(options: options)) ?? "{}"
    }

    static func quoted(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// Every HTTP connection manager's inline `route_config`.
    private static func inlineRouteConfigs(_ listeners: [Envoy_Config_Listener_V3_Listener]) -> [Envoy_Config_Route_V3_RouteConfiguration] {
        var result: [Envoy_Config_Route_V3_RouteConfiguration] = []
        for listener in listeners {
            let chains = listener.filterChains + (listener.hasDefaultFilterChain ? [listener.defaultFilterChain] : [])
            for chain in chains {
                for filter in chain.filters {
                    guard case .typedConfig(let any)? = filter.configType,
                          let hcm = try? Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager(
                            unpackingAny: any),
                          case .routeConfig(let routes)? = hcm.routeSpecifier else { continue }
                    result.append(routes)
                }
            }
        }
        return result
    }
}
