import Foundation
import Testing
import TensorCore
import TestSupport
@testable import Autograd

/// Finite-difference gradient check of `f` at `inputs`.
///
/// The scalar checked is L(x) = sum(f(x) * w) for a fixed random w (so every output element
/// matters). For each input i, along a random normal direction d_i:
///   analytic = <dL/dx_i, d_i>   (from `backward(seed: w)`, accumulated in Double)
///   numeric  = (L(x_i + h d_i) - L(x_i - h d_i)) / (2h)   (forward in Float, sums in Double)
/// and requires |analytic - numeric| <= atol * (1 + S) + rtol * max(|analytic|, |numeric|),
/// S = sum |f(x) * w| (the size of L's terms). Tolerances (defaults h = 1e-2, rtol = 1e-2,
/// atol = 1e-4): the central difference has O(h^2) truncation error and ~6e-8 S / h rounding
/// error from the Float forward (16x margin); a wrong rule is off by O(1) relative (the mutation
/// script scripts/autograd_mutation_check.sh shows a 10% error in any rule is caught).
/// `checkInputs` restricts which inputs are checked (others are constants, e.g. integer-like data).
func gradCheck(
    _ inputs: [Tensor], h: Float = 1e-2, rtol: Double = 1e-2, atol: Double = 1e-4, seed: UInt64 = 7,
    checkInputs: Set<Int>? = nil,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ f: ([Variable]) -> Variable
) {
    var rng = TestRNG(seed: seed)
    let which = checkInputs ?? Set(inputs.indices)
    let vars = inputs.enumerated().map { Variable($0.element, requiresGrad: which.contains($0.offset)) }
    let y = f(vars)
    let w = rng.normalTensor(y.shape)
    guard y.requiresGrad else {
        Issue.record("gradCheck: output does not require grad", sourceLocation: sourceLocation)
        return
    }
    y.backward(seed: w)
    // Size of the terms of L: the Float forward's rounding error in L is proportional to it.
    let scale = zip(y.value.scalars, w.scalars).reduce(0.0) { $0 + abs(Double($1.0) * Double($1.1)) }

    func loss(_ xs: [Tensor]) -> Double {
        let out = withNoGrad { f(xs.map { Variable($0) }) }
        return zip(out.value.scalars, w.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }
    for i in inputs.indices where which.contains(i) {
        let d = rng.normalTensor(inputs[i].shape)
        guard let g = vars[i].grad else {
            Issue.record("gradCheck: input \(i) (shape \(inputs[i].shape)) received no gradient", sourceLocation: sourceLocation)
            continue
        }
        let analytic = zip(g.scalars, d.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        var plus = inputs, minus = inputs
        plus[i] = Tensor(shape: d.shape, scalars: zip(inputs[i].scalars, d.scalars).map { $0 + h * $1 })
        minus[i] = Tensor(shape: d.shape, scalars: zip(inputs[i].scalars, d.scalars).map { $0 - h * $1 })
        let numeric = (loss(plus) - loss(minus)) / (2 * Double(h))
        let err = abs(analytic - numeric)
        let tol = atol * (1 + scale) + rtol * Swift.max(abs(analytic), abs(numeric))
        #expect(err <= tol,
                "gradCheck input \(i) shape \(inputs[i].shape): analytic \(analytic) vs numeric \(numeric) (err \(err) > tol \(tol))",
                sourceLocation: sourceLocation)
    }
}
