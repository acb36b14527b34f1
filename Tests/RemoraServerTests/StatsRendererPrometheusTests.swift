import Foundation
import Testing
@testable import RemoraConfig
import RemoraCore
@testable import RemoraServer

/// `/stats/prometheus` renders bytes into one buffer with the tag
/// prefilters on; this checks it against the plain form (every extractor's
/// regex run, names sanitized by Unicode scalar, values escaped by
/// character, strings joined per line) on names that take every path.
@Suite struct StatsRendererPrometheusTests {
    static let names: [String] = [
        "cluster.backend.upstream_rq_200", "cluster.backend.upstream_rq_2xx", "cluster.backend.upstream_rq_total",
        "cluster.outbound|80||reviews.default.svc.cluster.local.upstream_rq_503",
        "cluster.outbound|80||reviews.default.svc.cluster.local.upstream_cx_total",
        "cluster.my-svc_v2.upstream_rq_time", "cluster.my-svc_v2.external.upstream_rq_404",
        "cluster.c.upstream_rq_2000", "cluster.c.upstream_rq_20x", "cluster.c.rq_200", "cluster.c._rq_5xx",
        "cluster.c.retry.upstream_rq_503", "cluster.c.ssl.ciphers.ECDHE-RSA-AES128-GCM-SHA256",
        "cluster.c.ssl.curves.X25519", "cluster.c.ssl.sigalgs.rsa_pss_rsae_sha256", "cluster.c.ssl.versions.TLSv1.3",
        "cluster.c.ssl.versions.SSLv3", "cluster.c.ssl.certificate.cert-1.expiration_unix_time_seconds",
        "cluster.c.grpc.pkg.Service.Method.success", "cluster.c.grpc.pkg.Service.total", "cluster.c.ext_authz.ea.ok",
        "listener.127.0.0.1_15006.downstream_cx_total", "listener.0.0.0.0_80.http.inbound_0.0.0.0_80.downstream_rq_2xx",
        "listener.[__1]_15001.downstream_cx_active", "listener.[__]_9090.worker_0.downstream_cx_total",
        "listener.127.0.0.1_443.ssl.ciphers.TLS_AES_128_GCM_SHA256", "listener.[__1]_443.ssl.sigalgs.ecdsa_secp256r1_sha256",
        "listener.admin.downstream_cx_total", "listener.virtualInbound.downstream_cx_total",
        "listener.127.0.0.1_80.http.ingress.downstream_rq_503", "listener_manager.worker_0.dispatcher.loop_duration_us",
        "server.worker_1.watchdog_miss", "server.live", "thread_local_cluster_manager.worker_0.clusters_inflated",
        "http.ingress_http.downstream_rq_2xx", "http.ingress.http.downstream_rq_total", "http.inbound_0.0.0.0_80.rq_total",
        "http.p.rds.route-config/v1.a.config_reload", "http.p.scoped_rds.scoped.cfg.config_reload",
        "http.p.rbac.allowed", "http.p.rbac.pfx.policy.pol-1.shadow_denied", "http.p.rbac.policy.pol.denied",
        "http.p.rbac.pfx.denied", "http.p.dynamodb.operation.GetItem.upstream_rq_total",
        "http.p.dynamodb.table.tbl.capacity.GetItem.__partition_id=abcdefg", "http.p.dynamodb.error.tbl.Bad",
        "http.p.user_agent.ios.downstream_rq_total", "http.p.fault.svc.delays_injected", "http.p.ext_authz.denied",
        "vhost.vh.vcluster.other.upstream_rq_503", "vhost.vh.route.r1.upstream_rq_200",
        "proxy_proto.versions.v2.error", "proxy_proto.pp.versions.v1.found", "proxy_proto.pp.not_found",
        "sds.secret-1.update_success", "tcp.ingress_tcp.downstream_cx_total", "udp.dns.downstream_sess_total",
        "mongo.m.collection.c.callsite.cs.query.total", "mongo.m.cmd.find.total", "ratelimit.rl.ok",
        "a.http_local_rate_limit.rate_limited", "b.rbac.allowed", "grpc.client.streams_total",
        "control_plane.connected_state", "cluster_manager.cds.version", "runtime.load_success",
        "cluster.bäckend.upstream_rq_200", "http.prefix-ü.downstream_rq_3xx", "cluster.c.upstream_rq_٣٠٠",
        "", ".", "cluster", "cluster.", "cluster..x", "listener.1.2.3.4_80",
    ]

    static var producers: [TagProducer] {
        [
            .make(useDefaults: true, custom: []),
            .make(useDefaults: true, custom: [
                .init(name: "team", kind: .fixed("pay\"ments\\")),
                .init(name: "svc", kind: .regex(try! CompiledRegex(#"\.svc\.(([^.]+)\.)"#))),
                .init(name: "envoy.cluster_name", kind: .regex(try! CompiledRegex(#"^cluster\.(([a-z]+)\.)"#))),
            ]),
            .make(useDefaults: false, custom: [
                .init(name: "envoy.response_code", kind: .defaultNamed),
                .init(name: "envoy.listener_address", kind: .defaultNamed),
                .init(name: "my-ünicode.tag", kind: .regex(try! CompiledRegex(#"^http\.((.+?)\.)"#))),
            ]),
        ]
    }

    @Test func prefilteredTagsAreTheRegexTags() {
        for producer in Self.producers {
            for name in Self.names {
                let fast = producer.produceTags(name)
                let plain = producer.produceTags(name, prefilter: false)
                #expect(fast.name == plain.name, "\(name)")
                #expect(fast.tags == plain.tags, "\(name)")
            }
        }
    }

    @Test func sanitizeAndEscapeAsByCharacter() {
        for s in Self.names + ["a\"b\\c\nd", "x\r\ny", "\r", "é\n\"", "tab\there", "\u{7f}", "e\u{301}.x"] {
            #expect(StatsRenderer.sanitize(s) == StatsRenderer.sanitizeScalars(s), "\(s)")
            #expect(StatsRenderer.escape(s) == StatsRenderer.escapeCharacters(s), "\(s)")
        }
        #expect(StatsRenderer.escape("x\r\ny\nz") == "x\r\ny\\nz", "CR LF is one character and stays")
    }

    @Test func renderedBytesAreThePlainForm() {
        let store = StatsStore(workerCount: 1)
        let scope = store.makeScope(prefix: "h.", stats: [("time", .histogram)])
        for ms: UInt64 in [1, 3, 7, 250] { scope.slots(thread: 1).record(0, milliseconds: ms) }
        store.flushHistograms()
        let flushed = store.snapshot().first { $0.kind == .histogram }?.histogram
        #expect(flushed?.used == true)
        var entries: [StatsStore.Entry] = []
        for (i, name) in Self.names.enumerated() {
            let kind: StatKind = [.counter, .sparseCounter, .gauge, .histogram][i % 4]
            entries.append(.init(name: name, kind: kind, value: kind == .gauge && i % 3 == 0 ? -5 : Int64(i * 7),
                                 histogram: kind == .histogram ? (i % 8 == 3 ? nil : flushed) : nil))
        }
        entries.append(.init(name: "cluster_manager.cds.version", kind: .gauge, value: -42, histogram: nil))
        let texts: [(name: String, value: String)] = [
            ("control_plane.identifier", "istiod-\"1\"\\x\ny"), ("cluster_manager.cds.version_text", "2026-12-07\r\nä"),
        ]
        for producer in Self.producers {
            var settings = StatsSettings()
            settings.tags = producer
            settings.bucketSettings = [(StringMatcher(.suffix("rq_time")), [0.5, 5, 1e-3, 3.3e7])]
            let renderer = StatsRenderer(entries: entries, settings: settings, texts: texts)
            for readouts in [false, true] {
                let fast = renderer.prometheus(textReadouts: readouts)
                #expect(fast.contains("_bucket{") && fast.contains("# TYPE envoy_cluster_") && fast.contains("_sum{"))
                #expect(fast.contains("text_value=\"") == readouts)
                #expect(Array(fast.utf8) == Array(renderer.plainPrometheus(textReadouts: readouts).utf8))
            }
        }
    }
}

extension StatsRenderer {
    /// The straightforward rendering (what `prometheus` was before it wrote
    /// bytes), kept here to compare with.
    func plainPrometheus(textReadouts: Bool = false) -> String {
        struct Member { let entry: StatsStore.Entry; let tags: [TagProducer.Tag] }
        var groups: [StatKind: [String: [Member]]] = [:]
        for entry in entries {
            let (name, tags) = settings.tags.produceTags(entry.name, prefilter: false)
            let kind: StatKind = entry.kind == .sparseCounter ? .counter : entry.kind
            groups[kind, default: [:]][name, default: []].append(Member(entry: entry, tags: tags))
        }
        var body = ""
        var readouts: [String: [(tags: [TagProducer.Tag], value: String)]] = [:]
        if textReadouts {
            for text in texts {
                let (name, tags) = settings.tags.produceTags(text.name, prefilter: false)
                readouts[name, default: []].append((tags, text.value))
            }
        }
        for (kind, type) in [(StatKind.counter, "counter"), (.gauge, "gauge"), (.histogram, "histogram")] {
            if kind == .histogram {
                for (name, members) in readouts.sorted(by: { $0.key < $1.key }) {
                    let metric = "envoy_" + Self.sanitizeScalars(name)
                    body += "# TYPE \(metric) gauge\n"
                    for member in members {
                        let labels = member.tags.map { "\(Self.sanitizeScalars($0.name))=\"\(Self.escapeCharacters($0.value))\"" }
                            + ["text_value=\"\(Self.escapeCharacters(member.value))\""]
                        body += "\(metric){\(labels.joined(separator: ","))} 0\n"
                    }
                }
            }
            for (name, members) in (groups[kind] ?? [:]).sorted(by: { $0.key < $1.key }) {
                let metric = "envoy_" + Self.sanitizeScalars(name)
                body += "# TYPE \(metric) \(type)\n"
                for member in members {
                    let labels = member.tags.map { "\(Self.sanitizeScalars($0.name))=\"\(Self.escapeCharacters($0.value))\"" }
                    guard kind == .histogram else {
                        body += "\(metric){\(labels.joined(separator: ","))} \(Self.gaugeText(member.entry))\n"
                        continue
                    }
                    let h = member.entry.histogram?.cumulative ?? HistogramData()
                    let prefix = labels.isEmpty ? "" : labels.joined(separator: ",") + ","
                    for bound in settings.buckets(for: member.entry.name) {
                        body += "\(metric)_bucket{\(prefix)le=\"\(String(format: "%.32g", bound))\"} \(h.countBelow(bound))\n"
                    }
                    let count = h.count
                    body += "\(metric)_bucket{\(prefix)le=\"+Inf\"} \(count)\n"
                    body += "\(metric)_sum{\(labels.joined(separator: ","))} \(String(format: "%.32g", h.approximateSum))\n"
                    body += "\(metric)_count{\(labels.joined(separator: ","))} \(count)\n"
                }
            }
        }
        return body
    }
}
