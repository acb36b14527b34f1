import RemoraConfig

/// One worker's current table of one RDS route configuration, shared by
/// every connection manager of the worker that names it. The main loop
/// posts a new immutable `RouteTable` (`HTTPWorkerContext.updateRoutes`);
/// a stream reads `table` once, when it starts, and keeps that table to its
/// end, so a push reaches the next stream of every connection and never
/// one in flight.
///
/// Owned by the worker's loop; never crosses threads.
public final class RouteConfigSlot {
    public private(set) var table: RouteTable

    init(table: RouteTable) { self.table = table }

    /// Returns the table it replaces.
    func update(_ table: RouteTable) -> RouteTable {
        let old = self.table
        self.table = table
        return old
    }
}

/// Where a connection's streams find their routes.
enum ConnectionRoutes {
    /// `route_config`, compiled with the listener.
    case inline(RouteTable)
    /// `rds`: whatever the worker holds now.
    case rds(RouteConfigSlot)

    /// The table a starting stream uses: a pointer load, no allocation.
    var current: RouteTable {
        switch self {
        case .inline(let table): table
        case .rds(let slot): slot.table
        }
    }
}
