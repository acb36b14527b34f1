internal import CNGHTTP2

/// Facts about the linked nghttp2. The HTTP/2 codec arrives with its issue;
/// this module is the only importer of nghttp2.
public enum HTTP2Library {
    /// nghttp2's version string, e.g. "1.52.0".
    public static var version: String {
        guard let info = nghttp2_version(0) else { return "unknown" }
        return String(cString: info.pointee.version_str)
    }
}
