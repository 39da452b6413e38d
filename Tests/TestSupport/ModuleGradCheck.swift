import Testing
import TensorCore
import Autograd
import NN

/// Finite-difference check through a model: for each parameter whose key is in `keys` (all when
/// nil) and each input, compares <dL/dtheta, d> with (L(theta + h d) - L(theta - h d)) / 2h along
/// a random direction d, L = sum(f(x) * w) for a fixed random w, accumulated in Double.
/// Passes when |a - n| <= atol (1 + S) + rtol max(|a|, |n|), S = sum |f(x) * w|
/// with h = 1e-2, rtol = 1e-2, atol = 1e-4 by default. Shared by every test target that checks a layer or model.
/// Returns how many checks ran.
@discardableResult
public func moduleGradCheck(
    _ module: some Module, keys: Set<String>? = nil, inputs: [Tensor] = [], h: Float = 1e-2, rtol: Double = 1e-2,
    atol: Double = 1e-4, seed: UInt64 = 5, sourceLocation: SourceLocation = #_sourceLocation,
    _ f: ([Variable]) -> Variable
) -> Int {
    var rng = TestRNG(seed: seed)
    let xs = inputs.map { Variable($0, requiresGrad: true) }
    module.zeroGrad()
    let y = f(xs)
    let w = rng.tensor(y.shape)
    y.backward(seed: w)
    let scale = zip(y.value.scalars, w.scalars).reduce(0.0) { $0 + abs(Double($1.0) * Double($1.1)) }
    func loss(_ inputs: [Tensor]) -> Double {
        let out = withNoGrad { f(inputs.map { Variable($0) }) }
        return zip(out.value.scalars, w.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }
    var checks = 0
    func check(_ label: String, grad: Tensor?, direction d: Tensor, numeric: Double) {
        checks += 1
        guard let grad else {
            Issue.record("gradCheck: \(label) received no gradient", sourceLocation: sourceLocation)
            return
        }
        let analytic = zip(grad.scalars, d.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let err = abs(analytic - numeric), tol = atol * (1 + scale) + rtol * max(abs(analytic), abs(numeric))
        #expect(err <= tol, "\(label): analytic \(analytic) vs numeric \(numeric) (err \(err) > tol \(tol))",
                sourceLocation: sourceLocation)
    }
    for (key, p) in module.namedParameters() where keys?.contains(key) ?? true {
        let d = rng.tensor(p.shape), v0 = p.value
        p.value = Tensor(shape: v0.shape, scalars: zip(v0.scalars, d.scalars).map { $0 + h * $1 })
        let lp = loss(inputs)
        p.value = Tensor(shape: v0.shape, scalars: zip(v0.scalars, d.scalars).map { $0 - h * $1 })
        let lm = loss(inputs)
        p.value = v0
        check("parameter \(key) \(p.shape)", grad: p.grad, direction: d, numeric: (lp - lm) / (2 * Double(h)))
    }
    for i in inputs.indices {
        let d = rng.tensor(inputs[i].shape)
        var plus = inputs, minus = inputs
        plus[i] = Tensor(shape: d.shape, scalars: zip(inputs[i].scalars, d.scalars).map { $0 + h * $1 })
        minus[i] = Tensor(shape: d.shape, scalars: zip(inputs[i].scalars, d.scalars).map { $0 - h * $1 })
        check("input \(i) \(inputs[i].shape)", grad: xs[i].grad, direction: d,
              numeric: (loss(plus) - loss(minus)) / (2 * Double(h)))
    }
    return checks
}
