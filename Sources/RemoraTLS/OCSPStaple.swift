internal import COpenSSL
import Glibc

/// `DownstreamTlsContext.ocsp_staple_policy`.
public enum OCSPStaplePolicy: Sendable {
    /// `LENIENT_STAPLING` (the default): staple a valid response, else go on without one.
    case lenient
    /// `STRICT_STAPLING`: an expired response fails the handshake; none at all does not.
    case strict
    /// `MUST_STAPLE`: a client that asks gets a valid response or no handshake.
    case mustStaple
}

/// One server certificate's OCSP response (`tls_certificates[i].ocsp_staple`,
/// DER), checked at config time as Envoy checks it, and stapled when a
/// client asks (`status_request`).
struct OCSPStaple: Sendable {
    /// SHA-256 of the certificate this entry belongs to.
    let leafDigest: [UInt8]
    let response: [UInt8]?
    /// The response's `nextUpdate` (seconds since the epoch); nil when it
    /// has none, which Envoy treats as expired.
    let nextUpdate: Int64?
    /// The certificate carries the TLS feature `status_request`
    /// (must-staple): the policy is MUST_STAPLE for it.
    let mustStaple: Bool

    /// What to do for a client that asked for a staple (Envoy's `ocspStapleAction`).
    enum Action: Equatable { case staple, omit, fail }

    func action(_ policy: OCSPStaplePolicy, now: Int64) -> Action {
        let valid = response != nil && (nextUpdate.map { $0 >= now } ?? false)
        switch mustStaple ? .mustStaple : policy {
        case .lenient: return valid ? .staple : .omit
        case .strict: return valid ? .staple : (response != nil ? .fail : .omit)
        case .mustStaple: return valid ? .staple : .fail
        }
    }

    /// Envoy's config-time checks, with its messages; `field` names the
    /// certificate (`common_tls_context.tls_certificates[0]`).
    init(leaf: OpaquePointer, response: [UInt8]?, policy: OCSPStaplePolicy, field: String) throws(TLSConfigError) {
        leafDigest = Certificate.sha256Bytes(leaf)
        mustStaple = Self.hasMustStaple(leaf)
        guard let response, !response.isEmpty else {
            if mustStaple { throw TLSConfigError("OCSP response is required for must-staple certificate", field: field) }
            if policy == .mustStaple { throw TLSConfigError("Required OCSP response is missing from TLS context", field: field) }
            self.response = nil
            nextUpdate = nil
            return
        }
        let staplePath = field + ".ocsp_staple"
        let parsed: OpaquePointer? = response.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_OCSP_RESPONSE(nil, &cursor, buffer.count)
        }
        guard let parsed else {
            ERR_clear_error()
            throw TLSConfigError("OCSP response could not be parsed", field: staplePath)
        }
        defer { OCSP_RESPONSE_free(parsed) }
        guard OCSP_response_status(parsed) == OCSP_RESPONSE_STATUS_SUCCESSFUL else {
            throw TLSConfigError("OCSP response was unsuccessful", field: staplePath)
        }
        guard let basic = OCSP_response_get1_basic(parsed) else {
            ERR_clear_error()
            throw TLSConfigError("OCSP response has no body", field: staplePath)
        }
        defer { OCSP_BASICRESP_free(basic) }
        guard OCSP_resp_count(basic) == 1, let single = OCSP_resp_get0(basic, 0) else {
            throw TLSConfigError("OCSP Response must be for one certificate only", field: staplePath)
        }
        var serial: UnsafeMutablePointer<ASN1_INTEGER>?
        guard let id = OCSP_SINGLERESP_get0_id(single), OCSP_id_get0_info(nil, nil, nil, &serial, id) == 1,
              let serial, ASN1_INTEGER_cmp(serial, X509_get0_serialNumber(leaf)) == 0 else {
            // Envoy compares the serial numbers only.
            throw TLSConfigError("OCSP response does not match its TLS certificate", field: field)
        }
        var next: UnsafeMutablePointer<ASN1_GENERALIZEDTIME>?
        var reason: Int32 = 0
        _ = OCSP_single_get0_status(single, &reason, nil, nil, &next)
        self.response = response
        nextUpdate = next.flatMap(Self.seconds)
    }

    /// ASN1_TIME → seconds since the epoch.
    private static func seconds(_ time: UnsafeMutablePointer<ASN1_GENERALIZEDTIME>) -> Int64? {
        var tm = Glibc.tm()
        guard ASN1_TIME_to_tm(time, &tm) == 1 else { return nil }
        return Int64(timegm(&tm))
    }

    /// RFC 7633's TLS feature extension asking for `status_request` (5):
    /// the DER Envoy compares against (`SEQUENCE { INTEGER 5 }`).
    private static func hasMustStaple(_ leaf: OpaquePointer) -> Bool {
        let index = X509_get_ext_by_NID(leaf, NID_tlsfeature, -1)
        guard index >= 0, let extensionData = X509_get_ext(leaf, index),
              let data = X509_EXTENSION_get_data(extensionData) else { return false }
        let length = Int(ASN1_STRING_length(data))
        guard let bytes = ASN1_STRING_get0_data(data), length == 5 else { return false }
        return Array(UnsafeBufferPointer(start: bytes, count: length)) == [0x30, 0x03, 0x02, 0x01, 0x05]
    }
}

/// The server's status callback: runs only when the client sent
/// `status_request`; staples the selected certificate's response, goes on
/// without one, or fails the handshake, as the policy says. The engine
/// keeps the outcome for the `ssl.ocsp_staple_*` stats.
let tlsStapleOCSP: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Int32 = { ssl, _ in
    guard let ssl, let engine = TLSEngine.owning(ssl) else { return SSL_TLSEXT_ERR_NOACK }
    let context = engine.context
    let staples = context.staples
    var staple = staples.count == 1 ? staples.first : nil
    if staple == nil, let current = SSL_get_certificate(ssl) {
        let digest = Certificate.sha256Bytes(current)
        staple = staples.first { $0.leafDigest == digest }
    }
    guard let staple else {
        engine.ocspOutcome = .omit
        return SSL_TLSEXT_ERR_NOACK
    }
    let action = staple.action(context.settings.ocspStaplePolicy, now: Int64(time(nil)))
    engine.ocspOutcome = action
    switch action {
    case .staple:
        guard let response = staple.response,
              response.withUnsafeBufferPointer({ remora_ssl_staple_ocsp(ssl, $0.baseAddress, $0.count) }) == 1 else {
            return SSL_TLSEXT_ERR_ALERT_FATAL
        }
        return SSL_TLSEXT_ERR_OK
    case .omit:
        return SSL_TLSEXT_ERR_NOACK
    case .fail:
        return SSL_TLSEXT_ERR_ALERT_FATAL
    }
}

extension TLSContextGeneration {
    /// Checks every certificate's OCSP response (or its absence) against
    /// the policy, and has the server staple them.
    func loadStaples() throws(TLSConfigError) {
        let chains = [settings.certificateChainPEM ?? []] + settings.additionalCertificates.map(\.chain)
        for (i, chain) in chains.enumerated() {
            let certificates = PEM.certificates(chain)
            defer { for certificate in certificates { X509_free(certificate) } }
            guard let leaf = certificates.first else { continue }
            let response = i < settings.ocspStaples.count ? settings.ocspStaples[i] : nil
            staples.append(try OCSPStaple(leaf: leaf, response: response, policy: settings.ocspStaplePolicy,
                                          field: "common_tls_context.tls_certificates[\(i)]"))
        }
        remora_ssl_ctx_set_status_cb(context, tlsStapleOCSP, nil)
    }
}
