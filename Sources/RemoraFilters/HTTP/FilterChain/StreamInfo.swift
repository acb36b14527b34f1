#if canImport(Glibc)
import Glibc
#endif
import RemoraCore
import RemoraEventLoop

/// Envoy's response flags (`%RESPONSE_FLAGS%`): why a request ended as it did.
public struct ResponseFlag: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let noRouteFound = ResponseFlag(rawValue: 1 << 0)          // NR
    public static let noHealthyUpstream = ResponseFlag(rawValue: 1 << 1)     // UH
    public static let upstreamConnectionFailure = ResponseFlag(rawValue: 1 << 2) // UF
    public static let upstreamRequestTimeout = ResponseFlag(rawValue: 1 << 3) // UT
    public static let upstreamOverflow = ResponseFlag(rawValue: 1 << 4)      // UO
    public static let upstreamRemoteReset = ResponseFlag(rawValue: 1 << 5)   // UR
    public static let upstreamConnectionTermination = ResponseFlag(rawValue: 1 << 6) // UC
    public static let downstreamConnectionTermination = ResponseFlag(rawValue: 1 << 7) // DC
    public static let localReset = ResponseFlag(rawValue: 1 << 8)            // LR
    public static let streamIdleTimeout = ResponseFlag(rawValue: 1 << 9)     // SI
    public static let noClusterFound = ResponseFlag(rawValue: 1 << 10)       // NC
    public static let upstreamProtocolError = ResponseFlag(rawValue: 1 << 11) // UPE
    public static let downstreamProtocolError = ResponseFlag(rawValue: 1 << 12) // DPE
    public static let upstreamRetryLimitExceeded = ResponseFlag(rawValue: 1 << 13) // URX
    public static let downstreamRemoteReset = ResponseFlag(rawValue: 1 << 14) // DR
    public static let failedLocalHealthCheck = ResponseFlag(rawValue: 1 << 15) // LH

    /// Each flag with Envoy's short code and long name, in Envoy's order.
    static let names: [(flag: ResponseFlag, short: String, long: String)] = [
        (.failedLocalHealthCheck, "LH", "FailedLocalHealthCheck"),
        (.localReset, "LR", "LocalReset"), (.upstreamRemoteReset, "UR", "UpstreamRemoteReset"),
        (.upstreamConnectionFailure, "UF", "UpstreamConnectionFailure"),
        (.upstreamConnectionTermination, "UC", "UpstreamConnectionTermination"),
        (.upstreamOverflow, "UO", "UpstreamOverflow"), (.noRouteFound, "NR", "NoRouteFound"),
        (.noHealthyUpstream, "UH", "NoHealthyUpstream"), (.upstreamRequestTimeout, "UT", "UpstreamRequestTimeout"),
        (.streamIdleTimeout, "SI", "StreamIdleTimeout"),
        (.downstreamConnectionTermination, "DC", "DownstreamConnectionTermination"),
        (.upstreamRetryLimitExceeded, "URX", "UpstreamRetryLimitExceeded"), (.noClusterFound, "NC", "NoClusterFound"),
        (.upstreamProtocolError, "UPE", "UpstreamProtocolError"),
        (.downstreamProtocolError, "DPE", "DownstreamProtocolError"), (.downstreamRemoteReset, "DR", "DownstreamRemoteReset"),
    ]

    /// Envoy's short codes, in Envoy's order (`-` when none is set).
    public var shortString: String { joined(long: false) }

    /// Envoy's long names (`%RESPONSE_FLAGS_LONG%`), in the same order.
    public var longString: String { joined(long: true) }

    private func joined(long: Bool) -> String {
        guard !isEmpty else { return "-" }
        var out = ""
        for entry in Self.names where contains(entry.flag) {
            if !out.isEmpty { out += "," }
            out += long ? entry.long : entry.short
        }
        return out
    }

    /// The flags named by Envoy's short codes (unknown codes name nothing).
    public init(shortNames: [String]) {
        var flags: ResponseFlag = []
        for entry in Self.names where shortNames.contains(entry.short) { flags.insert(entry.flag) }
        self = flags
    }
}

/// What is known about one request as it goes (for stats, headers and,
/// later, access logs). Owned by the stream; filters read and add to it.
public final class StreamInfo {
    public let startMilliseconds: UInt64
    public var responseFlags: ResponseFlag = []
    public var responseCode: Int?
    public var responseCodeDetails: String = ""
    public var upstreamHost: SocketAddress?
    public var upstreamCluster: String?
    public let downstreamRemoteAddress: SocketAddress?
    public let downstreamLocalAddress: SocketAddress?
    /// Whether `downstreamLocalAddress` was restored from the original
    /// destination (Envoy's `localAddressRestored()`).
    public let downstreamLocalAddressRestored: Bool
    public var bytesReceived: UInt64 = 0
    /// The `health_check` filter took the request for a health check
    /// (Envoy's `healthCheck()`): access logs' `not_health_check_filter`
    /// skips it, and neither the connection manager's response stats nor
    /// the router's per-code cluster stats count it.
    public var isHealthCheck = false
    public var bytesSent: UInt64 = 0

    // What access logs print (set where it is learnt; the wall-clock start
    // only when the stream's connection manager logs).
    /// Wall-clock start (`%START_TIME%`), seconds and nanoseconds since the epoch.
    public var startWallSeconds = 0
    public var startWallNanoseconds = 0
    /// `HTTP/1.1`, `HTTP/1.0`; nil for TCP.
    public var protocolName: String?
    public var routeName: String?
    public var upstreamLocalAddress: SocketAddress?
    public var upstreamTransportFailureReason: String?
    public var connectionTerminationDetails: String?
    public var requestedServerName: String?
    /// The downstream connection's TLS facts (nil on plaintext), for the
    /// `%DOWNSTREAM_PEER_*%` / `%DOWNSTREAM_TLS_*%` operators; set only when
    /// an access log or a header value may print them.
    public var downstreamSecurity: SecurityInfo?
    /// The upstream connection's, likewise (`%UPSTREAM_PEER_*%`, `%UPSTREAM_TLS_*%`).
    public var upstreamSecurity: SecurityInfo?
    /// The connections whose peer certificate `%*_PEER_CERT%` encodes, on
    /// demand (weak: a log line does not keep a connection).
    public weak var downstreamConnection: Connection?
    public weak var upstreamConnection: Connection?
    /// An access log may print TLS facts: the router records the upstream's.
    public var recordsSecurity = false
    /// Upstream attempts made (`%UPSTREAM_REQUEST_ATTEMPT_COUNT%`).
    public var attemptCount = 0
    /// Loop times of the stream's milestones (for the `*_DURATION` operators).
    public var lastDownstreamRxMilliseconds: UInt64?
    public var lastUpstreamTxMilliseconds: UInt64?
    public var firstUpstreamRxMilliseconds: UInt64?
    public var lastDownstreamTxMilliseconds: UInt64?
    /// When the stream ended (set for access logs).
    public var endMilliseconds: UInt64?

    /// Records the wall-clock start now.
    public func markWallStart() {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        startWallSeconds = Int(now.tv_sec)
        startWallNanoseconds = Int(now.tv_nsec)
    }

    public init(startMilliseconds: UInt64, downstreamRemoteAddress: SocketAddress?, downstreamLocalAddress: SocketAddress?,
                downstreamLocalAddressRestored: Bool = false) {
        self.startMilliseconds = startMilliseconds
        self.downstreamRemoteAddress = downstreamRemoteAddress
        self.downstreamLocalAddress = downstreamLocalAddress
        self.downstreamLocalAddressRestored = downstreamLocalAddressRestored
    }

    /// The downstream's original destination, when it was restored.
    public var downstreamOriginalDestination: SocketAddress? {
        downstreamLocalAddressRestored ? downstreamLocalAddress : nil
    }
}
