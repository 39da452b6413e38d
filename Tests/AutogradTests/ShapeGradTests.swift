import Testing
import TensorCore
@testable import Autograd
import TestSupport

/// Finite-difference checks of reductions and shape operations.
@Suite struct ShapeGradTests {
    var rng = TestRNG(seed: 12)

    @Test mutating func sumAxes() {
        gradCheck([rng.tensor([2, 3, 4])]) { $0[0].sum(axes: [1]) }
        gradCheck([rng.tensor([2, 3, 4])]) { $0[0].sum(axes: [0, 2], keepDims: true) }
        gradCheck([rng.tensor([2, 3])]) { $0[0].sum() }
    }
    @Test mutating func meanAxes() {
        gradCheck([rng.tensor([2, 3, 4])]) { $0[0].mean(axes: [-1]) }
        gradCheck([rng.tensor([2, 3])]) { $0[0].mean() }
    }
    @Test func maxRoutesToArgmax() {
        // Distinct values spaced > 2h * |d| apart so the argmax does not change under the perturbation.
        let x = Tensor(shape: [2, 4], scalars: [0.1, 0.9, -0.5, 0.4, 1.5, -1.0, 0.2, 0.8])
        gradCheck([x], h: 1e-3) { $0[0].max(axes: [1]) }
        let m = Variable(x, requiresGrad: true)
        m.max(axes: [1]).sum().backward()
        #expect(m.grad?.scalars == [0, 1, 0, 0, 1, 0, 0, 0])
    }
    @Test mutating func variance() {
        gradCheck([rng.tensor([3, 5])]) { $0[0].variance(axes: [1]) }
        gradCheck([rng.tensor([3, 5])]) { $0[0].variance(axes: [1], unbiased: true, keepDims: true) }
    }
    @Test mutating func reshapeAndPermute() {
        gradCheck([rng.tensor([2, 3, 4])]) { $0[0].permuted([2, 0, 1]).reshaped([4, -1]) * $0[0].reshaped([4, 6]) }
        gradCheck([rng.tensor([2, 3, 4])]) { $0[0].transposed(0, 2) }
    }
    @Test mutating func sliceAndChunk() {
        gradCheck([rng.tensor([3, 5, 2])]) { $0[0].slice(axis: 1, start: 1, end: 4) }
        gradCheck([rng.tensor([4, 6])]) { let c = $0[0].chunked(3, axis: 1); return c[0] * c[2] }
    }
    @Test mutating func concatenate() {
        gradCheck([rng.tensor([2, 3, 2]), rng.tensor([2, 1, 2]), rng.tensor([2, 2, 2])]) { concat($0, axis: 1) }
        gradCheck([rng.tensor([1, 3]), rng.tensor([2, 3])]) { concat($0, axis: 0) }
    }
    @Test func permuteForward() {
        let x = Variable(Tensor(shape: [2, 3], scalars: [0, 1, 2, 3, 4, 5]))
        #expect(x.transposed(0, 1).value == Tensor(shape: [3, 2], scalars: [0, 3, 1, 4, 2, 5]))
        #expect(concat([x, x], axis: 1).value.scalars == [0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5])
    }
}
