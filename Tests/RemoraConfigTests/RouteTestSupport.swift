import Testing
@testable import RemoraConfig
import RemoraAPI

/// Compiles a `RouteConfiguration` given as YAML (error paths start at its root).
func routeTable(_ yaml: String) throws -> RouteTable {
    let config = try BootstrapLoader.decode(Envoy_Config_Route_V3_RouteConfiguration.self, yaml: yaml)
    return try RouteTableCompiler.compile(config, at: "")
}

/// The `ConfigError` compiling `yaml` as a `RouteConfiguration` raises, if any.
func routeError(_ yaml: String) -> ConfigError? {
    configError { _ = try routeTable(yaml) }
}

/// The `ConfigError` that `body` raises, if any; another error is a test failure.
func configError(_ body: () throws -> Void) -> ConfigError? {
    do {
        try body()
        return nil
    } catch let error as ConfigError {
        return error
    } catch {
        Issue.record("unexpected error \(error)")
        return nil
    }
}

/// A route configuration with one `*` virtual host holding `routes` (YAML list items, indented by 2).
func singleHost(_ routes: String, extra: String = "") -> String {
    """
    \(extra)
    virtual_hosts:
    - name: vh
      domains: ["*"]
      routes:
    \(routes)
    """
}

func get(_ path: String, host: String? = "example.com", headers: [(String, String)] = []) -> SimpleRouteRequest {
    SimpleRouteRequest(path: path, authority: host, headers: headers.map { (name: $0.0, value: $0.1) })
}

extension RouteTable {
    /// The name of the route `request` matches (random value 0 unless given).
    func routeName(_ request: SimpleRouteRequest, random: UInt64 = 0) -> String? {
        route(for: request, randomValue: random)?.route.name
    }
}

extension MatchedRoute {
    var forward: ForwardAction {
        guard case .forward(let f) = route.action else { preconditionFailure("not a forward route") }
        return f
    }
}
