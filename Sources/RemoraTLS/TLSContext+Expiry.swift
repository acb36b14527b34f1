internal import COpenSSL
import RemoraCore
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

    static var liveContexts: [TLSContext] { live.withLock { $0.compactMap(\.context) } }

    /// Days until the first certificate (or trusted CA) of any context
    /// expires: `UInt32.max` with no context; 0 when a context waits for
    /// its secrets or holds an expired certificate (Envoy's `value_or(0)`
    /// of an unknown answer).
    public static func daysUntilFirstCertificateExpires(now: Int64) -> Int64 {
        var days = Int64(UInt32.max)
        for context in liveContexts {
            let generation = context.current
            if generation.settings.waitingForSecrets { return 0 }
            for notAfter in generation.expiries.map(\.notAfter) {
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

/// One certificate's expiry, with the name Envoy gives its gauge (nil
/// when the settings carry no names, as in unit tests).
struct CertificateExpiry: Sendable {
    let name: String?
    let notAfter: Int64
}

extension TLSContextGeneration {
    /// The leaf of each configured chain and the first certificate of the
    /// trusted CA bundle (Envoy's `ca_cert_`): their `notAfter`.
    static func expiries(_ settings: TLSSettings) -> [CertificateExpiry] {
        let names = settings.certificateNames
        var sources: [(String?, [UInt8]?)] = [(names.first, settings.certificateChainPEM), (settings.trustedCAName, settings.trustedCAPEM)]
        for (i, extra) in settings.additionalCertificates.enumerated() {
            sources.append((i + 1 < names.count ? names[i + 1] : nil, extra.chain))
        }
        return sources.compactMap { name, pem in
            guard let pem else { return nil }
            let certificates = PEM.certificates(pem)
            defer { for certificate in certificates { X509_free(certificate) } }
            return certificates.first.map { CertificateExpiry(name: name, notAfter: Certificate.validity($0).1) }
        }
    }
}

/// Envoy's per-certificate gauges,
/// `<listener or cluster>.ssl.certificate.<name>.expiration_unix_time_seconds`:
/// the `notAfter` of each certificate a context holds, set when the context
/// is counted under a scope and again each time a rotation rebuilds it.
/// Main thread.
extension TLSContext {
    /// Lists this context's certificates' expiry under `scope` (a listener's
    /// or cluster's `SSLStat` scope), now if it has its secrets, else once
    /// an update builds it; the gauges go with the scope.
    func publishExpiries(under scope: StatScope, in store: StatsStore) {
        expiryTargets.withLock { targets in
            targets.removeAll { $0.scope == nil }
            if !targets.contains(where: { $0.scope === scope }) { targets.append(ExpiryTarget(scope: scope, store: store)) }
        }
        setExpiryGauges()
    }

    /// Sets every gauge of the current generation (main thread).
    func setExpiryGauges() {
        let generation = current
        guard !generation.settings.waitingForSecrets else { return }
        for target in expiryTargets.withLock({ $0 }) {
            guard let scope = target.scope else { continue }
            for expiry in generation.expiries {
                guard let name = expiry.name else { continue }
                let gauge = target.store.scope(prefix: scope.prefix + "ssl.certificate." + name + ".",
                                               stats: [("expiration_unix_time_seconds", .gauge)], attachedTo: scope)
                gauge.slots(thread: 0).set(0, expiry.notAfter)
            }
        }
    }
}

struct ExpiryTarget: @unchecked Sendable {
    // Sendable: the store is, and the scope is only read through the weak reference.
    weak var scope: StatScope?
    let store: StatsStore
}
