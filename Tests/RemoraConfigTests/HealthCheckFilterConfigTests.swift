import Testing
@testable import RemoraConfig

@Suite struct HealthCheckFilterConfigTests {
    let t = HttpConnectionManagerConfigTests()
    static let base = "stat_prefix: s\nroute_config: {virtual_hosts: [{name: a, domains: ['*'], routes: [{match: {prefix: /}, route: {cluster: backend}}]}]}\nhttp_filters:\n"
    static let router = """
    - name: envoy.filters.http.router
      typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
    """
    static let path = HttpConnectionManagerConfigTests.prefix + ".http_filters[0].typed_config"

    static func healthCheck(_ body: String, extra: String = "") -> String {
        """
        - name: envoy.filters.http.health_check
          \(extra)typed_config:
            "@type": type.googleapis.com/envoy.extensions.filters.http.health_check.v3.HealthCheck
            \(body)
        """
    }

    func compiled(_ body: String) throws -> HealthCheckFilterConfig? {
        let config = try t.hcm(Self.base + Self.healthCheck(body) + "\n" + Self.router)
        #expect(config.httpFilters.count == 2)
        #expect(config.router != nil)
        guard case .healthCheck(let hc)? = config.httpFilters.first else { return nil }
        return hc
    }

    @Test func compilesMatchersAndSortedPercentages() throws {
        let hc = try #require(try compiled("""
        pass_through_mode: false
            headers: [{name: ":path", string_match: {exact: /healthz}}, {name: x-probe, present_match: true}]
            cluster_min_healthy_percentages: {zeta: {value: 50.9}, alpha: {value: 100}}
        """))
        #expect(!hc.passThrough)
        #expect(hc.headers.map(\.name) == [":path", "x-probe"])
        #expect(hc.clusterMinHealthyPercentages.map(\.cluster) == ["alpha", "zeta"])
        // Envoy compares the percentage as an integer.
        #expect(hc.clusterMinHealthyPercentages.map(\.percent) == [100, 50])
    }

    @Test func passThroughIgnoresClusterPercentages() throws {
        let hc = try #require(try compiled("pass_through_mode: true\n    cluster_min_healthy_percentages: {a: {value: 10}}"))
        #expect(hc.passThrough)
        #expect(hc.clusterMinHealthyPercentages.isEmpty)
        #expect(hc.headers.isEmpty)
    }

    @Test func refusals() {
        func error(_ body: String) -> ConfigError? { t.error(Self.base + Self.healthCheck(body) + "\n" + Self.router) }
        #expect(error("headers: []")?.path == Self.path + ".pass_through_mode")
        let cache = error("pass_through_mode: false\n    cache_time: 1s")
        #expect(cache?.path == Self.path + ".cache_time")
        #expect(cache?.reason == "cache_time_ms must not be set when path_through_mode is disabled")
        #expect(error("pass_through_mode: false\n    cluster_min_healthy_percentages: {a: {value: 100.5}}")?.path
            == Self.path + ".cluster_min_healthy_percentages[\"a\"].value")
        #expect(error("pass_through_mode: false\n    headers: [{name: ''}]")?.path == Self.path + ".headers[0].name")
    }

    @Test func cacheTimeMakesOneSharedCache() throws {
        let hc = try #require(try compiled("pass_through_mode: true\n    cache_time: 2s"))
        let cache = try #require(hc.cache)
        #expect(cache.periodMilliseconds == 2000)
        #expect(cache.cached(now: 1000) == nil)
        cache.store(status: 503, degraded: true, now: 1500)
        #expect(cache.cached(now: 2999)?.status == 503)
        // The period that began at the first look (1000 ms) ends at 3000 ms.
        #expect(cache.cached(now: 3000) == nil)
        #expect(cache.lastStored.degraded)
        #expect(try compiled("pass_through_mode: true\n    cache_time: 0s")?.cache == nil)
    }

    @Test func disabledFilterIsLeftOut() throws {
        let config = try t.hcm(Self.base + Self.healthCheck("pass_through_mode: false", extra: "disabled: true\n  ") + "\n" + Self.router)
        #expect(config.httpFilters.count == 1)
        #expect(!config.hasHealthCheckFilter)
    }
}
