extension SubjectAltNames {
    /// Envoy's `DefaultCertValidator::verifySubjectAltName`: one of the
    /// certificate's SANs equals one of `names` — a DNS SAN as a host-name
    /// pattern (`Utility::dnsNameMatch`), any other SAN as exact text.
    func matchesAny(of names: [String]) -> Bool {
        for pattern in dnsNames where names.contains(where: { Self.dnsName($0, matches: pattern) }) { return true }
        for san in uris + ipAddresses + emails where names.contains(san) { return true }
        return false
    }

    /// Envoy's `Utility::dnsNameMatch(dns_name, pattern)`: case-insensitive
    /// equality, or a pattern whose left-most label (not an A-label `xn--`)
    /// holds one `*` standing for any run of characters in that label, the
    /// rest equal (`*.example.com`, `foo*.example.com`).
    static func dnsName(_ name: String, matches pattern: String) -> Bool {
        let name = name.lowercased()
        let pattern = pattern.lowercased()
        if name == pattern { return true }
        guard let patternDot = pattern.firstIndex(of: "."), let nameDot = name.firstIndex(of: ".") else { return false }
        let patternLabel = pattern[..<patternDot]
        guard patternLabel.contains("*"), !pattern[patternDot...].contains("*"), !patternLabel.hasPrefix("xn--"),
              name[nameDot...] == pattern[patternDot...] else { return false }
        let label = name[..<nameDot]
        if patternLabel == "*" { return true }
        let parts = patternLabel.split(separator: "*", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return false }
        return patternLabel.count <= label.count + 1 && label.hasPrefix(parts[0]) && label.hasSuffix(parts[1])
    }
}
