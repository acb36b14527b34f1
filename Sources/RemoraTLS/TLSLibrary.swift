internal import COpenSSL

/// Facts about the linked OpenSSL, and its one-time set-up. This module is
/// the only importer of OpenSSL.
public enum TLSLibrary {
    /// "OpenSSL 3.0.x ..." as the library reports it at run time.
    public static var version: String {
        String(cString: OpenSSL_version(OPENSSL_VERSION))
    }

    /// Loads the library's error strings (once, thread-safely).
    private static let initialized: Void = {
        _ = OPENSSL_init_ssl(UInt64(OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS), nil)
    }()

    static func initialize() {
        _ = initialized
    }
}
