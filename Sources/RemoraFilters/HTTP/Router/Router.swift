import RemoraConfig
import RemoraCore
import RemoraEventLoop
import RemoraHTTP
import RemoraUpstream

/// `envoy.filters.http.router`: matches the route, then answers directly,
/// redirects, or forwards to a host of the route's cluster, with timeouts,
/// retries and mirroring. The last decoder filter. One per stream, on the
/// worker loop.
final class Router: HTTPDecoderFilter, UpstreamRequestOwner, HTTPDownstreamWatermarkCallbacks, HTTPUpgradeDataSink {
    private let config: RouterFilterConfig
    private let routeTable: RouteTable
    private let context: HTTPWorkerContext
    private let httpStats: Stats<HTTPStat>
    /// The connection manager's `http_protocol_options.enable_trailers`.
    private let downstreamTrailers: Bool
    /// Strong: the stream drops its filters when it ends, which breaks the cycle.
    private var callbacks: HTTPDecoderFilterCallbacks!

    private var route: MatchedRoute?
    private var forward: ForwardAction?
    private var cluster: WorkerCluster?
    /// The request as it goes upstream (set once the route forwards).
    /// Attempts edit and read it in place (`&upstreamMessage!`), never a copy.
    private var upstreamMessage: HTTPRequestMessage?
    private var upstreamChunked = false
    private var upstream: (any UpstreamAttempt)?
    /// The downstream request came over HTTP/2 (trailers always allowed;
    /// `use_downstream_protocol_config` follows it).
    private var downstreamHTTP2 = false
    private var shadows: [ShadowRequest] = []

    /// Request body kept for retries and shadows (bounded by the buffer limit).
    private var bodyCopy: [ByteSlice] = []
    private var bodyCopyBytes = 0
    private var bodyCopyOverflowed = false
    private var requestEnded = false
    private var requestTrailers: HTTPHeaders?
    /// When the downstream request ended (loop milliseconds): the start of
    /// Envoy's `upstream_rq_time`.
    private var requestCompletedAt: UInt64?
    /// The request went upstream marked `x-envoy-internal: true` (Envoy's
    /// `isEnvoyInternalRequest`): its responses count under `internal.*`.
    private var isInternalRequest = false

    private var attempts = 0
    private var retriesLeft = 0
    /// The host of the latest attempt (`previous_hosts` avoids it).
    private var lastHost: SocketAddress?
    private var holdsRetryResource = false
    private var globalTimer: Timer?
    private var perTryTimer: Timer?
    private var backoffTimer: Timer?
    private var responseStarted = false
    private var finished = false
    private var upgrade = false
    /// A CONNECT this route terminates (`connect_config`): the attempts are
    /// raw TCP connections (`TCPUpstreamRequest`).
    private var terminatesConnect = false
    /// A CONNECT sent on to the upstream (no `connect_config`).
    private var forwardsConnect = false
    /// Envoy's `grpc_request_`: gRPC timeouts and host stats apply.
    private var isGRPC = false
    /// The host's `rq_success`/`rq_error` waits for the gRPC response's trailers.
    private var grpcSuccessDeferred = false
    private var timeouts = UpstreamTimeout(global: 0, perTry: 0, rewritesGRPCTimeout: false)
    /// The route's retry policy with the request's retry headers merged in.
    private var retryPolicy: RetryPolicy?
    /// The upstream TLS names this request asks for (`auto_sni`,
    /// `auto_san_validation`); nil when the cluster takes none.
    private var tlsOptions: TransportSocketOptions?
    /// `auto_config`: the host whose first connection this request waits for.
    private var hostLearning: SocketAddress?

    init(config: RouterFilterConfig, routeTable: RouteTable, context: HTTPWorkerContext,
         httpStats: Stats<HTTPStat>, downstreamTrailers: Bool) {
        self.config = config
        self.routeTable = routeTable
        self.context = context
        self.httpStats = httpStats
        self.downstreamTrailers = downstreamTrailers
    }

    func setDecoderCallbacks(_ callbacks: HTTPDecoderFilterCallbacks) {
        self.callbacks = callbacks
        callbacks.addDownstreamWatermarkCallbacks(self)
        callbacks.setUpgradeDataSink(self)
    }

    // MARK: - Decode

    func decodeHeaders(_ request: inout HTTPRequestMessage, endStream: Bool) -> FilterHeadersStatus {
        // Views are made where needed: a live copy of `request` would make
        // the edits below copy its fields.
        let random = context.randomValue()
        let found = request.withRouteView({ routeTable.route(for: $0, randomValue: random) })
        // A CONNECT that matches no route is a 404, not a refused upgrade (as Envoy).
        if let type = callbacks.upgradeType, found != nil || type != "connect", !upgradeEnabled(type, route: found) {
            // Envoy refuses the upgrade before any filter runs.
            httpStats.add(.downstreamRqWsOnNonWsRoute)
            callbacks.sendLocalReply(LocalReply(status: 403, details: "upgrade_failed", closeConnection: true))
            return .stopIteration
        }
        httpStats.add(.rqTotal)
        guard let matched = found else {
            httpStats.add(.noRoute)
            callbacks.sendLocalReply(LocalReply(status: 404, flag: .noRouteFound, details: "route_not_found"))
            return .stopIteration
        }
        route = matched
        let info = callbacks.streamInfo
        if !matched.route.name.isEmpty { info.routeName = matched.route.name }
        switch matched.route.action {
        case .directResponse(let direct):
            httpStats.add(.rqDirectResponse)
            // No response flag: Envoy 1.40 prints `-` for a direct response.
            var headers = HTTPHeaders()
            applyResponseMutations(&headers, request: request, response: nil)
            callbacks.sendResponse(status: direct.status, headers: headers, body: direct.body ?? [], details: "direct_response")
            return .stopIteration
        case .redirect(let redirect):
            httpStats.add(.rqRedirect)
            let forwardedProto = request.headers.firstString(name: "x-forwarded-proto") ?? request.scheme
            let scheme = request.scheme
            guard let location = request.withRouteView({
                matched.redirectLocation(for: $0, scheme: scheme, forwardedProto: forwardedProto)
            }) else {
                callbacks.sendLocalReply(LocalReply(status: 500, details: "redirect_failed"))
                return .stopIteration
            }
            var headers = HTTPHeaders()
            headers.add(name: "location", value: location)
            applyResponseMutations(&headers, request: request, response: nil)
            callbacks.sendResponse(status: redirect.responseCode, headers: headers, body: [], details: "redirect")
            return .stopIteration
        case .forward(let forward):
            self.forward = forward
            callbacks.refreshStreamDuration(route: forward, request: &request)
            guard let name = matched.clusterName, !name.isEmpty, let cluster = context.cluster(named: name) else {
                httpStats.add(.noCluster)
                callbacks.sendLocalReply(LocalReply(status: forward.clusterNotFoundResponseCode, flag: .noClusterFound,
                                                    details: "cluster_not_found"))
                return .stopIteration
            }
            self.cluster = cluster
            info.upstreamCluster = name
            if let idle = forward.idleTimeoutMilliseconds { callbacks.overrideIdleTimeout(idle) }
            if callbacks.upgradeType == "connect" {
                // Without `connect_config` Envoy passes the CONNECT on to the
                // upstream as a request; its 2xx opens the tunnel.
                terminatesConnect = forward.terminatesConnect
                forwardsConnect = !terminatesConnect
            }
            upgrade = request.headers.contains(name: "upgrade") || callbacks.upgradeType == "connect"
            downstreamHTTP2 = request.version.isHTTP2
            isGRPC = GRPCRequest.isGRPC(request.headers)
            let grpcTimeouts = forward.grpcTimeouts
            timeouts = UpstreamTimeout.final(
                routeTimeout: forward.timeoutMilliseconds, perTryTimeout: forward.retryPolicy?.perTryTimeoutMilliseconds ?? 0,
                grpc: grpcTimeouts, isGRPC: isGRPC,
                grpcTimeout: isGRPC && grpcTimeouts.maxGrpcTimeoutMilliseconds != nil ? GRPCTimeout.milliseconds(in: request.headers) : nil)
            if let names = cluster.config.http.upstreamTLSNames, names.autoSNI || names.autoSANValidation {
                tlsOptions = Self.upstreamTLSOptions(names, host: request.withRouteView { matched.rewrittenHost(for: $0) }
                                                         ?? request.authority ?? "", headers: request.headers)
            }
            // Edited in place, as Envoy's router edits the downstream headers;
            // the attempts share the result.
            prepareUpstreamRequest(&request, matched: matched, forward: forward, endStream: endStream)
            // After the route's header mutations, as Envoy's `createRetryState` runs.
            retryPolicy = RetryPolicy.effective(route: forward.retryPolicy, requestHeaders: &request.headers)
            isInternalRequest = request.headers.firstString(name: "x-envoy-internal") == "true"
            upstreamMessage = request
            retriesLeft = Int(retryPolicy?.numRetries ?? 0)
            if endStream { requestComplete() }
            if !forward.mirrorPolicies.isEmpty { startMirrors(forward.mirrorPolicies, request: request) }
            startAttempt()
            return .stopIteration
        }
    }

    /// Envoy's `createUpgradeFilterChain`: the route's `upgrade_configs`
    /// decide when they name the type, else the connection manager's.
    private func upgradeEnabled(_ type: String, route: MatchedRoute?) -> Bool {
        if case .forward(let forward)? = route?.route.action, let enabled = forward.upgrades[type] { return enabled }
        return callbacks.connectionManagerEnablesUpgrade(type) ?? false
    }

    /// The request as the upstream will see it: rewrites, header mutations,
    /// Envoy's informational headers.
    private func prepareUpstreamRequest(_ message: inout HTTPRequestMessage, matched: MatchedRoute, forward: ForwardAction,
                                        endStream: Bool) {
        // Rewrites and variables see the request as it arrived.
        let (newPath, newHost) = message.withRouteView { (matched.rewrittenPath(for: $0), matched.rewrittenHost(for: $0)) }
        let originalPath = message.path
        let originalAuthority = message.authority
        let mutations = matched.requestHeaderMutations
        // A copy only when variables may need it (editing then copies the fields once).
        let original: HTTPRequestMessage? = mutations.isEmpty ? nil : message
        // Each retry rewrites these with the time then left (see `startAttempt`).
        applyTimeoutHeaders(&message.headers, elapsed: 0)
        if let original {
            let info = callbacks.streamInfo
            recordDownstreamSecurity(info)
            let routeName = matched.route.name
            HeaderMutator.apply(mutations, to: &message.headers) { variable in
                HeaderMutator.resolve(variable, info: info, request: original, response: nil, routeName: routeName)
            }
        }
        if let newPath {
            message.path = newPath
            if !config.suppressEnvoyHeaders { message.headers.add(name: "x-envoy-original-path", value: originalPath) }
        }
        if let newHost {
            if forward.appendXForwardedHost, let old = originalAuthority { message.headers.add(name: "x-forwarded-host", value: old) }
            if !config.suppressEnvoyHeaders, let old = originalAuthority {
                message.headers.add(name: "x-envoy-original-host", value: old)
            }
            message.authority = newHost
        }
        let hasLength = message.headers.contains(name: "content-length")
        if endStream {
            if !hasLength, message.method == .post || message.method == .put || message.method == .options {
                message.headers.add(name: "content-length", value: "0")
            }
        } else if !hasLength && !upgrade {
            upstreamChunked = true
            message.headers.add(name: "transfer-encoding", value: "chunked")
        }
    }

    /// Envoy's `setTimeoutHeaders`: `x-envoy-expected-rq-timeout-ms` and,
    /// on a `max_grpc_timeout` route, `grpc-timeout` say what is left
    /// `elapsed` ms after the request ended (replaced in place).
    private func applyTimeoutHeaders(_ headers: inout HTTPHeaders, elapsed: UInt64) {
        guard let expected = timeouts.expected(elapsed: elapsed) else { return }
        if !config.suppressEnvoyHeaders { headers.set(name: "x-envoy-expected-rq-timeout-ms", value: String(expected)) }
        if timeouts.rewritesGRPCTimeout { headers.set(name: "grpc-timeout", value: GRPCTimeout.encode(milliseconds: expected)) }
    }

    func decodeData(_ data: ByteSlice, endStream: Bool) -> FilterDataStatus {
        if data.count > 0 { keepBodyCopy(data) }
        if endStream { requestComplete() }
        upstream?.sendData(data, endStream: endStream)
        for shadow in shadows where shadow.isActive { shadow.sendData(data, endStream: endStream) }
        return .stopIterationNoBuffer
    }

    func decodeTrailers(_ trailers: inout HTTPHeaders) -> FilterTrailersStatus {
        requestComplete()
        // Trailers go upstream only when both sides enable them (Envoy's
        // `enable_trailers`); otherwise the request just ends.
        if trailersGoUpstream {
            requestTrailers = trailers
            upstream?.sendTrailers(trailers)
        } else {
            upstream?.sendData(emptySlice, endStream: true)
        }
        for shadow in shadows where shadow.isActive { shadow.sendData(emptySlice, endStream: true) }
        return .stopIteration
    }

    /// Envoy's `onRequestComplete`: the route timeout and `upstream_rq_time` start.
    private func requestComplete() {
        requestEnded = true
        requestCompletedAt = context.loop.nowMilliseconds
        startGlobalTimer()
    }

    /// Envoy's `onUpstreamComplete`: the response ended; it is timed when
    /// the request had ended before it.
    private func responseComplete() {
        guard chargesResponseStats, let start = requestCompletedAt else { return }
        cluster?.stats.recordResponseTime(milliseconds: context.loop.nowMilliseconds - start, internal: isInternalRequest)
    }

    /// Trailers pass when both sides can carry them: HTTP/2, or HTTP/1 with
    /// `enable_trailers` (Envoy's rule).
    private var trailersGoUpstream: Bool {
        guard let cluster else { return false }
        let downstream = downstreamHTTP2 || downstreamTrailers
        let upstream = cluster.config.http.usesHTTP2(downstreamHTTP2: downstreamHTTP2, negotiatedHTTP2: negotiatedHTTP2(cluster))
            || cluster.config.http.http1.enableTrailers
        return downstream && upstream
    }

    private func keepBodyCopy(_ data: ByteSlice) {
        guard !bodyCopyOverflowed else { return }
        let limit = Int(route?.route.perRequestBufferLimitBytes ?? UInt32(cluster?.config.bufferLimitBytes ?? 1 << 20))
        if bodyCopyBytes + data.count > limit {
            // Too big to replay: no more retries (Envoy's retry_buffer_overflow;
            // it counts the retry given up, not a mirror, which streams).
            bodyCopyOverflowed = true
            if !retryOn.isEmpty { cluster?.stats.add(.retryOrShadowAbandoned) }
            bodyCopy.removeAll()
            retriesLeft = 0
            return
        }
        bodyCopy.append(data)
        bodyCopyBytes += data.count
    }

    // MARK: - Attempts

    private func startAttempt() {
        guard let cluster, upstreamMessage != nil, !finished else { return }
        startAttempt(on: cluster, message: &upstreamMessage!)
    }

    private func startAttempt(on cluster: WorkerCluster, message upstreamMessage: inout HTTPRequestMessage) {
        let previous = retryPolicy?.hostPredicates.contains(.previousHosts) == true ? lastHost : nil
        let learned = hostLearning
        hostLearning = nil
        guard let host = learned ?? chooseHost(cluster, avoiding: previous, headers: upstreamMessage.headers) else {
            cluster.stats.add(.upstreamCxNoneHealthy)
            chargeUpstreamCode(503)
            sendLocalReplyOnce(LocalReply(status: 503, body: "no healthy upstream", flag: .noHealthyUpstream,
                                          details: "no_healthy_upstream"))
            return
        }
        if learned == nil, cluster.config.http.protocolSelection == .alpn, cluster.negotiatesHTTP2(host) == nil {
            // `auto_config`: the host's first connection tells which pool
            // serves it; the attempt starts once it is made (or failed: then
            // over HTTP/1.1, whose pool connects and fails as usual).
            hostLearning = host
            cluster.learnProtocol(of: host, loop: context.loop, encoder: context.sharedEncoder, options: tlsOptions) { [weak self] in self?.startAttempt() }
            return
        }
        // `max_requests` is checked (and `upstream_rq_total` and
        // `upstream_rq_active` counted) by the pool when the request is
        // attached to a connection, as Envoy does.
        attempts += 1
        lastHost = host
        callbacks.streamInfo.upstreamHost = host
        callbacks.streamInfo.attemptCount = attempts
        var authority = upstreamMessage.authority ?? ""
        if route?.autoHostRewrite == true, case .strictDNS = cluster.config.discovery,
           let name = dnsName(cluster, host) {
            authority = name
        }
        if attempts == 1, route?.autoHostRewrite == true, authority != upstreamMessage.authority, !config.suppressEnvoyHeaders,
           let original = upstreamMessage.authority {
            upstreamMessage.headers.add(name: "x-envoy-original-host", value: original)
        }
        if attempts > 1 {
            // A retry says how much of the route timeout is left.
            let elapsed = globalStarted.map { context.loop.nowMilliseconds - $0 } ?? 0
            applyTimeoutHeaders(&upstreamMessage.headers, elapsed: elapsed)
        }
        let request: any UpstreamAttempt
        if terminatesConnect {
            request = TCPUpstreamRequest(owner: self, cluster: cluster, host: host, loop: context.loop)
        } else {
            var framing: HTTPRequestHead.Framing = []
            if upstreamChunked { framing.insert(.chunked) }
            if upgrade { framing.insert(.tunnel) }
            request = makeHTTPUpstreamAttempt(
                owner: self, cluster: cluster, host: host, context: context,
                head: upstreamMessage.upstreamHead(authority: authority, framing: framing),
                downstreamHTTP2: downstreamHTTP2, tlsOptions: tlsOptions, isConnect: forwardsConnect)
        }
        upstream = request
        if downstreamFull { request.setReading(false) }
        for slice in bodyCopy { request.sendData(slice, endStream: false) }
        if requestEnded {
            if let trailers = requestTrailers { request.sendTrailers(trailers) } else { request.sendData(emptySlice, endStream: true) }
        }
        startPerTryTimer()
        request.start()
    }

    private var globalStarted: UInt64?

    /// `auto_config`: whether the server of the last host picked `h2`.
    private func negotiatedHTTP2(_ cluster: WorkerCluster) -> Bool {
        lastHost.flatMap { cluster.negotiatesHTTP2($0) } ?? false
    }

    private func chooseHost(_ cluster: WorkerCluster, avoiding previous: SocketAddress?,
                            headers: HTTPHeaders) -> SocketAddress? {
        let selection = hostSelectionContext(cluster, headers: headers)
        guard let previous else { return cluster.chooseHost(context: selection) }
        let maxTries = max(1, Int(retryPolicy?.hostSelectionRetryMaxAttempts ?? 1)) + 1
        var host = cluster.chooseHost(context: selection)
        var tries = 1
        while let h = host, h == previous, tries < maxTries {
            host = cluster.chooseHost(context: selection)
            tries += 1
        }
        return host
    }

    /// What an ORIGINAL_DST cluster picks from: the connection's restored
    /// destination and, with `use_http_header`, the request's header.
    /// Other clusters need nothing (no header lookup per request).
    private func hostSelectionContext(_ cluster: WorkerCluster, headers: HTTPHeaders) -> HostSelectionContext {
        guard cluster.picksOriginalDestination else { return HostSelectionContext() }
        let override = cluster.overrideHostHeader.flatMap { headers.firstString(name: $0) }
        return HostSelectionContext(originalDestination: callbacks.streamInfo.downstreamOriginalDestination, overrideHost: override)
    }

    private func dnsName(_ cluster: WorkerCluster, _ host: SocketAddress) -> String? {
        guard case .strictDNS(let names, _, _) = cluster.config.discovery else { return nil }
        return names.first { $0.port == host.port }?.host ?? names.first?.host
    }

    private func endAttempt(_ request: any UpstreamAttempt) {
        context.recycle(perTryTimer)
        perTryTimer = nil
        if upstream === request { upstream = nil }
        releaseDownstreamReads()
    }

    /// One read-disable count on the downstream while the current attempt's
    /// upstream can take no more of the request.
    private var holdsDownstreamReads = false
    /// The downstream's write buffer is above its high watermark: response
    /// bytes wait in the upstream's socket.
    private var downstreamFull = false

    private func releaseDownstreamReads() {
        guard holdsDownstreamReads else { return }
        holdsDownstreamReads = false
        callbacks.onDecoderFilterBelowWriteBufferLowWatermark()
    }

    /// Envoy's `chargeUpstreamCode` and `onUpstreamComplete` leave health
    /// checks (the `health_check` filter's, in pass-through mode) out of the
    /// per-code stats, `upstream_rq_completed` and `upstream_rq_time`.
    private var chargesResponseStats: Bool { !callbacks.streamInfo.isHealthCheck }

    // MARK: - UpstreamRequestOwner

    func upstreamHeaders(_ request: any UpstreamAttempt, status: Int, headers responseHeaders: inout HTTPHeaders, endStream: Bool) {
        guard request === upstream, !finished else { return }
        if shouldRetry(status: status, headers: responseHeaders) {
            cluster?.stats.countRetriedResponse(status: status, codes: chargesCodeStats)
            request.cancel()
            endAttempt(request)
            scheduleRetry()
            return
        }
        releaseRetryResource()
        if attempts > 1 && !isRetriable(status: status, headers: responseHeaders) { cluster?.stats.add(.upstreamRqRetrySuccess) }
        if isGRPC && status < 500 {
            // Envoy's `handleNon5xxResponseHeaders`: a gRPC answer succeeds by its grpc-status.
            if endStream { countGRPCOutcome(request, GRPCStatus(headers: responseHeaders)) } else { grpcSuccessDeferred = true }
        } else {
            request.hostStats.response(status: status)
        }
        responseStarted = true
        let info = callbacks.streamInfo
        info.firstUpstreamRxMilliseconds = context.loop.nowMilliseconds
        info.upstreamLocalAddress = request.localAddress
        if info.recordsSecurity || !(route?.responseHeaderMutations.isEmpty ?? true) { recordUpstreamSecurity(request, info) }
        info.responseCodeDetails = "via_upstream"
        chargeUpstreamCode(status)
        // A tunnel (an upgrade, a terminated CONNECT) is not bound by the route timeout once open.
        let opensTunnel = status == 101 || terminatesConnect || (forwardsConnect && status >= 200 && status < 300)
        if opensTunnel || endStream { context.recycle(globalTimer); globalTimer = nil }
        // The fields move on (edited in place, not copied).
        var headers = HTTPHeaders()
        swap(&headers, &responseHeaders)
        if !config.suppressEnvoyHeaders && !opensTunnel {
            headers.add(name: "x-envoy-upstream-service-time", value: String(context.loop.nowMilliseconds - request.sentAt))
        }
        var response = HTTPResponseMessage(status: status, headers: consume headers)
        if let route, !route.responseHeaderMutations.isEmpty {
            let original = response
            applyResponseMutations(&response.headers, request: upstreamMessage, response: original)
        }
        if endStream {
            endAttempt(request)
            responseComplete()
        }
        callbacks.encodeHeaders(consume response, endStream: endStream)
    }

    func upstreamData(_ request: any UpstreamAttempt, _ data: ByteSlice, endStream: Bool) {
        guard request === upstream, !finished else { return }
        if endStream {
            // A gRPC response that ends without trailers is an error.
            if grpcSuccessDeferred { countGRPCOutcome(request, nil) }
            context.recycle(globalTimer)
            globalTimer = nil
            endAttempt(request)
            responseComplete()
        }
        callbacks.encodeData(data, endStream: endStream)
    }

    func upstreamTrailers(_ request: any UpstreamAttempt, _ trailers: HTTPHeaders) {
        guard request === upstream, !finished else { return }
        if grpcSuccessDeferred { countGRPCOutcome(request, GRPCStatus(headers: trailers)) }
        callbacks.encodeTrailers(trailers)
    }

    func upstreamReset(_ request: (any UpstreamAttempt)?, _ reason: UpstreamResetReason) {
        guard request === upstream, !finished else { return }
        if let request { endAttempt(request) }
        let stats = cluster?.stats
        if reason == .overflow {
            callbacks.streamInfo.responseFlags.insert(.upstreamOverflow)
            chargeUpstreamCode(503)
            sendLocalReplyOnce(LocalReply(
                status: 503, body: "upstream connect error or disconnect/reset before headers. reset reason: overflow",
                flag: .upstreamOverflow, details: "upstream_reset_before_response_started{overflow}",
                headers: [("x-envoy-overloaded", "true")]))
            return
        }
        if responseStarted {
            // The response was already going downstream: it can only be cut short.
            if grpcSuccessDeferred, let request {
                countGRPCOutcome(request, nil)
                httpStats.add(.rqResetAfterDownstreamResponseStarted)
            }
            if reason == .remoteReset { stats?.add(.upstreamRqRxReset) }
            callbacks.streamInfo.responseFlags.insert(.upstreamRemoteReset)
            callbacks.resetStream()
            return
        }
        let retriable: Bool
        switch reason {
        case .connectionFailure, .connectionTimeout:
            retriable = retryOn.contains(.connectFailure) || retryOn.contains(.reset) || retryOn.contains(.gatewayError)
                || retryOn.contains(.fiveXX) || retryOn.contains(.resetBeforeRequest)
        default:
            // Envoy counts rx_reset for a stream the upstream reset (an
            // HTTP/2 RST_STREAM), not for refused streams, and not for a
            // connection that closed (an HTTP/1 upstream's close is a
            // connection termination) or a protocol error.
            if reason == .remoteReset { stats?.add(.upstreamRqRxReset) }
            retriable = retryOn.contains(.reset) || retryOn.contains(.gatewayError) || retryOn.contains(.fiveXX)
                || (reason == .remoteRefusedStreamReset && retryOn.contains(.refusedStream))
        }
        if retriable && canRetry() {
            scheduleRetry()
            return
        }
        if retriable && retryPolicy != nil && retriesLeft == 0 {
            stats?.add(.upstreamRqRetryLimitExceeded)
        }
        releaseRetryResource()
        let flag: ResponseFlag
        switch reason {
        case .connectionFailure, .connectionTimeout: flag = .upstreamConnectionFailure
        case .protocolError: flag = .upstreamProtocolError
        case .remoteReset, .remoteRefusedStreamReset: flag = .upstreamRemoteReset  // HTTP/2 RST_STREAM: Envoy's UR
        default: flag = .upstreamConnectionTermination
        }
        let status = reason == .protocolError ? 502 : 503
        // Envoy charges the local reply's code to the cluster (`chargeUpstreamAbort`).
        chargeUpstreamCode(status)
        let prefix = attempts > 1 ? "retried and the latest reset reason: " : "reset reason: "
        // Envoy names the transport failure in the details and the log.
        var details = reason.text
        if let failure = request?.transportFailureReason {
            callbacks.streamInfo.upstreamTransportFailureReason = failure
            details += "|" + failure
        }
        sendLocalReplyOnce(LocalReply(
            status: status, body: "upstream connect error or disconnect/reset before headers. \(prefix)\(reason.text)",
            flag: flag, details: "upstream_reset_before_response_started{\(details.replacingSpaces())}"))
    }

    func upstreamTunnelData(_ request: any UpstreamAttempt, _ data: ByteSlice) {
        callbacks.sendUpgradedData(data)
    }

    func upstreamTunnelEnded(_ request: any UpstreamAttempt, connectionClosed: Bool) {
        callbacks.endUpgradedData(upstreamClosed: connectionClosed)
    }

    func upstreamWriteBuffer(_ request: any UpstreamAttempt, aboveHigh: Bool) {
        guard request === upstream, !finished else { return }
        if aboveHigh {
            guard !holdsDownstreamReads else { return }
            holdsDownstreamReads = true
            cluster?.stats.add(.upstreamFlowControlBackedUpTotal)
            callbacks.onDecoderFilterAboveWriteBufferHighWatermark()
        } else {
            if holdsDownstreamReads { cluster?.stats.add(.upstreamFlowControlDrainedTotal) }
            releaseDownstreamReads()
        }
    }

    func upgradedDataFromDownstream(_ data: ByteSlice) {
        upstream?.sendTunnelData(data)
    }

    func upgradedDownstreamEnded() {
        upstream?.endTunnel()
    }

    func onAboveWriteBufferHighWatermark() {
        downstreamFull = true
        cluster?.stats.add(.upstreamFlowControlPausedReadingTotal)
        upstream?.setReading(false)
    }

    func onBelowWriteBufferLowWatermark() {
        downstreamFull = false
        cluster?.stats.add(.upstreamFlowControlResumedReadingTotal)
        upstream?.setReading(true)
    }

    // MARK: - Retries

    private var retryOn: RetryOn { retryPolicy?.retryOn ?? [] }

    private func canRetry() -> Bool {
        guard retriesLeft > 0, !bodyCopyOverflowed, let cluster, retryPolicy != nil else { return false }
        if !holdsRetryResource {
            guard cluster.resources.tryAcquire(.retries) else {
                cluster.stats.add(.upstreamRqRetryOverflow)
                return false
            }
            holdsRetryResource = true
        }
        return true
    }

    private func releaseRetryResource() {
        if holdsRetryResource {
            cluster?.resources.release(.retries)
            holdsRetryResource = false
        }
    }

    private func shouldRetry(status: Int, headers: HTTPHeaders) -> Bool {
        guard !headers.contains(name: "x-envoy-overloaded"), isRetriable(status: status, headers: headers) else { return false }
        guard retriesLeft > 0 else {
            cluster?.stats.add(.upstreamRqRetryLimitExceeded)
            return false
        }
        return canRetry()
    }

    /// `suppress_grpc_request_failure_code_stats` keeps gRPC requests out of
    /// the cluster's `upstream_rq_<code>`/`<class>xx` (Envoy's `exclude_http_code_stats_`).
    private var chargesCodeStats: Bool { !(isGRPC && config.suppressGrpcRequestFailureCodeStats) }

    /// Envoy's `chargeUpstreamCode`: a response, or the local reply that
    /// stands for one, charged to the cluster (not for health checks).
    private func chargeUpstreamCode(_ status: Int) {
        guard chargesResponseStats else { return }
        cluster?.stats.chargeResponse(status: status, internal: isInternalRequest, codes: chargesCodeStats)
    }

    /// The host's `rq_success` or `rq_error` for a gRPC response: success
    /// when its `grpc-status` maps to no 5xx (Envoy's `grpcToHttpStatus`).
    private func countGRPCOutcome(_ request: any UpstreamAttempt, _ status: GRPCStatus?) {
        grpcSuccessDeferred = false
        let stats = request.hostStats
        HostStats.add(status.map { $0.httpStatus < 500 } == true ? stats.rqSuccess : stats.rqError)
    }

    private func isRetriable(status: Int, headers: HTTPHeaders) -> Bool {
        guard let policy = retryPolicy else { return false }
        let on = policy.retryOn
        if on.retriesGRPC(headers) { return true }
        if on.contains(.fiveXX) && status >= 500 { return true }
        if on.contains(.gatewayError) && (status == 502 || status == 503 || status == 504) { return true }
        if on.contains(.retriable4xx) && status == 409 { return true }
        if on.contains(.retriableStatusCodes) && policy.retriableStatusCodes.contains(UInt32(status)) { return true }
        return false
    }

    /// Waits Envoy's jittered exponential back-off, then tries again.
    private func scheduleRetry() {
        guard let policy = retryPolicy else { return }
        retriesLeft -= 1
        cluster?.stats.add(.upstreamRqRetry)
        cluster?.stats.add(.upstreamRqRetryBackoffExponential)
        let exponent = min(attempts - 1, 20)
        let ceiling = min(policy.backOffBaseMilliseconds << UInt64(exponent), policy.backOffMaxMilliseconds)
        let delay = ceiling > 0 ? context.randomValue() % ceiling : 0
        let timer = backoffTimer ?? context.timer()
        backoffTimer = timer
        timer.start(afterMilliseconds: delay) { [self] in self.startAttempt() }
    }

    // MARK: - Timeouts

    private func startGlobalTimer() {
        let timeout = timeouts.global
        guard globalTimer == nil, forward != nil, timeout > 0, !finished, !responseStarted else { return }
        let timer = context.timer()
        globalTimer = timer
        globalStarted = context.loop.nowMilliseconds
        timer.start(afterMilliseconds: timeout) { [self] in self.globalTimeout() }
    }

    private func globalTimeout() {
        guard !finished, !responseStarted else { return }
        cluster?.stats.add(.upstreamRqTimeout)
        chargeUpstreamCode(504)
        if let upstream {
            HostStats.add(upstream.hostStats.rqTimeout)
            upstream.cancel()
            endAttempt(upstream)
        }
        context.recycle(backoffTimer); backoffTimer = nil
        releaseRetryResource()
        sendLocalReplyOnce(LocalReply(status: 504, body: "upstream request timeout", flag: .upstreamRequestTimeout,
                                      details: "response_timeout"))
    }

    private func startPerTryTimer() {
        let perTry = timeouts.perTry
        guard perTry > 0 else { return }
        let timer = perTryTimer ?? context.timer()
        perTryTimer = timer
        timer.start(afterMilliseconds: perTry) { [self] in self.perTryTimeout() }
    }

    private func perTryTimeout() {
        guard let request = upstream, !finished, !responseStarted else { return }
        cluster?.stats.add(.upstreamRqPerTryTimeout)
        HostStats.add(request.hostStats.rqTimeout)
        request.cancel()
        endAttempt(request)
        let on = retryOn
        if (on.contains(.fiveXX) || on.contains(.gatewayError) || on.contains(.reset)) && canRetry() {
            scheduleRetry()
            return
        }
        cluster?.stats.add(.upstreamRqTimeout)
        chargeUpstreamCode(504)
        releaseRetryResource()
        sendLocalReplyOnce(LocalReply(status: 504, body: "upstream request timeout", flag: .upstreamRequestTimeout,
                                      details: "upstream_per_try_timeout"))
    }

    // MARK: - Mirrors

    private func startMirrors(_ policies: [MirrorPolicy], request: HTTPRequestMessage) {
        for policy in policies {
            guard policy.fraction.isSampled(randomValue: context.randomValue()) else { continue }
            let name: String?
            switch policy.target {
            case .cluster(let n): name = n
            case .clusterHeader(let header): name = request.headers.firstString(name: header)
            }
            guard let name, let cluster = context.cluster(named: name),
                  let host = cluster.chooseHost(context: hostSelectionContext(cluster, headers: request.headers)) else { continue }
            var copy = request
            if !policy.disableShadowHostSuffixAppend, let authority = copy.authority {
                copy.authority = Self.shadowHost(authority)
            }
            copy.headers.set(name: "x-envoy-internal", value: "true")
            if let local = HostAddressText.local { copy.headers.set(name: "x-forwarded-for", value: local) }
            let shadow = ShadowRequest(cluster: cluster, host: host, context: context, request: copy, chunked: upstreamChunked,
                                       downstreamHTTP2: downstreamHTTP2, timeoutMilliseconds: timeouts.global)
            shadows.append(shadow)
            shadow.start(endStream: requestEnded)
        }
    }

    /// `foo.example:8080` → `foo.example-shadow:8080` (Envoy puts the suffix before the port).
    static func shadowHost(_ authority: String) -> String {
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]"), authority.first != "[" || authority.contains("]:") {
            return authority[..<colon] + "-shadow" + authority[colon...]
        }
        return authority + "-shadow"
    }

    // MARK: - Replies and teardown

    private func applyResponseMutations(_ headers: inout HTTPHeaders, request: HTTPRequestMessage?, response: HTTPResponseMessage?) {
        guard let route else { return }
        let info = callbacks.streamInfo
        if !route.responseHeaderMutations.isEmpty { recordDownstreamSecurity(info) }
        let routeName = route.route.name
        HeaderMutator.apply(route.responseHeaderMutations, to: &headers) { variable in
            HeaderMutator.resolve(variable, info: info, request: request, response: response, routeName: routeName)
        }
    }

    /// Header values may print the downstream's TLS facts (an access log's
    /// are recorded when the stream starts).
    private func recordDownstreamSecurity(_ info: StreamInfo) {
        guard info.downstreamConnection == nil, let connection = callbacks.downstreamConnection,
              let security = connection.securityInfo else { return }
        info.downstreamSecurity = security
        info.downstreamConnection = connection
    }

    /// The upstream connection's TLS facts, for access logs and response header values.
    private func recordUpstreamSecurity(_ request: any UpstreamAttempt, _ info: StreamInfo) {
        guard let connection = request.upstreamConnection, let security = connection.securityInfo else { return }
        info.upstreamSecurity = security
        info.upstreamConnection = connection
    }

    private func sendLocalReplyOnce(_ reply: LocalReply) {
        guard !finished, !responseStarted else { return }
        context.recycle(globalTimer)
        globalTimer = nil
        callbacks.sendLocalReply(reply)
    }

    func onStreamDestroyed() {
        finished = true
        context.recycle(globalTimer)
        context.recycle(perTryTimer)
        context.recycle(backoffTimer)
        globalTimer = nil
        perTryTimer = nil
        backoffTimer = nil
        if let upstream {
            upstream.cancel()
            if !responseStarted { cluster?.stats.add(.upstreamRqCancelled) }
            endAttempt(upstream)
        }
        releaseRetryResource()
        // Shadows with the whole request finish on their own (bounded by
        // their timeout); the others can never finish.
        for shadow in shadows { shadow.mainStreamEnded() }
        shadows.removeAll()
    }
}

/// An empty slice (end of stream without data).
var emptySlice: ByteSlice { HTTP1Encoder.crlf.dropFirst(2) }

extension HTTPRequestMessage {
    /// The head an attempt sends: the message's parts, with the attempt's
    /// authority (`auto_host_rewrite` may give each host its own). The
    /// fields are shared, not copied.
    func upstreamHead(authority: String, framing: HTTPRequestHead.Framing) -> HTTPRequestHead {
        HTTPRequestHead(method: method, scheme: scheme, authority: authority, path: path, fields: headers, framing: framing)
    }
}

enum HostAddressText {
    static var local: String? { HostAddresses.firstNonLoopback.v4?.host }
}

extension String {
    func replacingSpaces() -> String { String(map { $0 == " " ? "_" : $0 }) }
}
