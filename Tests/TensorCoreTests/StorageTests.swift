import Testing
import TestSupport
@testable import TensorCore

/// In-place accumulation and the allocator settings (Allocator.swift).
@Suite struct StorageTests {
    @Test func addInPlaceEqualsAddAndRespectsSharedStorage() {
        var rng = TestRNG(state: 151)
        let a = rng.tensor([3, 50_000]), b = rng.tensor([3, 50_000])   // several parallel chunks
        var sum = a                       // shares a's storage until written
        Kernels.addInPlace(&sum, b)
        let equalsAdd = sum == Kernels.add(a, b)
        #expect(equalsAdd, "addInPlace differs from add")
        let originalKept = a.scalars[0] + b.scalars[0] == sum.scalars[0] && a != sum
        #expect(originalKept, "copy-on-write: the shared original must stay untouched")
        let again = Threads.withCount(1) { () -> Tensor in var s = a; Kernels.addInPlace(&s, b); return s }
        let sameBits = again == sum
        #expect(sameBits, "1 and 2 threads differ")
    }

    @Test func allocatorKeepsFreedMemory() {
        #if os(Linux)
        #expect(Allocator.configured, "glibc mallopt refused the mmap/trim thresholds")
        #endif
    }
}
