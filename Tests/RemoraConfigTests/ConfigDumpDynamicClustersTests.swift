import Foundation
import Testing
import RemoraAPI
@testable import RemoraConfig
import SwiftProtobuf

/// `/config_dump`'s CDS part: `version_info`, `dynamic_active_clusters` and
/// `dynamic_warming_clusters`, each with its own version and `last_updated`.
@Suite struct ConfigDumpDynamicClustersTests {
    func bytes(_ json: String) throws -> [UInt8] {
        try Envoy_Config_Cluster_V3_Cluster(jsonString: json).serializedBytes()
    }

    func dump(resource: String? = nil, mask: String? = nil) throws -> Any {
        var bootstrap = Envoy_Config_Bootstrap_V3_Bootstrap()
        bootstrap.node.id = "n"
        let clusters = DynamicClusters(
            versionInfo: "7",
            active: [DynamicCluster(versionInfo: "6", bytes: try bytes(#"{"name": "a", "type": "STATIC"}"#), lastUpdated: "2026-01-01T00:00:00.000Z")],
            warming: [DynamicCluster(versionInfo: "7", bytes: try bytes(#"{"name": "w", "type": "EDS"}"#), lastUpdated: "2026-01-02T00:00:00.000Z")])
        let result = ConfigDump.json(bootstrapBytes: try bootstrap.serializedBytes(), lastUpdated: "2026-01-01T00:00:00.000Z",
                                     resource: resource, mask: mask, dynamicClusters: clusters, named: { _ in true })
        guard case .success(let json) = result else { Issue.record("\(result)"); return [:] }
        return try JSONSerialization.jsonObject(with: Data(json.utf8))
    }

    @Test func clustersSectionHasVersionActiveAndWarming() throws {
        let configs = try #require((try dump() as? [String: Any])?["configs"] as? [[String: Any]])
        let clusters = try #require(configs.first { ($0["@type"] as? String)?.hasSuffix("ClustersConfigDump") == true })
        #expect(clusters["version_info"] as? String == "7")
        let active = try #require(clusters["dynamic_active_clusters"] as? [[String: Any]])
        #expect(active.count == 1)
        #expect(active[0]["version_info"] as? String == "6")
        #expect(active[0]["last_updated"] as? String == "2026-01-01T00:00:00.000Z")
        #expect((active[0]["cluster"] as? [String: Any])?["@type"] as? String == "type.googleapis.com/envoy.config.cluster.v3.Cluster")
        let warming = try #require(clusters["dynamic_warming_clusters"] as? [[String: Any]])
        #expect((warming[0]["cluster"] as? [String: Any])?["name"] as? String == "w")
    }

    @Test func resourceAndMask() throws {
        let configs = try #require((try dump(resource: "dynamic_warming_clusters", mask: "version_info") as? [String: Any])?["configs"]
            as? [[String: String]])
        #expect(configs == [["@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump.DynamicCluster", "version_info": "7"]])
    }
}
