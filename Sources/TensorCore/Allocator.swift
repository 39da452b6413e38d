#if os(Linux)
/// glibc's `int mallopt(int param, int value)` (malloc.h, which the Glibc module does not export).
@_silgen_name("mallopt")
private func glibcMallopt(_ param: Int32, _ value: Int32) -> Int32
/// malloc.h: `M_TRIM_THRESHOLD -1`, `M_MMAP_THRESHOLD -3` (glibc ABI constants).
private let mTrimThreshold: Int32 = -1, mMmapThreshold: Int32 = -3
#endif

/// Keeps freed tensor storage in the process instead of handing it back to the kernel.
///
/// glibc serves blocks above its mmap threshold (128 KB at start, raised dynamically) with fresh
/// `mmap` pages and returns heap tops above the trim threshold to the kernel on `free`. A training
/// step allocates and frees hundreds of MB of tensors, so every step paid for page faults and the
/// kernel zeroing each new page: measured 276k page faults for three U-Net steps (about 10% of the
/// step in `clear_page` and fault handling) against 178k (the first step's growth) with the
/// settings below. Set once, before the first kernel runs (from `Threads`); it changes where
/// memory comes from, never a value. RSS stays at the high-water mark of the heap instead of
/// shrinking between steps.
enum Allocator {
    /// Blocks up to 32 MB (glibc's maximum mmap threshold on 64-bit) come from the heap.
    static let mmapThreshold: Int32 = 32 << 20
    /// Freed heap tops up to 1 GB are kept for reuse.
    static let trimThreshold: Int32 = 1 << 30

    /// Applies the settings once per process (a lazy static: thread-safe, runs once).
    static let configured: Bool = {
        #if os(Linux)
        return glibcMallopt(mMmapThreshold, mmapThreshold) == 1 && glibcMallopt(mTrimThreshold, trimThreshold) == 1
        #else
        return false
        #endif
    }()
}

/// `count` Floats with unspecified values, for kernels that then write every element (elementwise
/// maps, copies, products with beta 0, which OpenBLAS fills itself): zero-filling first was a
/// wasted pass over the output (memset was 5% of a U-Net training step). Float is a trivial type,
/// so the storage needs no initialisation to be valid memory; a kernel using this must overwrite
/// all of it before the tensor escapes.
@inline(__always)
func uninitializedStorage(_ count: Int) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { _, n in n = count }
}
