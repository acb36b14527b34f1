import RemoraConfig
import RemoraCore
import RemoraFilters
import RemoraTLS

/// The stat scopes a listener's connections count in: `listener.<prefix>.*`,
/// each chain's `tcp.<prefix>.*` and `http.<prefix>.*`, the listener
/// filters' and `ssl.*`. Made on the main loop, each scope once per name
/// (a listener updated or added later with the same prefixes counts in
/// the same stats, as Envoy's do); each worker takes its own row.
struct ListenerScopes: Sendable {
    var listener: StatScope
    var tcpProxy: [String: StatScope]
    var http: [String: StatScope]
    /// `listener.<prefix>.http.<stat_prefix>.*`, by the chains' HTTP stat prefixes.
    var listenerHTTP: [String: StatScope]
    var inspectors: InspectorScopes
    /// `listener.<prefix>.ssl.*` when a chain has TLS.
    var ssl: StatScope?
}

extension Server {
    /// The scopes of `listener`, made on first use of each name.
    func makeListenerScopes(for listener: ListenerConfig) -> ListenerScopes {
        func scope(_ key: String, _ make: () -> StatScope) -> StatScope {
            if let made = statScopes[key] { return made }
            let made = make()
            statScopes[key] = made
            return made
        }
        let chains = listener.allFilterChains
        var proxyStats: [String: StatScope] = [:]
        var httpStats: [String: StatScope] = [:]
        var listenerHTTP: [String: StatScope] = [:]
        for chain in chains {
            if let proxy = chain.tcpProxy {
                proxyStats[proxy.statPrefix] = scope("tcp.\(proxy.statPrefix).") {
                    TcpProxyStat.makeScope(statPrefix: proxy.statPrefix, in: store)
                }
            }
            if let hcm = chain.httpConnectionManager, httpStats[hcm.statPrefix] == nil {
                // The health-check filter's stats, if any manager of this prefix has it.
                let healthCheck = chains.contains {
                    $0.httpConnectionManager.map { $0.statPrefix == hcm.statPrefix && $0.hasHealthCheckFilter } ?? false
                }
                httpStats[hcm.statPrefix] = scope("http.\(hcm.statPrefix).\(healthCheck ? " health_check" : "")") {
                    HTTPStat.makeScope(statPrefix: hcm.statPrefix, healthCheck: healthCheck, in: store)
                }
                listenerHTTP[hcm.statPrefix] = scope("listener.\(listener.statPrefix).http.\(hcm.statPrefix).") {
                    ListenerHTTPStat.makeScope(listenerStatPrefix: listener.statPrefix, statPrefix: hcm.statPrefix, in: store)
                }
            }
        }
        let listenerScope = scope("listener.\(listener.statPrefix).") {
            let made = ListenerStat.makeScope(statPrefix: listener.statPrefix, in: store)
            listenerScopes.append(made)
            return made
        }
        let inspectors = InspectorScopes(
            http: listener.listenerFilters.contains(.httpInspector)
                ? scope("http_inspector.") { HTTPInspectorStat.makeScope(in: store) } : nil,
            tls: listener.hasTLSInspector ? scope("tls_inspector.") { TLSInspectorStat.makeScope(in: store) } : nil)
        return ListenerScopes(listener: listenerScope, tcpProxy: proxyStats, http: httpStats, listenerHTTP: listenerHTTP,
                              inspectors: inspectors, ssl: makeSSLScope(for: listener))
    }

    /// `listener.<prefix>.ssl.*` and `.server_ssl_socket_factory.*` when a
    /// chain has TLS, counting its contexts' SDS updates. Made as the
    /// listener starts warming: its secrets may arrive before it is active.
    @discardableResult
    func makeSSLScope(for listener: ListenerConfig) -> StatScope? {
        let chains = listener.allFilterChains
        guard chains.contains(where: { $0.tls != nil }) else { return nil }
        let prefix = "listener.\(listener.statPrefix)."
        let ssl: StatScope
        if let made = statScopes[prefix + "ssl."] {
            ssl = made
        } else {
            ssl = SSLStat.makeScope(under: prefix, role: .server, in: store)
            statScopes[prefix + "ssl."] = ssl
        }
        for chain in chains { chain.tls?.countUpdates(in: ssl, store: store) }
        return ssl
    }
}
