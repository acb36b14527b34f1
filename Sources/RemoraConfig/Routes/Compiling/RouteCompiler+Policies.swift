import RemoraAPI

/// Retry, mirror and hash policies of a route (retry and mirror policies also of a virtual host).
extension RouteCompiler {
    static func compileRetryPolicy(_ config: Envoy_Config_Route_V3_RetryPolicy, at path: String) throws(ConfigError) -> RetryPolicy {
        try SupportedFields.require(config, only: [
            "retry_on", "num_retries", "per_try_timeout", "per_try_idle_timeout", "retry_host_predicate",
            "host_selection_retry_max_attempts", "retriable_status_codes", "retry_back_off", "retriable_headers",
            "retriable_request_headers",
        ], at: path)
        var base: UInt64 = 25
        var max: UInt64? = nil
        if config.hasRetryBackOff {
            let bp = FieldPath.join(path, "retry_back_off")
            try SupportedFields.require(config.retryBackOff, only: ["base_interval", "max_interval"], at: bp)
            guard config.retryBackOff.hasBaseInterval else { throw .missing(at: FieldPath.join(bp, "base_interval")) }
            // Envoy rounds sub-millisecond intervals up to 1 ms.
            base = Swift.max(1, try ConfigCompiler.milliseconds(config.retryBackOff.baseInterval, at: FieldPath.join(bp, "base_interval")))
            if config.retryBackOff.hasMaxInterval {
                let m = Swift.max(1, try ConfigCompiler.milliseconds(config.retryBackOff.maxInterval, at: FieldPath.join(bp, "max_interval")))
                guard m >= base else {
                    throw .invalid("retry_policy.max_interval must greater than or equal to the base_interval", at: FieldPath.join(bp, "max_interval"))
                }
                max = m
            }
        }
        var predicates: [RetryHostPredicate] = []
        for (i, predicate) in config.retryHostPredicate.enumerated() {
            let pp = FieldPath.index(FieldPath.join(path, "retry_host_predicate"), i)
            try SupportedFields.require(predicate, only: ["name", "typed_config"], at: pp)
            if case .typedConfig(let any)? = predicate.configType {
                let type = TypeURL.messageName(any.typeURL)
                guard type == "envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate" else {
                    throw .unsupported("unsupported type \(type)", at: FieldPath.join(pp, "typed_config"))
                }
            } else if predicate.name != "envoy.retry_host_predicates.previous_hosts" {
                throw .unsupported("unsupported retry host predicate '\(predicate.name)'", at: FieldPath.join(pp, "name"))
            }
            predicates.append(.previousHosts)
        }
        var retriableHeaders: [HeaderMatcher] = []
        for (i, h) in config.retriableHeaders.enumerated() {
            retriableHeaders.append(try HeaderMatcher.compile(h, at: FieldPath.index(FieldPath.join(path, "retriable_headers"), i)))
        }
        var retriableRequestHeaders: [HeaderMatcher] = []
        for (i, h) in config.retriableRequestHeaders.enumerated() {
            retriableRequestHeaders.append(try HeaderMatcher.compile(h, at: FieldPath.index(FieldPath.join(path, "retriable_request_headers"), i)))
        }
        return RetryPolicy(
            retryOn: RetryOn.parse(config.retryOn),
            numRetries: config.hasNumRetries ? config.numRetries.value : 1,
            perTryTimeoutMilliseconds: config.hasPerTryTimeout
                ? try ConfigCompiler.milliseconds(config.perTryTimeout, at: FieldPath.join(path, "per_try_timeout")) : 0,
            perTryIdleTimeoutMilliseconds: config.hasPerTryIdleTimeout
                ? try ConfigCompiler.milliseconds(config.perTryIdleTimeout, at: FieldPath.join(path, "per_try_idle_timeout")) : 0,
            retriableStatusCodes: config.retriableStatusCodes,
            backOffBaseMilliseconds: base,
            backOffMaxMilliseconds: max ?? base * 10,
            hostPredicates: predicates,
            hostSelectionRetryMaxAttempts: config.hostSelectionRetryMaxAttempts != 0 ? config.hostSelectionRetryMaxAttempts : 1,
            retriableHeaders: retriableHeaders,
            retriableRequestHeaders: retriableRequestHeaders)
    }

    /// Mirror policies as configured at one level; their clusters are
    /// checked per route that ends up using them (`recordMirrorReferences`), as Envoy does.
    static func compileMirrors(
        _ configs: [Envoy_Config_Route_V3_RouteAction.RequestMirrorPolicy], at path: String
    ) throws(ConfigError) -> [MirrorPolicy] {
        var result: [MirrorPolicy] = []
        for (i, config) in configs.enumerated() {
            let mp = FieldPath.index(path, i)
            // `trace_sampled` only concerns tracing, which Remora does not do.
            try SupportedFields.require(config, only: [
                "cluster", "cluster_header", "runtime_fraction", "trace_sampled", "disable_shadow_host_suffix_append",
                "host_rewrite_literal",
            ], at: mp)
            let target: MirrorPolicy.Target
            switch (config.cluster.isEmpty, config.clusterHeader.isEmpty) {
            case (false, false):
                throw .invalid("Only one of cluster '\(config.cluster)' or cluster_header '\(config.clusterHeader)' in request mirror policy can be specified", at: mp)
            case (true, true):
                throw .invalid("Exactly one of cluster or cluster_header in request mirror policy need to be specified", at: mp)
            case (false, true):
                target = .cluster(config.cluster)
            case (true, false):
                target = .clusterHeader(try checkHeaderName(config.clusterHeader, at: FieldPath.join(mp, "cluster_header")))
            }
            var fraction = FractionalPercent.all
            var key = ""
            if config.hasRuntimeFraction {
                (fraction, key) = try compileRuntimeFraction(config.runtimeFraction, at: FieldPath.join(mp, "runtime_fraction"))
            }
            if !config.hostRewriteLiteral.isEmpty {
                try checkHeaderValue(config.hostRewriteLiteral, at: FieldPath.join(mp, "host_rewrite_literal"))
            }
            result.append(MirrorPolicy(
                target: target, fraction: fraction, runtimeKey: key,
                disableShadowHostSuffixAppend: config.disableShadowHostSuffixAppend,
                hostRewriteLiteral: config.hostRewriteLiteral.isEmpty ? nil : config.hostRewriteLiteral,
                fieldPath: mp))
        }
        return result
    }

    /// Envoy validates the shadow clusters of every route, inherited policies
    /// included (`createAndValidateRoute`); each policy is reported once.
    static func recordMirrorReferences(_ mirrors: [MirrorPolicy], context: inout RouteCompileContext) {
        for mirror in mirrors {
            guard case .cluster(let name) = mirror.target else { continue }
            let path = FieldPath.join(mirror.fieldPath, "cluster")
            // Shadow references keep their whole path: comparing them makes no string.
            guard !context.references.contains(where: { $0.kind == .shadow && $0.path == path }) else { continue }
            context.references.append(ClusterReference(cluster: name, path: path, kind: .shadow))
        }
    }
}
