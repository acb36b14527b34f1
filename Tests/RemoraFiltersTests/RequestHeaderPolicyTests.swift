import Testing
@testable import RemoraFilters

@Suite struct RequestHeaderPolicyTests {
    /// Envoy's `urlEncodeQueryParameter`: only unreserved characters stay.
    @Test func urlEncodingKeepsOnlyUnreservedCharacters() {
        #expect(RequestHeaderPolicy.urlEncoded("-----BEGIN CERTIFICATE-----\nab+/=\n") ==
                "-----BEGIN%20CERTIFICATE-----%0Aab%2B%2F%3D%0A")
        #expect(RequestHeaderPolicy.urlEncoded("AZaz09-._~") == "AZaz09-._~")
        #expect(RequestHeaderPolicy.urlEncoded("é") == "%C3%A9")
    }
}
