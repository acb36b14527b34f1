import Glibc
import XCTest

import RemoraEventLoop

/// `ProcessMemory.releaseStartupPages` on mappings the test makes: read-only
/// file pages leave the resident set even when they are mapped twice (shared
/// pages, which MADV_PAGEOUT leaves alone), so do the pages of a writable
/// private mapping that are still the file's, and a page the process changed
/// keeps its contents.
final class ProcessMemoryTests: XCTestCase {
    private let pages = 16
    private let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    private var path = ""
    private var fd: Int32 = -1

    override func setUpWithError() throws {
        path = "/tmp/remora-process-memory-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        XCTAssertGreaterThanOrEqual(fd, 0)
        let bytes = [UInt8](repeating: 0x41, count: pages * pageSize)
        XCTAssertEqual(bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }, bytes.count)
        XCTAssertEqual(fsync(fd), 0)
    }

    override func tearDown() {
        if fd >= 0 { close(fd) }
        unlink(path)
    }

    private func map(_ protection: Int32) throws -> UnsafeMutablePointer<UInt8> {
        let p = mmap(nil, pages * pageSize, protection, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else { throw XCTSkip("mmap failed: errno \(errno)") }
        return p.assumingMemoryBound(to: UInt8.self)
    }

    private func touch(_ p: UnsafeMutablePointer<UInt8>) -> Int {
        var sum = 0
        for i in stride(from: 0, to: pages * pageSize, by: pageSize) { sum &+= Int(p[i]) }
        return sum
    }

    /// The Rss of the mapping that starts at `p`, in KiB, from /proc/self/smaps.
    private func residentKiB(_ p: UnsafeMutablePointer<UInt8>) throws -> Int {
        let start = String(UInt(bitPattern: p), radix: 16)
        guard let f = fopen("/proc/self/smaps", "r") else { throw XCTSkip("no /proc/self/smaps") }
        defer { fclose(f) }
        var line = [CChar](repeating: 0, count: 1024)
        var inside = false
        while fgets(&line, Int32(line.count), f) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if let dash = text.firstIndex(of: "-"), !text.hasPrefix(" "), text[..<dash].allSatisfy(\.isHexDigit) {
                inside = text[..<dash] == start
            } else if inside, text.hasPrefix("Rss:") {
                return Int(text.split(separator: " ")[1]) ?? -1
            }
        }
        XCTFail("mapping at \(start) not in smaps")
        return -1
    }

    func testReadOnlyFilePagesLeaveEvenWhenShared() throws {
        let a = try map(PROT_READ)
        let b = try map(PROT_READ)
        defer {
            munmap(a, pages * pageSize)
            munmap(b, pages * pageSize)
        }
        XCTAssertEqual(touch(a), touch(b))
        XCTAssertEqual(try residentKiB(a), pages * pageSize / 1024)
        XCTAssertEqual(try residentKiB(b), pages * pageSize / 1024)

        guard ProcessMemory.releaseStartupPages() else { throw XCTSkip("the kernel refuses MADV_PAGEOUT") }
        XCTAssertEqual(try residentKiB(a), 0)
        XCTAssertEqual(try residentKiB(b), 0)
        // Still readable: the pages fault back in from the page cache.
        XCTAssertEqual(touch(a), pages * 0x41)
    }

    func testChangedPagesKeepTheirContents() throws {
        // Written, then made read-only (as RELRO data is after relocation).
        let relro = try map(PROT_READ | PROT_WRITE)
        let data = try map(PROT_READ | PROT_WRITE)
        defer {
            munmap(relro, pages * pageSize)
            munmap(data, pages * pageSize)
        }
        relro[pageSize] = 0x5A
        XCTAssertEqual(mprotect(relro, pages * pageSize, PROT_READ), 0)
        data[2 * pageSize] = 0x5B
        _ = touch(relro) &+ touch(data)

        ProcessMemory.releaseStartupPages()
        XCTAssertEqual(relro[pageSize], 0x5A)
        XCTAssertEqual(data[2 * pageSize], 0x5B)
        XCTAssertEqual(relro[0], 0x41)
    }

    func testWritableFilePagesLeaveButWrittenOnesStay() throws {
        let data = try map(PROT_READ | PROT_WRITE)
        defer { munmap(data, pages * pageSize) }
        data[3 * pageSize] = 0x5C
        XCTAssertEqual(touch(data), (pages - 1) * 0x41 + 0x5C)
        XCTAssertEqual(try residentKiB(data), pages * pageSize / 1024)

        guard ProcessMemory.releaseStartupPages() else { throw XCTSkip("the kernel refuses MADV_PAGEOUT") }
        // Only the page this process wrote (anonymous now) is left.
        XCTAssertEqual(try residentKiB(data), pageSize / 1024)
        XCTAssertEqual(touch(data), (pages - 1) * 0x41 + 0x5C)
    }
}
