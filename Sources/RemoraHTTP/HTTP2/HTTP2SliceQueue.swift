import RemoraCore

/// A FIFO of body slices waiting to be framed. The front slice is held
/// inline, so a body sent as one chunk (the common case) costs no array.
struct HTTP2SliceQueue {
    private var front: ByteSlice?
    private var rest: [ByteSlice] = []
    private var restHead = 0

    var isEmpty: Bool { front == nil }

    mutating func append(_ slice: ByteSlice) {
        if front == nil { front = slice } else { rest.append(slice) }
    }

    /// Moves the first `count` bytes (≤ what is queued) to `output`.
    mutating func move(_ count: Int, into output: inout HTTP2Output) {
        var left = count
        while left > 0 {
            let f = front.unsafelyUnwrapped
            if f.count <= left {
                output.append(f)
                left -= f.count
                advance()
            } else {
                output.append(ByteSlice(storage: f.storage, offset: f.offset, count: left))
                front = f.dropFirst(left)
                left = 0
            }
        }
    }

    private mutating func advance() {
        if restHead < rest.count {
            front = rest[restHead]
            restHead += 1
            if restHead == rest.count {
                rest.removeAll(keepingCapacity: true)
                restHead = 0
            }
        } else {
            front = nil
        }
    }

    mutating func removeAll() {
        front = nil
        rest.removeAll()
        restHead = 0
    }
}
