import RemoraConfig
import RemoraCore
import RemoraHTTP

/// `envoy.filters.http.health_check` (Envoy's `HealthCheckFilter`): a
/// request whose headers match is a health check. Outside pass-through mode
/// the filter answers it itself once the request has ended: 200, or 503
/// with the `LH` flag while the server is failed (`/healthcheck/fail`) or a
/// cluster of `cluster_min_healthy_percentages` has too few hosts. In
/// pass-through mode it lets health checks go on to the upstream unless the
/// server is failed or, with `cache_time`, a health check's answer is
/// cached (then it answers with the cached status). On the way back it marks the responses of health
/// checks with `x-envoy-upstream-healthchecked-cluster` (the node's
/// cluster) and, while the server is failed, every response with
/// `x-envoy-immediate-health-check-fail: true`.
///
/// One per stream, on the stream's loop; it holds its callbacks until the
/// stream is destroyed.
final class HealthCheckFilter: HTTPDecoderFilter, HTTPEncoderFilter {
    private let config: HealthCheckFilterConfig
    private let context: HTTPWorkerContext
    private let stats: Stats<HTTPStat>
    private var callbacks: HTTPDecoderFilterCallbacks?
    /// The request matched the headers (Envoy's `health_check_request_`).
    private var isHealthCheck = false
    /// The filter answers the request itself (Envoy's `handling_`).
    private var handling = false

    init(config: HealthCheckFilterConfig, context: HTTPWorkerContext, stats: Stats<HTTPStat>) {
        self.config = config
        self.context = context
        self.stats = stats
    }

    func setDecoderCallbacks(_ callbacks: HTTPDecoderFilterCallbacks) {
        self.callbacks = callbacks
    }

    func setEncoderCallbacks(_ callbacks: HTTPEncoderFilterCallbacks) {}

    // MARK: - Decode

    func decodeHeaders(_ request: inout HTTPRequestMessage, endStream: Bool) -> FilterHeadersStatus {
        let matchers = config.headers
        let matched = matchers.isEmpty || request.withRouteView { view in matchers.allSatisfy { $0.matches(view) } }
        if matched {
            isHealthCheck = true
            callbacks?.streamInfo.isHealthCheck = true
            if !config.passThrough || context.health.isFailed
                || config.cache?.cached(now: context.loop.nowMilliseconds) != nil {
                handling = true
            }
        }
        if endStream && handling { complete() }
        return handling ? .stopIteration : .continue
    }

    func decodeData(_ data: ByteSlice, endStream: Bool) -> FilterDataStatus {
        if endStream && handling { complete() }
        return handling ? .stopIterationNoBuffer : .continue
    }

    func decodeTrailers(_ trailers: inout HTTPHeaders) -> FilterTrailersStatus {
        if handling { complete() }
        return handling ? .stopIteration : .continue
    }

    /// Envoy's `onComplete`: the answer to a health check the filter handles.
    private func complete() {
        guard let callbacks else { return }
        stats.add(HealthCheckStat.requestTotal)
        var status = 200
        var details = "health_check_ok"
        var headers: [(String, String)] = []
        if context.health.isFailed {
            status = 503
            details = "health_check_failed"
        } else if let cache = config.cache {
            // Envoy answers from the last stored response here, even if its
            // period ended while this request's body came in.
            let cached = cache.cached(now: context.loop.nowMilliseconds) ?? cache.lastStored
            status = cached.status
            details = "health_check_cached"
            stats.add(HealthCheckStat.cachedResponse)
            if cached.degraded {
                stats.add(HealthCheckStat.degraded)
                headers.append(("x-envoy-degraded", ""))
            }
        } else {
            for (name, minimum) in config.clusterMinHealthyPercentages {
                details = "health_check_ok_cluster_healthy"
                guard let cluster = context.cluster(named: name) else {
                    status = 503
                    details = "health_check_failed_no_cluster_found"
                    stats.add(HealthCheckStat.failedClusterNotFound)
                    break
                }
                // Health as EDS says (Remora has no active health checking yet).
                let total = UInt64(cluster.hostSet.hosts.count)
                let healthy = UInt64(cluster.hostSet.healthyCount)
                if total == 0 {
                    if minimum == 0 { continue }
                    status = 503
                    details = "health_check_failed_cluster_empty"
                    stats.add(HealthCheckStat.failedClusterEmpty)
                    break
                }
                if 100 * healthy < total * minimum {
                    status = 503
                    details = "health_check_failed_cluster_unhealthy"
                    stats.add(HealthCheckStat.failedClusterUnhealthy)
                    break
                }
            }
        }
        let ok = status / 100 == 2
        stats.add(ok ? HealthCheckStat.ok : HealthCheckStat.failed)
        callbacks.sendLocalReply(LocalReply(status: status, flag: ok ? nil : .failedLocalHealthCheck, details: details,
                                            headers: headers))
    }

    // MARK: - Encode

    func encodeHeaders(_ response: inout HTTPResponseMessage, endStream: Bool) -> FilterHeadersStatus {
        if isHealthCheck {
            config.cache?.store(status: response.status, degraded: response.headers.contains(name: "x-envoy-degraded"),
                                now: context.loop.nowMilliseconds)
            response.headers.set(name: "x-envoy-upstream-healthchecked-cluster", value: context.localClusterName)
        }
        if context.health.isFailed {
            response.headers.set(name: "x-envoy-immediate-health-check-fail", value: "true")
        }
        return .continue
    }

    func encodeData(_ data: ByteSlice, endStream: Bool) -> FilterDataStatus { .continue }

    func encodeTrailers(_ trailers: inout HTTPHeaders) -> FilterTrailersStatus { .continue }

    func onStreamDestroyed() {
        callbacks = nil
    }
}
