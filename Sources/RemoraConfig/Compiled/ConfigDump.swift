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
        /// A dynamic resource's `version_info` and `last_updated` (quoted).
        var versionInfo: String? = nil
        var lastUpdated: String? = nil
        /// Envoy's endpoint dumps carry no `last_updated`.
        var hasLastUpdated = true
        /// A secret's `name`, first of its fields; a secret's wrapper also
        /// has `last_updated` before the resource (the protos' field order).
        var name: String? = nil

        init<M: SwiftProtobuf.Message>(wrapper: String, anyField: String, message: M, versionInfo: String? = nil,
                                       lastUpdated: String? = nil) {
            self.wrapper = wrapper
            self.anyField = anyField
            self.versionInfo = versionInfo
            self.lastUpdated = lastUpdated
            type = M.protoMessageName
            let json = ConfigDump.json(message)
            resourceJSON = json
            trim = { tree in ConfigDump.trimmed(json, to: tree, as: M.self) }
        }

        /// Nil when `mask` is not valid for the element.
        func json(updated: String, mask: [[String]]?) -> String? {
            let updated = lastUpdated ?? updated
            // proto3 JSON leaves an empty version out.
            let version = versionInfo.flatMap { $0.isEmpty ? nil : "\"version_info\":\(ConfigDump.quoted($0))," } ?? ""
            let named = name.map { "\"name\":\(ConfigDump.quoted($0))," } ?? ""
            guard let mask else {
                let stamp = hasLastUpdated ? "\"last_updated\":\(updated)" : ""
                let resource = "\"\(anyField)\":\(ConfigDump.typed(type, resourceJSON))"
                if name != nil, !stamp.isEmpty { return "{\(named)\(version)\(stamp),\(resource)}" }
                return "{\(named)\(version)\(resource)\(stamp.isEmpty ? "" : "," + stamp)}"
            }
            var inner: [[String]] = []
            var withUpdated = false
            var withVersion = false
            var withName = false
            for path in mask {
                if name != nil, path == ["name"] {
                    withName = true
                } else if versionInfo != nil, path == ["version_info"] {
                    withVersion = true
                } else if path.first == anyField, path.count > 1, ConfigDump.isValid(path.dropFirst(), in: type) {
                    inner.append(Array(path.dropFirst()))
                } else if hasLastUpdated, path.first == "last_updated",
                          path.count == 1 || ConfigDump.isValid(path.dropFirst(), in: "google.protobuf.Timestamp") {
                    withUpdated = true
                } else {
                    return nil
                }
            }
            var fields: [String] = []
            if withName, !named.isEmpty { fields.append(String(named.dropLast())) }
            if withVersion, !version.isEmpty { fields.append(String(version.dropLast())) }
            let stampFirst = name != nil
            if withUpdated, stampFirst { fields.append("\"last_updated\":\(updated)") }
            if !inner.isEmpty {
                fields.append("\"\(anyField)\":\(ConfigDump.typed(type, trim(MaskTree(paths: inner))))")
            }
            if withUpdated, !stampFirst { fields.append("\"last_updated\":\(updated)") }
            return "{" + fields.joined(separator: ",") + "}"
        }
    }

    /// The dump; with `resource`, only that repeated field's elements (each
    /// typed as its element message); `named` keeps resources by name;
    /// `mask` trims what is dumped (see `ConfigDump+Mask`).
    public static func json(bootstrapBytes: [UInt8], lastUpdated: String, resource: String?, mask: String? = nil,
                            dynamicClusters: DynamicClusters = DynamicClusters(), endpoints: [ClusterEndpoints]? = nil,
                            dynamic: DynamicConfigDump = DynamicConfigDump(), secrets: SecretsDump = SecretsDump(),
                            buildVersion: Envoy_Config_Core_V3_BuildVersion? = nil,
                            named: (String) -> Bool) -> Result<String, Failure> {
        AnyRegistry.registerAll()
        guard !bootstrapBytes.isEmpty,
              let bootstrap = try? Envoy_Config_Bootstrap_V3_Bootstrap(serializedBytes: bootstrapBytes) else {
            return .failure(.unavailable)
        }
        let paths = mask.flatMap(maskPaths)
        let updated = quoted(lastUpdated)
        let admin = "envoy.admin.v3."
        // Envoy's cluster map is ordered by name ("so that config dumping is consistent").
        let clusters = bootstrap.staticResources.clusters.filter { named($0.name) }.sorted { $0.name < $1.name }.map {
            Element(wrapper: admin + "ClustersConfigDump.StaticCluster", anyField: "cluster", message: $0)
        }
        func clusterElements(_ list: [DynamicCluster], _ wrapper: String) -> [Element] {
            list.compactMap { item in
                guard let cluster = try? Envoy_Config_Cluster_V3_Cluster(serializedBytes: item.bytes), named(cluster.name) else { return nil }
                return Element(wrapper: admin + "ClustersConfigDump." + wrapper, anyField: "cluster", message: cluster,
                               versionInfo: item.versionInfo, lastUpdated: quoted(item.lastUpdated))
            }
        }
        let activeClusters = clusterElements(dynamicClusters.active, "DynamicCluster")
        let warmingClusters = clusterElements(dynamicClusters.warming, "DynamicCluster")
        // `?include_eds`: every cluster's hosts as a ClusterLoadAssignment.
        let endpointElements = (endpoints ?? []).filter { named($0.assignmentName) }.map { item in
            var element = Element(
                wrapper: admin + (item.dynamic ? "EndpointsConfigDump.DynamicEndpointConfig" : "EndpointsConfigDump.StaticEndpointConfig"),
                anyField: "endpoint_config", message: item.assignment)
            element.hasLastUpdated = false
            return element
        }
        let staticEndpoints = endpointElements.filter { $0.wrapper.hasSuffix("StaticEndpointConfig") }
        let dynamicEndpoints = endpointElements.filter { $0.wrapper.hasSuffix("DynamicEndpointConfig") }
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
        // Static secrets redacted as written; SDS secrets as loaded (files read), redacted.
        var staticSecrets: [Element] = []
        for secret in bootstrap.staticResources.secrets where named(secret.name) {
            var element = Element(wrapper: admin + "SecretsConfigDump.StaticSecret", anyField: "secret",
                                  message: SDSSecret.redacted(secret, resolvingFiles: false))
            element.name = secret.name
            element.hasLastUpdated = false
            staticSecrets.append(element)
        }
        func secretElements(_ list: [SecretsDump.Entry]) -> [Element] {
            list.filter { named($0.name) }.map { entry in
                var secret = entry.secret.map { SDSSecret.redacted($0, resolvingFiles: true) } ?? SDSSecret.Secret()
                secret.name = entry.name
                var element = Element(wrapper: admin + "SecretsConfigDump.DynamicSecret", anyField: "secret", message: secret,
                                      versionInfo: entry.versionInfo, lastUpdated: quoted(entry.lastUpdated))
                element.name = entry.name
                return element
            }
        }
        let activeSecrets = secretElements(secrets.active)
        let warmingSecrets = secretElements(secrets.warming)
        if let resource {
            let elements: [Element]
            switch resource {
            case "static_secrets": elements = staticSecrets
            case "dynamic_active_secrets": elements = activeSecrets
            case "dynamic_warming_secrets": elements = warmingSecrets
            case "static_clusters": elements = clusters
            case "static_listeners": elements = listeners
            case "static_route_configs": elements = routes
            case "static_endpoint_configs" where endpoints != nil: elements = staticEndpoints
            case "dynamic_endpoint_configs" where endpoints != nil: elements = dynamicEndpoints
            case "dynamic_active_clusters": elements = activeClusters
            case "dynamic_warming_clusters": elements = warmingClusters
            case "dynamic_route_configs":
                elements = dynamicRoutes.map {
                    Element(wrapper: DynamicConfigDump.routeWrapper, anyField: "route_config", message: $0.routeConfig,
                            versionInfo: $0.versionInfo, lastUpdated: quoted($0.lastUpdated))
                }
            case "dynamic_listeners":
                // The mask trims the DynamicListener itself (Envoy does not
                // look into its several `Any`s).
                if let paths, !paths.allSatisfy(DynamicConfigDump.isValidListenerPath) {
                    return .failure(.maskNotUsable(paths.map { $0.joined(separator: ".") }))
                }
                let tree = paths.map { MaskTree(paths: $0) }
                return .success(configs(dynamicListeners.map {
                    typed(DynamicConfigDump.listenerWrapper, DynamicConfigDump.render(DynamicConfigDump.fields($0), mask: tree))
                }))
            case "dynamic_scoped_route_configs", "inline_scoped_route_configs":
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
        // Envoy's bootstrap dump shows the build its xDS requests carry.
        if let buildVersion { dumped.node.userAgentBuildVersion = buildVersion }
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
        let clustersVersion: [(String, String)] = dynamicClusters.versionInfo.isEmpty ? [] : [("version_info", quoted(dynamicClusters.versionInfo))]
        section("ClustersConfigDump", clustersVersion + list("static_clusters", clusters) + list("dynamic_active_clusters", activeClusters)
            + list("dynamic_warming_clusters", warmingClusters))
        if endpoints != nil {
            section("EndpointsConfigDump", list("static_endpoint_configs", staticEndpoints) + list("dynamic_endpoint_configs", dynamicEndpoints))
        }
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
        section("SecretsConfigDump", list("static_secrets", staticSecrets) + list("dynamic_active_secrets", activeSecrets)
            + list("dynamic_warming_secrets", warmingSecrets))
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

/// One cluster that came over CDS, for `/config_dump`.
public struct DynamicCluster: Sendable {
    public var versionInfo: String
    /// The `Cluster` in protobuf binary.
    public var bytes: [UInt8]
    /// RFC 3339, as `last_updated` prints.
    public var lastUpdated: String

    public init(versionInfo: String, bytes: [UInt8], lastUpdated: String) {
        self.versionInfo = versionInfo
        self.bytes = bytes
        self.lastUpdated = lastUpdated
    }
}

/// The SDS part of `SecretsConfigDump`: secrets in use (as last accepted)
/// and secrets awaited (`version_info` "uninitialized", no content).
public struct SecretsDump: Sendable {
    public struct Entry: Sendable {
        public var name: String
        public var versionInfo: String
        /// RFC 3339, unquoted.
        public var lastUpdated: String
        public var secret: SDSSecret.Secret?

        public init(name: String, versionInfo: String, lastUpdated: String, secret: SDSSecret.Secret?) {
            self.name = name
            self.versionInfo = versionInfo
            self.lastUpdated = lastUpdated
            self.secret = secret
        }
    }

    public var active: [Entry]
    public var warming: [Entry]

    public init(active: [Entry] = [], warming: [Entry] = []) {
        self.active = active
        self.warming = warming
    }
}

/// The CDS part of `ClustersConfigDump`: its `version_info`, active and warming clusters.
public struct DynamicClusters: Sendable {
    public var versionInfo: String
    public var active: [DynamicCluster]
    public var warming: [DynamicCluster]

    public init(versionInfo: String = "", active: [DynamicCluster] = [], warming: [DynamicCluster] = []) {
        self.versionInfo = versionInfo
        self.active = active
        self.warming = warming
    }
}

/// One cluster's hosts for `/config_dump?include_eds`, as Envoy prints them:
/// a `ClusterLoadAssignment` named after the EDS service (or the cluster),
/// one locality entry per locality, each host HEALTHY or UNHEALTHY with
/// its weight, and the default overprovisioning factor.
public struct ClusterEndpoints: Sendable {
    /// Came over CDS (`dynamic_endpoint_configs`).
    public var dynamic: Bool
    var assignment: Envoy_Config_Endpoint_V3_ClusterLoadAssignment

    var assignmentName: String { assignment.clusterName }

    public init(name: String, dynamic: Bool, endpoints: [EndpointConfig]) {
        self.dynamic = dynamic
        var cla = Envoy_Config_Endpoint_V3_ClusterLoadAssignment()
        cla.clusterName = name
        var localities: [Envoy_Config_Endpoint_V3_LocalityLbEndpoints] = []
        for endpoint in endpoints {
            var locality = Envoy_Config_Core_V3_Locality()
            locality.region = endpoint.region
            locality.zone = endpoint.zone
            locality.subZone = endpoint.subZone
            var lb = Envoy_Config_Endpoint_V3_LbEndpoint()
            var address = Envoy_Config_Core_V3_Address()
            if case .unix(let path) = endpoint.address {
                address.pipe.path = path
            } else {
                address.socketAddress.address = endpoint.address.host
                address.socketAddress.portValue = UInt32(endpoint.address.port ?? 0)
            }
            lb.endpoint.address = address
            lb.endpoint.healthCheckConfig = Envoy_Config_Endpoint_V3_Endpoint.HealthCheckConfig()
            lb.endpoint.hostname = endpoint.hostname
            // Envoy's dump has no DRAINING: a host failing its EDS status is UNHEALTHY.
            lb.healthStatus = endpoint.health == .healthy ? .healthy : endpoint.health == .degraded ? .degraded : .unhealthy
            lb.loadBalancingWeight = Google_Protobuf_UInt32Value(endpoint.weight)
            if let i = localities.firstIndex(where: { $0.locality == locality && $0.priority == endpoint.priority }) {
                localities[i].lbEndpoints.append(lb)
            } else {
                var entry = Envoy_Config_Endpoint_V3_LocalityLbEndpoints()
                entry.locality = locality
                entry.priority = endpoint.priority
                entry.loadBalancingWeight = Google_Protobuf_UInt32Value(0)
                entry.lbEndpoints = [lb]
                localities.append(entry)
            }
        }
        cla.endpoints = localities
        cla.policy.overprovisioningFactor = Google_Protobuf_UInt32Value(140)
        assignment = cla
    }
}
