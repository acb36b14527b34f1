/// Envoy's `TokenBucketImpl` as `GrpcStream` uses it for `rate_limit_settings`:
/// it starts full (`maxTokens`), refills at `fillRatePerSecond` up to
/// `maxTokens`, and each request sent takes one token. A plain value over a
/// caller's clock (milliseconds), so tests drive it without timers.
struct XDSTokenBucket {
    let maxTokens: Double
    let fillRatePerSecond: Double
    private(set) var tokens: Double
    private var lastFillMilliseconds: UInt64

    init(maxTokens: UInt32, fillRatePerSecond: Double, nowMilliseconds: UInt64) {
        precondition(fillRatePerSecond > 0)
        self.maxTokens = Double(maxTokens)
        self.fillRatePerSecond = fillRatePerSecond
        tokens = Double(maxTokens)
        lastFillMilliseconds = nowMilliseconds
    }

    /// Takes one token if there is one.
    mutating func consume(nowMilliseconds: UInt64) -> Bool {
        if tokens < maxTokens {
            let elapsed = Double(nowMilliseconds &- lastFillMilliseconds) / 1000
            tokens = Swift.min(tokens + elapsed * fillRatePerSecond, maxTokens)
        }
        lastFillMilliseconds = nowMilliseconds
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    /// How long until a token is there (0: now).
    func millisecondsToNextToken() -> UInt64 {
        guard tokens < 1 else { return 0 }
        return UInt64(((1 - tokens) / fillRatePerSecond * 1000).rounded(.up))
    }
}
