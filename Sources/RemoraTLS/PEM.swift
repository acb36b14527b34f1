internal import COpenSSL

/// PEM decoding from memory (certificates and keys come from files or
/// inline config alike, read into bytes at config time).
enum PEM {
    /// Every certificate in `pem`, in order; the caller frees them.
    static func certificates(_ pem: [UInt8]) -> [OpaquePointer] {
        withBIO(pem) { bio in
            var result: [OpaquePointer] = []
            while let certificate = PEM_read_bio_X509(bio, nil, nil, nil) {
                result.append(certificate)
            }
            // The loop ends on "no start line" at the end of the input.
            ERR_clear_error()
            return result
        }
    }

    /// Every CRL in `pem`, in order; the caller frees them.
    static func revocationLists(_ pem: [UInt8]) -> [OpaquePointer] {
        withBIO(pem) { bio in
            var result: [OpaquePointer] = []
            while let crl = PEM_read_bio_X509_CRL(bio, nil, nil, nil) {
                result.append(crl)
            }
            ERR_clear_error()
            return result
        }
    }

    /// The first private key in `pem` (decrypted with `password` when it is
    /// encrypted); the caller frees it.
    static func privateKey(_ pem: [UInt8], password: String? = nil) -> OpaquePointer? {
        withBIO(pem) { bio in
            guard let password else { return PEM_read_bio_PrivateKey(bio, nil, nil, nil) }
            // No callback and a user pointer: OpenSSL takes it as the passphrase.
            return password.withCString { PEM_read_bio_PrivateKey(bio, nil, nil, UnsafeMutableRawPointer(mutating: $0)) }
        }
    }

    private static func withBIO<R>(_ pem: [UInt8], _ body: (OpaquePointer) -> R) -> R {
        pem.withUnsafeBytes { bytes in
            let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(bytes.count))!
            defer { BIO_free(bio) }
            return body(bio)
        }
    }
}

/// OpenSSL's thread-local error queue, read and cleared.
enum TLSErrors {
    /// `error:0A000086:SSL routines::certificate verify failed; …`, emptied.
    static func drain() -> String {
        var parts: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            parts.append(text(code))
        }
        return parts.joined(separator: "; ")
    }

    static func text(_ code: UInt) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Envoy's transport failure reason for the queued errors:
    /// `TLS_error:|<code>:<library>:<function>:<REASON>:TLS_error_end`, one
    /// `|…` per error, with OpenSSL's code and its reason upper-cased with
    /// underscores as BoringSSL spells them. Empties the queue.
    static func envoyReason(fallback: String) -> String {
        var text = "TLS_error:"
        var any = false
        while case let code = ERR_get_error(), code != 0 {
            any = true
            let library = ERR_lib_error_string(code).map { String(cString: $0) } ?? "unknown library"
            let reason = ERR_reason_error_string(code).map { String(cString: $0) } ?? "unknown"
            let upper = reason.uppercased().replacingSpaces()
            text += "|\(code):\(library):OPENSSL_internal:\(upper)"
        }
        if !any { text += "|0:SSL routines:OPENSSL_internal:\(fallback)" }
        return text + ":TLS_error_end"
    }
}

extension String {
    fileprivate func replacingSpaces() -> String {
        String(map { $0 == " " ? "_" : $0 })
    }
}
