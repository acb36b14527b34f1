import Testing
@testable import RemoraConfig
import RemoraCore
@testable import RemoraServer

/// The three /stats forms from a store with known samples (no sockets).
/// Expected text is Envoy 1.40's for the same stats.
@Suite struct StatsRendererTests {
    func renderer(settings: StatsSettings = StatsSettings()) -> StatsRenderer {
        let store = StatsStore(workerCount: 1)
        let cluster = store.makeScope(prefix: "cluster.backend.", stats: [
            ("upstream_rq_200", .sparseCounter), ("upstream_rq_total", .counter), ("upstream_rq_time", .histogram),
            ("upstream_cx_length_ms", .histogram),
        ])
        let manager = store.makeScope(prefix: "cluster_manager.", stats: [("active_clusters", .gauge)])
        let worker = cluster.slots(thread: 1)
        worker.add(0, 2)
        worker.add(1, 2)
        for ms: UInt64 in [3, 7] { worker.record(2, milliseconds: ms) }
        manager.slots(thread: 0).set(0, 1)
        store.flushHistograms()
        worker.record(2, milliseconds: 3)
        store.flushHistograms()
        return StatsRenderer(entries: store.snapshot(), settings: settings)
    }

    @Test func textListsCountersAndGaugesThenHistograms() {
        #expect(renderer().text() == """
        cluster.backend.upstream_rq_200: 2
        cluster.backend.upstream_rq_total: 2
        cluster_manager.active_clusters: 1
        cluster.backend.upstream_cx_length_ms: No recorded values
        cluster.backend.upstream_rq_time: P0(3.05,3.033333333333333) P25(3.05,3.033333333333333) \
        P50(3.05,3.066666666666667) P75(3.05,7.05) P90(3.05,7.05) P95(3.05,7.05) P99(3.05,7.05) \
        P99.5(3.05,7.05) P99.9(3.05,7.05) P100(3.05,7.05)

        """)
    }

    @Test func jsonHasEnvoysHistogramElement() {
        let json = renderer().json()
        #expect(json.hasPrefix(#"{"stats":[{"name":"cluster.backend.upstream_rq_200","value":2},"#))
        #expect(json.contains(#"{"histograms":{"supported_quantiles":[0,25,50,75,90,95,99,99.5,99.9,100],"computed_quantiles":[{"name":"cluster.backend.upstream_cx_length_ms","values":[{"cumulative":null,"interval":null},"#))
        #expect(json.contains(#"{"name":"cluster.backend.upstream_rq_time","values":[{"cumulative":3.033333333333333,"interval":3.05},"#))
        #expect(json.hasSuffix("]}}]}"))
    }

    @Test func prometheusGroupsSortsAndTags() {
        var settings = StatsSettings()
        settings.bucketSettings = [(StringMatcher(.suffix("rq_time")), [5, 10])]
        let text = renderer(settings: settings).prometheus()
        #expect(text == """
        # TYPE envoy_cluster_upstream_rq counter
        envoy_cluster_upstream_rq{envoy_response_code="200",envoy_cluster_name="backend"} 2
        # TYPE envoy_cluster_upstream_rq_total counter
        envoy_cluster_upstream_rq_total{envoy_cluster_name="backend"} 2
        # TYPE envoy_cluster_manager_active_clusters gauge
        envoy_cluster_manager_active_clusters{} 1
        # TYPE envoy_cluster_upstream_cx_length_ms histogram
        envoy_cluster_upstream_cx_length_ms_bucket{envoy_cluster_name="backend",le="0.5"} 0
        envoy_cluster_upstream_cx_length_ms_bucket{envoy_cluster_name="backend",le="1"} 0
        envoy_cluster_upstream_cx_length_ms_bucket{envoy_cluster_name="backend",le="5"} 0
        envoy_cluster_upstream_cx_length_ms_bucket{envoy_cluster_name="backend",le="10"} 0
        envoy_cluster_upstream_cx_length_ms_bucket{envoy_cluster_name="backend",le="25"} 0
        envoy_cluster_upstream_cx_length_ms_bucket{envoy_cluster_name="backend",le="50"} 0
        envoy_cluster_upstream_cx_length_ms_bucket{envoy_cluster_name="backend",le="100"} 0
        envoy_cluster_upstream_cx_length_ms_bucket{envoy_cluster_name="backend",le="250"} 0
        envoy_cluster_upstream_cx_length_ms_bucket{envoy_cluster_name="backend",le="500"} 0
        envoy_cluster_upstream_cx_length_ms_bucket{envoy_cluster_name="backend",le="1000"} 0
        envoy_cluster_upstream_cx_length_ms_bucket{envoy_cluster_name="backend",le="2500"} 0
        envoy_cluster_upstream_cx_length_ms_bucket{envoy_cluster_name="backend",le="5000"} 0
        envoy_cluster_upstream_cx_length_ms_bucket{envoy_cluster_name="backend",le="10000"} 0
        envoy_cluster_upstream_cx_length_ms_bucket{envoy_cluster_name="backend",le="30000"} 0
        envoy_cluster_upstream_cx_length_ms_bucket{envoy_cluster_name="backend",le="60000"} 0
        envoy_cluster_upstream_cx_length_ms_bucket{envoy_cluster_name="backend",le="300000"} 0
        envoy_cluster_upstream_cx_length_ms_bucket{envoy_cluster_name="backend",le="600000"} 0
        envoy_cluster_upstream_cx_length_ms_bucket{envoy_cluster_name="backend",le="1800000"} 0
        envoy_cluster_upstream_cx_length_ms_bucket{envoy_cluster_name="backend",le="3600000"} 0
        envoy_cluster_upstream_cx_length_ms_bucket{envoy_cluster_name="backend",le="+Inf"} 0
        envoy_cluster_upstream_cx_length_ms_sum{envoy_cluster_name="backend"} 0
        envoy_cluster_upstream_cx_length_ms_count{envoy_cluster_name="backend"} 0
        # TYPE envoy_cluster_upstream_rq_time histogram
        envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="backend",le="5"} 2
        envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="backend",le="10"} 3
        envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="backend",le="+Inf"} 3
        envoy_cluster_upstream_rq_time_sum{envoy_cluster_name="backend"} 13.148006045808626751636438712012
        envoy_cluster_upstream_rq_time_count{envoy_cluster_name="backend"} 3

        """)
    }

    @Test func numbersPrintAsFmtDoes() {
        #expect(StatsRenderer.shortest(.nan) == "nan")
        #expect(StatsRenderer.shortest(125) == "125")
        #expect(StatsRenderer.shortest(99.5) == "99.5")
        #expect(StatsRenderer.shortest(100 * 0.999) == "99.9")
        #expect(StatsRenderer.sanitize("envoy.cluster-name:x") == "envoy_cluster_name_x")
        #expect(StatsRenderer.escape("a\"b\\c\nd") == #"a\"b\\c\nd"#)
    }

    @Test func bucketModesInText() {
        let r = renderer()
        let text = r.text(buckets: .cumulative)
        // Samples 3, 7 (first interval) and 3 (second): the interval column is the last flush's.
        #expect(text.contains("cluster.backend.upstream_rq_time: B0.5(0,0) B1(0,0) B5(1,2) B10(1,3) B25(1,3)"))
        #expect(text.contains("B1.8e+06(1,3) B3.6e+06(1,3)\n"))
        #expect(text.contains("cluster.backend.upstream_cx_length_ms: No recorded values\n"))
        #expect(r.text(buckets: .disjoint).contains("upstream_rq_time: B0.5(0,0) B1(0,0) B5(1,2) B10(0,1) B25(0,0)"))
        #expect(r.text(buckets: .detailed).contains("""
        cluster.backend.upstream_rq_time:
          totals=3,0.1:2, 7,0.1:1
          intervals=3,0.1:1
          summary=P0(3.05,3.033333333333333)
        """))
        #expect(r.text(buckets: .detailed).contains("""
        cluster.backend.upstream_cx_length_ms:
          totals=
          intervals=
          summary=No recorded values
        """))
    }

    @Test func bucketModesInJSON() {
        let json = renderer().json(buckets: .cumulative)
        #expect(json.contains(#"{"name":"cluster.backend.upstream_rq_time","buckets":[{"upper_bound":0.5,"interval":0,"cumulative":0},"#))
        #expect(json.contains(#"{"upper_bound":3e+05,"interval":1,"cumulative":3},{"upper_bound":6e+05,"#))
        let detailed = renderer().json(buckets: .detailed)
        #expect(detailed.contains(#""supported_percentiles":[0,25,50,75,90,95,99,99.5,99.9,100],"details":[{"name":"cluster.backend.upstream_cx_length_ms","totals":[],"intervals":[],"percentiles":[{"cumulative":null,"interval":null},"#))
        #expect(detailed.contains(#""totals":[{"lower_bound":3,"width":0.1,"count":2},{"lower_bound":7,"width":0.1,"count":1}],"intervals":[{"lower_bound":3,"width":0.1,"count":1}]"#))
    }

    @Test func numbersPrintAsToCharsDoes() {
        #expect(StatsRenderer.toChars(300_000) == "3e+05")
        #expect(StatsRenderer.toChars(1_800_000) == "1800000")
        #expect(StatsRenderer.toChars(10_000) == "10000")
        #expect(StatsRenderer.toChars(0.5) == "0.5")
        #expect(StatsRenderer.toChars(0.1) == "0.1")
        #expect(StatsRenderer.toChars(0.001) == "0.001")
        #expect(StatsRenderer.toChars(0.0001) == "1e-04")
        #expect(StatsRenderer.toChars(0.00001) == "1e-05")
        #expect(StatsRenderer.toChars(0) == "0")
        #expect(StatsRenderer.formatG(1_800_000) == "1.8e+06")
        #expect(StatsRenderer.formatG(600_000) == "600000")
    }
}
