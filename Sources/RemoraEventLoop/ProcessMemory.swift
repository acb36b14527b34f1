internal import CRemoraShims

/// Memory figures of this process, for `server.memory_*` stats and benchmarks.
public enum ProcessMemory {
    /// Resident set size in bytes (from /proc/self/statm); 0 if unknown.
    public static var residentBytes: UInt64 { remora_resident_bytes() }

    /// Lets the kernel reclaim the code, constant and data pages of the
    /// binary and its libraries that only start-up used (see
    /// `remora_page_out_file_mappings`). Pages serving still uses fault back
    /// in from the page cache; nothing is evicted from it (that would make
    /// the first requests after start-up read the binary from disk).
    /// Best effort; returns false where the kernel does not support it.
    @discardableResult
    public static func releaseStartupPages() -> Bool {
        remora_page_out_file_mappings() >= 0
    }

    /// Gives freed heap memory back to the kernel (malloc_trim), e.g. once
    /// the start-up tables are dropped.
    public static func trimHeap() { remora_trim_heap() }

    /// glibc malloc's figures: bytes allocated, bytes the heap took from the
    /// kernel, and free bytes held in its arenas.
    public static var mallocStats: (allocated: UInt64, heapSize: UInt64, free: UInt64) {
        var allocated: UInt64 = 0, heap: UInt64 = 0, free: UInt64 = 0
        remora_malloc_stats(&allocated, &heap, &free)
        return (allocated, heap, free)
    }
}
