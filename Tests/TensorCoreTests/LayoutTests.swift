import Testing
import TestSupport
@testable import TensorCore

@Suite struct LayoutTests {
    @Test(arguments: [[0, 1, 2], [2, 0, 1], [1, 0, 2], [0, 2, 1], [2, 1, 0]])
    func permuteMatchesReference(_ dims: [Int]) {
        var rng = TestRNG(state: 41)
        let x = rng.tensor([3, 5, 7])
        let y = Kernels.permute(x, dims)
        expectClose(y, Reference.permute(x, dims), "permute \(dims)")
        #expect(Kernels.permute(y, Kernels.inversePermutation(dims)) == x)
    }

    @Test func permuteRank4AndTranspose() {
        var rng = TestRNG(state: 42)
        let x = rng.tensor([2, 3, 4, 5])
        expectClose(Kernels.permute(x, [0, 2, 1, 3]), Reference.permute(x, [0, 2, 1, 3]), "bhld")
        expectClose(Kernels.transpose(x, -1, -2), Reference.transposeLast2(x), "transpose")
    }

    @Test(arguments: [0, 1, 2, -1])
    func concatSliceSplitRoundTrip(_ axis: Int) {
        var rng = TestRNG(state: 43)
        let ax = axis < 0 ? axis + 3 : axis
        var sa = [3, 5, 7], sb = [3, 5, 7]
        sa[ax] = 2; sb[ax] = 4
        let a = rng.tensor(sa), b = rng.tensor(sb)
        let c = Kernels.concat([a, b], axis: axis)
        #expect(c.shape[ax] == 6)
        // Element check against the definition.
        for o in 0..<c.count {
            var i = Reference.index(o, c.shape)
            let fromA = i[ax] < 2
            if !fromA { i[ax] -= 2 }
            #expect(c.scalars[o] == (fromA ? a[i] : b[i]))
        }
        let parts = Kernels.split(c, axis: axis, sizes: [2, 4])
        #expect(parts[0] == a && parts[1] == b)
        #expect(Kernels.slice(c, axis: axis, start: 2, length: 4) == b)
        // sliceBackward is the adjoint of slice: <slice(x), g> == <x, sliceBackward(g)>.
        let g = rng.tensor(sb)
        let back = Kernels.sliceBackward(g, axis: axis, start: 2, inputShape: c.shape)
        #expect(abs(dot(Kernels.slice(c, axis: axis, start: 2, length: 4), g) - dot(c, back)) < 1e-4)
        #expect(Kernels.slice(back, axis: axis, start: 0, length: 2) == Tensor(zeros: sa))
    }
}

@Suite struct ResampleTests {
    @Test func nearestAndPoolMatchReferenceAndAreAdjoint() {
        var rng = TestRNG(state: 51)
        let x = rng.tensor([2, 5, 3, 4])
        let up = Kernels.upsampleNearest(x, factor: 2)
        expectClose(up, Reference.upsampleNearest(x, 2), "upsample")
        let gu = rng.tensor(up.shape)
        #expect(abs(dot(up, gu) - dot(x, Kernels.upsampleNearestBackward(gu, factor: 2))) < 1e-4)
        let big = rng.tensor([2, 5, 6, 9])
        let pooled = Kernels.avgPool2d(big, kernel: 3)
        expectClose(pooled, Reference.avgPool2d(big, 3), atol: 1e-4, rtol: 1e-4, "avgpool")
        let gp = rng.tensor(pooled.shape)
        #expect(abs(dot(pooled, gp) - dot(big, Kernels.avgPool2dBackward(gp, kernel: 3))) < 1e-4)
    }

    @Test(arguments: [(5, 7), (9, 4), (3, 3), (16, 16), (1, 2)])
    func bilinearMatchesPyTorchFormula(_ oh: Int, _ ow: Int) {
        var rng = TestRNG(state: 52)
        let x = rng.tensor([2, 3, 5, 6])
        let y = Kernels.resizeBilinear(x, height: oh, width: ow)
        expectClose(y, Reference.resizeBilinear(x, oh, ow), atol: 1e-4, rtol: 1e-4, "bilinear \(oh)x\(ow)")
        let g = rng.tensor(y.shape)
        let dx = Kernels.resizeBilinearBackward(g, inputShape: x.shape)
        #expect(abs(dot(y, g) - dot(x, dx)) < 1e-3, "bilinear backward is the adjoint")
    }

    @Test func bilinearKnownValues() {
        // PyTorch: F.interpolate(torch.tensor([[[[0., 1.], [2., 3.]]]]), size=(4, 4), mode="bilinear")
        // first row = [0, 0.25, 0.75, 1]; second row = [0.5, 0.75, 1.25, 1.5].
        let x = Tensor(shape: [1, 1, 2, 2], scalars: [0, 1, 2, 3])
        let y = Kernels.resizeBilinear(x, height: 4, width: 4)
        #expect(Array(y.scalars[0..<8]) == [0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5])
    }
}
