import RemoraConfig
import RemoraHTTP

/// `max_stream_duration`: the connection manager's from the stream's start,
/// then the route's (or the request's `grpc-timeout`, as the route allows)
/// once the router has matched it. On the stream's loop.
extension ActiveStream {
    /// Envoy arms the connection manager's `max_stream_duration` when the stream is made.
    func armStreamDuration() {
        guard let limit = manager.config.common.maxStreamDurationMilliseconds, limit > 0 else { return }
        startDurationTimer(after: limit)
    }

    func refreshStreamDuration(route: ForwardAction, request: inout HTTPRequestMessage) {
        let decision = StreamDuration.decide(
            routeMaxStreamDuration: route.maxStreamDurationMilliseconds, grpc: route.grpcTimeouts,
            connectionManagerMax: manager.config.common.maxStreamDurationMilliseconds,
            grpcTimeout: GRPCTimeout.milliseconds(in: request.headers), isGRPC: isGRPCRequest,
            timerRunning: durationTimer != nil)
        switch decision {
        case .unlimited(let removeGRPCTimeout):
            if removeGRPCTimeout { _ = request.headers.remove(name: "grpc-timeout") }
            manager.context.recycle(durationTimer)
            durationTimer = nil
        case .limited(let limit, let grpcTimeout):
            if let grpcTimeout { request.headers.set(name: "grpc-timeout", value: grpcTimeout) }
            // The limit counts from the stream's start; one already used up fires on the next loop turn.
            let used = manager.loop.nowMilliseconds - streamInfo.startMilliseconds
            startDurationTimer(after: limit > used ? limit - used : 0)
        }
    }

    private func startDurationTimer(after milliseconds: UInt64) {
        let timer = durationTimer ?? manager.context.timer()
        durationTimer = timer
        timer.start(afterMilliseconds: milliseconds) { [self] in self.streamDurationReached() }
    }

    /// Envoy's `onStreamMaxDurationReached`: 504 once the request is in
    /// (408 before, closing the connection), `grpc-status: 4` for gRPC; a
    /// response already under way is reset instead.
    private func streamDurationReached() {
        manager.context.recycle(durationTimer)
        durationTimer = nil
        manager.stats.add(.downstreamRqMaxDurationReached)
        sendLocalReply(LocalReply(status: requestComplete ? 504 : 408, body: "downstream duration timeout",
                                  details: "max_duration_timeout", grpcStatus: .deadlineExceeded))
    }
}
