/// Envoy's `JitteredExponentialBackOffStrategy` as `GrpcStream` uses it for
/// xDS streams (`SubscriptionFactory::RetryInitialDelayMs` 500 ms,
/// `RetryMaxDelayMs` 30 s): each delay is uniform in [0, interval), and the
/// interval doubles up to the maximum. A received message resets it.
struct XDSBackOff {
    static let baseMilliseconds: UInt64 = 500
    static let maxMilliseconds: UInt64 = 30_000

    let base: UInt64
    let max: UInt64
    private var next: UInt64
    private var random: any RandomNumberGenerator

    init(base: UInt64 = baseMilliseconds, max: UInt64 = maxMilliseconds, random: any RandomNumberGenerator = SystemRandomNumberGenerator()) {
        precondition(base > 0 && base <= max)
        self.base = base
        self.max = max
        self.next = base
        self.random = random
    }

    /// The current interval: the next delay is below it.
    var interval: UInt64 { next }

    mutating func nextMilliseconds() -> UInt64 {
        let backoff = next
        next = next < max / 2 ? next * 2 : max
        return Swift.min(random.next() % backoff, max)
    }

    mutating func reset() { next = base }
}
