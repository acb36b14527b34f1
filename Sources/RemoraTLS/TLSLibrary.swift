internal import COpenSSL

/// Facts about the linked OpenSSL. Contexts and sessions over memory BIOs
/// arrive with the TLS issue; this module is the only importer of OpenSSL.
public enum TLSLibrary {
    /// "OpenSSL 3.0.x ..." as the library reports it at run time.
    public static var version: String {
        String(cString: OpenSSL_version(OPENSSL_VERSION))
    }
}
