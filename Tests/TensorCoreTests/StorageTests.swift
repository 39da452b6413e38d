import Testing
@testable import TensorCore

/// In-place accumulation and the allocator settings (Allocator.swift).
@Suite struct StorageTests {
    @Test func addInPlaceEqualsAddAndRespectsSharedStorage() {
        var rng = TestRNG(151)
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

/// The fused Linear kernel (bias as sgemm's starting C) against matmul then broadcasting add.
@Suite struct LinearKernelTests {
    @Test(arguments: [[4, 5], [2, 3, 5], [3, 0, 5]])
    func linearEqualsMatmulPlusBias(_ xShape: [Int]) {
        var rng = TestRNG(171)
        let x = rng.tensor(xShape), w = rng.tensor([6, 5]), b = rng.tensor([6])
        let y = Kernels.linear(x, weight: w, bias: b)
        expectClose(y, Kernels.add(Kernels.matmul(x, w, transposeB: true), b), atol: 1e-6, rtol: 1e-6, "linear")
        let k0 = Kernels.linear(Tensor(zeros: [3, 0]), weight: Tensor(zeros: [2, 0]), bias: Tensor(shape: [2], scalars: [1, 2]))
        #expect(k0.scalars == [1, 2, 1, 2, 1, 2])   // no inputs: every row is the bias
    }
}
