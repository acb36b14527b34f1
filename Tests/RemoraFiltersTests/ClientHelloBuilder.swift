import Foundation

/// Builds TLS ClientHellos byte by byte for the TLS inspector's tests, with
/// every field open to breaking.
struct ClientHelloBuilder {
    var legacyVersion: UInt16 = 0x0303
    var sessionID: [UInt8] = Array(repeating: 7, count: 32)
    var ciphers: [UInt16] = [0x1301, 0xC02F]
    var compression: [UInt8] = [0]
    var extensions: [(UInt16, [UInt8])] = [ClientHelloBuilder.supportedVersions([0x0304, 0x0303])]
    /// Leave out the extensions block entirely (not even its length).
    var noExtensionBlock = false

    static func u16(_ v: Int) -> [UInt8] { [UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)] }
    static func u24(_ v: Int) -> [UInt8] { [UInt8(truncatingIfNeeded: v >> 16)] + u16(v) }
    static func u8Prefixed(_ b: [UInt8]) -> [UInt8] { [UInt8(b.count)] + b }
    static func u16Prefixed(_ b: [UInt8]) -> [UInt8] { u16(b.count) + b }

    static func sni(_ name: String) -> (UInt16, [UInt8]) {
        (0, u16Prefixed([0] + u16Prefixed(Array(name.utf8))))
    }

    static func alpn(_ names: [String]) -> (UInt16, [UInt8]) {
        (16, u16Prefixed(names.flatMap { u8Prefixed(Array($0.utf8)) }))
    }

    static func supportedVersions(_ versions: [UInt16]) -> (UInt16, [UInt8]) {
        (43, u8Prefixed(versions.flatMap { u16(Int($0)) }))
    }

    static func padding(_ count: Int) -> (UInt16, [UInt8]) { (21, Array(repeating: 0, count: count)) }

    var body: [UInt8] {
        var b = Self.u16(Int(legacyVersion)) + Array(repeating: 0xAB, count: 32) + Self.u8Prefixed(sessionID)
        b += Self.u16Prefixed(ciphers.flatMap { Self.u16(Int($0)) }) + Self.u8Prefixed(compression)
        if !noExtensionBlock {
            b += Self.u16Prefixed(extensions.flatMap { Self.u16(Int($0.0)) + Self.u16Prefixed($0.1) })
        }
        return b
    }

    /// The handshake message: type 1, u24 length, body.
    var message: [UInt8] { [1] + Self.u24(body.count) + body }

    /// The message in handshake records of at most `fragment` bytes each.
    func records(fragment: Int = 16384, recordVersion: UInt16 = 0x0301) -> [UInt8] {
        Self.records(message, fragment: fragment, recordVersion: recordVersion)
    }

    static func records(_ payload: [UInt8], type: UInt8 = 22, fragment: Int = 16384, recordVersion: UInt16 = 0x0301) -> [UInt8] {
        var out: [UInt8] = []
        var at = 0
        repeat {
            let piece = Array(payload[at..<min(payload.count, at + fragment)])
            out += [type] + u16(Int(recordVersion)) + u16(piece.count) + piece
            at += fragment
        } while at < payload.count
        return out
    }
}
