import RemoraConfig
import RemoraCore
import RemoraHTTP

/// `envoy.filters.http.health_check` (Envoy's `HealthCheckFilter`): a
/// request whose headers match is a health check. Outside pass-through mode
/// the filter answers it itself once the request has ended: 200, or 503
/// with the `LH` flag while the server is failed (`/healthcheck/fail`) or a
/// cluster of `cluster_min_healthy_percentages` has too few hosts. In
/// pass-through mode it lets health checks go on to the upstream unless the
/// server is failed. On the way back it marks the responses of health
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
            if !config.passThrough || context.health.isFailed { handling = true }
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
        if context.health.isFailed {
            status = 503
            details = "health_check_failed"
        } else {
            for (name, minimum) in config.clusterMinHealthyPercentages {
                details = "health_check_ok_cluster_healthy"
                guard let cluster = context.cluster(named: name) else {
                    status = 503
                    details = "health_check_failed_no_cluster_found"
                    stats.add(HealthCheckStat.failedClusterNotFound)
                    break
                }
                // Every host is healthy: Remora has no health checking yet.
                let total = UInt64(cluster.hostSet.hosts.count)
                let healthy = total
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
        callbacks.sendLocalReply(LocalReply(status: status, flag: ok ? nil : .failedLocalHealthCheck, details: details))
    }

    // MARK: - Encode

    func encodeHeaders(_ response: inout HTTPResponseMessage, endStream: Bool) -> FilterHeadersStatus {
        if isHealthCheck {
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
