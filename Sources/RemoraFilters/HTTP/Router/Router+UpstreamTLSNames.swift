import RemoraConfig
import RemoraCore
import RemoraHTTP

extension Router {
    /// Envoy's router (`Filter::decodeHeaders`), before the route's header
    /// mutations: the request's host as the route rewrites it
    /// (`getRequestHostValue`), or every value of `override_auto_sni_header`
    /// joined with commas when the request has a non-empty one; its port
    /// dropped. `auto_sni` sends it as SNI unless it is an IP address;
    /// `auto_san_validation` requires the server's certificate to carry it.
    static func upstreamTLSOptions(_ names: UpstreamTLSNames, host: String, headers: HTTPHeaders) -> TransportSocketOptions {
        var value = host
        if let header = names.overrideHeader {
            let joined = headers.valueStrings(name: header).joined(separator: ",")
            if !joined.isEmpty { value = joined }
        }
        let (name, isIP) = parseAuthority(value)
        var options = TransportSocketOptions()
        if names.autoSNI && !isIP { options.serverName = String(name) }
        if names.autoSANValidation { options.verifySubjectAltNames = [String(name)] }
        return options
    }

    /// Envoy's `Http::Utility::parseAuthority`: the host without a valid
    /// port (`[::1]:80` → `::1`), and whether it is an IP address.
    static func parseAuthority(_ authority: String) -> (host: Substring, isIP: Bool) {
        var host = Substring(authority)
        if let colon = authority.lastIndex(of: ":"), authority.last != "]" {
            let port = authority[authority.index(after: colon)...]
            if !port.isEmpty, port.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = UInt64(port), value <= 65535 {
                host = authority[..<colon]
            }
        }
        var candidate = host
        if candidate.first == "[", candidate.last == "]" { candidate = candidate.dropFirst().dropLast() }
        if SocketAddress.ip(String(candidate), port: 0) != nil { return (candidate, true) }
        return (host, false)
    }
}
