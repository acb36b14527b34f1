import Testing
@testable import RemoraConfig
import RemoraAPI
import SwiftProtobuf

@Suite struct SupportedFieldsTests {
    /// `SetFieldNumbers` (a visitor) replaced reading the numbers back from
    /// the serialized message: both must see the same fields, at every level.
    @Test func setFieldNumbersMatchTheWireEncoding() throws {
        for seed in BootstrapFuzzTests.loadCorpus() {
            let bootstrap = try BootstrapLoader.decode(
                Envoy_Config_Bootstrap_V3_Bootstrap.self, yaml: String(decoding: seed.bytes, as: UTF8.self))
            func check<M: SwiftProtobuf.Message>(_ message: M) throws {
                let bytes: [UInt8] = try message.serializedBytes()
                var reader = ProtobufWireReader(bytes[...])
                var wire: [Int] = []
                while let (number, _) = reader.next() {
                    if wire.last != Int(number) { wire.append(Int(number)) }
                }
                #expect(SetFieldNumbers.of(message) == wire, "\(seed.name): \(M.protoMessageName)")
            }
            try check(bootstrap)
            try check(bootstrap.staticResources)
            for cluster in bootstrap.staticResources.clusters { try check(cluster) }
            for listener in bootstrap.staticResources.listeners {
                try check(listener)
                for chain in listener.filterChains {
                    try check(chain)
                    for filter in chain.filters {
                        try check(filter)
                        guard filter.typedConfig.typeURL.hasSuffix("HttpConnectionManager") else { continue }
                        let hcm = try Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager(
                            unpackingAny: filter.typedConfig)
                        try check(hcm)
                        for host in hcm.routeConfig.virtualHosts {
                            try check(host)
                            for route in host.routes { try check(route); try check(route.match) }
                        }
                    }
                }
            }
        }
    }

    /// The check must not decode what a `typed_config` holds: read from
    /// JSON, an `Any` keeps its payload as JSON, and serializing the
    /// enclosing message (the old way) decoded it at every level of the
    /// config: most of the load time of a large route table.
    @Test func requireDoesNotDecodeTypedConfigPayloads() throws {
        // A payload that cannot be decoded: the check must not care.
        var broken = Envoy_Config_Listener_V3_Filter()
        broken.name = "hcm"
        broken.typedConfig = try Google_Protobuf_Any(
            jsonString: #"{"@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager", "stat_prefix": 7}"#)
        #expect(throws: (any Error).self) { _ = try broken.serializedBytes() as [UInt8] }  // what the old check did
        #expect(throws: Never.self) { try SupportedFields.require(broken, only: ["name", "typed_config"], at: "f") }
        #expect(throws: ConfigError.unsupported("unsupported field (not implemented by Remora)", at: "f.typed_config")) {
            try SupportedFields.require(broken, only: ["name"], at: "f")
        }
    }

    /// Names seen once are kept past `MessageSchema.releaseCache()`; the
    /// verdicts and field paths stay those of the schema, for fields seen
    /// before and for fields seen for the first time after the release.
    @Test func namesOutliveTheSchemaCache() throws {
        var endpoint = Envoy_Config_Endpoint_V3_LbEndpoint()
        endpoint.healthStatus = .healthy
        endpoint.loadBalancingWeight = .init(3)
        let only = ["health_status", "load_balancing_weight"]
        try SupportedFields.require(endpoint, only: only, at: "e")
        MessageSchema.releaseCache()
        try SupportedFields.require(endpoint, only: only, at: "e")
        #expect(throws: ConfigError.unsupported("unsupported field (not implemented by Remora)", at: "e.load_balancing_weight")) {
            try SupportedFields.require(endpoint, only: ["health_status"], at: "e")
        }
        endpoint.metadata = Envoy_Config_Core_V3_Metadata()
        endpoint.metadata.filterMetadata["m"] = Google_Protobuf_Struct()
        MessageSchema.releaseCache()
        #expect(throws: ConfigError.unsupported("unsupported field (not implemented by Remora)", at: "e.metadata")) {
            try SupportedFields.require(endpoint, only: only, at: "e")
        }
    }
}
