internal import CRemoraShims

/// Memory figures of this process, for `server.memory_*` stats and benchmarks.
public enum ProcessMemory {
    /// Resident set size in bytes (from /proc/self/statm); 0 if unknown.
    public static var residentBytes: UInt64 { remora_resident_bytes() }

    /// Lets the kernel reclaim code and constant pages that only start-up
    /// used (see `remora_page_out_file_mappings`). Best effort; returns
    /// false where the kernel does not support it.
    @discardableResult
    public static func releaseStartupPages() -> Bool {
        remora_page_out_file_mappings() >= 0
    }

    /// Gives freed heap memory back to the kernel (malloc_trim), e.g. once
    /// the start-up tables are dropped.
    public static func trimHeap() { remora_trim_heap() }
}
