import RemoraCore

/// One `HTTP1Encoder` per worker loop, shared by that loop's HTTP/1 server
/// codecs and upstream requests: heads are written into one scratch block
/// carved up between them, not a block per connection. Lives on its loop.
public final class HTTP1SharedEncoder {
    public var encoder: HTTP1Encoder

    public init(_ encoder: HTTP1Encoder) {
        self.encoder = encoder
    }
}
