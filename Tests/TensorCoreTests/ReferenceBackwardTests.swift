import Testing
import TestSupport
@testable import TensorCore

/// Every fast backward (fed by its fast forward's saved stats / probabilities / outputs) against the
/// naive reference backward in Reference/ReferenceBackward.swift, element-wise:
/// `|fast - reference| <= atol + rtol |reference|`. Float32 kernels against Double loops, so rtol is
/// 1e-5 throughout; atol is a floor for entries that cancel to near zero, stated per op.
@Suite struct ReferenceBackwardTests {
    /// (shape, groups, weight, bias): 2 channels per group on an odd map; no affine; weight without
    /// bias on 35-pixel runs (the 8-wide loops and their remainder); an [N, C] input (H W = 1).
    /// Tolerance dx, dweight, dbias: atol 1e-6, rtol 1e-5.
    @Test(arguments: [([2, 6, 3, 5], 3, true, true), ([3, 8, 4, 4], 4, false, false),
                      ([2, 6, 5, 7], 2, true, false), ([4, 6], 3, true, true)])
    func groupNormAndGroupNormSiLU(_ shape: [Int], _ groups: Int, _ hasWeight: Bool, _ hasBias: Bool) {
        var rng = TestRNG(state: 211)
        let x = rng.tensor(shape, -2, 3), c = shape[1], g = rng.tensor(shape)
        let w = hasWeight ? rng.tensor([c], 0.5, 1.5) : nil, b = hasBias ? rng.tensor([c]) : nil
        for silu in [false, true] {
            let fast: NormGradients
            if silu {
                let r = Kernels.groupNormSiLU(x, groups: groups, weight: w, bias: b)
                fast = Kernels.groupNormSiLUBackward(g, input: x, mean: r.mean, rstd: r.rstd, groups: groups, weight: w, bias: b)
            } else {
                let r = Kernels.groupNorm(x, groups: groups, weight: w, bias: b)
                fast = Kernels.groupNormBackward(g, input: x, mean: r.mean, rstd: r.rstd, groups: groups, weight: w, hasBias: hasBias)
            }
            let ref = Reference.groupNormBackward(g, x, groups: groups, weight: w, bias: b, eps: 1e-5, silu: silu)
            let what = silu ? "groupNormSiLU" : "groupNorm"
            expectClose(fast.input, ref.dx, atol: 1e-6, rtol: 1e-5, "\(what) dx")
            #expect((fast.weight != nil) == hasWeight && (fast.bias != nil) == hasBias)
            if let dw = fast.weight { expectClose(dw, ref.dw, atol: 1e-6, rtol: 1e-5, "\(what) dweight") }
            if let db = fast.bias { expectClose(db, ref.db, atol: 1e-6, rtol: 1e-5, "\(what) dbias") }
        }
    }

    /// (shape, eps): a small odd case, a row longer than the 8-wide loops, 130 rows (the weight and
    /// bias sums run over chunks of 64 rows). Tolerance dx, dweight, dbias: atol 1e-6, rtol 1e-5.
    @Test(arguments: [([3, 5, 7], Float(1e-5)), ([2, 33], Float(1e-6)), ([130, 5], Float(1e-5))])
    func layerNorm(_ shape: [Int], _ eps: Float) {
        var rng = TestRNG(state: 212)
        let d = shape[shape.count - 1]
        let x = rng.tensor(shape, -2, 3), w = rng.tensor([d], 0.5, 1.5), b = rng.tensor([d]), g = rng.tensor(shape)
        let r = Kernels.layerNorm(x, weight: w, bias: b, eps: eps)
        let fast = Kernels.layerNormBackward(g, input: x, mean: r.mean, rstd: r.rstd, weight: w, hasBias: true)
        let ref = Reference.layerNormBackward(g, x, weight: w, eps: eps)
        expectClose(fast.input, ref.dx, atol: 1e-6, rtol: 1e-5, "dx")
        expectClose(fast.weight!, ref.dw, atol: 1e-6, rtol: 1e-5, "dweight")
        expectClose(fast.bias!, ref.db, atol: 1e-6, rtol: 1e-5, "dbias")
    }

    /// Rows of 7, 19 (the 8-wide dot product and its remainder) and 1. Tolerance: atol 1e-7, rtol 1e-5
    /// (softmax gradients are small: y_i times a difference of O(1) terms).
    @Test(arguments: [[3, 5, 7], [2, 19], [5, 1]])
    func softmaxAndLogSoftmax(_ shape: [Int]) {
        var rng = TestRNG(state: 213)
        let x = rng.tensor(shape, -4, 4), g = rng.tensor(shape)
        expectClose(Kernels.softmaxBackward(g, output: Kernels.softmax(x)), Reference.softmaxBackward(g, input: x),
                    atol: 1e-7, rtol: 1e-5, "softmax")
        expectClose(Kernels.logSoftmaxBackward(g, output: Kernels.logSoftmax(x)), Reference.logSoftmaxBackward(g, input: x),
                    atol: 1e-7, rtol: 1e-5, "logSoftmax")
    }

    /// F = 5, 7, 1 and 19 (the 8-wide loops' remainder). Tolerance: atol 1e-6 (fastErf's absolute
    /// error is below 4e-7), rtol 1e-5.
    @Test(arguments: [[3, 10], [2, 3, 14], [1, 2], [4, 38]])
    func geglu(_ shape: [Int]) {
        var rng = TestRNG(state: 214)
        let x = rng.tensor(shape, -3, 3)
        let g = rng.tensor(Array(shape.dropLast()) + [shape[shape.count - 1] / 2])
        expectClose(Kernels.gegluBackward(g, input: x), Reference.gegluBackward(g, input: x), atol: 1e-6, rtol: 1e-5, "dx")
    }

    /// Nearest upsample by 2, 3 and 1 and average pool by 2 and 3 on odd maps. Tolerance: atol 1e-7,
    /// rtol 1e-5 (sums of at most 9 gradients).
    @Test(arguments: [([2, 3, 10, 14], 2), ([1, 2, 9, 6], 3), ([1, 1, 3, 5], 1)])
    func upsampleNearestAndAvgPool(_ gradShape: [Int], _ f: Int) {
        var rng = TestRNG(state: 215)
        let g = rng.tensor(gradShape)
        expectClose(Kernels.upsampleNearestBackward(g, factor: f), Reference.upsampleNearestBackward(g, factor: f),
                    atol: 1e-7, rtol: 1e-5, "upsampleNearest")
        let pooled = rng.tensor([gradShape[0], gradShape[1], gradShape[2] / f, gradShape[3] / f])
        expectClose(Kernels.avgPool2dBackward(pooled, kernel: f), Reference.avgPool2dBackward(pooled, kernel: f),
                    atol: 1e-7, rtol: 1e-5, "avgPool2d")
    }

    /// From [2, 3, 5, 7] up in H and down in W, down in H and up in W, exactly 2x up, to 1x1, and
    /// the identity size. Tolerance: atol 1e-6, rtol 1e-5.
    @Test(arguments: [(9, 4), (3, 11), (10, 14), (1, 1), (5, 7)])
    func resizeBilinear(_ oh: Int, _ ow: Int) {
        var rng = TestRNG(state: 216)
        let inputShape = [2, 3, 5, 7], g = rng.tensor([2, 3, oh, ow])
        expectClose(Kernels.resizeBilinearBackward(g, inputShape: inputShape),
                    Reference.resizeBilinearBackward(g, inputShape: inputShape), atol: 1e-6, rtol: 1e-5, "dx")
    }
}
