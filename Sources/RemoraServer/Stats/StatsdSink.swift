import RemoraConfig
import RemoraCore
import RemoraEventLoop

/// Envoy's UDP statsd sink (`envoy.stat_sinks.statsd`): every histogram
/// sample is sent by the thread that records it as `<prefix>.<name>:<ms>|ms`;
/// at each stats flush the main thread sends every used counter's change
/// since the last flush (`:<delta>|c`) and every used gauge (`:<value>|g`).
/// One datagram per metric, as Envoy sends them; full names, no tags.
///
/// "Used" is Envoy's flag: a gauge once it was set or changed, even back to
/// 0 (`StatsStore.Entry.used`); a counter once it is non-zero.
///
/// `record` runs on any thread and touches only immutable state and the
/// socket (`UDPSender`); `flush` and its bookkeeping run on the main thread
/// only. That split is why the `@unchecked Sendable` is safe.
final class StatsdSink: HistogramSampleSink, @unchecked Sendable {
    private let sender: UDPSender
    private let prefix: String
    private let matcher: StatsSettings.Matcher
    /// Main thread only: counter values at the last flush.
    private var lastCounters: [String: Int64] = [:]

    init(_ config: StatsSettings.Statsd, matcher: StatsSettings.Matcher) throws(EventLoopError) {
        sender = try UDPSender(connectingTo: config.address)
        prefix = config.prefix
        self.matcher = matcher
    }

    func record(scope: StatScope, index: Int, milliseconds: UInt64) {
        let name = scope.prefix + scope.names[index]
        guard matcher.accepts(name) else { return }
        sender.send("\(prefix).\(name):\(milliseconds)|ms")
    }

    /// Counters, then gauges, from a store snapshot (main thread).
    func flush(_ entries: [StatsStore.Entry]) {
        for entry in entries where entry.kind == .counter || entry.kind == .sparseCounter {
            guard matcher.accepts(entry.name), entry.value != 0 else { continue }
            let delta = entry.value - (lastCounters[entry.name] ?? 0)
            lastCounters[entry.name] = entry.value
            sender.send("\(prefix).\(entry.name):\(delta)|c")
        }
        for entry in entries where entry.kind == .gauge && entry.used {
            guard matcher.accepts(entry.name) else { continue }
            sender.send("\(prefix).\(entry.name):\(entry.value)|g")
        }
    }
}
