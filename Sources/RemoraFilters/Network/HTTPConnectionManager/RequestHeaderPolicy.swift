import RemoraConfig
import RemoraCore
import RemoraHTTP

/// What the connection manager does to every request's headers before the
/// filters see them (Envoy's `ConnectionManagerUtility::mutateRequestHeaders`):
/// hop-by-hop fields out, `x-forwarded-for`/`-proto`, `x-request-id`, and
/// Envoy's control headers from clients stripped.
enum RequestHeaderPolicy {
    /// `x-envoy-*` headers that steer Envoy; a client may not set them.
    static let envoyControlHeaders = [
        "x-envoy-internal", "x-envoy-retry-on", "x-envoy-retry-grpc-on", "x-envoy-max-retries",
        "x-envoy-upstream-rq-timeout-ms", "x-envoy-upstream-rq-per-try-timeout-ms",
        "x-envoy-expected-rq-timeout-ms", "x-envoy-hedge-on-per-try-timeout", "x-envoy-retriable-status-codes",
        "x-envoy-retriable-header-names", "x-envoy-upstream-alt-stat-name", "x-envoy-upstream-rq-timeout-alt-response",
        "x-envoy-is-timeout-retry", "x-envoy-decorator-operation", "x-envoy-downstream-service-cluster",
        "x-envoy-downstream-service-node", "x-envoy-force-trace", "x-envoy-original-path", "x-envoy-ip-tags",
    ]

    /// `requestID` gets the request's `x-request-id`, as bytes in the header storage.
    static func mutate(_ request: inout HTTPRequestMessage, manager: HTTPConnectionManager, requestID: inout ByteSlice?) {
        // Take the headers out of the request, so that mutating them does not copy them.
        var headers = HTTPHeaders()
        swap(&headers, &request.headers)
        let isUpgrade = headers.contains(name: "upgrade") && headers.containsToken("upgrade", inFieldsNamed: "connection")

        // Hop-by-hop fields (RFC 9110 §7.6.1), including those `Connection` names.
        for value in headers.valueStrings(name: "connection") {
            for token in value.split(separator: ",") {
                let name = token.trimmingSpaces().lowercased()
                if name.isEmpty || name == "close" || name == "keep-alive" || (isUpgrade && name == "upgrade") { continue }
                if name.hasPrefix(":") || name == "host" { continue }
                _ = headers.remove(name: name)
            }
        }
        if !isUpgrade { _ = headers.remove(name: "connection") }
        // Envoy's internal request (`mutateRequestHeaders`): with
        // use_remote_address, a client that sent no x-forwarded-for from an
        // internal address. It keeps Envoy's control headers (retries on
        // request, ...) and is marked `x-envoy-internal: true`. Remora does
        // not judge requests by x-forwarded-for without use_remote_address:
        // those are external.
        let isInternalRequest = manager.config.useRemoteAddress && !headers.contains(name: "x-forwarded-for")
            && isInternal(manager.connection.remoteAddress, manager.config.internalAddresses)
        let dropTE = headers.firstString(name: "te").map { $0.lowercased().trimmingSpaces() != "trailers" } ?? false
        // x-forwarded-client-cert (Envoy's `mutateXfccRequestHeader`): removed
        // unless told otherwise, and on connections without a client certificate.
        // (Only the mode is read per request: the details are an array.)
        let xfccMode = manager.config.forwardClientCert.mode
        let peer: SecurityInfo? = switch xfccMode {
        case .sanitize, .alwaysForwardOnly: nil
        default: manager.securityInfo.flatMap { $0.hasPeerCertificate ? $0 : nil }
        }
        let dropXFCC = xfccMode == .sanitize || (xfccMode != .alwaysForwardOnly && peer == nil)
        // One pass for the fixed hop-by-hop fields and Envoy's control headers.
        headers.removeFields { name in
            if !isInternalRequest, name.count > 8, HTTPHeaders.name(name, hasPrefix: "x-envoy-") {
                return envoyControlHeaders.contains(String(decoding: name, as: UTF8.self).lowercased())
            }
            switch name.count {
            case 2: return dropTE && HTTPHeaders.name(name, is: "te")
            case 7: return !isUpgrade && HTTPHeaders.name(name, is: "upgrade")
            case 10: return HTTPHeaders.name(name, is: "keep-alive")
            case 16: return HTTPHeaders.name(name, is: "proxy-connection")
            case 17: return HTTPHeaders.name(name, is: "transfer-encoding")
            case 23: return dropXFCC && HTTPHeaders.name(name, is: "x-forwarded-client-cert")
            default: return false
            }
        }

        var external = false
        if manager.config.useRemoteAddress {
            let remote = manager.connection.remoteAddress
            if !manager.config.skipXffAppend, let remote {
                let text = remote.isIP && isLoopback(remote) ? LocalHostAddress.forwardedForLoopback(remote) : remote.host
                if let existing = headers.firstString(name: "x-forwarded-for"), !existing.isEmpty {
                    headers.set(name: "x-forwarded-for", value: existing + "," + text)
                } else {
                    headers.set(name: "x-forwarded-for", value: text)
                }
            }
            external = !isInternal(remote, manager.config.internalAddresses)
            if manager.config.xffNumTrustedHops == 0 || !headers.contains(name: "x-forwarded-proto") {
                headers.set(name: "x-forwarded-proto", value: request.scheme)
            }
            if isInternalRequest { headers.set(name: "x-envoy-internal", value: "true") }
            if external {
                let address: String?
                if manager.config.xffNumTrustedHops > 0 {
                    let entries = (headers.firstString(name: "x-forwarded-for") ?? "").split(separator: ",").map { $0.trimmingSpaces() }
                    let index = entries.count - 1 - Int(manager.config.xffNumTrustedHops)
                    address = index >= 0 ? entries[index] : remote?.host
                } else {
                    address = remote?.host
                }
                if let address { headers.set(name: "x-envoy-external-address", value: address) }
            }
        } else if !headers.contains(name: "x-forwarded-proto") {
            headers.add(name: "x-forwarded-proto", value: request.scheme)
        }

        if let peer, xfccMode == .appendForward || xfccMode == .sanitizeSet {
            let details = forwardedClientCert(peer, details: manager.config.forwardClientCert.details, manager: manager)
            if xfccMode == .appendForward, let existing = headers.firstString(name: "x-forwarded-client-cert"), !existing.isEmpty {
                headers.set(name: "x-forwarded-client-cert", value: existing + "," + details)
            } else {
                headers.set(name: "x-forwarded-client-cert", value: details)
            }
        }

        if let via = manager.config.via {
            if let existing = headers.firstString(name: "via") {
                headers.set(name: "via", value: existing + ", " + via)
            } else {
                headers.add(name: "via", value: via)
            }
        }

        if let existing = headers.first(name: "x-request-id"), !(external && !manager.config.preserveExternalRequestId) {
            requestID = existing
        } else if manager.config.generateRequestId {
            withUnsafeTemporaryAllocation(byteCount: RequestIDGenerator.length, alignment: 1) { id in
                manager.context.requestIDs.next(into: id)
                headers.set(name: "x-request-id", value: UnsafeRawBufferPointer(id))
            }
            requestID = headers.first(name: "x-request-id")
        }
        request.headers = headers
    }

    /// The client certificate's element of `x-forwarded-client-cert`, as
    /// Envoy writes it: `By=` (our URI SANs), `Hash=`, then the configured
    /// details; PEMs URL-encoded.
    static func forwardedClientCert(_ peer: SecurityInfo, details: [ForwardClientCertConfig.Detail],
                                    manager: HTTPConnectionManager) -> String {
        var parts = peer.localURISANs.map { "By=" + $0 }
        parts.append("Hash=" + peer.peerCertificateDigest)
        let pems = details.contains(.cert) || details.contains(.chain) ? manager.connection.peerCertificatesPEM() : nil
        for detail in details {
            switch detail {
            case .subject: parts.append("Subject=\"" + peer.peerSubject + "\"")
            case .uri: parts += peer.peerURISANs.isEmpty ? ["URI="] : peer.peerURISANs.map { "URI=" + $0 }
            case .cert: if let pem = pems?.leaf, !pem.isEmpty { parts.append("Cert=\"" + urlEncoded(pem) + "\"") }
            case .chain: if let pem = pems?.chain, !pem.isEmpty { parts.append("Chain=\"" + urlEncoded(pem) + "\"") }
            case .dns: parts += peer.peerDNSSANs.map { "DNS=" + $0 }
            }
        }
        return parts.joined(separator: ";")
    }

    /// Envoy's `urlEncodeQueryParameter`: all but `A-Z a-z 0-9 - . _ ~` as `%XX`.
    static func urlEncoded(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count * 2)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func isLoopback(_ address: SocketAddress) -> Bool {
        switch address {
        case .v4(let a, _): return a >> 24 == 127
        case .v6(let h, let l, _): return h == 0 && l == 1
        case .unix: return false
        }
    }

    /// Envoy 1.40's default treats no address as internal; `internal_address_config` lists the rest.
    static func isInternal(_ address: SocketAddress?, _ config: InternalAddressConfig) -> Bool {
        guard let address else { return config.unixSockets }
        return config.isInternal(address)
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
