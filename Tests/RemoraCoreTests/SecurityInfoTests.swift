import Testing
import RemoraCore

/// `SecurityInfo` keeps its fields in one shared box: copies share it until
/// one of them is written, and then only the written copy changes.
@Suite struct SecurityInfoTests {
    @Test func aWrittenCopyLeavesTheOriginalAlone() {
        var original = SecurityInfo(serverName: "a.example", alpn: "h2", version: "TLSv1.3", cipher: "TLS_AES_128_GCM_SHA256")
        original.peerURISANs = ["spiffe://cluster.local/ns/default/sa/client"]
        var copy = original
        #expect(copy == original)
        copy.peerURISANs.append("spiffe://cluster.local/ns/default/sa/other")
        copy.peerCertificateDigest = "ab"
        #expect(original.peerURISANs == ["spiffe://cluster.local/ns/default/sa/client"])
        #expect(!original.hasPeerCertificate)
        #expect(copy.peerURISANs.count == 2)
        #expect(copy.hasPeerCertificate)
        #expect(copy != original)
    }

    @Test func valuesWithTheSameFieldsAreEqual() {
        var fields = SecurityInfo.Fields(serverName: nil, alpn: nil, version: "TLSv1.2", cipher: "ECDHE-ECDSA-AES128-GCM-SHA256")
        fields.sessionID = "0a"
        var built = SecurityInfo(serverName: nil, alpn: nil, version: "TLSv1.2", cipher: "ECDHE-ECDSA-AES128-GCM-SHA256")
        built.sessionID = "0a"
        #expect(SecurityInfo(fields) == built)
        #expect(built.version == "TLSv1.2")
    }
}
