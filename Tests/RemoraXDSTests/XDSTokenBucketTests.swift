import Testing
@testable import RemoraXDS

/// `rate_limit_settings`' bucket as Envoy's `TokenBucketImpl` fills it.
@Suite struct XDSTokenBucketTests {
    /// What `consume` answers at each time, in order.
    func takes(_ bucket: inout XDSTokenBucket, at times: [UInt64]) -> [Bool] {
        times.map { bucket.consume(nowMilliseconds: $0) }
    }

    @Test func startsFullAndRefillsAtTheFillRate() {
        var bucket = XDSTokenBucket(maxTokens: 2, fillRatePerSecond: 4, nowMilliseconds: 1_000)
        #expect(takes(&bucket, at: [1_000, 1_000, 1_000]) == [true, true, false])
        // 4 a second: one token every 250 ms.
        #expect(bucket.millisecondsToNextToken() == 250)
        #expect(takes(&bucket, at: [1_200]) == [false])
        #expect(bucket.millisecondsToNextToken() == 50)
        #expect(takes(&bucket, at: [1_250, 1_250]) == [true, false])
    }

    @Test func neverHoldsMoreThanMaxTokens() {
        var bucket = XDSTokenBucket(maxTokens: 3, fillRatePerSecond: 10, nowMilliseconds: 0)
        #expect(takes(&bucket, at: [0, 0, 0]) == [true, true, true])
        // An hour idle refills three tokens, not 36,000.
        #expect(takes(&bucket, at: [3_600_000, 3_600_000, 3_600_000, 3_600_000]) == [true, true, true, false])
        #expect(bucket.millisecondsToNextToken() == 100)
    }
}
