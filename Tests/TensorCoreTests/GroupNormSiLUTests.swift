import Testing
import TestSupport
@testable import TensorCore

/// The fused GroupNorm + SiLU kernel against the two kernels it replaces, and by finite differences.
@Suite struct GroupNormSiLUTests {
    /// Shapes: the U-Net's 2 channels per group on a SIMD-sized map, several channels per group on an
    /// odd map (scalar remainders), and a [N, C] input (H W = 1).
    @Test(arguments: [([3, 8, 4, 4], 4, true), ([2, 6, 3, 5], 2, true), ([2, 6, 3, 5], 3, false), ([4, 6], 3, true)])
    func matchesGroupNormThenSiLU(_ shape: [Int], _ groups: Int, _ affine: Bool) {
        var rng = TestRNG(state: 181)
        let x = rng.tensor(shape, -3, 3), c = shape[1]
        let w = affine ? rng.tensor([c], 0.5, 1.5) : nil, b = affine ? rng.tensor([c]) : nil
        let fused = Kernels.groupNormSiLU(x, groups: groups, weight: w, bias: b)
        let norm = Kernels.groupNorm(x, groups: groups, weight: w, bias: b)
        expectClose(fused.output, Kernels.silu(norm.output), atol: 1e-6, rtol: 1e-5, "forward")
        #expect(fused.mean == norm.mean && fused.rstd == norm.rstd)
        let g = rng.tensor(shape)
        let d = Kernels.groupNormSiLUBackward(g, input: x, mean: fused.mean, rstd: fused.rstd, groups: groups, weight: w, bias: b)
        let dz = Kernels.siluBackward(g, input: norm.output)
        let ref = Kernels.groupNormBackward(dz, input: x, mean: norm.mean, rstd: norm.rstd, groups: groups, weight: w, hasBias: affine)
        expectClose(d.input, ref.input, atol: 1e-5, rtol: 1e-4, "dx")
        #expect((d.weight == nil) == !affine && (d.bias == nil) == !affine)
        if let dw = d.weight, let rw = ref.weight { expectClose(dw, rw, atol: 1e-5, rtol: 1e-4, "dweight") }
        if let db = d.bias, let rb = ref.bias { expectClose(db, rb, atol: 1e-5, rtol: 1e-4, "dbias") }
    }

    @Test func gradientsMatchFiniteDifferences() {
        var rng = TestRNG(state: 182)
        let x = rng.tensor([2, 6, 3, 5], -2, 2), w = rng.tensor([6], 0.5, 1.5), b = rng.tensor([6]), g = rng.tensor([2, 6, 3, 5])
        let r = Kernels.groupNormSiLU(x, groups: 3, weight: w, bias: b)
        let d = Kernels.groupNormSiLUBackward(g, input: x, mean: r.mean, rstd: r.rstd, groups: 3, weight: w, bias: b)
        expectGradient(x, analytic: d.input, "dx") { dot(Kernels.groupNormSiLU($0, groups: 3, weight: w, bias: b).output, g) }
        expectGradient(w, analytic: d.weight!, "dw") { dot(Kernels.groupNormSiLU(x, groups: 3, weight: $0, bias: b).output, g) }
        expectGradient(b, analytic: d.bias!, "db") { dot(Kernels.groupNormSiLU(x, groups: 3, weight: w, bias: $0).output, g) }
    }

    @Test func sameBitsForOneAndTwoThreads() {
        var rng = TestRNG(state: 183)
        let x = rng.tensor([4, 16, 8, 8]), w = rng.tensor([16]), b = rng.tensor([16]), g = rng.tensor([4, 16, 8, 8])
        func run() -> [Tensor?] {
            let r = Kernels.groupNormSiLU(x, groups: 8, weight: w, bias: b)
            let d = Kernels.groupNormSiLUBackward(g, input: x, mean: r.mean, rstd: r.rstd, groups: 8, weight: w, bias: b)
            return [r.output, d.input, d.weight, d.bias]
        }
        #expect(Threads.withCount(1) { run() } == Threads.withCount(2) { run() })
    }
}
