import Testing
import RemoraAPI
import RemoraTLS
@testable import RemoraConfig

/// `match_typed_subject_alt_names` with `OTHER_NAME`: the OID picks the
/// otherName SANs, the string matcher reads their printed values.
@Suite struct SANMatcherTests {
    func otherName(_ oid: String, exact: String) throws -> SANMatcher {
        var san = Envoy_Extensions_TransportSockets_Tls_V3_SubjectAltNameMatcher()
        san.sanType = .otherName
        san.oid = oid
        san.matcher.exact = exact
        return try SANMatcher.compile(san, at: "m")
    }

    @Test func theOIDChoosesWhichOtherNamesCount() throws {
        let names = SubjectAltNames(uris: ["alice@example.com"], otherNames: [
            .init(oid: "1.3.6.1.4.1.311.20.2.3", value: "alice@example.com"), .init(oid: "1.2.3.4", value: "256")])
        #expect(try otherName("1.3.6.1.4.1.311.20.2.3", exact: "alice@example.com").matches(names))
        // A name the library knows reads as its OID.
        #expect(try otherName("msUPN", exact: "alice@example.com").matches(names))
        #expect(try otherName("1.2.3.4", exact: "256").matches(names))
        #expect(try !otherName("1.2.3.4", exact: "alice@example.com").matches(names))
        #expect(try !otherName("1.2.3.5", exact: "256").matches(names))
        // Only otherName SANs: a URI SAN with the same text does not count.
        #expect(try !otherName("1.2.3.4", exact: "alice@example.com").matches(SubjectAltNames(uris: ["alice@example.com"])))
    }

    @Test func anOIDThatNamesNothingIsRefusedInEnvoysWords() {
        #expect(throws: ConfigError.self) { try otherName("bogus", exact: "x") }
        do {
            _ = try otherName("", exact: "x")
            Issue.record("accepted")
        } catch {
            #expect("\(error)".contains("Failed to create SAN matcher for OTHER_NAME with OID: "))
            #expect("\(error)".contains("m.oid"))
        }
    }
}
