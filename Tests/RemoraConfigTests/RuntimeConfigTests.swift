import RemoraAPI
@testable import RemoraConfig
import Testing

/// `layered_runtime`: static layers flattened as Envoy reads them, one admin
/// layer at most, disk and RTDS layers refused with their field paths.
@Suite struct RuntimeConfigTests {
    func compile(_ yaml: String) throws -> ServerConfig {
        try ConfigCompiler.compile(try BootstrapLoader.decode(Envoy_Config_Bootstrap_V3_Bootstrap.self, yaml: yaml))
    }

    func refusal(_ yaml: String) -> String? {
        do {
            _ = try compile(yaml)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func staticLayerIsFlattened() throws {
        let config = try compile("""
            layered_runtime:
              layers:
              - name: base
                static_layer: {a: {b: 1, c: "x"}, d: true, e: 0.25}
              - name: admin
                admin_layer: {}
            """)
        #expect(config.runtimeLayers.map(\.name) == ["base", "admin"])
        #expect(config.runtimeLayers[0].values == ["a.b": "1", "a.c": "x", "d": "true", "e": "0.25"])
        #expect(config.runtimeLayers[1].isAdmin && config.runtimeLayers[1].values.isEmpty)
    }

    @Test func refusals() {
        #expect(refusal("""
            layered_runtime: {layers: [{name: d, disk_layer: {symlink_root: /x}}]}
            """)?.hasPrefix("layered_runtime.layers[0].disk_layer:") == true)
        #expect(refusal("""
            layered_runtime: {layers: [{name: a, admin_layer: {}}, {name: b, admin_layer: {}}]}
            """)?.contains("Too many admin layers") == true)
        #expect(refusal("""
            layered_runtime: {layers: [{name: a, static_layer: {}}, {name: a, static_layer: {}}]}
            """)?.contains("Duplicate layer name") == true)
    }
}
