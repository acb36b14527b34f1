import CRemoraShims
import Testing

/// The per-thread block cache nghttp2 allocates from (`remora_block_cache.h`).
@Suite struct BlockCacheTests {
    /// Takes every block the calling thread's cache holds (what else ran on
    /// this thread left them), so a test starts from an empty cache.
    func drainCache() -> [UnsafeMutableRawPointer] {
        var taken: [UnsafeMutableRawPointer] = []
        for usable in stride(from: 16, through: 1008, by: 32) {
            while remora_block_cache_bytes() > 0 {
                let before = remora_block_cache_bytes()
                taken.append(remora_block_malloc(usable, nil)!)
                if remora_block_cache_bytes() == before { break }
            }
        }
        return taken
    }

    @Test func blocksAreReusedAndKeepTheirBytes() {
        let taken = drainCache()
        defer { for b in taken { remora_block_free(b, nil) } }
        let before = remora_block_cache_bytes()
        #expect(before == 0)
        let p = remora_block_malloc(100, nil)!
        p.storeBytes(of: 0xABCD_EF01_2345_6789 as UInt64, as: UInt64.self)
        #expect(Int(bitPattern: p) % 16 == 0)
        remora_block_free(p, nil)
        #expect(remora_block_cache_bytes() == before + 128)
        // The same size class gives the cached block back.
        let q = remora_block_malloc(90, nil)!
        #expect(q == p)
        #expect(remora_block_cache_bytes() == before)
        remora_block_free(q, nil)
    }

    @Test func callocZeroesAndReallocKeepsTheBytes() {
        let p = remora_block_calloc(10, 8, nil)!.assumingMemoryBound(to: UInt8.self)
        #expect((0..<80).allSatisfy { p[$0] == 0 })
        for i in 0..<80 { p[i] = UInt8(i) }
        // Within its class (80 usable bytes): the same block.
        #expect(remora_block_realloc(p, 64, nil) == UnsafeMutableRawPointer(p))
        // Past it (and past the largest class): moved, bytes kept.
        let big = remora_block_realloc(p, 5000, nil)!.assumingMemoryBound(to: UInt8.self)
        #expect((0..<80).allSatisfy { big[$0] == UInt8($0) })
        let bigger = remora_block_realloc(big, 9000, nil)!.assumingMemoryBound(to: UInt8.self)
        #expect((0..<80).allSatisfy { bigger[$0] == UInt8($0) })
        #expect(remora_block_realloc(bigger, 0, nil) == nil)
        let fresh = remora_block_realloc(nil, 16, nil)
        #expect(fresh != nil)
        remora_block_free(fresh, nil)
    }

    @Test func theCacheIsBounded() {
        var blocks: [UnsafeMutableRawPointer] = []
        for _ in 0..<4096 { blocks.append(remora_block_malloc(500, nil)!) }
        for b in blocks { remora_block_free(b, nil) }
        #expect(remora_block_cache_bytes() <= 1024 * 1024)
    }
}
