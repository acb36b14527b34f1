import RemoraCore

/// One `HTTP1Encoder` per worker loop, shared by that loop's HTTP/1 server
/// codecs and upstream requests: heads are written into one scratch block
/// carved up between them, not a block per connection; translated request
/// heads reference its pseudo-header bytes, and what the proxy adds to the
/// heads the codecs parse goes into one shared header arena. Lives on its loop.
public final class HTTP1SharedEncoder {
    public var encoder: HTTP1Encoder
    /// What the server codecs' translated heads reference.
    let pseudoBytes = PseudoHeaderBytes()
    /// Lent to every head the loop's HTTP/1 codecs parse (requests and responses).
    public let headerArena = HTTPHeaderArena()

    public init(_ encoder: HTTP1Encoder) {
        self.encoder = encoder
    }
}
