/// A stream's read holds on an HTTP/1 connection. HTTP/1 has no stream
/// window, so a hold is one read-disable count on the connection; both
/// codecs count them here and give back what is left when the stream ends.
struct HTTP1ReadHolds {
    private(set) var count = 0

    /// Whether the connection hears this change: a hold is taken only for
    /// an open stream, and only holds taken are given back.
    mutating func change(_ disable: Bool, streamOpen: Bool) -> Bool {
        if disable {
            guard streamOpen else { return false }
            count += 1
            return true
        }
        guard count > 0 else { return false }
        count -= 1
        return true
    }

    /// The stream ended: how many holds the connection gets back.
    mutating func releaseAll() -> Int {
        defer { count = 0 }
        return count
    }
}
