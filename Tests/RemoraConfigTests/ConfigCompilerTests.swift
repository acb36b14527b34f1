import Testing
@testable import RemoraConfig
import RemoraAPI
import SwiftProtobuf

/// Numbers that arrive as binary protobuf (xDS) are range-checked by nobody
/// but the compiler: these build the messages directly, as a control plane
/// would send them, and expect a field-path error instead of a trap.
@Suite struct ConfigCompilerTests {
    /// A bootstrap with one cluster and one listener whose HCM has one route;
    /// `edit` changes it before it is serialized and decoded again as binary.
    func compileBinary(_ edit: (inout Envoy_Config_Bootstrap_V3_Bootstrap) throws -> Void) throws -> ServerConfig {
        var bootstrap = try BootstrapLoader.decode(Envoy_Config_Bootstrap_V3_Bootstrap.self, yaml: BootstrapLoaderTests.good)
        try edit(&bootstrap)
        let bytes: [UInt8] = try bootstrap.serializedBytes()
        return try ConfigCompiler.compile(Envoy_Config_Bootstrap_V3_Bootstrap(serializedBytes: bytes))
    }

    func error(_ edit: (inout Envoy_Config_Bootstrap_V3_Bootstrap) throws -> Void) -> ConfigError? {
        configError { _ = try compileBinary(edit) }
    }

    @Test func hugeDurationSecondsAreRefusedWithTheFieldPath() {
        for seconds in [Int64.max, 315_576_000_001, ConfigCompiler.maxDurationSeconds + 1] {
            let e = error { $0.staticResources.clusters[0].connectTimeout = .init(seconds: seconds, nanos: 0) }
            #expect(e?.path == "static_resources.clusters[0].connect_timeout")
            #expect(e?.reason.contains("out of range") == true, "\(String(describing: e))")
        }
    }

    @Test func nanosOutsideTheirRangeAreRefused() {
        let e = error { $0.staticResources.clusters[0].connectTimeout = .init(seconds: 1, nanos: 1_000_000_000) }
        #expect(e?.path == "static_resources.clusters[0].connect_timeout")
        #expect(e?.reason.contains("out of range") == true)
        let negative = error { $0.staticResources.clusters[0].connectTimeout = .init(seconds: 0, nanos: Int32.min) }
        #expect(negative?.reason == "duration must not be negative")
    }

    @Test func largestMillisecondDurationIsAccepted() throws {
        let config = try compileBinary {
            $0.staticResources.clusters[0].connectTimeout = .init(seconds: ConfigCompiler.maxDurationSeconds, nanos: 999_999_999)
        }
        #expect(config.clusters[0].connectTimeoutMilliseconds == UInt64(ConfigCompiler.maxDurationSeconds) * 1000 + 999)
    }

    /// Envoy 1.40's boundary, found with `envoy --mode validate`.
    @Test func durationLimitIsEnvoys() {
        #expect(ConfigCompiler.maxDurationSeconds == 9_223_372_035)
    }

    /// Duration rules from Envoy's protos that Remora checks although it does
    /// not use the value (stats_flush_interval) or rounds it (dns_refresh_rate).
    @Test func protoDurationBoundsAreEnvoys() throws {
        func flush(_ d: Google_Protobuf_Duration) -> ConfigError? { error { $0.statsFlushInterval = d } }
        #expect(flush(.init(seconds: 0, nanos: 0))?.path == "stats_flush_interval")
        #expect(flush(.init(seconds: 300, nanos: 0))?.reason == "must be at least 1ms and less than 300s")
        #expect(flush(.init(seconds: -1, nanos: 0))?.reason == "duration must not be negative")
        #expect(flush(.init(seconds: 299, nanos: 999_999_999)) == nil)
        #expect(flush(.init(seconds: 0, nanos: 1_000_000)) == nil)

        func refresh(_ d: Google_Protobuf_Duration) -> ConfigError? { error { $0.staticResources.clusters[0].dnsRefreshRate = d } }
        #expect(refresh(.init(seconds: 0, nanos: 1_000_000))?.reason == "must be greater than 1ms")
        #expect(refresh(.init(seconds: 0, nanos: 0))?.path == "static_resources.clusters[0].dns_refresh_rate")
        #expect(refresh(.init(seconds: 0, nanos: 1_000_001)) == nil)
    }

    /// The same check reaches durations inside a packed `typed_config`.
    @Test func hugeDurationInsideTypedConfigNamesItsPath() {
        let e = error { bootstrap in
            let any = bootstrap.staticResources.listeners[0].filterChains[0].filters[0].typedConfig
            var proxy = try Envoy_Extensions_Filters_Network_TcpProxy_V3_TcpProxy(unpackingAny: any)
            proxy.idleTimeout = .init(seconds: Int64.max, nanos: Int32.max)
            bootstrap.staticResources.listeners[0].filterChains[0].filters[0].typedConfig = try Google_Protobuf_Any(message: proxy)
        }
        #expect(e?.path == "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.idle_timeout")
        #expect(e?.reason.contains("out of range") == true)
    }

    @Test func hugeRouteTimeoutNamesItsPath() {
        let e = error { bootstrap in
            var hcm = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager()
            hcm.statPrefix = "in"
            var route = Envoy_Config_Route_V3_Route()
            route.match.prefix = "/"
            route.route.cluster = "backend"
            route.route.timeout = .init(seconds: Int64.max, nanos: 0)
            var host = Envoy_Config_Route_V3_VirtualHost()
            host.name = "all"
            host.domains = ["*"]
            host.routes = [route]
            hcm.routeConfig.virtualHosts = [host]
            var router = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter()
            router.name = "envoy.filters.http.router"
            router.typedConfig = try Google_Protobuf_Any(message: Envoy_Extensions_Filters_Http_Router_V3_Router())
            hcm.httpFilters = [router]
            bootstrap.staticResources.listeners[0].filterChains[0].filters[0].typedConfig = try Google_Protobuf_Any(message: hcm)
        }
        #expect(e?.path == "static_resources.listeners[0].filter_chains[0].filters[0].typed_config"
            + ".route_config.virtual_hosts[0].routes[0].route.timeout")
        #expect(e?.reason.contains("out of range") == true)
    }
}
