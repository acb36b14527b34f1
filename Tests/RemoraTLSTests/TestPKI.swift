import Foundation

/// Certificates for the tests, made once per process with the `openssl`
/// CLI: a mesh CA with SPIFFE workload certificates (ECDSA P-256, and an
/// RSA-2048 server), and a foreign CA.
final class TestPKI: @unchecked Sendable {
    static let shared = TestPKI()
    let directory: String

    private init() {
        directory = NSTemporaryDirectory() + "remora-tls-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        ca("mesh-ca")
        ca("foreign-ca")
        leaf("server", ca: "mesh-ca", sans: "URI:spiffe://cluster.local/ns/default/sa/server,DNS:server.local,IP:127.0.0.1")
        leaf("server-rsa", ca: "mesh-ca", sans: "URI:spiffe://cluster.local/ns/default/sa/server", rsa: true)
        leaf("client", ca: "mesh-ca", sans: "URI:spiffe://cluster.local/ns/default/sa/client")
        leaf("foreign", ca: "foreign-ca", sans: "URI:spiffe://cluster.local/ns/default/sa/client")
        leaf("upn", ca: "mesh-ca", sans: "URI:spiffe://cluster.local/ns/default/sa/client,"
             + "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:alice@example.com,otherName:1.2.3.4;INTEGER:256,"
             + "otherName:1.2.3.5;BOOLEAN:TRUE,otherName:1.2.3.6;OBJECT:1.2.840.113549")
    }

    func pem(_ name: String) -> [UInt8] {
        Array(FileManager.default.contents(atPath: "\(directory)/\(name)") ?? Data())
    }

    private func openssl(_ arguments: [String]) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try? process.run()
        process.waitUntilExit()
        precondition(process.terminationStatus == 0, "openssl \(arguments.joined(separator: " ")) failed")
    }

    private func key(_ name: String, rsa: Bool = false) {
        openssl(rsa ? ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "\(name).key"]
                    : ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "\(name).key"])
    }

    private func ca(_ name: String) {
        key(name)
        openssl(["req", "-x509", "-new", "-key", "\(name).key", "-out", "\(name).crt", "-days", "30", "-subj", "/O=Remora tests/CN=\(name)",
                 "-addext", "basicConstraints=critical,CA:true", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    }

    private func leaf(_ name: String, ca: String, sans: String, rsa: Bool = false) {
        key(name, rsa: rsa)
        openssl(["req", "-new", "-key", "\(name).key", "-out", "\(name).csr", "-subj", "/O=Remora tests/CN=\(name)"])
        let ext = "basicConstraints=CA:false\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=\(sans)\n"
        FileManager.default.createFile(atPath: "\(directory)/\(name).ext", contents: Data(ext.utf8))
        openssl(["x509", "-req", "-in", "\(name).csr", "-CA", "\(ca).crt", "-CAkey", "\(ca).key", "-CAcreateserial",
                 "-out", "\(name).crt", "-days", "30", "-extfile", "\(name).ext"])
    }
}
