import Foundation
public import SwiftProtobuf
public import RemoraAPI
import RemoraTLS
import Synchronization

/// A secret named by `sds_secret_config` with an `sds_config`: where it
/// comes from.
public struct SDSSecretSource: Hashable, Sendable {
    public var name: String
    public var source: ConfigSourceConfig
    /// The secret as the config was built with it; nil for one that comes
    /// over gRPC (the context waits for it, refusing handshakes).
    public var secret: Envoy_Extensions_TransportSockets_Tls_V3_Secret?
}

/// A TLS context built from SDS secrets: the secrets it read, and how to
/// build its settings again from newer ones (with the files they name read
/// again). The server's secret manager calls `rebuild` when one of them
/// changes and swaps the result into `context`.
public struct SDSContextDependency: Sendable {
    public let context: TLSContext
    public let secrets: [SDSSecretSource]
    /// Settings for `context` from the given SDS secrets (by name).
    public let rebuild: @Sendable ([String: Envoy_Extensions_TransportSockets_Tls_V3_Secret]) throws(ConfigError) -> TLSSettings
}

/// What a compile learnt about SDS secrets; filled by `TransportSocketCompiler`
/// on the compiling thread, read by the server afterwards. The mutex only
/// makes the class `Sendable` (compiles run on one thread).
public final class SDSDependencies: Sendable {
    private let state = Mutex<[SDSContextDependency]>([])

    public init() {}

    func record(_ dependency: SDSContextDependency) {
        state.withLock { list in
            guard !list.contains(where: { $0.context === dependency.context }) else { return }
            list.append(dependency)
        }
    }

    public var all: [SDSContextDependency] { state.withLock { $0 } }
}

extension StaticSecrets {
    /// The secrets for compiling a listener or cluster that came over xDS:
    /// SDS secrets looked up in `current` first (then their files), and the
    /// contexts that read them recorded in a fresh record of their own.
    func forDynamicResource(_ current: [String: TransportSocketCompiler.Secret]) -> StaticSecrets {
        var secrets = self
        guard secrets.dependencies != nil else { return secrets }
        secrets.dependencies = SDSDependencies()
        secrets.dynamic = current
        return secrets
    }

    /// The secret a `sds_config` reference names: from `dynamic` when set
    /// (a rebuild), else read now from its `path_config_source` file (the
    /// file must exist at load time, as in Envoy). One over gRPC (ADS or an
    /// `api_config_source`) is not there yet: nil, and the context waits.
    func lookupSDS(_ reference: Envoy_Extensions_TransportSockets_Tls_V3_SdsSecretConfig,
                   at path: String) throws(ConfigError) -> (TransportSocketCompiler.Secret?, SDSSecretSource) {
        let sp = FieldPath.join(path, "sds_config")
        guard !reference.name.isEmpty else { throw .missing(at: FieldPath.join(path, "name")) }
        if dynamic == nil && !nodeIsNamed {
            // Envoy's words: SDS needs the node named.
            throw .invalid("TlsCertificateSdsApi: node 'id' and 'cluster' are required. Set it either in 'node' config "
                           + "or via --service-node and --service-cluster options.", at: sp)
        }
        let source = try ConfigSourceCompiler.compile(reference.sdsConfig, hasADS: hasADS, at: sp)
        if let dynamic, let secret = dynamic[reference.name] {
            return (secret, SDSSecretSource(name: reference.name, source: source, secret: secret))
        }
        guard case .path(let file, _) = source.kind else {
            return (nil, SDSSecretSource(name: reference.name, source: source, secret: nil))
        }
        let response = try BootstrapLoader.load(Envoy_Service_Discovery_V3_DiscoveryResponse.self, path: file)
        for (i, any) in response.resources.enumerated() {
            let rp = "\(file): resources[\(i)]"
            guard TypeURL.messageName(any.typeURL) == TransportSocketCompiler.Secret.protoMessageName else {
                throw .invalid("\(any.typeURL) is not a Secret", at: rp)
            }
            let secret = try TypeURL.unpack(TransportSocketCompiler.Secret.self, from: any, at: rp)
            if secret.name == reference.name {
                try Self.checkDynamic(secret, at: rp)
                return (secret, SDSSecretSource(name: reference.name, source: source, secret: secret))
            }
        }
        throw .invalid("secret '\(reference.name)' is not in \(file)", at: FieldPath.join(path, "name"))
    }

    /// What an SDS secret may hold.
    static func checkDynamic(_ secret: TransportSocketCompiler.Secret, at path: String) throws(ConfigError) {
        try SupportedFields.require(secret, only: ["name", "tls_certificate", "validation_context", "session_ticket_keys"], at: path)
        guard secret.type != nil else { throw .missing(at: FieldPath.join(path, "tls_certificate")) }
    }
}

/// SDS secrets as the server's secret manager handles them.
public enum SDSSecret {
    public typealias Secret = Envoy_Extensions_TransportSockets_Tls_V3_Secret

    /// A secret as `/config_dump` shows it (Envoy's `MessageUtil::redact`):
    /// every string of a sensitive field (private key, password, PKCS#12,
    /// session ticket keys, generic secret) reads `[redacted]`. With
    /// `resolvingFiles` (an SDS secret as loaded), the files its data
    /// sources name are shown as their bytes, as Envoy dumps them.
    public static func redacted(_ secret: Secret, resolvingFiles: Bool) -> Secret {
        typealias DataSource = Envoy_Config_Core_V3_DataSource
        func resolved(_ source: DataSource) -> DataSource {
            guard resolvingFiles, case .filename(let path)? = source.specifier,
                  let bytes = FileManager.default.contents(atPath: path) else { return source }
            var inline = DataSource()
            inline.inlineBytes = bytes
            return inline
        }
        func redact(_ source: DataSource) -> DataSource {
            var out = resolved(source)
            switch out.specifier {
            case .filename?: out.filename = "[redacted]"
            case .inlineBytes?: out.inlineBytes = Data("[redacted]".utf8)
            case .inlineString?: out.inlineString = "[redacted]"
            case .environmentVariable?: out.environmentVariable = "[redacted]"
            case nil: break
            }
            return out
        }
        var out = secret
        switch secret.type {
        case .tlsCertificate(var certificate)?:
            if certificate.hasCertificateChain { certificate.certificateChain = resolved(certificate.certificateChain) }
            if certificate.hasPrivateKey { certificate.privateKey = redact(certificate.privateKey) }
            if certificate.hasPkcs12 { certificate.pkcs12 = redact(certificate.pkcs12) }
            if certificate.hasPassword { certificate.password = redact(certificate.password) }
            if certificate.hasOcspStaple { certificate.ocspStaple = resolved(certificate.ocspStaple) }
            out.tlsCertificate = certificate
        case .validationContext(var context)?:
            if context.hasTrustedCa { context.trustedCa = resolved(context.trustedCa) }
            if context.hasCrl { context.crl = resolved(context.crl) }
            out.validationContext = context
        case .sessionTicketKeys(var keys)?:
            keys.keys = keys.keys.map(redact)
            out.sessionTicketKeys = keys
        case .genericSecret(var generic)?:
            if generic.hasSecret { generic.secret = redact(generic.secret) }
            out.genericSecret = generic
        case nil:
            break
        }
        return out
    }

    /// A delivered `Secret`, checked as a bootstrap's would be.
    public static func decode(_ any: Google_Protobuf_Any, at path: String) throws(ConfigError) -> Secret {
        let secret = try TypeURL.unpack(Secret.self, from: any, at: path)
        try StaticSecrets.checkDynamic(secret, at: path)
        return secret
    }

    /// The files a secret reads (`filename` data sources), and the
    /// `watched_directory` whose moves reload them, if it names one. Without
    /// one, a move onto any of the files reloads them (Envoy watches the
    /// files' directories).
    public static func files(of secret: Secret) -> (files: [String], watchedDirectory: String?) {
        func name(_ source: Envoy_Config_Core_V3_DataSource) -> String? {
            if case .filename(let file)? = source.specifier { return file }
            return nil
        }
        switch secret.type {
        case .tlsCertificate(let certificate)?:
            let files = [certificate.certificateChain, certificate.privateKey].compactMap(name)
            return (files, certificate.hasWatchedDirectory ? certificate.watchedDirectory.path : nil)
        case .validationContext(let context)?:
            return ([context.trustedCa, context.crl].compactMap(name), nil)
        case .sessionTicketKeys(let keys)?:
            return (keys.keys.compactMap(name), nil)
        default:
            return ([], nil)
        }
    }
}
