import Testing
import TestSupport
@testable import TensorCore

@Suite struct ReduceTests {
    @Test(arguments: [[0], [1], [2], [0, 2], [1, 2], [0, 1, 2], [-1], [0, 1]])
    func reductionsMatchReference(_ axes: [Int]) {
        var rng = TestRNG(state: 11)
        let x = rng.tensor([3, 5, 7])
        for keep in [false, true] {
            let r = Reference.reduce(x, axes: axes, keepDims: keep)
            expectClose(Kernels.sum(x, axes: axes, keepDims: keep), r.sum, atol: 1e-4, rtol: 1e-4, "sum \(axes)")
            expectClose(Kernels.mean(x, axes: axes, keepDims: keep), Kernels.scale(r.sum, 1 / Float(r.count)), atol: 1e-4, rtol: 1e-4, "mean \(axes)")
            expectClose(Kernels.max(x, axes: axes, keepDims: keep).values, r.max, atol: 1e-4, rtol: 1e-4, "max \(axes)")
            for unbiased in [false, true] {
                let v = Kernels.variance(x, axes: axes, unbiased: unbiased, keepDims: true)
                expectClose(v, Reference.variance(x, axes: axes, unbiased: unbiased), atol: 1e-4, rtol: 1e-4, "var \(axes) \(unbiased)")
            }
        }
    }

    @Test func argmaxPointsAtTheMaximumAndBackwardScatters() {
        var rng = TestRNG(state: 12)
        let x = rng.tensor([3, 5, 7])
        let (vals, arg) = Kernels.max(x, axes: [1])
        for (v, a) in zip(vals.scalars, arg) { #expect(x.scalars[a] == v) }
        let g = rng.tensor([3, 7])
        let dx = Kernels.maxBackward(g, argmax: arg, inputShape: x.shape)
        #expect(dx.scalars.filter { $0 != 0 }.count == 21)
        expectClose(Kernels.sum(dx, axes: [1]), g, atol: 1e-4, rtol: 1e-4, "column sums of the scatter")
    }

    @Test func broadcastExpandsAndIsTheAdjointOfReduceToShape() {
        var rng = TestRNG(state: 14)
        let x = rng.tensor([3, 1, 7])
        let y = Kernels.broadcast(x, to: [2, 3, 5, 7])
        expectClose(y, Reference.binary(x, Tensor(zeros: [2, 3, 5, 7]), { a, _ in a }), "broadcast")
        let g = rng.tensor([2, 3, 5, 7])
        #expect(abs(dot(y, g) - dot(x, Kernels.reduceToShape(g, x.shape))) < 1e-3)
        #expect(Kernels.broadcast(Tensor(scalar: 2), to: [2, 2]).scalars == [2, 2, 2, 2])
    }

    @Test func reduceToShapeSumsBroadcastAxes() {
        var rng = TestRNG(state: 13)
        let g = rng.tensor([2, 3, 5, 7])
        for shape in [[3, 1, 7], [7], [1, 5, 1], [2, 3, 5, 7], [1]] {
            let r = Kernels.reduceToShape(g, shape)
            #expect(r.shape == shape)
            // <g, broadcast(w)> == <reduceToShape(g), w> for any w of `shape`.
            let w = rng.tensor(shape)
            let lhs = dot(Kernels.mul(g, Kernels.add(Tensor(zeros: g.shape), w)), Tensor(repeating: 1, shape: g.shape))
            #expect(abs(lhs - dot(r, w)) < 1e-3, "reduceToShape to \(shape)")
        }
    }
}

@Suite struct MatmulTests {
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func matmulTransposesMatchReference(_ ta: Bool, _ tb: Bool) {
        var rng = TestRNG(state: 21)
        let a = rng.tensor([2, 3, 5]), b = rng.tensor([2, 5, 7])
        let aa = ta ? Reference.transposeLast2(a) : a, bb = tb ? Reference.transposeLast2(b) : b
        expectClose(Kernels.matmul(aa, bb, transposeA: ta, transposeB: tb), Reference.matmul(a, b), atol: 1e-4, rtol: 1e-4, "batched \(ta) \(tb)")
        let b2 = rng.tensor([5, 7])
        let b2t = tb ? Reference.transposeLast2(b2) : b2
        expectClose(Kernels.matmul(aa, b2t, transposeA: ta, transposeB: tb), Reference.matmul(a, b2), atol: 1e-4, rtol: 1e-4, "shared rhs \(ta) \(tb)")
    }

    @Test func matmulBackwardMatchesFiniteDifferences() {
        var rng = TestRNG(state: 22)
        let a = rng.tensor([2, 3, 5]), b = rng.tensor([5, 4]), g = rng.tensor([2, 3, 4])
        let (da, db) = Kernels.matmulBackward(g, a: a, b: b)
        expectGradient(a, analytic: da, "da") { dot(Kernels.matmul($0, b), g) }
        expectGradient(b, analytic: db, "db shared") { dot(Kernels.matmul(a, $0), g) }
        let bb = rng.tensor([2, 5, 4])
        let (_, dbb) = Kernels.matmulBackward(g, a: a, b: bb)
        expectGradient(bb, analytic: dbb, "db batched") { dot(Kernels.matmul(a, $0), g) }
    }
}
