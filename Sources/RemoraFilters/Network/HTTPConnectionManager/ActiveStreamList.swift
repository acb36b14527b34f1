/// The connection manager's streams, whatever the codec (Envoy's
/// `streams_` list): HTTP/1 has at most one, HTTP/2 any number. Intrusive
/// (the links live in `ActiveStream`), so adding and removing a stream
/// allocates nothing and hashes nothing. The list holds its streams
/// strongly until they are removed; on the connection's loop.
struct ActiveStreamList {
    private(set) var first: ActiveStream?
    private(set) var count = 0

    var isEmpty: Bool { first == nil }

    mutating func insert(_ stream: ActiveStream) {
        precondition(!stream.isListed, "ActiveStreamList: stream listed twice")
        stream.isListed = true
        stream.listNext = first
        first?.listPrevious = stream
        stream.listPrevious = nil
        first = stream
        count += 1
    }

    /// Removes `stream`; false if it was not listed.
    @discardableResult
    mutating func remove(_ stream: ActiveStream) -> Bool {
        guard stream.isListed else { return false }
        stream.isListed = false
        if let previous = stream.listPrevious { previous.listNext = stream.listNext } else { first = stream.listNext }
        stream.listNext?.listPrevious = stream.listPrevious
        stream.listNext = nil
        stream.listPrevious = nil
        count -= 1
        return true
    }

    /// Calls `body` with each stream listed now; `body` may remove streams
    /// (the one it got or any other) as it goes.
    func forEach(_ body: (ActiveStream) -> Void) {
        var snapshot: [ActiveStream] = []
        snapshot.reserveCapacity(count)
        var s = first
        while let stream = s {
            snapshot.append(stream)
            s = stream.listNext
        }
        for stream in snapshot where stream.isListed { body(stream) }
    }

    mutating func removeAll() {
        while let stream = first { remove(stream) }
    }
}
