import Testing
import TestSupport
@testable import TensorCore

/// `sgemm` splits products above `gemmSplitThreshold` into row (M >= N) or column blocks of C over
/// the kernel threads, with OpenBLAS single-threaded. Both split directions and every transpose
/// must match the naive reference, and 1 and 2 threads must agree bit for bit.
@Suite struct GemmSplitTests {
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func splitProductsMatchReferenceAndAreThreadCountInvariant(_ ta: Bool, _ tb: Bool) {
        var rng = TestRNG(state: 31)
        // [tall: M >= N split by rows] and [wide: M < N split by columns], both above the threshold.
        for (m, k, n) in [(517, 40, 33), (29, 70, 611)] {
            #expect(m * n * k >= gemmSplitThreshold)
            let a = rng.tensor([m, k]), b = rng.tensor([k, n])
            let aa = ta ? Reference.transposeLast2(a) : a, bb = tb ? Reference.transposeLast2(b) : b
            let one = Threads.withCount(1) { Kernels.matmul(aa, bb, transposeA: ta, transposeB: tb) }
            let two = Threads.withCount(2) { Kernels.matmul(aa, bb, transposeA: ta, transposeB: tb) }
            expectClose(two, Reference.matmul(a, b), atol: 1e-4, rtol: 1e-4, "split \(m)x\(k)x\(n) \(ta) \(tb)")
            let same = one == two
            #expect(same, "split \(m)x\(k)x\(n) \(ta) \(tb): 1 and 2 threads differ")
        }
    }
}
