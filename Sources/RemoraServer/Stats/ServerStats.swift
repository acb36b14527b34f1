import RemoraCore

/// `server.*` stats, with Envoy's names; written by the main thread only.
enum ServerStat: Int, StatName {
    case live, state, uptime, concurrency, totalConnections, memoryPhysicalSize, hotRestartEpoch
    case memoryAllocated, memoryHeapSize, initializationTimeMs
    case daysUntilFirstCertExpiring, secondsUntilFirstOcspResponseExpiring

    var name: String {
        switch self {
        case .memoryAllocated: "memory_allocated"
        case .memoryHeapSize: "memory_heap_size"
        case .initializationTimeMs: "initialization_time_ms"
        case .live: "live"
        case .state: "state"
        case .uptime: "uptime"
        case .concurrency: "concurrency"
        case .totalConnections: "total_connections"
        case .memoryPhysicalSize: "memory_physical_size"
        case .hotRestartEpoch: "hot_restart_epoch"
        case .daysUntilFirstCertExpiring: "days_until_first_cert_expiring"
        case .secondsUntilFirstOcspResponseExpiring: "seconds_until_first_ocsp_response_expiring"
        }
    }

    var kind: StatKind { self == .initializationTimeMs ? .histogram : .gauge }

    static func makeScope(in store: StatsStore) -> StatScope {
        store.makeScope(prefix: "server.", ServerStat.self)
    }
}

/// Envoy's `server.state` values.
enum ServerState: Int64 {
    case live = 0
    case draining = 1
    case preInitializing = 2
    case initializing = 3

    var name: String {
        switch self {
        case .live: "LIVE"
        case .draining: "DRAINING"
        case .preInitializing: "PRE_INITIALIZING"
        case .initializing: "INITIALIZING"
        }
    }
}

/// `listener.<address>.*` stats, with Envoy's names.
enum ListenerStat: Int, StatName {
    case downstreamCxTotal, downstreamCxActive, downstreamCxDestroy, noFilterChainMatch, downstreamCxLengthMs
    case downstreamPreCxActive, downstreamPreCxTimeout, downstreamListenerFilterRemoteClose, downstreamListenerFilterError
    case downstreamCxTransportSocketConnectTimeout

    var name: String {
        switch self {
        case .downstreamPreCxActive: "downstream_pre_cx_active"
        case .downstreamPreCxTimeout: "downstream_pre_cx_timeout"
        case .downstreamCxTransportSocketConnectTimeout: "downstream_cx_transport_socket_connect_timeout"
        case .downstreamListenerFilterRemoteClose: "downstream_listener_filter_remote_close"
        case .downstreamListenerFilterError: "downstream_listener_filter_error"
        case .downstreamCxTotal: "downstream_cx_total"
        case .downstreamCxActive: "downstream_cx_active"
        case .downstreamCxDestroy: "downstream_cx_destroy"
        case .noFilterChainMatch: "no_filter_chain_match"
        case .downstreamCxLengthMs: "downstream_cx_length_ms"
        }
    }

    public var kind: StatKind {
        switch self {
        case .downstreamCxActive, .downstreamPreCxActive: .gauge
        case .downstreamCxLengthMs: .histogram
        default: .counter
        }
    }

    static func makeScope(statPrefix: String, in store: StatsStore) -> StatScope {
        store.makeScope(prefix: "listener.\(statPrefix).", ListenerStat.self)
    }
}


/// Envoy's `listener_manager.*` (1.40's `ALL_LISTENER_MANAGER_STATS`,
/// without `workers_pinned`).
enum ListenerManagerStat: Int, StatName {
    case listenerAdded, listenerCreateFailure, listenerCreateSuccess, listenerInPlaceUpdated, listenerModified
    case listenerRemoved, listenerStopped
    case totalFilterChainsDraining, totalListenersActive, totalListenersDraining, totalListenersWarming, workersStarted

    var name: String {
        switch self {
        case .listenerAdded: "listener_added"
        case .listenerCreateFailure: "listener_create_failure"
        case .listenerCreateSuccess: "listener_create_success"
        case .listenerInPlaceUpdated: "listener_in_place_updated"
        case .listenerModified: "listener_modified"
        case .listenerRemoved: "listener_removed"
        case .listenerStopped: "listener_stopped"
        case .totalFilterChainsDraining: "total_filter_chains_draining"
        case .totalListenersActive: "total_listeners_active"
        case .totalListenersDraining: "total_listeners_draining"
        case .totalListenersWarming: "total_listeners_warming"
        case .workersStarted: "workers_started"
        }
    }

    var kind: StatKind {
        switch self {
        case .totalFilterChainsDraining, .totalListenersActive, .totalListenersDraining, .totalListenersWarming, .workersStarted: .gauge
        default: .counter
        }
    }

    static func makeScope(in store: StatsStore) -> StatScope {
        store.makeScope(prefix: "listener_manager.", ListenerManagerStat.self)
    }
}

/// Envoy's per-worker listener stats, `listener.<prefix>.worker_<n>.*`.
enum PerWorkerListenerStat: Int, StatName {
    case downstreamCxActive, downstreamCxTotal

    var name: String {
        switch self {
        case .downstreamCxActive: "downstream_cx_active"
        case .downstreamCxTotal: "downstream_cx_total"
        }
    }

    var kind: StatKind { self == .downstreamCxActive ? .gauge : .counter }
}

/// Envoy's RDS provider stats beside its subscription's,
/// `http.<stat_prefix>.rds.<route_config_name>.*`.
enum RDSStat: Int, StatName {
    case configReload, configReloadTimeMs, updateEmpty

    var name: String {
        switch self {
        case .configReload: "config_reload"
        case .configReloadTimeMs: "config_reload_time_ms"
        case .updateEmpty: "update_empty"
        }
    }

    var kind: StatKind { self == .configReloadTimeMs ? .gauge : .counter }
}

/// Envoy's `CdsApiImpl` stats beside its subscription's,
/// `cluster_manager.cds.config_reload` and `config_reload_time_ms`: an
/// update that added or changed a cluster (and refused none).
enum CDSStat: Int, StatName {
    case configReload, configReloadTimeMs

    var name: String {
        switch self {
        case .configReload: "config_reload"
        case .configReloadTimeMs: "config_reload_time_ms"
        }
    }

    var kind: StatKind { self == .configReload ? .counter : .gauge }
}

/// Envoy's `runtime.*`: each load of the runtime snapshot (at start-up,
/// when initialisation completes, and on each `/runtime_modify`), the
/// layers, the distinct keys across them, and whether the admin layer
/// overrides anything. No disk layer exists, so every load is one
/// without an override directory.
enum RuntimeStat: Int, StatName {
    case loadSuccess, loadError, overrideDirExists, overrideDirNotExists, numKeys, numLayers, adminOverridesActive

    var name: String {
        switch self {
        case .loadSuccess: "load_success"
        case .loadError: "load_error"
        case .overrideDirExists: "override_dir_exists"
        case .overrideDirNotExists: "override_dir_not_exists"
        case .numKeys: "num_keys"
        case .numLayers: "num_layers"
        case .adminOverridesActive: "admin_overrides_active"
        }
    }

    var kind: StatKind {
        switch self {
        case .numKeys, .numLayers, .adminOverridesActive: .gauge
        default: .counter
        }
    }

    static func makeScope(in store: StatsStore) -> StatScope {
        store.makeScope(prefix: "runtime.", RuntimeStat.self)
    }
}
