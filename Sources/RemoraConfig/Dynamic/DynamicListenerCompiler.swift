public import RemoraAPI
import RemoraCore
public import SwiftProtobuf

extension FilterChainSource {
    /// The chain's message in deterministic binary form.
    init(_ chain: Envoy_Config_Listener_V3_FilterChain) {
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        self.init(bytes: (try? chain.serializedBytes(options: options)) ?? [])
    }
}

/// A listener from LDS, compiled, with the message it came from.
public struct DynamicListener: Sendable {
    public let config: ListenerConfig
    /// The `Listener` message in deterministic binary form: an update whose
    /// bytes are equal to the running listener's is no change at all.
    public let sourceBytes: [UInt8]
    public let message: Envoy_Config_Listener_V3_Listener
    /// Its TLS contexts that read SDS secrets (the secret manager rebuilds
    /// them when those change; the listener warms until they arrived).
    public let sdsDependencies: [SDSContextDependency]
}

/// Compiles `envoy.config.listener.v3.Listener` resources from LDS with the
/// same `ListenerCompiler` as the bootstrap's, and RDS route configurations.
/// Main thread.
public enum DynamicListenerCompiler {
    /// Compiles one LDS resource. `clusterNames` are the clusters known now,
    /// for the inline route configurations' `validate_clusters`. The error
    /// paths start at the listener's root, as Envoy's messages do. SDS
    /// secrets are looked up in `currentSecrets` (the secret manager's).
    public static func compile(_ resource: Google_Protobuf_Any, server: ServerConfig, clusterNames: Set<String>,
                               currentSecrets: [String: SDSSecret.Secret] = [:]) throws(ConfigError) -> DynamicListener {
        let message = try TypeURL.unpack(Envoy_Config_Listener_V3_Listener.self, from: resource, at: "")
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        let bytes = (try? message.serializedBytes(options: options)) ?? []
        guard !message.name.isEmpty else { throw .missing(at: "name") }
        let secrets = server.secrets.forDynamicResource(currentSecrets)
        let config = try ListenerCompiler.compile(message, index: 0, secrets: secrets,
                                                  hasADS: server.dynamicResources?.ads != nil, at: "")
        try ListenerCompiler.validateRouteClusters([config], clusterNames: clusterNames)
        return DynamicListener(config: config, sourceBytes: bytes, message: message,
                               sdsDependencies: secrets.dependencies?.all ?? [])
    }

    /// Compiles one RDS resource (`validate_clusters` defaults to false, as
    /// in Envoy; when set, every cluster named must be in `clusterNames`).
    public static func compileRoutes(_ resource: Google_Protobuf_Any, clusterNames: @autoclosure () -> Set<String>)
        throws(ConfigError) -> (RouteTable, Envoy_Config_Route_V3_RouteConfiguration) {
        let message = try TypeURL.unpack(Envoy_Config_Route_V3_RouteConfiguration.self, from: resource, at: "")
        let table = try RouteTable.compile(message, validateClustersByDefault: false)
        if table.validateClusters {
            // Made only when asked for (RDS does not validate by default).
            let clusterNames = clusterNames()
            for reference in table.clusterReferences where !clusterNames.contains(reference.cluster) {
                throw .invalid(reference.unknownClusterMessage, at: reference.path)
            }
        }
        return (table, message)
    }

    /// The table a connection manager uses before its RDS answered (Envoy's
    /// `NullConfigImpl`): no virtual host, so every request is a 404.
    public static let emptyRouteTable: RouteTable = {
        do {
            return try RouteTable.compile(Envoy_Config_Route_V3_RouteConfiguration())
        } catch {
            preconditionFailure("an empty route configuration compiles: \(error)")
        }
    }()
}

/// What a listener update changes, by filter chain (Envoy's
/// `ListenerImpl::diffFilterChain`, and the in-place update test of
/// `supportUpdateFilterChain`).
public struct ListenerDiff: Equatable, Sendable {
    /// Chains of the old listener that the new one does not have: their
    /// connections drain.
    public let removedChains: Set<FilterChainSource>
    /// Chains only the new listener has.
    public let addedChains: Set<FilterChainSource>
    /// The sockets can be kept: same addresses (as configured, so port 0
    /// stays the port already chosen), same socket options.
    public let keepsSockets: Bool

    public init(old: ListenerConfig, new: ListenerConfig) {
        let before = old.chainSources
        let after = new.chainSources
        removedChains = before.subtracting(after)
        addedChains = after.subtracting(before)
        keepsSockets = old.bindAddresses == new.bindAddresses && old.reusePort == new.reusePort
            && old.backlog == new.backlog && old.bindToPort == new.bindToPort
    }
}

extension ListenerConfig {
    /// Every chain's source, the default chain's included.
    public var chainSources: Set<FilterChainSource> {
        Set((filterChains + (defaultFilterChain.map { [$0] } ?? [])).map(\.source))
    }

    /// Every chain, the default one last.
    public var allFilterChains: [FilterChainConfig] {
        filterChains + (defaultFilterChain.map { [$0] } ?? [])
    }

    /// The route configurations the chains' connection managers take from RDS.
    public var rdsReferences: [RDSReference] {
        var seen: Set<RDSReference> = []
        return allFilterChains.compactMap { chain -> RDSReference? in
            guard case .rds(let reference)? = chain.httpConnectionManager?.routes else { return nil }
            return seen.insert(reference).inserted ? reference : nil
        }
    }
}
