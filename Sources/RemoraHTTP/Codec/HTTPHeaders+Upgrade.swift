import RemoraCore

// Upgrades across protocols, as Envoy's `Http::Utility` converts them: an
// HTTP/1 upgrade (`GET` + `Upgrade: <type>` + `Connection: upgrade`, answered
// `101`) and an HTTP/2 extended CONNECT (RFC 8441: `:method CONNECT` +
// `:protocol <type>`, answered `200`) are the same request to the connection
// manager and the router, which see the HTTP/1 shape. The HTTP/2 codec
// converts at its edge: the server side turns a received extended CONNECT
// into the upgrade and the `101` it is answered with into `200`; the client
// side turns an upgrade it sends into an extended CONNECT and the `200` it
// receives into `101`.
extension HTTPHeaders {
    /// Whether the head is an HTTP/1 upgrade (request or `101`): an `upgrade` field and
    /// the `upgrade` token in `connection` (Envoy's `Utility::isUpgrade`).
    public var isUpgrade: Bool {
        contains(name: "upgrade") && containsToken("upgrade", inFieldsNamed: "connection")
    }

    /// A received extended CONNECT becomes the HTTP/1 upgrade it stands for
    /// (`transformUpgradeRequestFromH2toH1`): `:method GET`, `upgrade:
    /// <protocol>`, `connection: upgrade`, no `:protocol`. Returns the
    /// protocol, or nil (nothing changed) for any other head.
    public mutating func upgradeFromExtendedConnect() -> ByteSlice? {
        guard let method = pseudo(":method"), method.withUnsafeBytes({ ASCII.equalsLowercase($0, "connect") }),
              let proto = pseudo(":protocol"), let at = firstIndex(name: ":protocol") else { return nil }
        set(name: ":method", value: "GET")
        remove(at: at)
        _ = remove(name: "upgrade")
        _ = remove(name: "connection")
        add(name: "upgrade", value: proto)
        add(name: "connection", value: "upgrade")
        return proto
    }

    /// An upgrade about to go out on HTTP/2 becomes an extended CONNECT
    /// (`transformUpgradeRequestFromH1toH2`): `:method CONNECT`, `:protocol`
    /// from `upgrade`, no `upgrade` or `connection`, and no `content-length:
    /// 0` (nghttp2 refuses a length on CONNECT). Returns the upgrade type;
    /// nil (nothing changed) when the head is no upgrade.
    public mutating func extendedConnectFromUpgrade() -> ByteSlice? {
        guard isUpgrade, let upgrade = first(name: "upgrade") else { return nil }
        set(name: ":method", value: "CONNECT")
        add(name: ":protocol", value: upgrade)
        _ = remove(name: "upgrade")
        _ = remove(name: "connection")
        removeZeroContentLength()
        return upgrade
    }

    /// Whether `:status` (wherever it is among the fields: a head on its
    /// way to a codec may have it last) is `101`.
    public var isSwitchingProtocols: Bool {
        guard let s = first(name: ":status") else { return false }
        return s.withUnsafeBytes { $0.elementsEqual("101".utf8) }
    }

    /// The answer to an upgrade, going out on HTTP/2
    /// (`transformUpgradeResponseFromH1toH2`): `101` becomes `200`; the
    /// upgrade fields and a `content-length: 0` go.
    public mutating func extendedConnectResponseFromUpgrade() {
        if isSwitchingProtocols { set(name: ":status", value: "200") }
        _ = remove(name: "upgrade")
        _ = remove(name: "connection")
        removeZeroContentLength()
    }

    /// The answer to an extended CONNECT, received on HTTP/2
    /// (`transformUpgradeResponseFromH2toH1`): `200` becomes `101` with
    /// `upgrade: <type>` and `connection: upgrade`; any other answer stays.
    public mutating func upgradeResponseFromExtendedConnect(upgrade: ByteSlice) {
        guard status == 200 else { return }
        set(name: ":status", value: "101")
        set(name: "upgrade", value: upgrade)
        set(name: "connection", value: "upgrade")
    }

    private mutating func removeZeroContentLength() {
        if let length = first(name: "content-length"), length.count == 1,
           length.withUnsafeBytes({ $0[0] == UInt8(ascii: "0") }) {
            _ = remove(name: "content-length")
        }
    }
}
