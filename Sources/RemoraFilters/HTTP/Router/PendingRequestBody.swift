import RemoraCore
import RemoraHTTP
import RemoraUpstream

/// What the router sends an attempt before its connection or stream is
/// ready: body slices (referenced, not copied), the end, trailers. Bounded
/// as a write buffer is: past `limit` it reports "above high watermark"
/// once, and the attempt tells its owner (which stops reading the
/// downstream) until the queue is handed on.
struct PendingRequestBody {
    private(set) var slices: [ByteSlice] = []
    private var bytes = 0
    private(set) var aboveHigh = false
    private(set) var ended = false
    private(set) var trailers: HTTPHeaders?
    let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    /// Queues `data`; returns true when the queue just went over its limit.
    mutating func append(_ data: ByteSlice, endStream: Bool) -> Bool {
        if endStream { ended = true }
        guard data.count > 0 else { return false }
        slices.append(data)
        bytes += data.count
        guard !aboveHigh, limit > 0, bytes > limit else { return false }
        aboveHigh = true
        return true
    }

    mutating func end(with trailers: HTTPHeaders) {
        ended = true
        self.trailers = trailers
    }

    /// Hands the queue on; returns whether it had gone over its limit (the
    /// owner then hears "below low watermark").
    mutating func drain() -> Bool {
        let wasAbove = aboveHigh
        slices.removeAll()
        bytes = 0
        trailers = nil
        aboveHigh = false
        return wasAbove
    }
}

extension UpstreamPoolFailure {
    /// The reset an attempt reports for a pool's failure, and Envoy's
    /// transport failure reason for a failed connect.
    var attemptOutcome: (reason: UpstreamResetReason, transportFailure: String?) {
        switch self {
        case .overflow: (.overflow, nil)
        case .connectFailure(let error):
            (error == .timedOut ? .connectionTimeout : .connectionFailure, error.connectFailureReason)
        }
    }
}
