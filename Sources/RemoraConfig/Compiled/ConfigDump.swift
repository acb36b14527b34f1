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
    }

    /// The dump; with `resource`, only that repeated field's elements (each
    /// typed as its element message); `named` keeps resources by name.
    public static func json(bootstrapBytes: [UInt8], lastUpdated: String, resource: String?,
                            named: (String) -> Bool) -> Result<String, Failure> {
        AnyRegistry.registerAll()
        guard !bootstrapBytes.isEmpty,
              let bootstrap = try? Envoy_Config_Bootstrap_V3_Bootstrap(serializedBytes: bootstrapBytes) else {
            return .failure(.unavailable)
        }
        let updated = quoted(lastUpdated)
        let clusters = bootstrap.staticResources.clusters.filter { named($0.name) }.map {
            "{\"cluster\":\(typed(Envoy_Config_Cluster_V3_Cluster.protoMessageName, json($0))),\"last_updated\":\(updated)}"
        }
        let listeners = bootstrap.staticResources.listeners.filter { named($0.name) }.map {
            "{\"listener\":\(typed(Envoy_Config_Listener_V3_Listener.protoMessageName, json($0))),\"last_updated\":\(updated)}"
        }
        let routes = inlineRouteConfigs(bootstrap).filter { named($0.name) }.map {
            "{\"route_config\":\(typed(Envoy_Config_Route_V3_RouteConfiguration.protoMessageName, json($0))),"
                + "\"last_updated\":\(updated)}"
        }
        let admin = "envoy.admin.v3."
        if let resource {
            switch resource {
            case "static_clusters":
                return .success(configs(clusters.map { typed(admin + "ClustersConfigDump.StaticCluster", $0) }))
            case "static_listeners":
                return .success(configs(listeners.map { typed(admin + "ListenersConfigDump.StaticListener", $0) }))
            case "static_route_configs":
                return .success(configs(routes.map { typed(admin + "RoutesConfigDump.StaticRouteConfig", $0) }))
            case "dynamic_active_clusters", "dynamic_warming_clusters", "dynamic_listeners", "dynamic_route_configs",
                 "dynamic_scoped_route_configs", "inline_scoped_route_configs", "static_secrets", "dynamic_active_secrets",
                 "dynamic_warming_secrets":
                return .success(configs([]))
            default:
                return .failure(.unknownResource(resource))
            }
        }
        var dumped = bootstrap
        dumped.node.userAgentName = "remora"
        func section(_ type: String, _ field: String, _ items: [String]) -> String {
            "{\"@type\":\"type.googleapis.com/\(admin)\(type)\"" + (items.isEmpty ? "" : ",\"\(field)\":[\(items.joined(separator: ","))]") + "}"
        }
        return .success(configs([
            "{\"@type\":\"type.googleapis.com/\(admin)BootstrapConfigDump\",\"bootstrap\":\(json(dumped)),\"last_updated\":\(updated)}",
            section("ClustersConfigDump", "static_clusters", clusters),
            section("ListenersConfigDump", "static_listeners", listeners),
            section("ScopedRoutesConfigDump", "", []),
            section("RoutesConfigDump", "static_route_configs", routes),
            section("SecretsConfigDump", "", []),
        ]))
    }

    private static func configs(_ items: [String]) -> String {
        "{\"configs\":[\(items.joined(separator: ",\n"))]}\n"
    }

    private static func typed(_ type: String, _ json: String) -> String {
        let tag = "\"@type\":\"type.googleapis.com/\(type)\""
        return json == "{}" ? "{\(tag)}" : "{\(tag)," + json.dropFirst()
    }

    private static func json(_ message: some SwiftProtobuf.Message) -> String {
        var options = JSONEncodingOptions()
        options.preserveProtoFieldNames = true
        return (try? message.jsonString(options: options)) ?? "{}"
    }

    private static func quoted(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// Every HTTP connection manager's inline `route_config`.
    private static func inlineRouteConfigs(_ bootstrap: Envoy_Config_Bootstrap_V3_Bootstrap) -> [Envoy_Config_Route_V3_RouteConfiguration] {
        var result: [Envoy_Config_Route_V3_RouteConfiguration] = []
        for listener in bootstrap.staticResources.listeners {
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
