import Foundation
import RemoraAPI
import RemoraCore
import RemoraTLS
import SwiftProtobuf

/// `transport_socket` of a filter chain or cluster: `envoy.transport_sockets.tls`
/// (`DownstreamTlsContext` / `UpstreamTlsContext`) or raw buffer. Each TLS
/// context is built into one OpenSSL context here, at config time; a chain
/// or cluster with the same context (same message, same file contents)
/// shares it. Runs on the main thread.
enum TransportSocketCompiler {
    typealias Downstream = Envoy_Extensions_TransportSockets_Tls_V3_DownstreamTlsContext
    typealias Upstream = Envoy_Extensions_TransportSockets_Tls_V3_UpstreamTlsContext
    typealias Common = Envoy_Extensions_TransportSockets_Tls_V3_CommonTlsContext
    typealias Secret = Envoy_Extensions_TransportSockets_Tls_V3_Secret

    static let rawBufferType = Envoy_Extensions_TransportSockets_RawBuffer_V3_RawBuffer.protoMessageName

    /// The server context of a filter chain's `transport_socket`, or nil for raw buffer.
    static func downstream(_ socket: Envoy_Config_Core_V3_TransportSocket, secrets: StaticSecrets,
                           at path: String) throws(ConfigError) -> TLSContext? {
        try compile(Downstream.self, socket, role: .server, fields: [
            "common_tls_context", "require_client_certificate", "session_ticket_keys", "session_ticket_keys_sds_secret_config",
            "disable_stateless_session_resumption",
            "disable_stateful_session_resumption", "session_timeout", "ocsp_staple_policy",
        ], secrets: secrets, at: path) { (context, settings, secrets, sources, tp) throws(ConfigError) in
            settings.requireClientCertificate = context.hasRequireClientCertificate && context.requireClientCertificate.value
            switch context.ocspStaplePolicy {
            case .lenientStapling: settings.ocspStaplePolicy = .lenient
            case .strictStapling: settings.ocspStaplePolicy = .strict
            case .mustStaple: settings.ocspStaplePolicy = .mustStaple
            case .UNRECOGNIZED(let raw): throw .invalid("unknown OCSP staple policy \(raw)", at: FieldPath.join(tp, "ocsp_staple_policy"))
            }
            try compileSessions(context, into: &settings, secrets: secrets, sources: &sources, at: tp)
            return context.commonTlsContext
        }
    }

    /// The client context of a cluster's `transport_socket`, or nil for raw buffer.
    /// `alpnFallback`: the ALPN list offered when the context has no
    /// `alpn_protocols` (Envoy's `h2,http/1.1` for an `auto_config` cluster).
    static func upstream(_ socket: Envoy_Config_Core_V3_TransportSocket, secrets: StaticSecrets, alpnFallback: [String] = [],
                         at path: String) throws(ConfigError) -> TLSContext? {
        try compile(Upstream.self, socket, role: .client, fields: ["common_tls_context", "sni", "max_session_keys",
                                                                   "auto_sni_san_validation", "auto_host_sni",
                                                                   "allow_renegotiation"],
                    secrets: secrets, at: path) { (context, settings, _, _, _) throws(ConfigError) in
            if !context.sni.isEmpty { settings.serverName = context.sni }
            settings.allowRenegotiation = context.allowRenegotiation
            if context.hasMaxSessionKeys { settings.maxSessionKeys = Int(context.maxSessionKeys.value) }
            settings.autoSNISANValidation = context.autoSniSanValidation
            settings.autoHostSNI = context.autoHostSni
            var common = context.commonTlsContext
            if common.alpnProtocols.isEmpty { common.alpnProtocols = alpnFallback }
            return common
        }
    }

    /// Reads a context message's own fields into the settings (with the
    /// secrets they may name, recording SDS ones) and returns its common context.
    typealias OwnFields<M> = @Sendable (M, inout TLSSettings, StaticSecrets, inout [SDSSecretSource], String) throws(ConfigError) -> Common

    /// Unpacks a TLS context message, takes its own fields (`own` returns
    /// the common context), then the common context, and builds it. A
    /// context that read SDS secrets is recorded with how to build it again.
    private static func compile<M: SwiftProtobuf.Message>(
        _ type: M.Type, _ socket: Envoy_Config_Core_V3_TransportSocket, role: TLSSettings.Role, fields: Set<String>,
        secrets: StaticSecrets, at path: String, own: @escaping OwnFields<M>
    ) throws(ConfigError) -> TLSContext? {
        guard let context = try unpack(M.self, socket, at: path) else { return nil }
        var sources: [SDSSecretSource] = []
        let settings = try settings(context, role: role, fields: fields, secrets: secrets, sources: &sources, at: path, own: own)
        let built = try build(settings, at: FieldPath.join(path, "typed_config"))
        if !sources.isEmpty, let dependencies = secrets.dependencies {
            var rebuildSecrets = secrets
            rebuildSecrets.dependencies = nil
            dependencies.record(SDSContextDependency(context: built, secrets: sources) { [rebuildSecrets] dynamic throws(ConfigError) in
                var ignored: [SDSSecretSource] = []
                var current = rebuildSecrets
                current.dynamic = dynamic
                return try Self.settings(context, role: role, fields: fields, secrets: current,
                                         sources: &ignored, at: path, own: own)
            })
        }
        return built
    }

    /// The settings of one TLS context message (files read now).
    private static func settings<M: SwiftProtobuf.Message>(
        _ context: M, role: TLSSettings.Role, fields: Set<String>, secrets: StaticSecrets, sources: inout [SDSSecretSource],
        at path: String, own: OwnFields<M>
    ) throws(ConfigError) -> TLSSettings {
        let tp = FieldPath.join(path, "typed_config")
        try SupportedFields.require(context, only: fields, at: tp)
        var settings = TLSSettings(role: role)
        let common = try own(context, &settings, secrets, &sources, tp)
        try compileCommon(common, into: &settings, secrets: secrets, sources: &sources, at: FieldPath.join(tp, "common_tls_context"))
        settings.sessionContext = (try? context.serializedBytes()) ?? []
        return settings
    }

    /// A server's session resumption: ticket keys (80 bytes each, as Envoy
    /// checks), tickets or the session cache turned off, the session timeout.
    /// From `session_ticket_keys` or a `session_ticket_keys` secret (static or
    /// SDS, rotated like certificates; until an SDS one arrives the context
    /// waits, as Envoy's server context is not ready without it).
    private static func compileSessions(_ context: Downstream, into settings: inout TLSSettings, secrets: StaticSecrets,
                                        sources: inout [SDSSecretSource], at path: String) throws(ConfigError) {
        switch context.sessionTicketKeysType {
        case .sessionTicketKeys(let keys)?:
            settings.sessionTicketKeys = try ticketKeys(keys, at: FieldPath.join(path, "session_ticket_keys"))
        case .sessionTicketKeysSdsSecretConfig(let reference)?:
            let sp = FieldPath.join(path, "session_ticket_keys_sds_secret_config")
            let (secret, source) = try secrets.lookup(reference, at: sp)
            if let source { sources.append(source) }
            guard let secret else {
                settings.waitingForSecrets = true
                break
            }
            guard case .sessionTicketKeys(let keys)? = secret.type else {
                throw .invalid("secret '\(reference.name)' is not session_ticket_keys", at: sp)
            }
            settings.sessionTicketKeys = try ticketKeys(keys, at: sp)
        case .disableStatelessSessionResumption(let disabled)?:
            settings.disableTickets = disabled
        case nil:
            break
        }
        settings.disableSessionCache = context.disableStatefulSessionResumption
        if context.hasSessionTimeout {
            let tp = FieldPath.join(path, "session_timeout")
            let ms = try ConfigCompiler.milliseconds(context.sessionTimeout, at: tp)
            guard ms / 1000 < 4_294_967_296 else { throw .invalid("value must be less than 4294967296s", at: tp) }
            settings.sessionTimeoutSeconds = ms / 1000
        }
    }

    /// Ticket keys of 80 bytes each, as Envoy checks them.
    private static func ticketKeys(_ keys: Envoy_Extensions_TransportSockets_Tls_V3_TlsSessionTicketKeys,
                                   at path: String) throws(ConfigError) -> [[UInt8]] {
        try SupportedFields.require(keys, only: ["keys"], at: path)
        guard !keys.keys.isEmpty else { throw .missing(at: FieldPath.join(path, "keys")) }
        var result: [[UInt8]] = []
        for (i, source) in keys.keys.enumerated() {
            let ip = FieldPath.index(FieldPath.join(path, "keys"), i)
            let key = try data(source, at: ip)
            guard key.count == 80 else {
                throw .invalid("Incorrect TLS session ticket key length. Length \(key.count), expected length 80.", at: ip)
            }
            result.append(key)
        }
        return result
    }

    /// The TLS context message of `socket`, or nil for raw buffer; any other
    /// transport socket type is refused.
    private static func unpack<M: SwiftProtobuf.Message>(_ type: M.Type, _ socket: Envoy_Config_Core_V3_TransportSocket,
                                                         at path: String) throws(ConfigError) -> M? {
        guard let any = try typedConfig(socket, at: path) else { return nil }
        let tp = FieldPath.join(path, "typed_config")
        guard TypeURL.messageName(any.typeURL) == M.protoMessageName else {
            throw .unsupported("unsupported transport socket type \(TypeURL.messageName(any.typeURL))", at: tp)
        }
        return try TypeURL.unpack(M.self, from: any, at: tp)
    }

    private static func typedConfig(_ socket: Envoy_Config_Core_V3_TransportSocket,
                                    at path: String) throws(ConfigError) -> Google_Protobuf_Any? {
        try SupportedFields.require(socket, only: ["name", "typed_config"], at: path)
        guard case .typedConfig(let any)? = socket.configType else {
            // Envoy needs a typed_config for TLS; a bare raw_buffer name is plain TCP.
            if socket.name == "envoy.transport_sockets.raw_buffer" || socket.name == "raw_buffer" { return nil }
            throw .missing(at: FieldPath.join(path, "typed_config"))
        }
        if TypeURL.messageName(any.typeURL) == rawBufferType { return nil }
        return any
    }

    private static func compileCommon(_ common: Common, into settings: inout TLSSettings, secrets: StaticSecrets,
                                      sources: inout [SDSSecretSource], at path: String) throws(ConfigError) {
        try SupportedFields.require(common, only: [
            "tls_params", "tls_certificates", "tls_certificate_sds_secret_configs", "validation_context",
            "validation_context_sds_secret_config", "alpn_protocols",
        ], at: path)
        if common.hasTlsParams {
            let pp = FieldPath.join(path, "tls_params")
            let params = common.tlsParams
            try SupportedFields.require(params, only: [
                "tls_minimum_protocol_version", "tls_maximum_protocol_version", "cipher_suites", "ecdh_curves",
            ], at: pp)
            settings.minimumVersion = try version(params.tlsMinimumProtocolVersion, at: FieldPath.join(pp, "tls_minimum_protocol_version"))
            settings.maximumVersion = try version(params.tlsMaximumProtocolVersion, at: FieldPath.join(pp, "tls_maximum_protocol_version"))
            // BoringSSL's `[A|B]` equal-preference groups are flattened in order.
            settings.cipherSuites = params.cipherSuites.flatMap { suite in
                suite.split(whereSeparator: { $0 == "[" || $0 == "]" || $0 == "|" }).map(String.init)
            }
            settings.ecdhCurves = params.ecdhCurves
        }
        var certificates = common.tlsCertificates
        // Envoy's certificate names (its expiry gauges): a secret's name, or
        // `unnamed_cert_` and the first 8 hex digits of the SHA-256 of the
        // chain's `inline_bytes` (empty for a file or an `inline_string`).
        settings.certificateNames = common.tlsCertificates.map { "unnamed_cert_" + unnamedSuffix($0.certificateChain) }
        var fromSDS = false
        for (i, reference) in common.tlsCertificateSdsSecretConfigs.enumerated() {
            let sp = FieldPath.index(FieldPath.join(path, "tls_certificate_sds_secret_configs"), i)
            let (secret, source) = try secrets.lookup(reference, at: sp)
            if let source { sources.append(source); fromSDS = true }
            guard let secret else {
                settings.waitingForSecrets = true
                continue
            }
            guard case .tlsCertificate(let certificate)? = secret.type else {
                throw .invalid("secret '\(reference.name)' is not a tls_certificate", at: sp)
            }
            certificates.append(certificate)
            settings.certificateNames.append(reference.name)
        }
        if certificates.count > 1 && settings.role == .client {
            // Envoy's words.
            throw .invalid("Multiple TLS certificates are not supported for client contexts", at: FieldPath.join(path, "tls_certificates"))
        }
        for (i, certificate) in certificates.enumerated() {
            // Inline certificates first, then those from secrets (as Envoy lists them).
            let cp = i < common.tlsCertificates.count
                ? FieldPath.index(FieldPath.join(path, "tls_certificates"), i)
                : FieldPath.index(FieldPath.join(path, "tls_certificate_sds_secret_configs"), i - common.tlsCertificates.count)
            // `watched_directory` says which directory's moves reload an SDS
            // secret's files (the secret manager watches it).
            try SupportedFields.require(certificate, only: fromSDS ? ["certificate_chain", "private_key", "password", "watched_directory", "ocsp_staple"]
                                                                   : ["certificate_chain", "private_key", "password", "ocsp_staple"], at: cp)
            guard certificate.hasCertificateChain else { throw .missing(at: FieldPath.join(cp, "certificate_chain")) }
            guard certificate.hasPrivateKey else { throw .missing(at: FieldPath.join(cp, "private_key")) }
            let chain = try data(certificate.certificateChain, at: FieldPath.join(cp, "certificate_chain"))
            settings.certificatePaths.append(Self.certificatePath(certificate.certificateChain))
            let key = try data(certificate.privateKey, at: FieldPath.join(cp, "private_key"))
            // A client has no use for a staple (Envoy reads it for servers only).
            settings.ocspStaples.append(certificate.hasOcspStaple && settings.role == .server
                ? try data(certificate.ocspStaple, at: FieldPath.join(cp, "ocsp_staple")) : nil)
            let password = certificate.hasPassword
                ? String(decoding: try data(certificate.password, at: FieldPath.join(cp, "password")), as: UTF8.self) : nil
            if i == 0 {
                settings.certificateChainPEM = chain
                settings.privateKeyPEM = key
                settings.privateKeyPassword = password
            } else {
                settings.additionalCertificates.append(CertificatePEM(chain: chain, key: key, password: password))
            }
        }
        var validation: Envoy_Extensions_TransportSockets_Tls_V3_CertificateValidationContext?
        var vp = FieldPath.join(path, "validation_context")
        switch common.validationContextType {
        case .validationContext(let context)?:
            validation = context
            settings.trustedCAName = "unnamed_ca_cert_" + unnamedSuffix(context.trustedCa)
        case .validationContextSdsSecretConfig(let reference)?:
            vp = FieldPath.join(path, "validation_context_sds_secret_config")
            settings.trustedCAName = reference.name
            let (secret, source) = try secrets.lookup(reference, at: vp)
            if let source { sources.append(source) }
            if let secret {
                guard case .validationContext(let context)? = secret.type else {
                    throw .invalid("secret '\(reference.name)' is not a validation_context", at: vp)
                }
                validation = context
            } else {
                settings.waitingForSecrets = true
            }
        case .combinedValidationContext?, .validationContextCertificateProvider?, .validationContextCertificateProviderInstance?:
            throw .unsupported("only validation_context and validation_context_sds_secret_config are implemented", at: path)
        case nil: break
        }
        if let validation {
            try SupportedFields.require(validation, only: [
                "trusted_ca", "match_typed_subject_alt_names", "verify_certificate_hash", "verify_certificate_spki",
                "crl", "only_verify_leaf_cert_crl",
            ], at: vp)
            if validation.hasCrl {
                guard validation.hasTrustedCa else {
                    // Envoy's words.
                    throw .invalid("Failed to load CRL from \(describe(validation.crl)) without trusted CA",
                                   at: FieldPath.join(vp, "crl"))
                }
                settings.revocationListPEM = try data(validation.crl, at: FieldPath.join(vp, "crl"))
                settings.onlyLeafRevocation = validation.onlyVerifyLeafCertCrl
            }
            for (i, text) in validation.verifyCertificateHash.enumerated() {
                // Envoy: hex, colons allowed, 32 bytes.
                guard let digest = hexDigest(text.replacingOccurrences(of: ":", with: "")), digest.count == 32 else {
                    throw .invalid("Invalid hex-encoded SHA-256 \(text)", at: FieldPath.index(FieldPath.join(vp, "verify_certificate_hash"), i))
                }
                settings.certificateHashes.append(digest)
            }
            for (i, text) in validation.verifyCertificateSpki.enumerated() {
                guard let digest = Data(base64Encoded: text).map(Array.init), digest.count == 32 else {
                    throw .invalid("Invalid base64-encoded SHA-256 \(text)", at: FieldPath.index(FieldPath.join(vp, "verify_certificate_spki"), i))
                }
                settings.spkiHashes.append(digest)
            }
            if validation.hasTrustedCa {
                settings.trustedCAPEM = try data(validation.trustedCa, at: FieldPath.join(vp, "trusted_ca"))
                settings.trustedCAPath = Self.certificatePath(validation.trustedCa)
            }
            for (i, san) in validation.matchTypedSubjectAltNames.enumerated() {
                let mp = FieldPath.index(FieldPath.join(vp, "match_typed_subject_alt_names"), i)
                settings.subjectAltNameMatchers.append(try SANMatcher.compile(san, at: mp))
            }
        }
        settings.alpnProtocols = common.alpnProtocols
        if settings.role == .server && settings.certificateChainPEM == nil && !settings.waitingForSecrets {
            throw .missing(at: FieldPath.join(path, "tls_certificates"))
        }
    }

    /// How Envoy names a data source in messages: the file name, else `<inline>`.
    private static func describe(_ source: Envoy_Config_Core_V3_DataSource) -> String {
        if case .filename(let name)? = source.specifier { return name }
        return "<inline>"
    }

    private static func hexDigest(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        var i = 0
        while i < digits.count {
            guard let high = value(digits[i]), let low = value(digits[i + 1]) else { return nil }
            bytes.append(high << 4 | low)
            i += 2
        }
        return bytes
    }

    private static func version(_ value: Envoy_Extensions_TransportSockets_Tls_V3_TlsParameters.TlsProtocol,
                                at path: String) throws(ConfigError) -> TLSVersion? {
        switch value {
        case .tlsAuto: return nil
        case .tlsv10: return .tls10
        case .tlsv11: return .tls11
        case .tlsv12: return .tls12
        case .tlsv13: return .tls13
        case .UNRECOGNIZED(let raw): throw .invalid("unknown TLS protocol \(raw)", at: path)
        }
    }

    /// A `DataSource`'s bytes: a file read now, or the inline value.
    /// The first 8 hex digits of the SHA-256 of a source's `inline_bytes`
    /// (Envoy hashes only those: a file or an `inline_string` hashes as empty).
    static func unnamedSuffix(_ source: Envoy_Config_Core_V3_DataSource) -> String {
        var bytes: [UInt8] = []
        if case .inlineBytes(let inline)? = source.specifier { bytes = Array(inline) }
        return String(Certificate.sha256Hex(bytes).prefix(8))
    }

    /// `/certs`' `path` of a certificate: its file, or `<inline>` (Envoy's `INLINE_STRING`).
    static func certificatePath(_ source: Envoy_Config_Core_V3_DataSource) -> String {
        if case .filename(let name)? = source.specifier { return name }
        return "<inline>"
    }

    static func data(_ source: Envoy_Config_Core_V3_DataSource, at path: String) throws(ConfigError) -> [UInt8] {
        switch source.specifier {
        case .filename(let name)?:
            guard let contents = FileManager.default.contents(atPath: name) else {
                throw .invalid("cannot read file '\(name)'", at: FieldPath.join(path, "filename"))
            }
            return Array(contents)
        case .inlineString(let text)?: return Array(text.utf8)
        case .inlineBytes(let bytes)?: return Array(bytes)
        case .environmentVariable?:
            throw .unsupported("environment_variable data sources are not implemented", at: FieldPath.join(path, "environment_variable"))
        case nil: throw .missing(at: path)
        }
    }

    /// One OpenSSL context per distinct TLS context: the message's bytes
    /// (`sessionContext`) plus the files it read make the key.
    private static func build(_ settings: TLSSettings, at path: String) throws(ConfigError) -> TLSContext {
        var key = settings.sessionContext
        key += settings.certificateChainPEM ?? []
        key += settings.privateKeyPEM ?? []
        key += Array((settings.privateKeyPassword ?? "").utf8)
        for extra in settings.additionalCertificates { key += extra.chain + extra.key }
        key += settings.trustedCAPEM ?? []
        key += settings.revocationListPEM ?? []
        key += settings.sessionTicketKeys.flatMap { $0 }
        if let shared = TLSContextCache.shared.context(for: key) { return shared }
        do {
            let context = try TLSContext(settings)
            TLSContextCache.shared.store(context, for: key)
            return context
        } catch {
            throw .invalid(error.message, at: error.field.isEmpty ? path : FieldPath.join(path, error.field))
        }
    }
}

/// Contexts in use, by their key (the main thread compiles configs; the
/// lock covers a compile on another thread, as in tests). Entries are weak:
/// a context lives as long as a listener, cluster or connection holds it, so
/// equal contexts compiled while one is alive (a re-pushed cluster, two
/// chains) share it and its session cache, and one that no config names any
/// more (a removed cluster, a rotated certificate's old key) leaves with its
/// `SSL_CTX` instead of staying for the process's life.
final class TLSContextCache: @unchecked Sendable {
    static let shared = TLSContextCache()
    private struct Entry { weak var context: TLSContext? }
    private let lock = NSLock()
    private var contexts: [[UInt8]: Entry] = [:]
    /// Stores since the last sweep of dead entries, and the entries that
    /// sweep left: the next sweep waits for as many stores (at least 64),
    /// so dead entries stay bounded by the live ones and a sweep's cost is
    /// spread over the stores before it.
    private var storesSinceSweep = 0
    private var leftBySweep = 0

    func context(for key: [UInt8]) -> TLSContext? {
        lock.withLock { contexts[key]?.context }
    }

    func store(_ context: TLSContext, for key: [UInt8]) {
        lock.withLock {
            contexts[key] = Entry(context: context)
            storesSinceSweep += 1
            if storesSinceSweep >= max(64, leftBySweep) {
                contexts = contexts.filter { $0.value.context != nil }
                storesSinceSweep = 0
                leftBySweep = contexts.count
            }
        }
    }
}

/// The secrets `sds_secret_config` names: `static_resources.secrets` by
/// name, and SDS secrets (`sds_config`), whose uses are recorded in
/// `dependencies` so that they can rotate.
struct StaticSecrets: Sendable {
    var byName: [String: TransportSocketCompiler.Secret] = [:]
    /// Where SDS uses are recorded (nil: SDS references are refused).
    var dependencies: SDSDependencies?
    /// Set when rebuilding a context after a rotation: the current SDS secrets.
    var dynamic: [String: TransportSocketCompiler.Secret]?
    /// The bootstrap's node has an `id` and a `cluster` (SDS needs both).
    var nodeIsNamed = false
    /// The bootstrap has `dynamic_resources.ads_config` (for `sds_config: {ads: {}}`).
    var hasADS = false

    static let none = StaticSecrets()

    /// The secret a reference names (nil: an SDS secret not delivered yet),
    /// and its SDS source if it has one.
    func lookup(_ reference: Envoy_Extensions_TransportSockets_Tls_V3_SdsSecretConfig,
                at path: String) throws(ConfigError) -> (TransportSocketCompiler.Secret?, SDSSecretSource?) {
        if reference.hasSdsConfig {
            guard dependencies != nil || dynamic != nil else {
                throw .unsupported("SDS is not available here (static secrets are)", at: FieldPath.join(path, "sds_config"))
            }
            let (secret, source) = try lookupSDS(reference, at: path)
            return (secret, source)
        }
        guard let secret = byName[reference.name] else {
            throw .invalid("unknown static secret '\(reference.name)'", at: FieldPath.join(path, "name"))
        }
        return (secret, nil)
    }
}

/// `match_typed_subject_alt_names[i]`: a string matcher over one SAN type.
struct SANMatcher: SubjectAltNameMatcher {
    enum Kind: Sendable { case uri, dns, ip, email, otherName(oid: String) }
    let kind: Kind
    let matcher: StringMatcher

    static func compile(_ san: Envoy_Extensions_TransportSockets_Tls_V3_SubjectAltNameMatcher,
                        at path: String) throws(ConfigError) -> SANMatcher {
        try SupportedFields.require(san, only: ["san_type", "matcher", "oid"], at: path)
        let kind: Kind
        switch san.sanType {
        case .uri: kind = .uri
        case .dns: kind = .dns
        case .ipAddress: kind = .ip
        case .email: kind = .email
        case .unspecified: throw .invalid("san_type must be set", at: FieldPath.join(path, "san_type"))
        case .otherName:
            // Envoy reads the OID with `OBJ_txt2obj(oid, 0)`: dotted, or a name the library knows.
            guard let oid = Certificate.dottedObjectIdentifier(san.oid) else {
                throw .invalid("Failed to create SAN matcher for OTHER_NAME with OID: \(san.oid)", at: FieldPath.join(path, "oid"))
            }
            kind = .otherName(oid: oid)
        case .UNRECOGNIZED(let raw): throw .invalid("unknown SAN type \(raw)", at: FieldPath.join(path, "san_type"))
        }
        guard san.hasMatcher else { throw .missing(at: FieldPath.join(path, "matcher")) }
        return SANMatcher(kind: kind, matcher: try StringMatcher.compile(san.matcher, at: FieldPath.join(path, "matcher")))
    }

    func matches(_ names: SubjectAltNames) -> Bool {
        let candidates: [String]
        switch kind {
        case .uri: candidates = names.uris
        case .dns: candidates = names.dnsNames
        case .ip: candidates = names.ipAddresses
        case .email: candidates = names.emails
        case .otherName(let oid): candidates = names.otherNames.filter { $0.oid == oid }.map(\.value)
        }
        // Envoy matches a DNS SAN `*.example.com` as a wildcard against an
        // exact matcher; Remora compares the SAN text as it is.
        return candidates.contains { matcher.matches($0) }
    }
}
