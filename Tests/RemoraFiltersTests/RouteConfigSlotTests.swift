import Foundation
import Testing
import RemoraAPI
import RemoraConfig
import RemoraEventLoop
@testable import RemoraFilters

/// RDS tables on a worker: a slot per `rds`, swapped whole by the main
/// loop's post; a stream keeps the table it started with.
@Suite struct RouteConfigSlotTests {
    func table(_ cluster: String) throws -> RouteTable {
        let yaml = """
            name: r
            virtual_hosts: [{name: v, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: \(cluster)}}]}]
            """
        return try RouteTable.compile(try BootstrapLoader.decode(Envoy_Config_Route_V3_RouteConfiguration.self, yaml: yaml))
    }

    @Test func aPushReachesTheNextStreamAndNotTheOneInFlight() throws {
        let loop = try EventLoop()
        let context = HTTPWorkerContext(loop: loop, seed: 1) { _ in nil }
        let reference = RDSReference(routeConfigName: "r", source: ConfigSourceConfig(kind: .path("/x", watchedDirectory: nil)))
        let routes = ConnectionRoutes.rds(context.routeSlot(for: reference))
        // Before the first table: Envoy's empty config, every request a 404.
        #expect(routes.current === DynamicListenerCompiler.emptyRouteTable)

        let first = try table("a")
        context.updateRoutes(reference, table: first)
        let inFlight = routes.current
        #expect(inFlight === first)

        let second = try table("b")
        context.updateRoutes(reference, table: second)
        #expect(routes.current === second)
        // The stream that started before the push still holds its table.
        #expect(inFlight === first)
        // Another connection naming the same table shares the slot.
        #expect(context.routeSlot(for: reference).table === second)

        // A table another source serves under the same name is another slot.
        let other = RDSReference(routeConfigName: "r", source: ConfigSourceConfig(kind: .path("/y", watchedDirectory: nil)))
        #expect(context.routeSlot(for: other).table === DynamicListenerCompiler.emptyRouteTable)
    }

    @Test func inlineRoutesNeverChange() throws {
        let inline = try table("a")
        let routes = ConnectionRoutes.inline(inline)
        #expect(routes.current === inline)
    }
}
