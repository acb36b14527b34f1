import Testing
@testable import RemoraConfig

/// Envoy's default tag extraction on the names Remora emits; the expected
/// names and tags are what Envoy 1.40's /stats/prometheus prints for them.
@Suite struct TagProducerTests {
    let producer = TagProducer.make(useDefaults: true, custom: [])

    private func tags(_ name: String, _ p: TagProducer? = nil) -> String {
        let (extracted, tags) = (p ?? producer).produceTags(name)
        return extracted + "{" + tags.map { "\($0.name)=\($0.value)" }.joined(separator: ",") + "}"
    }

    @Test func defaultTagsAsEnvoy() {
        #expect(tags("cluster.backend.upstream_rq_total") == "cluster.upstream_rq_total{envoy.cluster_name=backend}")
        #expect(tags("cluster.backend.upstream_rq_200") == "cluster.upstream_rq{envoy.response_code=200,envoy.cluster_name=backend}")
        #expect(tags("cluster.backend.external.upstream_rq_2xx")
            == "cluster.external.upstream_rq_xx{envoy.response_code_class=2,envoy.cluster_name=backend}")
        #expect(tags("http.ingress_http.downstream_rq_2xx")
            == "http.downstream_rq_xx{envoy.response_code_class=2,envoy.http_conn_manager_prefix=ingress_http}")
        #expect(tags("listener.127.0.0.1_10000.downstream_cx_total")
            == "listener.downstream_cx_total{envoy.listener_address=127.0.0.1_10000}")
        #expect(tags("listener.[__1]_10000.downstream_cx_total")
            == "listener.downstream_cx_total{envoy.listener_address=[__1]_10000}")
        #expect(tags("listener.127.0.0.1_80.http.ingress_http.downstream_rq_2xx")
            == "listener.http.downstream_rq_xx{envoy.response_code_class=2,envoy.http_conn_manager_prefix=ingress_http,envoy.listener_address=127.0.0.1_80}")
        #expect(tags("listener.admin.downstream_cx_total") == "listener.admin.downstream_cx_total{}", "admin is not an address")
        #expect(tags("tcp.ingress.downstream_cx_total") == "tcp.downstream_cx_total{envoy.tcp_prefix=ingress}")
        #expect(tags("listener.127.0.0.1_80.worker_0.downstream_cx_total")
            == "listener.worker_downstream_cx_total{envoy.worker_id=0,envoy.listener_address=127.0.0.1_80}")
        #expect(tags("server.live") == "server.live{}")
        #expect(tags("cluster_manager.cluster_added") == "cluster_manager.cluster_added{}")
        #expect(tags("vhost.vh.route.r1.upstream_rq_200")
            == "vhost.route.upstream_rq{envoy.response_code=200,envoy.virtual_host=vh,envoy.route=r1}")
    }

    @Test func customTags() throws {
        let p = TagProducer.make(useDefaults: false, custom: [
            .init(name: "team", kind: .fixed("payments")),
            .init(name: "my.cluster", kind: .regex(try CompiledRegex(#"^cluster\.((.+?)\.)"#))),
            .init(name: "envoy.response_code", kind: .defaultNamed),
        ])
        #expect(tags("cluster.backend.upstream_rq_503", p) == "cluster.upstream_rq{team=payments,envoy.response_code=503,my.cluster=backend}")
        #expect(tags("http.x.downstream_rq_total", p) == "http.x.downstream_rq_total{team=payments}")
        // With defaults on, a custom regex for a name that already has a tag is skipped.
        let both = TagProducer.make(useDefaults: true, custom: [.init(name: "envoy.cluster_name", kind: .regex(try CompiledRegex(#"^cluster\.(([a-z]+)\.)"#)))])
        #expect(tags("cluster.backend.upstream_rq_total", both) == "cluster.upstream_rq_total{envoy.cluster_name=backend}")
    }

    @Test func tokenPatterns() {
        let bytes = Array("a.b.c.d".utf8)
        #expect(TagProducer.matchTokens(["a", "$", "**"], bytes).map { [$0.0, $0.1] } == [2..<3, 2..<4])
        #expect(TagProducer.matchTokens(["**", "$"], bytes).map { [$0.0, $0.1] } == [6..<7, 5..<7])
        #expect(TagProducer.matchTokens(["b", "$", "**"], bytes) == nil)
    }
}
