import RemoraConfig
import RemoraEventLoop

/// Lets go of the API schema's tables (and trims the heap) once xDS updates
/// stop coming for a while, on the main loop.
///
/// Compiling an LDS, RDS, CDS or EDS resource with a field name
/// `SupportedFields` has not seen yet reads `MessageSchema.envoy`, which
/// parses the whole generated schema (tens of ms at mesh size) when it is
/// not cached. A serving proxy should not carry those tables, but dropping
/// them after every update made each push pay the parse again: over ADS a
/// route or cluster push reached traffic 30–60 ms later than Envoy's. They
/// are dropped `quietMilliseconds` after the last update.
final class ConfigTablesRelease {
    static let quietMilliseconds: UInt64 = 1000

    private let timer: Timer
    private var trimPending = false

    init(loop: EventLoop) {
        timer = Timer(loop: loop)
    }

    /// An update was applied; `large` ones also leave heap pages to give back.
    func updateApplied(large: Bool = false) {
        trimPending = trimPending || large
        timer.stop()
        timer.start(afterMilliseconds: Self.quietMilliseconds) { [unowned self] in
            MessageSchema.releaseCache()
            if self.trimPending { ProcessMemory.trimHeap() }
            self.trimPending = false
        }
    }

    func close() {
        timer.close()
    }
}
