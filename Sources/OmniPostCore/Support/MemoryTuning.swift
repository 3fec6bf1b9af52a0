/// glibc's allocator tuned for a long-running daemon that moves large buffers (issue 30, measured with
/// `make bench`: a 1 GiB upload's peak RSS 81 MiB → 52 MiB).
///
/// - A fixed mmap threshold of 1 MiB: glibc otherwise raises its threshold to the size of each large
///   block freed, so after the first few 8 MiB chunks every chunk comes from the heap arenas, and what
///   they held stays resident after the upload. Above the fixed threshold each chunk is its own mapping,
///   returned to the kernel when freed.
/// - At most 2 arenas: glibc makes up to 8 per core, one per thread that contends, and a thread pool
///   (NIO's event loops, the cooperative pool) touching them in turn leaves each holding freed memory.
package enum MemoryTuning {
    package static let mmapThreshold: Int32 = 1 << 20
    package static let arenas: Int32 = 2

    /// Call once, early (before the thread pools start): `run`, and the bench's upload child.
    package static func apply() {
        #if canImport(Glibc)
            // M_MMAP_THRESHOLD and M_ARENA_MAX from <malloc.h>.
            _ = glibcMallopt(-3, mmapThreshold)
            _ = glibcMallopt(-8, arenas)
        #endif
    }
}

#if canImport(Glibc)
    /// glibc's `int mallopt(int, int)`: <malloc.h> is not part of the Glibc module Swift imports.
    @_silgen_name("mallopt")
    private func glibcMallopt(_ param: Int32, _ value: Int32) -> Int32
#endif
