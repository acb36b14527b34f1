/// Envoy's stat-name rules.
public enum StatNames {
    /// Envoy replaces ':' in stat name segments that come from addresses
    /// (`127.0.0.1:80` → `127.0.0.1_80`, `[::1]:80` → `[__1]_80`).
    public static func sanitize(_ segment: String) -> String {
        String(segment.map { $0 == ":" ? "_" : $0 })
    }
}
