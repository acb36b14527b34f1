/// Envoy's `--drain-strategy`: how the connections of a draining listener
/// are told to go.
public enum DrainStrategy: String, Sendable, CaseIterable {
    /// Each response closes its connection with a probability that rises
    /// from 0 to 1 over the drain time (Envoy's default).
    case gradual
    /// Every connection is told at its first chance.
    case immediate
}

/// One drain sequence (a listener removed or changed, `/drain_listeners`) as
/// each of its connections sees it: when it began, how long it lasts, and the
/// strategy. A plain value, made once per drain and copied into the
/// connections it reaches; nothing on the data path reads it until a drain
/// begins.
public struct DrainSchedule: Sendable, Equatable {
    /// On the loops' monotonic clock (`EventLoop.nowMilliseconds`).
    public let startMilliseconds: UInt64
    /// `--drain-time-s`.
    public let durationSeconds: UInt64
    public let strategy: DrainStrategy

    public init(startMilliseconds: UInt64, durationSeconds: UInt64, strategy: DrainStrategy) {
        self.startMilliseconds = startMilliseconds
        self.durationSeconds = durationSeconds
        self.strategy = strategy
    }

    /// Whether a response sent at `now` closes its connection (HTTP/1:
    /// `connection: close`; HTTP/2: GOAWAY), given a uniformly random
    /// `random`. Envoy's `Network::shouldDrainClose`: immediate always;
    /// gradual with probability elapsed / drain time, the elapsed time in
    /// whole seconds (so never in the first second of a drain longer than
    /// one), and always once the drain time is over.
    public func closesConnection(atMilliseconds now: UInt64, random: UInt64) -> Bool {
        guard strategy == .gradual else { return true }
        let elapsed = now > startMilliseconds ? (now - startMilliseconds) / 1000 : 0
        if elapsed >= durationSeconds { return true }
        return elapsed > random % durationSeconds
    }

    /// When the drain time is over.
    public var endMilliseconds: UInt64 { startMilliseconds + durationSeconds * 1000 }
}
