internal import COpenSSL
import Synchronization

/// Envoy's server gauges over every TLS context alive (its
/// `ContextManagerImpl`): `server.days_until_first_cert_expiring` and
/// `server.seconds_until_first_ocsp_response_expiring`. Read by the main
/// thread when it refreshes the server's gauges.
extension TLSContext {
    private static let live = Mutex<[WeakTLSContext]>([])

    static func register(_ context: TLSContext) {
        live.withLock { contexts in
            contexts.removeAll { $0.context == nil }
            contexts.append(WeakTLSContext(context: context))
        }
    }

    private static var liveContexts: [TLSContext] { live.withLock { $0.compactMap(\.context) } }

    /// Days until the first certificate (or trusted CA) of any context
    /// expires: `UInt32.max` with no context; 0 when a context waits for
    /// its secrets or holds an expired certificate (Envoy's `value_or(0)`
    /// of an unknown answer).
    public static func daysUntilFirstCertificateExpires(now: Int64) -> Int64 {
        var days = Int64(UInt32.max)
        for context in liveContexts {
            let generation = context.current
            if generation.settings.waitingForSecrets { return 0 }
            for notAfter in generation.expiries {
                guard notAfter > now else { return 0 }
                days = min(days, (notAfter - now) / 86_400)
            }
        }
        return days
    }

    /// Seconds until the first stapled OCSP response's `nextUpdate`; 0 when
    /// no context staples one.
    public static func secondsUntilFirstOCSPResponseExpires(now: Int64) -> Int64 {
        var first: Int64?
        for context in liveContexts {
            for next in context.current.staples.compactMap(\.nextUpdate) {
                first = min(first ?? Int64.max, max(0, next - now))
            }
        }
        return first ?? 0
    }
}

private struct WeakTLSContext {
    weak var context: TLSContext?
}

extension TLSContextGeneration {
    /// The leaf of each configured chain and the first certificate of the
    /// trusted CA bundle (Envoy's `ca_cert_`): their `notAfter`.
    static func expiries(_ settings: TLSSettings) -> [Int64] {
        let pems = [settings.certificateChainPEM, settings.trustedCAPEM].compactMap { $0 }
            + settings.additionalCertificates.map(\.chain)
        return pems.compactMap { pem in
            let certificates = PEM.certificates(pem)
            defer { for certificate in certificates { X509_free(certificate) } }
            return certificates.first.map { Certificate.validity($0).1 }
        }
    }
}
