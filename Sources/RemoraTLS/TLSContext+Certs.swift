internal import COpenSSL
import RemoraCore

/// What `/certs` shows of each TLS context alive (Envoy's
/// `ContextManagerImpl::iterateContexts` and `ContextImpl::getCaCertInformation`
/// / `getCertChainInformation`): the trusted CA's first certificate and the
/// leaf of each configured chain. Main thread (admin).
extension TLSContext {
    /// One certificate as Envoy's `CertificateDetails` has it.
    public struct CertificateDetails: Sendable {
        public var path: String
        /// Lowercase hex without leading zeros.
        public var serialNumber: String
        /// DNS names, then URIs, then IP addresses (Envoy's order), each
        /// with its `SubjectAlternateName` field name.
        public var subjectAltNames: [(kind: String, value: String)]
        public var daysUntilExpiration: Int64
        /// Seconds since the epoch.
        public var validFrom: Int64
        public var expirationTime: Int64
    }

    /// One context: its CA certificate (none, or one) and its chains' leaves.
    public struct CertificateSet: Sendable {
        public var caCertificates: [CertificateDetails]
        public var chainCertificates: [CertificateDetails]
    }

    /// Every context that has its secrets (a context still waiting for an
    /// SDS secret is not built yet in Envoy, so not listed).
    public static func certificateSets(now: Int64) -> [CertificateSet] {
        liveContexts.compactMap { context in
            let settings = context.current.settings
            guard !settings.waitingForSecrets else { return nil }
            var ca: [CertificateDetails] = []
            if let pem = settings.trustedCAPEM, let first = details(pem, path: settings.trustedCAPath ?? "<inline>", now: now) {
                ca.append(first)
            }
            let chains = [settings.certificateChainPEM].compactMap { $0 } + settings.additionalCertificates.map(\.chain)
            let chain = chains.enumerated().compactMap { i, pem in
                details(pem, path: i < settings.certificatePaths.count ? settings.certificatePaths[i] : "<inline>", now: now)
            }
            return CertificateSet(caCertificates: ca, chainCertificates: chain)
        }
    }

    /// The first certificate of a PEM bundle.
    private static func details(_ pem: [UInt8], path: String, now: Int64) -> CertificateDetails? {
        let certificates = PEM.certificates(pem)
        defer { for certificate in certificates { X509_free(certificate) } }
        guard let certificate = certificates.first else { return nil }
        let names = Certificate.subjectAltNames(certificate)
        let (notBefore, notAfter) = Certificate.validity(certificate)
        let sans = names.dnsNames.map { ("dns", $0) } + names.uris.map { ("uri", $0) } + names.ipAddresses.map { ("ip_address", $0) }
        return CertificateDetails(path: path, serialNumber: Certificate.serial(certificate), subjectAltNames: sans,
                                  daysUntilExpiration: max(0, (notAfter - now) / 86_400), validFrom: notBefore,
                                  expirationTime: notAfter)
    }
}
