#if canImport(Glibc)
import Glibc
#endif

/// The `date` header value (RFC 9110 §5.6.7 IMF-fixdate), formatted at most
/// once a second per worker.
public struct DateHeader {
    private var second: Int = -1
    private var cached = ""

    public init() {}

    public mutating func current() -> String {
        // The coarse clock (the time the kernel stored at its last tick, a
        // few ms behind at most) is enough for a one-second field and needs
        // no TSC read; at one request per wake-up this was one of five clock
        // reads per request. Envoy's cached date lags by up to 500 ms.
        var now = timespec()
        clock_gettime(CLOCK_REALTIME_COARSE, &now)
        let s = Int(now.tv_sec)
        if s != second {
            second = s
            cached = Self.format(epochSeconds: s)
        }
        return cached
    }

    static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    public static func format(epochSeconds: Int) -> String {
        var t = time_t(epochSeconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
