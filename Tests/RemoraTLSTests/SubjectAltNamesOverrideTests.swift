import Testing
@testable import RemoraTLS

/// Envoy's `dnsNameMatch` and `verifySubjectAltName`, which auto SAN
/// validation checks a server's certificate with.
@Suite struct SubjectAltNamesOverrideTests {
    @Test(arguments: [
        ("api.example.com", "api.example.com", true),
        ("API.Example.COM", "api.example.com", true),
        ("api.example.com", "*.example.com", true),
        ("a.b.example.com", "*.example.com", false),
        ("example.com", "*.example.com", false),
        ("foo-bar.example.com", "foo*.example.com", true),
        ("foo.example.com", "foo*.example.com", true),
        ("bar.example.com", "foo*.example.com", false),
        ("xn--abc.example.com", "xn--*.example.com", false),
        ("api.example.com", "api.*.com", false),
        ("api.example.com", "*.*.com", false),
        ("localhost", "*", false),
    ])
    func dnsNameMatch(name: String, pattern: String, matches: Bool) {
        #expect(SubjectAltNames.dnsName(name, matches: pattern) == matches)
    }

    @Test func otherSANTypesMatchExactly() {
        let names = SubjectAltNames(uris: ["spiffe://td/ns/a/sa/b"], dnsNames: ["*.svc.local"], ipAddresses: ["10.0.0.1"])
        #expect(names.matchesAny(of: ["x.svc.local"]))
        #expect(names.matchesAny(of: ["10.0.0.1"]))
        #expect(names.matchesAny(of: ["spiffe://td/ns/a/sa/b"]))
        #expect(!names.matchesAny(of: ["spiffe://td/ns/a/sa/B"]))
        #expect(!names.matchesAny(of: ["10.0.0.2", "svc.local"]))
    }
}
