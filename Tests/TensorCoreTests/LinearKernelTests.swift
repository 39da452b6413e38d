import Testing
import TestSupport
@testable import TensorCore

/// The fused Linear kernel (bias as sgemm's starting C) against matmul then broadcasting add.
@Suite struct LinearKernelTests {
    @Test(arguments: [[4, 5], [2, 3, 5], [3, 0, 5]])
    func linearEqualsMatmulPlusBias(_ xShape: [Int]) {
        var rng = TestRNG(state: 171)
        let x = rng.tensor(xShape), w = rng.tensor([6, 5]), b = rng.tensor([6])
        let y = Kernels.linear(x, weight: w, bias: b)
        expectClose(y, Kernels.add(Kernels.matmul(x, w, transposeB: true), b), atol: 1e-6, rtol: 1e-6, "linear")
        let k0 = Kernels.linear(Tensor(zeros: [3, 0]), weight: Tensor(zeros: [2, 0]), bias: Tensor(shape: [2], scalars: [1, 2]))
        #expect(k0.scalars == [1, 2, 1, 2, 1, 2])   // no inputs: every row is the bias
    }
}
