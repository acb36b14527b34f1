/// Envoy's tag extraction: turns `cluster.backend.upstream_rq_200` into the
/// tag-extracted name `cluster.upstream_rq` with the tags
/// `envoy.response_code="200"`, `envoy.cluster_name="backend"`, which is
/// what `/stats/prometheus` prints as
/// `envoy_cluster_upstream_rq{envoy_response_code="200",envoy_cluster_name="backend"}`.
///
/// The default extractors are Envoy's (`source/common/config/
/// well_known_names.cc`): the same RE2 regexes and token patterns, applied in
/// Envoy's order (extractors without a first-token prefix first, then those
/// keyed by the stat's first token), so tags come out in Envoy's order.
/// Immutable after construction; used on the main thread by the admin.
public final class TagProducer: Sendable {
    public struct Tag: Sendable, Equatable {
        public let name: String
        public let value: String
    }

    enum Rule: Sendable {
        /// Group 1 is removed from the name; group 2 (or 1) is the value.
        case regex(CompiledRegex, negativeValue: String?)
        /// Dot-separated tokens: `$` is the value, `*` one token, `**` any number.
        case tokens([String])
        /// A tag added to every stat, removing nothing.
        case fixed(String)
    }

    /// A class, so running one per stat name retains one reference rather
    /// than copying its strings and regex out.
    final class Extractor: Sendable {
        let name: String
        let rule: Rule
        /// Only for default extractors: see `Prefilter`.
        let prefilter: Prefilter?

        init(name: String, rule: Rule, prefilter: Prefilter? = nil) {
            self.name = name
            self.rule = rule
            self.prefilter = prefilter
        }
    }

    private let withoutPrefix: [Extractor]
    private let byPrefix: [String: [Extractor]]

    init(_ extractors: [Extractor]) {
        var without: [Extractor] = []
        var by: [String: [Extractor]] = [:]
        for e in extractors {
            if let prefix = Self.prefixToken(e.rule) { by[prefix, default: []].append(e) } else { without.append(e) }
        }
        withoutPrefix = without
        byPrefix = by
    }

    /// `default: true` is `use_all_default_tags` (Envoy's default).
    public static func make(useDefaults: Bool, custom: [CustomTag]) -> TagProducer {
        var extractors = useDefaults ? defaultExtractors : []
        for tag in custom {
            switch tag.kind {
            case .regex(let regex): extractors.append(Extractor(name: tag.name, rule: .regex(regex, negativeValue: nil)))
            case .fixed(let value): extractors.append(Extractor(name: tag.name, rule: .fixed(value)))
            case .defaultNamed: extractors += defaultExtractors.filter { $0.name == tag.name }
            }
        }
        return TagProducer(extractors)
    }

    /// A configured `stats_tags` entry.
    public struct CustomTag: Sendable {
        public enum Kind: Sendable {
            case regex(CompiledRegex)
            case fixed(String)
            /// No regex: Envoy's default extractors of that name.
            case defaultNamed
        }
        public let name: String
        public let kind: Kind
    }

    /// The tag-extracted name and the tags of `statName`.
    ///
    /// `prefilter: false` runs every extractor's regex or token pattern; the
    /// default first skips a default extractor whose `Prefilter` says the
    /// name cannot match (a byte test every match passes), which gives the
    /// same result without the RE2 call. `/stats/prometheus` calls this for
    /// every listed stat: ~115,000 at mesh size.
    public func produceTags(_ statName: String, prefilter: Bool = true) -> (name: String, tags: [Tag]) {
        let bytes = Array(statName.utf8)
        var tags: [Tag] = []
        var removed: [Range<Int>] = []
        // The stat's dot-separated tokens, split once for all token patterns.
        var spans: [Range<Int>]?
        func run(_ e: Extractor) {
            if prefilter, let test = e.prefilter, !test.mayMatch(bytes) { return }
            guard !tags.contains(where: { $0.name == e.name }) else { return }
            switch e.rule {
            case .fixed(let value):
                tags.append(Tag(name: e.name, value: value))
            case .regex(let regex, let negative):
                guard let (remove, value) = regex.firstTwoGroups(statName), let remove, !remove.isEmpty else { return }
                let v = value.flatMap { $0.isEmpty ? nil : $0 } ?? remove
                let text = String(decoding: bytes[v], as: UTF8.self)
                if let negative, text == negative { return }
                tags.append(Tag(name: e.name, value: text))
                removed.append(remove)
            case .tokens(let pattern):
                let split = spans ?? Self.tokenSpans(bytes)
                spans = split
                guard let (value, remove) = Self.matchTokens(pattern, bytes, spans: split) else { return }
                tags.append(Tag(name: e.name, value: String(decoding: bytes[value], as: UTF8.self)))
                removed.append(remove)
            }
        }
        for e in withoutPrefix { run(e) }
        if let dot = bytes.firstIndex(of: UInt8(ascii: ".")),
           let group = byPrefix[String(decoding: bytes[..<dot], as: UTF8.self)] {
            for e in group { run(e) }
        }
        guard !removed.isEmpty else { return (statName, tags) }
        var keep = [Bool](repeating: true, count: bytes.count)
        for r in removed { for i in r { keep[i] = false } }
        var kept: [UInt8] = []
        kept.reserveCapacity(bytes.count)
        for i in bytes.indices where keep[i] { kept.append(bytes[i]) }
        return (String(decoding: kept, as: UTF8.self), tags)
    }

    /// A test every match of a default regex extractor passes, cheaper than
    /// the regex: a byte string the name contains, or Envoy's response code
    /// endings (`_rq_` and three digits, `_rq_`, a digit and `xx`).
    enum Prefilter: Sendable {
        case contains([UInt8])
        case responseCode
        case responseCodeClass

        func mayMatch(_ b: [UInt8]) -> Bool {
            let n = b.count
            func digit(_ i: Int) -> Bool { b[i] >= UInt8(ascii: "0") && b[i] <= UInt8(ascii: "9") }
            func rqEndsAt(_ end: Int) -> Bool { end >= 4 && b[(end - 4)..<end].elementsEqual("_rq_".utf8) }
            switch self {
            case .contains(let needle):
                guard let first = needle.first else { return true }
                var i = 0
                while i + needle.count <= n {
                    if b[i] == first && b[i..<(i + needle.count)].elementsEqual(needle) { return true }
                    i += 1
                }
                return false
            case .responseCode:
                return n >= 7 && digit(n - 1) && digit(n - 2) && digit(n - 3) && rqEndsAt(n - 3)
            case .responseCodeClass:
                return n >= 7 && b[n - 1] == UInt8(ascii: "x") && b[n - 2] == UInt8(ascii: "x") && digit(n - 3) && rqEndsAt(n - 3)
            }
        }
    }

    /// The byte ranges of a stat name's dot-separated tokens.
    static func tokenSpans(_ bytes: [UInt8]) -> [Range<Int>] {
        var spans: [Range<Int>] = []
        var start = 0
        for (i, b) in bytes.enumerated() where b == UInt8(ascii: ".") {
            spans.append(start..<i)
            start = i + 1
        }
        spans.append(start..<bytes.count)
        return spans
    }

    /// Matches `tokens` against the stat's dot-separated tokens; returns the
    /// `$` token's byte range and what to remove (the token and the dot
    /// after it, or before it when it is last).
    static func matchTokens(_ pattern: [String], _ bytes: [UInt8], spans given: [Range<Int>]? = nil) -> (Range<Int>, Range<Int>)? {
        let spans = given ?? tokenSpans(bytes)
        func equal(_ span: Range<Int>, _ token: String) -> Bool { bytes[span].elementsEqual(token.utf8) }
        // Backtracking over `**`, returning the index of the `$` token.
        func match(_ p: Int, _ s: Int) -> Int?? {
            if p == pattern.count { return s == spans.count ? .some(nil) : nil }
            switch pattern[p] {
            case "**":
                for next in s...spans.count { if let r = match(p + 1, next) { return r } }
                return nil
            case "$":
                guard s < spans.count, let r = match(p + 1, s + 1) else { return nil }
                return .some(r ?? s)
            case "*":
                guard s < spans.count else { return nil }
                return match(p + 1, s + 1)
            default:
                guard s < spans.count, equal(spans[s], pattern[p]) else { return nil }
                return match(p + 1, s + 1)
            }
        }
        guard let found = match(0, 0), let index = found else { return nil }
        let span = spans[index]
        if index + 1 < spans.count { return (span, span.lowerBound..<(span.upperBound + 1)) }
        return (span, (span.lowerBound - (index > 0 ? 1 : 0))..<span.upperBound)
    }

    /// Envoy's `extractRegexPrefix` (a leading `^word\.`) and the first token
    /// of a token pattern: extractors keyed by the stat's first token.
    static func prefixToken(_ rule: Rule) -> String? {
        switch rule {
        case .fixed: return nil
        case .tokens(let tokens):
            guard let first = tokens.first, !["$", "*", "**"].contains(first) else { return nil }
            return first
        case .regex(let regex, _):
            let p = Array(regex.pattern.utf8)
            guard p.first == UInt8(ascii: "^") else { return nil }
            var i = 1
            while i < p.count, p[i] == UInt8(ascii: "_") || (p[i] < 128 && Character(UnicodeScalar(p[i])).isLetter) || (p[i] >= 48 && p[i] <= 57) {
                i += 1
            }
            guard i > 1, i < p.count else { return nil }
            let rest = p[i...]
            let lastChar = i == p.count - 1
            if (!lastChar && (rest.starts(with: Array("\\.".utf8)) || rest.starts(with: Array("(?=\\.)".utf8))))
                || (lastChar && p[i] == UInt8(ascii: "$")) {
                return String(decoding: p[1..<i], as: UTF8.self)
            }
            return nil
        }
    }

    /// The names Envoy gives its default tags.
    public static let defaultTagNames: Set<String> = Set(defaultExtractors.map(\.name))

    static let defaultExtractors: [Extractor] = {
        let value = #"[^\.]+"#
        let address = #"(?:(?:\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[[a-fA-F_\d]+\])_\d+)"#
        let cipher = #"[\w-]+"#
        let listenerOrCluster = #"(?:listener|cluster)\..*?"#
        func expand(_ s: String) -> String {
            s.replacingAll("<TAG_VALUE>", value).replacingAll("<ADDRESS>", address).replacingAll("<CIPHER>", cipher)
                .replacingAll("<TLS_VERSION>", #"TLSv\d\.\d"#).replacingAll("<ROUTE_CONFIG_NAME>", #"[\w-\./]+"#)
                .replacingAll("<SCOPED_ROUTE_CONFIG_NAME>", #"[\w-\.]+"#)
                .replacingAll("<LISTENER_OR_CLUSTER_WITH_NAME>", listenerOrCluster)
                .replacingAll("<PROXY_PROTOCOL_VERSION>", #"\d"#)
        }
        func re(_ name: String, _ pattern: String, negative: String? = nil, _ prefilter: Prefilter? = nil) -> Extractor {
            // These patterns are constants; they compile or the build is broken.
            Extractor(name: "envoy." + name, rule: .regex(try! CompiledRegex(expand(pattern)), negativeValue: negative),
                      prefilter: prefilter)
        }
        // A literal each match of the pattern contains (the pattern has it
        // outside any group, repetition or alternative).
        func has(_ literal: String) -> Prefilter { .contains(Array(literal.utf8)) }
        func tok(_ name: String, _ pattern: String) -> Extractor {
            Extractor(name: "envoy." + name, rule: .tokens(pattern.split(separator: ".", omittingEmptySubsequences: false).map(String.init)))
        }
        return [
            re("response_code", #"_rq(_(\d{3}))$"#, .responseCode),
            re("response_code_class", #"_rq_((\d))xx$"#, .responseCodeClass),
            re("dynamo_partition_id", #"^http\.<TAG_VALUE>\.dynamodb\.table\.<TAG_VALUE>\.capacity\.<TAG_VALUE>(\.__partition_id=(\w{7}))$"#, has(".__partition_id=")),
            re("dynamo_operation", #"^http\.<TAG_VALUE>\.dynamodb.(?:operation|table\.<TAG_VALUE>\.capacity)(\.(<TAG_VALUE>))(?:\.|$)"#, has("dynamodb")),
            re("dynamo_table", #"^http\.<TAG_VALUE>\.dynamodb.(?:table|error)\.((<TAG_VALUE>)\.)"#, has("dynamodb")),
            re("ssl_cipher", #"^listener\..*?\.ssl\.ciphers(\.(<CIPHER>))$"#, has(".ssl.ciphers.")),
            re("ssl_curve", #"^<LISTENER_OR_CLUSTER_WITH_NAME>\.ssl\.curves(\.(<CIPHER>))$"#, has(".ssl.curves.")),
            re("ssl_sigalg", #"^<LISTENER_OR_CLUSTER_WITH_NAME>\.ssl\.sigalgs(\.(<CIPHER>))$"#, has(".ssl.sigalgs.")),
            re("ssl_version", #"^<LISTENER_OR_CLUSTER_WITH_NAME>\.ssl\.versions(\.(<TLS_VERSION>))$"#, has(".ssl.versions.TLSv")),
            re("ssl_cipher_suite", #"^cluster\.<TAG_VALUE>\.ssl\.ciphers(\.(<CIPHER>))$"#, has(".ssl.ciphers.")),
            re("http_conn_manager_prefix", #"^listener\..*?\.http\.((<TAG_VALUE>)\.)"#, has(".http.")),
            re("worker_id", #"^(?:listener\.(?:<ADDRESS>|<TAG_VALUE>)|server|listener_manager|thread_local_cluster_manager)\.worker_((\d+)\.)"#, has(".worker_")),
            re("listener_address", #"^listener\.((<ADDRESS>|<TAG_VALUE>)\.)"#, negative: "admin"),
            re("rds_route_config", #"^http\.<TAG_VALUE>\.rds\.((<ROUTE_CONFIG_NAME>)\.)\w+?$"#, has(".rds.")),
            re("scoped_rds_config", #"^http\.<TAG_VALUE>\.scoped_rds\.((<SCOPED_ROUTE_CONFIG_NAME>)\.)\w+?$"#, has(".scoped_rds.")),
            re("rbac_policy_name", #"^http\.<TAG_VALUE>\.rbac\.(?:<TAG_VALUE>\.)?policy\.((<TAG_VALUE>)\.)(allowed|shadow_allowed|denied|shadow_denied)$"#, has(".policy.")),
            re("rbac_http_prefix", #"^http\.<TAG_VALUE>\.rbac\.((<TAG_VALUE>)\.).*?"#, negative: "policy", has(".rbac.")),
            re("proxy_protocol_prefix", #"^proxy_proto\.((<TAG_VALUE>)\.).+$"#, negative: "versions"),
            re("proxy_protocol_version", #"^proxy_proto\.((?:<TAG_VALUE>\.)?versions\.v(<PROXY_PROTOCOL_VERSION>)\.)\w+$"#, has("versions.v")),
            re("tls_certificate", #"^<LISTENER_OR_CLUSTER_WITH_NAME>\.ssl\.certificate\.((<TAG_VALUE>)\.).*$"#, has(".ssl.certificate.")),
            re("xds_resource_name", #"^sds\.((<TAG_VALUE>)\.).+"#),
            tok("mongo_callsite", "mongo.*.collection.*.callsite.$.query.**"),
            tok("mongo_collection", "mongo.*.collection.$.**.query.*"),
            tok("mongo_cmd", "mongo.*.cmd.$.**"),
            tok("grpc_bridge_method", "cluster.*.grpc.*.$.**"),
            tok("http_user_agent", "http.*.user_agent.$.**"),
            tok("virtual_cluster", "vhost.*.vcluster.$.**"),
            tok("fault_downstream_cluster", "http.*.fault.$.**"),
            tok("grpc_bridge_service", "cluster.*.grpc.$.**"),
            tok("tcp_prefix", "tcp.$.**"),
            tok("udp_prefix", "udp.$.**"),
            tok("clientssl_prefix", "auth.clientssl.$.**"),
            tok("ratelimit_prefix", "ratelimit.$.**"),
            tok("cluster_name", "cluster.$.**"),
            tok("ext_authz_prefix", "cluster.*.ext_authz.$.**"),
            tok("ext_authz_prefix", "http.*.ext_authz.$.**"),
            tok("http_conn_manager_prefix", "http.$.**"),
            tok("virtual_host", "vhost.$.**"),
            tok("mongo_prefix", "mongo.$.**"),
            tok("route", "vhost.*.route.$.**"),
            tok("thrift_prefix", "thrift.$.**"),
            tok("redis_prefix", "redis.$.**"),
            tok("local_http_ratelimit_prefix", "$.http_local_rate_limit.**"),
            tok("local_network_ratelimit_prefix", "local_rate_limit.$.**"),
            tok("local_listener_ratelimit_prefix", "listener_local_ratelimit.$.**"),
            tok("dns_filter_prefix", "dns_filter.$.**"),
            tok("connection_limit_prefix", "connection_limit.$.**"),
            tok("rbac_prefix", "$.rbac.**"),
            tok("google_grpc_client_prefix", "grpc.$.**"),
        ]
    }()
}

extension String {
    fileprivate func replacingAll(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
