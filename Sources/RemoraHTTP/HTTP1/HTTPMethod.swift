import RemoraCore

/// A request method. The 34 methods Envoy's HTTP/1 codec accepts by default
/// (balsa's list, which mirrors http-parser's) are known values compared by a
/// small code; any other token is a custom method, accepted only when the
/// codec allows custom methods (Envoy's `allow_custom_methods`).
public struct HTTPMethod: Hashable, Sendable, CustomStringConvertible {
    @usableFromInline let code: UInt8
    @usableFromInline let custom: String?

    @usableFromInline init(code: UInt8, custom: String? = nil) {
        self.code = code
        self.custom = custom
    }

    /// A method by name: a known one if `name` is one (exact case), else a custom one.
    public init(_ name: String) {
        if let i = Self.knownNames.firstIndex(of: name) {
            self.init(code: UInt8(i))
        } else {
            self.init(code: Self.customCode, custom: name)
        }
    }

    static let customCode: UInt8 = 0xFF

    /// Envoy's list, sorted as in `balsa_parser.cc`.
    static let knownNames: [String] = [
        "ACL", "BIND", "CHECKOUT", "CONNECT", "COPY", "DELETE", "GET",
        "HEAD", "LINK", "LOCK", "MERGE", "MKACTIVITY", "MKCALENDAR", "MKCOL",
        "MOVE", "MSEARCH", "NOTIFY", "OPTIONS", "PATCH", "POST", "PROPFIND",
        "PROPPATCH", "PURGE", "PUT", "REBIND", "REPORT", "SEARCH", "SOURCE",
        "SUBSCRIBE", "TRACE", "UNBIND", "UNLINK", "UNLOCK", "UNSUBSCRIBE",
    ]

    /// The known methods' names as bytes, for matching without Strings.
    static let knownBytes: [[UInt8]] = knownNames.map { Array($0.utf8) }

    public var name: String { custom ?? Self.knownNames[Int(code)] }
    public var description: String { name }
    public var isCustom: Bool { code == Self.customCode }
    /// GET, HEAD, DELETE, TRACE and CONNECT requests should carry no body
    /// (Envoy's `requestShouldHaveNoBody`: an empty one gets no
    /// `content-length: 0`).
    public var isBodiless: Bool {
        self == .get || self == .head || self == .delete || self == .trace || self == .connect
    }

    public static let acl = HTTPMethod(code: 0)
    public static let bind = HTTPMethod(code: 1)
    public static let checkout = HTTPMethod(code: 2)
    public static let connect = HTTPMethod(code: 3)
    public static let copy = HTTPMethod(code: 4)
    public static let delete = HTTPMethod(code: 5)
    public static let get = HTTPMethod(code: 6)
    public static let head = HTTPMethod(code: 7)
    public static let link = HTTPMethod(code: 8)
    public static let lock = HTTPMethod(code: 9)
    public static let merge = HTTPMethod(code: 10)
    public static let mkactivity = HTTPMethod(code: 11)
    public static let mkcalendar = HTTPMethod(code: 12)
    public static let mkcol = HTTPMethod(code: 13)
    public static let move = HTTPMethod(code: 14)
    public static let msearch = HTTPMethod(code: 15)
    public static let notify = HTTPMethod(code: 16)
    public static let options = HTTPMethod(code: 17)
    public static let patch = HTTPMethod(code: 18)
    public static let post = HTTPMethod(code: 19)
    public static let propfind = HTTPMethod(code: 20)
    public static let proppatch = HTTPMethod(code: 21)
    public static let purge = HTTPMethod(code: 22)
    public static let put = HTTPMethod(code: 23)
    public static let rebind = HTTPMethod(code: 24)
    public static let report = HTTPMethod(code: 25)
    public static let search = HTTPMethod(code: 26)
    public static let source = HTTPMethod(code: 27)
    public static let subscribe = HTTPMethod(code: 28)
    public static let trace = HTTPMethod(code: 29)
    public static let unbind = HTTPMethod(code: 30)
    public static let unlink = HTTPMethod(code: 31)
    public static let unlock = HTTPMethod(code: 32)
    public static let unsubscribe = HTTPMethod(code: 33)

    /// The known method spelled exactly by `bytes` (case-sensitive, RFC 9110 §9.1).
    static func known(_ bytes: UnsafeRawBufferPointer) -> HTTPMethod? {
        // The common ones first, without touching the table.
        if bytes.count == 3, bytes[0] == UInt8(ascii: "G"), bytes[1] == UInt8(ascii: "E"), bytes[2] == UInt8(ascii: "T") {
            return .get
        }
        if bytes.count == 4, bytes[0] == UInt8(ascii: "P"), bytes[1] == UInt8(ascii: "O"),
           bytes[2] == UInt8(ascii: "S"), bytes[3] == UInt8(ascii: "T") {
            return .post
        }
        for (i, name) in knownBytes.enumerated() where name.count == bytes.count && name.elementsEqual(bytes) {
            return HTTPMethod(code: UInt8(i))
        }
        return nil
    }

    /// The method spelled by `bytes` (an HTTP/2 `:method`): a known one, or a custom token.
    public init(bytes: ByteSlice) {
        if let known = bytes.withUnsafeBytes({ Self.known($0) }) {
            self = known
        } else {
            self.init(code: Self.customCode, custom: bytes.string)
        }
    }

    /// The method as it goes on the wire.
    func withNameBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        if let custom { return HTTPHeaders.withNameBytes(custom, body) }
        return Self.knownBytes[Int(code)].withUnsafeBytes(body)
    }
}

/// An HTTP version as read from the start line (`HTTP/<digit>.<digit>`).
/// Envoy treats every version other than 1.1 as 1.0.
public struct HTTPVersion: Hashable, Sendable, CustomStringConvertible {
    public var major: UInt8
    public var minor: UInt8

    public init(major: UInt8, minor: UInt8) {
        self.major = major
        self.minor = minor
    }

    public static let http1_1 = HTTPVersion(major: 1, minor: 1)
    public static let http1_0 = HTTPVersion(major: 1, minor: 0)
    /// A request line without a version.
    public static let http0_9 = HTTPVersion(major: 0, minor: 9)
    /// A request that came over HTTP/2.
    public static let http2 = HTTPVersion(major: 2, minor: 0)

    public var isHTTP11: Bool { major == 1 && minor == 1 }
    public var isHTTP2: Bool { major == 2 }
    /// As Envoy's `%PROTOCOL%` prints it (`HTTP/1.1`, `HTTP/2`).
    public var description: String { major == 2 ? "HTTP/2" : "HTTP/\(major).\(minor)" }
}
