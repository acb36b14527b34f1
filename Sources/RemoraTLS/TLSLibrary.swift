internal import COpenSSL

/// Facts about the linked OpenSSL, and its one-time set-up. This module is
/// the only importer of OpenSSL.
public enum TLSLibrary {
    /// "OpenSSL 3.0.x ..." as the library reports it at run time.
    public static var version: String {
        String(cString: OpenSSL_version(OPENSSL_VERSION))
    }

    /// The `SSL` ex-data slot that points back at a session's `TLSEngine`;
    /// reading it first loads the library's strings (once, thread-safely).
    static let engineIndex: Int32 = {
        OPENSSL_init_ssl(UInt64(OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS), nil)
        return CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL, 0, nil, nil, nil, nil)
    }()

    static func initialize() {
        _ = engineIndex
    }
}
