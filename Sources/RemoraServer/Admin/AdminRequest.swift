/// A request to the admin server: method, path and query. The admin server
/// reads only the head (request line and headers); its endpoints take no
/// body. This small reader serves the admin port until the HTTP/1 codec
/// lands in RemoraHTTP.
struct AdminRequest: Equatable {
    var method: String
    var path: String
    var query: [String: String]

    enum ParseResult: Equatable {
        case incomplete
        case invalid
        case request(AdminRequest, headLength: Int)
    }

    static let maxHeadBytes = 64 * 1024

    /// Parses the head from `bytes` if it is complete.
    static func parse(_ bytes: [UInt8]) -> ParseResult {
        guard let end = headEnd(bytes) else {
            return bytes.count > maxHeadBytes ? .invalid : .incomplete
        }
        guard let lineEnd = bytes.firstIndex(of: UInt8(ascii: "\r")) else { return .invalid }
        let parts = bytes[..<lineEnd].split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard parts.count == 3, parts[2].starts(with: Array("HTTP/1.".utf8)) else { return .invalid }
        let method = String(decoding: parts[0], as: UTF8.self)
        let target = String(decoding: parts[1], as: UTF8.self)
        guard !method.isEmpty, target.hasPrefix("/") else { return .invalid }
        var path = target
        var query: [String: String] = [:]
        if let q = target.firstIndex(of: "?") {
            path = String(target[..<q])
            for item in target[target.index(after: q)...].split(separator: "&") {
                let kv = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = percentDecode(String(kv[0]))
                query[key] = kv.count > 1 ? percentDecode(String(kv[1])) : ""
            }
        }
        return .request(AdminRequest(method: method, path: path, query: query), headLength: end)
    }

    private static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4)
        where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i + 4
        }
        return nil
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
    var body: String
    /// Run after the response is written (e.g. /quitquitquit).
    var afterWrite: (() -> Void)? = nil

    static func text(_ status: Int, _ body: String) -> AdminResponse {
        AdminResponse(status: status, contentType: "text/plain; charset=UTF-8", body: body)
    }

    static func json(_ body: String) -> AdminResponse {
        AdminResponse(status: 200, contentType: "application/json", body: body)
    }

    func serialized() -> [UInt8] {
        let reason: String
        switch status {
        case 200: reason = "OK"
        case 400: reason = "Bad Request"
        case 404: reason = "Not Found"
        case 405: reason = "Method Not Allowed"
        case 503: reason = "Service Unavailable"
        default: reason = "Unknown"
        }
        let bodyBytes = Array(body.utf8)
        var head = "HTTP/1.1 \(status) \(reason)\r\n"
        head += "content-type: \(contentType)\r\n"
        head += "cache-control: no-cache, max-age=0\r\n"
        head += "x-content-type-options: nosniff\r\n"
        head += "content-length: \(bodyBytes.count)\r\n"
        head += "connection: close\r\n\r\n"
        return Array(head.utf8) + bodyBytes
    }
}
