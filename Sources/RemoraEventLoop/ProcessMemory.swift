internal import CRemoraShims

/// Memory figures of this process, for `server.memory_*` stats and benchmarks.
public enum ProcessMemory {
    /// Resident set size in bytes (from /proc/self/statm); 0 if unknown.
    public static var residentBytes: UInt64 { remora_resident_bytes() }
}
