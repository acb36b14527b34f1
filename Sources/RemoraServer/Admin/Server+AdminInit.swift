import Foundation
import RemoraConfig
import RemoraTLS
import RemoraXDS

/// `/init_dump` and `/certs`, in Envoy 1.40's JSON.
extension Server {
    // MARK: - /init_dump

    /// Envoy's `/init_dump` (`?mask=listener` or none): each listener's
    /// init manager with the targets it still waits for. Before the workers
    /// start every listener initializes with the server and is listed
    /// (Envoy's active listeners then); after, the warming ones. Targets
    /// are named as Envoy names them: `shared target
    /// RdsRouteConfigSubscription RDS init <route>` for a route table not
    /// yet received, `shared target SdsApi <secret>` for a secret. The
    /// number after the listener's name is Envoy's hash of its config, here
    /// an xxHash64 of the listener's bytes (of its name for a bootstrap
    /// listener).
    func initDumpResponse(_ request: AdminRequest) -> AdminResponse {
        if let mask = request.query["mask"], !mask.isEmpty, mask != "listener" { return .json("{}\n") }
        var dumps: [(name: String, targets: [String])] = []
        func unready(_ listener: ListenerConfig, hash: UInt64, secrets: [String]) {
            var targets: [String] = []
            for reference in listener.rdsReferences where !(listenerManager?.routes.providers[reference]?.ready ?? true) {
                targets.append("shared target RdsRouteConfigSubscription RDS init \(reference.routeConfigName)")
            }
            for name in secrets where secretManager?.isWarming(name) ?? false { targets.append("shared target SdsApi \(name)") }
            dumps.append(("init manager Listener-local-init-manager \(listener.name) \(hash)", targets))
        }
        let entries = (listenerManager?.entries ?? [:]).sorted { $0.key < $1.key }
        if !workersStarted {
            for listener in config.listeners { unready(listener, hash: XXHash64.hash(listener.name), secrets: []) }
        }
        for (_, entry) in entries {
            guard let version = entry.warming ?? (workersStarted ? nil : entry.active) else { continue }
            unready(version.listener.config, hash: XXHash64.hash(version.listener.sourceBytes),
                    secrets: version.listener.sdsDependencies.flatMap { $0.secrets.map(\.name) })
        }
        guard !dumps.isEmpty else { return .json("{}\n") }
        let items = dumps.map { dump in
            "  {\n   \"name\": \(jsonString(dump.name))"
                + (dump.targets.isEmpty ? "" : ",\n   \"target_names\": [\n"
                    + dump.targets.map { "    " + jsonString($0) }.joined(separator: ",\n") + "\n   ]")
                + "\n  }"
        }
        return .json("{\n \"unready_targets_dumps\": [\n" + items.joined(separator: ",\n") + "\n ]\n}\n")
    }

    // MARK: - /certs

    /// Envoy's `/certs`: per TLS context, its CA certificate and its chains'
    /// leaves (`CertificateDetails`; no `ocsp_details`, see ARCHITECTURE).
    func certsResponse() -> AdminResponse {
        func stamp(_ seconds: Int64) -> String { "\"" + Self.rfc3339(Double(seconds), milliseconds: false) + "\"" }
        func details(_ d: TLSContext.CertificateDetails, indent: String) -> String {
            let sans = d.subjectAltNames.map { "\(indent)  {\n\(indent)   \"\($0.kind)\": \(jsonString($0.value))\n\(indent)  }" }
            return "\(indent){\n"
                + "\(indent) \"path\": \(jsonString(d.path).replacingOccurrences(of: "<", with: "\\u003c").replacingOccurrences(of: ">", with: "\\u003e")),\n"
                + "\(indent) \"serial_number\": \(jsonString(d.serialNumber)),\n"
                + "\(indent) \"subject_alt_names\": " + (sans.isEmpty ? "[]" : "[\n" + sans.joined(separator: ",\n") + "\n\(indent) ]") + ",\n"
                + "\(indent) \"days_until_expiration\": \"\(d.daysUntilExpiration)\",\n"
                + "\(indent) \"valid_from\": \(stamp(d.validFrom)),\n"
                + "\(indent) \"expiration_time\": \(stamp(d.expirationTime))\n"
                + "\(indent)}"
        }
        func list(_ items: [TLSContext.CertificateDetails]) -> String {
            items.isEmpty ? "[]" : "[\n" + items.map { details($0, indent: "    ") }.joined(separator: ",\n") + "\n   ]"
        }
        let sets = TLSContext.certificateSets(now: Int64(time(nil)))
        let items = sets.map { "  {\n   \"ca_cert\": \(list($0.caCertificates)),\n   \"cert_chain\": \(list($0.chainCertificates))\n  }" }
        return .json("{\n \"certificates\": " + (items.isEmpty ? "[]" : "[\n" + items.joined(separator: ",\n") + "\n ]") + "\n}\n")
    }
}
