import Testing
@testable import RemoraConfig
import RemoraAPI
import RemoraCore

@Suite struct StatsSettingsTests {
    func compile(_ yaml: String) throws -> ServerConfig {
        let bootstrap = try BootstrapLoader.decode(Envoy_Config_Bootstrap_V3_Bootstrap.self, yaml: BootstrapLoaderTests.good + "\n" + yaml)
        return try ConfigCompiler.compile(bootstrap)
    }

    func error(_ yaml: String) -> ConfigError? {
        configError { _ = try compile(yaml) }
    }

    @Test func compilesEnvoyStatsConfig() throws {
        let config = try compile("""
        stats_flush_interval: 0.25s
        stats_config:
          use_all_default_tags: false
          stats_tags:
          - tag_name: team
            fixed_value: blue
          - tag_name: envoy.cluster_name
          stats_matcher:
            exclusion_list:
              patterns:
              - prefix: cluster_manager.
          histogram_bucket_settings:
          - match: {prefix: cluster.}
            buckets: [100, 1, 10]
        """)
        let s = config.stats
        #expect(s.flushIntervalMilliseconds == 250)
        #expect(s.buckets(for: "cluster.a.upstream_rq_time") == [1, 10, 100])
        #expect(s.buckets(for: "http.a.downstream_rq_time") == StatsSettings.defaultBuckets)
        #expect(!s.matcher.accepts("cluster_manager.cluster_added"))
        #expect(s.matcher.accepts("cluster.a.upstream_rq_total"))
        let (name, tags) = s.tags.produceTags("cluster.a.upstream_rq_200")
        #expect(name == "cluster.upstream_rq_200", "only the named default extractor runs")
        #expect(tags.map(\.name) == ["team", "envoy.cluster_name"])
    }

    @Test func statsdSink() throws {
        let config = try compile("""
        stats_sinks:
        - name: envoy.stat_sinks.statsd
          typed_config:
            "@type": type.googleapis.com/envoy.config.metrics.v3.StatsdSink
            address: {socket_address: {address: 127.0.0.1, port_value: 8125, protocol: UDP}}
        """)
        #expect(config.stats.statsd?.address == SocketAddress.ip("127.0.0.1", port: 8125))
        #expect(config.stats.statsd?.prefix == "envoy")
    }

    @Test func refusesWhatEnvoyRefusesAndWhatRemoraLacks() {
        #expect(error("stats_config: {stats_tags: [{tag_name: nope}]}")?.path == "stats_config.stats_tags[0]")
        #expect(error("stats_config: {stats_tags: [{tag_name: x, regex: '(('}]}")?.path == "stats_config.stats_tags[0].regex")
        #expect(error("stats_config: {histogram_bucket_settings: [{match: {prefix: a}, buckets: [1, 1]}]}")?.path
            == "stats_config.histogram_bucket_settings[0].buckets")
        #expect(error("stats_config: {histogram_bucket_settings: [{match: {prefix: a}, buckets: [0]}]}")?.path
            == "stats_config.histogram_bucket_settings[0].buckets[0]")
        #expect(error("stats_config: {histogram_bucket_settings: [{match: {prefix: a}, buckets: [1], bins: 10}]}")?.path
            == "stats_config.histogram_bucket_settings[0].bins")
        #expect(error("stats_config: {stats_matcher: {inclusion_list: {patterns: []}}}")?.path
            == "stats_config.stats_matcher.inclusion_list.patterns")
        #expect(error("stats_sinks: [{name: envoy.stat_sinks.statsd}]")?.path == "stats_sinks[0].typed_config")
        #expect(error("""
        stats_sinks: [{name: s, typed_config: {"@type": type.googleapis.com/envoy.config.metrics.v3.StatsdSink, tcp_cluster_name: c}}]
        """)?.path == "stats_sinks[0].typed_config.tcp_cluster_name")
        #expect(error("""
        stats_sinks: [{name: s, typed_config: {"@type": type.googleapis.com/envoy.config.metrics.v3.DogStatsdSink}}]
        """)?.path == "stats_sinks[0].typed_config")
        #expect(error("stats_flush_interval: 300s")?.path == "stats_flush_interval")
    }
}
