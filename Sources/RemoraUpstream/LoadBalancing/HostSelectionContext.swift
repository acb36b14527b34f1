import RemoraCore

/// What a cluster may know about the connection or request it picks a host
/// for (Envoy's `LoadBalancerContext`, as far as Remora's balancers read
/// it). Made by tcp_proxy and the router; a plain value, no references.
public struct HostSelectionContext: Sendable {
    /// The downstream connection's local address when the `original_dst`
    /// listener filter restored it (Envoy's `localAddressRestored()`), else nil.
    public var originalDestination: SocketAddress?
    /// The request's override-host header (ORIGINAL_DST's `use_http_header`),
    /// as it arrived: `ip:port` or `[ipv6]:port`.
    public var overrideHost: String?

    public init(originalDestination: SocketAddress? = nil, overrideHost: String? = nil) {
        self.originalDestination = originalDestination
        self.overrideHost = overrideHost
    }

    /// `1.2.3.4:80` or `[::1]:80` (Envoy's `parseInternetAddressAndPortNoThrow`); nil otherwise.
    static func parseHostAndPort(_ text: String) -> SocketAddress? {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portText = rest.dropFirst()
            guard host.contains(":") else { return nil }
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard !host.contains(":") else { return nil }
        }
        guard !portText.isEmpty, portText.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), portText.count <= 5,
              let port = UInt16(portText) else { return nil }
        return SocketAddress.ip(String(host), port: port)
    }
}
