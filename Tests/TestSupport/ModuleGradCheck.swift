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
    module.zeroGrad()
    return parameterGradCheck(module.namedParameters().filter { keys?.contains($0.0) ?? true }, inputs: inputs, h: h,
                              rtol: rtol, atol: atol, seed: seed, sourceLocation: sourceLocation, f)
}

/// `moduleGradCheck` on a list of named parameters (of one or several modules). With `richardson`, the
/// difference quotient is `richardsonDerivative(h:)` (central differences at h and h/2 extrapolated: truncation
/// O(h^4) instead of O(h^2), for functions whose curvature makes a plain central difference at h inaccurate);
/// with `normal`, the directions are standard normal instead of uniform in [-1, 1).
@discardableResult
public func parameterGradCheck(
    _ parameters: [(String, Variable)], inputs: [Tensor] = [], h: Float = 1e-2, richardson: Bool = false, normal: Bool = false,
    rtol: Double = 1e-2, atol: Double = 1e-4, seed: UInt64 = 5, sourceLocation: SourceLocation = #_sourceLocation,
    _ f: ([Variable]) -> Variable
) -> Int {
    var rng = TestRNG(seed: seed)
    for (_, p) in parameters { p.grad = nil }
    let xs = inputs.map { Variable($0, requiresGrad: true) }
    let y = f(xs)
    let w = rng.tensor(y.shape)
    y.backward(seed: w)
    let scale = zip(y.value.scalars, w.scalars).reduce(0.0) { $0 + abs(Double($1.0) * Double($1.1)) }
    func loss(_ inputs: [Tensor]) -> Double {
        let out = withNoGrad { f(inputs.map { Variable($0) }) }
        return zip(out.value.scalars, w.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }
    func derivative(_ g: (Float) -> Double) -> Double {
        richardson ? richardsonDerivative(h: h, g) : (g(h) - g(-h)) / (2 * Double(h))
    }
    func moved(_ t: Tensor, _ d: Tensor, _ s: Float) -> Tensor {
        Tensor(shape: t.shape, scalars: zip(t.scalars, d.scalars).map { $0 + s * $1 })
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
    for (key, p) in parameters {
        let d = normal ? rng.normalTensor(p.shape) : rng.tensor(p.shape), v0 = p.value
        let numeric = derivative { s in
            p.value = moved(v0, d, s)
            defer { p.value = v0 }
            return loss(inputs)
        }
        check("parameter \(key) \(p.shape)", grad: p.grad, direction: d, numeric: numeric)
    }
    for i in inputs.indices {
        let d = normal ? rng.normalTensor(inputs[i].shape) : rng.tensor(inputs[i].shape)
        let numeric = derivative { s in
            var xs = inputs
            xs[i] = moved(inputs[i], d, s)
            return loss(xs)
        }
        check("input \(i) \(inputs[i].shape)", grad: xs[i].grad, direction: d, numeric: numeric)
    }
    return checks
}
