import RemoraCore
import RemoraEventLoop
import RemoraFilters

/// The admin endpoint's own stats, as Envoy 1.40 keeps them for its admin
/// listener and connection manager (`stat_prefix` "admin"):
/// `listener.admin.*` (with `main_thread.` for the thread's pair and
/// `http.admin.` for the response classes) and `http.admin.*`. Main loop
/// only: every update goes to row 0.
struct AdminStats {
    let http: Stats<HTTPStat>
    let listener: Stats<ListenerStat>
    let listenerHTTP: Stats<ListenerHTTPStat>
    let mainThread: Stats<PerWorkerListenerStat>

    /// The router's counters, which Envoy's admin manager does not have:
    /// never counted here, so never listed.
    private static let routerOnly: Set<HTTPStat> = [
        .noRoute, .noCluster, .rqRedirect, .rqDirectResponse, .rqTotal, .rqResetAfterDownstreamResponseStarted,
    ]

    init(store: StatsStore) {
        let layout = StatLayout(HTTPStat.allCases.map { ($0.name, Self.routerOnly.contains($0) ? .sparseCounter : $0.kind) })
        http = store.makeScope(prefix: "http.admin.", layout: layout).stats(HTTPStat.self, thread: 0)
        listener = ListenerStat.makeScope(statPrefix: "admin", in: store).stats(ListenerStat.self, thread: 0)
        listenerHTTP = ListenerHTTPStat.makeScope(listenerStatPrefix: "admin", statPrefix: "admin", in: store)
            .stats(ListenerHTTPStat.self, thread: 0)
        mainThread = store.makeScope(prefix: "listener.admin.main_thread.", PerWorkerListenerStat.self)
            .stats(PerWorkerListenerStat.self, thread: 0)
    }

    func connectionOpened(_ connection: Connection) {
        listener.add(.downstreamCxTotal)
        listener.add(.downstreamCxActive)
        mainThread.add(.downstreamCxTotal)
        mainThread.add(.downstreamCxActive)
        http.add(.downstreamCxTotal)
        http.add(.downstreamCxActive)
        http.add(.downstreamCxHttp1Total)
        http.add(.downstreamCxHttp1Active)
        connection.bufferGauges = http.bufferGauges(rx: .downstreamCxRxBytesBuffered, tx: .downstreamCxTxBytesBuffered)
    }

    func requestStarted() {
        http.add(.downstreamRqTotal)
        http.add(.downstreamRqHttp1Total)
        http.add(.downstreamRqActive)
    }

    /// A response head went out (Envoy's `chargeStats`), `milliseconds`
    /// after the request began.
    func responded(status: Int, milliseconds: UInt64) {
        http.countDownstreamResponse(status: status)
        http.add(.downstreamRqCompleted)
        http.add(.downstreamRqActive, -1)
        http.record(.downstreamRqTime, milliseconds: milliseconds)
        switch status / 100 {
        case 1: listenerHTTP.add(.downstreamRq1xx)
        case 2: listenerHTTP.add(.downstreamRq2xx)
        case 3: listenerHTTP.add(.downstreamRq3xx)
        case 4: listenerHTTP.add(.downstreamRq4xx)
        default: listenerHTTP.add(.downstreamRq5xx)
        }
        listenerHTTP.add(.downstreamRqCompleted)
    }

    /// The connection closed: `remote` when the client ended it,
    /// `requestActive` when a request on it got no response.
    func connectionClosed(remote: Bool, requestActive: Bool, milliseconds: UInt64) {
        listener.add(.downstreamCxDestroy)
        listener.add(.downstreamCxActive, -1)
        listener.record(.downstreamCxLengthMs, milliseconds: milliseconds)
        mainThread.add(.downstreamCxActive, -1)
        http.add(.downstreamCxDestroy)
        http.add(remote ? .downstreamCxDestroyRemote : .downstreamCxDestroyLocal)
        http.add(.downstreamCxActive, -1)
        http.add(.downstreamCxHttp1Active, -1)
        http.record(.downstreamCxLengthMs, milliseconds: milliseconds)
        guard requestActive else { return }
        http.add(.downstreamRqActive, -1)
        http.add(.downstreamRqRxReset)
        http.add(.downstreamCxDestroyActiveRq)
        http.add(remote ? .downstreamCxDestroyRemoteActiveRq : .downstreamCxDestroyLocalActiveRq)
    }
}
