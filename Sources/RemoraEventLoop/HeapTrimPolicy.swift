/// When to give freed heap pages back to the kernel (`ProcessMemory.trimHeap`).
///
/// glibc keeps the pages a large config push freed (decode buffers, the
/// replaced clusters and route tables) in its arenas: at mesh size a full
/// push left the resident set at 55 MiB where 24 MiB were in use before and
/// after, and only `malloc_trim` gives them back. The main loop feeds the
/// resident size once a second; the policy says trim once it has grown
/// `threshold` bytes above the lowest size seen since the last trim. Growth
/// that is real use (connections under load) costs at most one trim per
/// `threshold` of growth. Main loop only.
public struct HeapTrimPolicy: Sendable {
    public let threshold: UInt64
    private var lowWater: UInt64 = .max

    public init(threshold: UInt64 = 4 << 20) {
        self.threshold = threshold
    }

    /// Whether to trim now, given the resident size.
    public mutating func shouldTrim(resident: UInt64) -> Bool {
        if resident < lowWater {
            lowWater = resident
            return false
        }
        return resident - lowWater >= threshold
    }

    /// The trim is done; `resident` is the size after it.
    public mutating func trimmed(resident: UInt64) {
        lowWater = resident
    }
}
