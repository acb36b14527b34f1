import RemoraHTTP

/// A request to the admin server: method, path and query, taken from a head
/// that RemoraHTTP's `HTTP1Parser` accepted. The endpoints take no body.
struct AdminRequest: Equatable {
    var method: String
    var path: String
    var query: [String: String]

    /// Splits `target` (origin-form, as the parser let it through) into the
    /// path and its percent-decoded query parameters; a repeated key keeps
    /// its last value.
    init(method: String, target: String) {
        self.method = method
        var path = target
        var query: [String: String] = [:]
        if let q = target.firstIndex(of: "?") {
            path = String(target[..<q])
            for item in target[target.index(after: q)...].split(separator: "&") {
                let kv = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = Self.percentDecode(String(kv[0]))
                query[key] = kv.count > 1 ? Self.percentDecode(String(kv[1])) : ""
            }
        }
        self.path = path
        self.query = query
    }

    static func percentDecode(_ s: String) -> String {
        var out: [UInt8] = []
        var bytes = Array(s.utf8)[...]
        while let b = bytes.popFirst() {
            if b == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else if b == UInt8(ascii: "%"), bytes.count >= 2,
                      let v = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16) {
                out.append(v)
                bytes = bytes.dropFirst(2)
            } else {
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// What an admin handler answers.
struct AdminResponse {
    var status: Int
    var contentType: String
    /// Bytes, so a large answer built as bytes (/clusters) is not copied
    /// into a String first.
    var body: [UInt8]
    /// Run after the response is written (e.g. /quitquitquit).
    var afterWrite: (() -> Void)? = nil

    static func text(_ status: Int, _ body: String) -> AdminResponse {
        text(status, Array(body.utf8))
    }

    static func text(_ status: Int, _ body: [UInt8]) -> AdminResponse {
        AdminResponse(status: status, contentType: "text/plain; charset=UTF-8", body: body)
    }

    static func json(_ body: String) -> AdminResponse {
        AdminResponse(status: 200, contentType: "application/json", body: Array(body.utf8))
    }

    /// The status line and headers; the body is written after them as it is.
    var head: [UInt8] {
        var head = "HTTP/1.1 \(status) \(HTTP1Encoder.reasonPhrase(for: status))\r\n"
        head += "content-type: \(contentType)\r\n"
        head += "cache-control: no-cache, max-age=0\r\n"
        head += "x-content-type-options: nosniff\r\n"
        head += "content-length: \(body.count)\r\n"
        head += "connection: close\r\n\r\n"
        return Array(head.utf8)
    }
}
