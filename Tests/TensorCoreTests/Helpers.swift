import Testing
import TestSupport
@testable import TensorCore

/// Central finite difference of `sum(f(x) * w)` along a random direction, in Double, compared
/// with the analytic directional derivative `<grad, dir>`.
func expectGradient(_ x: Tensor, analytic: Tensor, eps: Float = 1e-2, tol: Double = 2e-2, seed: UInt64 = 7, _ what: String = "",
                    sourceLocation: SourceLocation = #_sourceLocation, _ loss: (Tensor) -> Double) {
    var rng = TestRNG(state: seed)
    let dir = rng.tensor(x.shape)
    var plus = x, minus = x
    for i in 0..<x.count { plus.scalars[i] += eps * dir.scalars[i]; minus.scalars[i] -= eps * dir.scalars[i] }
    let numeric = (loss(plus) - loss(minus)) / (2 * Double(eps))
    var exact = 0.0
    for i in 0..<x.count { exact += Double(analytic.scalars[i]) * Double(dir.scalars[i]) }
    let err = abs(numeric - exact) / Swift.max(1, abs(exact))
    #expect(err < tol, "\(what): finite difference \(numeric) vs analytic \(exact)", sourceLocation: sourceLocation)
}

/// `sum(t * w)` in Double.
func dot(_ t: Tensor, _ w: Tensor) -> Double {
    var s = 0.0
    for i in 0..<t.count { s += Double(t.scalars[i]) * Double(w.scalars[i]) }
    return s
}
