import Foundation
import Testing
@testable import RemoraConfig
import RemoraAPI

/// `transport_socket` on filter chains and clusters: what compiles (one
/// OpenSSL context per distinct TLS context, static secrets by name) and
/// what is refused with its field path.
@Suite struct TransportSocketConfigTests {
    /// A self-signed ECDSA certificate and key, PEM, indented for YAML block scalars.
    static let pem: (cert: String, key: String) = {
        let dir = NSTemporaryDirectory() + "remora-tsc-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                             "-subj", "/CN=test", "-keyout", "\(dir)/k.pem", "-out", "\(dir)/c.pem"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try? process.run()
        process.waitUntilExit()
        func read(_ name: String) -> String {
            (try? String(contentsOfFile: "\(dir)/\(name)", encoding: .utf8)) ?? ""
        }
        return (read("c.pem"), read("k.pem"))
    }()

    /// A YAML double-quoted scalar.
    func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\n", with: "\\n") + "\""
    }

    func yaml(downstream: String, secrets: Bool = true, clusterTransport: String = "") -> String {
        let secretText = secrets
            ? "  secrets: [{name: server-cert, tls_certificate: {certificate_chain: {inline_string: \(quoted(Self.pem.cert))}, "
                + "private_key: {inline_string: \(quoted(Self.pem.key))}}}]\n"
            : ""
        let tcp = #"{name: tcp, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: p, cluster: c}}"#
        return "static_resources:\n" + secretText + """
          listeners:
          - name: l
            address: {socket_address: {address: 127.0.0.1, port_value: 15443}}
            filter_chains:
            - filter_chain_match: {destination_port: 1}
              filters: [\(tcp)]
              transport_socket: \(downstream)
              transport_socket_connect_timeout: 2s
            - filter_chain_match: {destination_port: 2}
              filters: [\(tcp)]
              transport_socket: \(downstream)
          clusters:
          - {name: c, type: STATIC\(clusterTransport)}

        """
    }

    static let secretContext = """
        {name: envoy.transport_sockets.tls, typed_config: {"@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext, common_tls_context: {tls_certificate_sds_secret_configs: [{name: server-cert}], alpn_protocols: [h2]}}}
        """

    func compile(_ text: String) throws -> ServerConfig {
        try ConfigCompiler.compile(try BootstrapLoader.decode(Envoy_Config_Bootstrap_V3_Bootstrap.self, yaml: text))
    }

    func refusal(_ text: String) -> String {
        do {
            _ = try compile(text)
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    @Test func staticSecretsBuildOneContextSharedByEqualChains() throws {
        let config = try compile(yaml(downstream: Self.secretContext))
        let chains = config.listeners[0].filterChains
        #expect(chains[0].tls != nil)
        #expect(chains[0].tls === chains[1].tls)
        #expect(chains[0].transportSocketConnectTimeoutMilliseconds == 2000)
        #expect(chains[1].transportSocketConnectTimeoutMilliseconds == 0)
        #expect(chains[0].tls?.settings.alpnProtocols == ["h2"])
    }

    /// Equal contexts compiled while one is alive share it (a re-pushed
    /// cluster keeps its sessions); once no config holds it, the cache does
    /// not keep it (or its SSL_CTX) alive.
    @Test func contextCacheSharesLiveContextsAndLetsDeadOnesGo() throws {
        // An ALPN name no other test uses makes this context's key its own.
        let unique = Self.secretContext.replacingOccurrences(of: "[h2]", with: "[cache-\(UUID().uuidString)]")
        weak var released: AnyObject?
        do {
            let first = try compile(yaml(downstream: unique))
            let second = try compile(yaml(downstream: unique))
            let context = try #require(first.listeners[0].filterChains[0].tls)
            #expect(second.listeners[0].filterChains[0].tls === context)
            released = context
        }
        #expect(released == nil)
        let again = try compile(yaml(downstream: unique))
        #expect(again.listeners[0].filterChains[0].tls != nil)
    }

    @Test func ticketKeysComeFromASecretOfThatType() throws {
        let key = Data((0..<80).map { UInt8($0) }).base64EncodedString()
        let secrets = "static_resources:\n  secrets: [{name: tickets, session_ticket_keys: {keys: [{inline_bytes: \(key)}]}}, "
        let context = #"{name: t, typed_config: {"@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext, "#
            + "common_tls_context: {tls_certificate_sds_secret_configs: [{name: server-cert}]}, session_ticket_keys_sds_secret_config: {name: %@}}}"
        func bootstrap(_ name: String) -> String {
            yaml(downstream: context.replacingOccurrences(of: "%@", with: name))
                .replacingOccurrences(of: "static_resources:\n  secrets: [", with: secrets)
        }
        let config = try compile(bootstrap("tickets"))
        #expect(config.listeners[0].filterChains[0].tls?.settings.sessionTicketKeys == [Array(0..<80)])
        #expect(refusal(bootstrap("server-cert")).contains(
            "static_resources.listeners[0].filter_chains[0].transport_socket.typed_config.session_ticket_keys_sds_secret_config"))
    }

    @Test func rawBufferIsNoTLS() throws {
        let config = try compile(yaml(downstream: """
            {name: envoy.transport_sockets.raw_buffer, typed_config: {"@type": type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer}}
            """, secrets: false))
        #expect(config.listeners[0].filterChains[0].tls == nil)
    }

    @Test func refusalsNameTheirField() {
        let chain = "static_resources.listeners[0].filter_chains[0].transport_socket.typed_config"
        #expect(refusal(yaml(downstream: """
            {name: t, typed_config: {"@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext, common_tls_context: {tls_certificate_sds_secret_configs: [{name: nope}]}}}
            """)).contains("\(chain).common_tls_context.tls_certificate_sds_secret_configs[0].name"))
        #expect(refusal(yaml(downstream: """
            {name: t, typed_config: {"@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext, common_tls_context: {tls_certificate_sds_secret_configs: [{name: server-cert, sds_config: {path_config_source: {path: /x}}}]}}}
            """)).contains("\(chain).common_tls_context.tls_certificate_sds_secret_configs[0].sds_config"))
        #expect(refusal(yaml(downstream: """
            {name: t, typed_config: {"@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext, require_sni: true, common_tls_context: {tls_certificate_sds_secret_configs: [{name: server-cert}]}}}
            """)).contains("\(chain).require_sni"))
        #expect(refusal(yaml(downstream: """
            {name: t, typed_config: {"@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext, common_tls_context: {tls_certificate_sds_secret_configs: [{name: server-cert}], tls_params: {cipher_suites: [NOPE-CIPHER]}}}}
            """)).contains("\(chain).common_tls_context.tls_params.cipher_suites"))
        #expect(refusal(yaml(downstream: """
            {name: t, typed_config: {"@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext, common_tls_context: {}}}
            """)).contains("\(chain).common_tls_context.tls_certificates"))
        #expect(refusal(yaml(downstream: """
            {name: t, typed_config: {"@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext, common_tls_context: {tls_certificate_sds_secret_configs: [{name: server-cert}], validation_context: {trusted_ca: {filename: /nonexistent/ca.pem}}}}}
            """)).contains("\(chain).common_tls_context.validation_context.trusted_ca.filename"))
        // Envoy's message for an OID that names nothing.
        #expect(refusal(yaml(downstream: """
            {name: t, typed_config: {"@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext, common_tls_context: {tls_certificate_sds_secret_configs: [{name: server-cert}], validation_context: {match_typed_subject_alt_names: [{san_type: OTHER_NAME, oid: bogus, matcher: {exact: x}}]}}}}
            """)).contains("Failed to create SAN matcher for OTHER_NAME with OID: bogus"))
    }
}
