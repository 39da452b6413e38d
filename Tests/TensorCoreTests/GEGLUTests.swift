import Testing
import TestSupport
@testable import TensorCore

/// The fused gated GELU against slice + gelu + multiply, and its gradient by finite differences.
@Suite struct GEGLUTests {
    @Test(arguments: [[3, 10], [2, 3, 14], [1, 2]])
    func matchesComposedKernelsAndGradient(_ shape: [Int]) {
        var rng = TestRNG(state: 141)
        let x = rng.tensor(shape, -3, 3)
        let f = shape[shape.count - 1] / 2, axis = shape.count - 1
        let a = Kernels.slice(x, axis: axis, start: 0, length: f), g = Kernels.slice(x, axis: axis, start: f, length: f)
        let y = Kernels.geglu(x)
        #expect(y == Kernels.mul(a, Kernels.gelu(g)))   // the same scalar formulas, so the same bits
        let dy = rng.tensor(y.shape)
        let dx = Kernels.gegluBackward(dy, input: x)
        let composed = Kernels.add(
            Kernels.sliceBackward(Kernels.mul(dy, Kernels.gelu(g)), axis: axis, start: 0, inputShape: shape),
            Kernels.sliceBackward(Kernels.geluBackward(Kernels.mul(dy, a), input: g), axis: axis, start: f, inputShape: shape))
        expectClose(dx, composed, atol: 1e-6, rtol: 1e-6, "dx")
        expectGradient(x, analytic: dx, "dx") { dot(Kernels.geglu($0), dy) }
    }
}
