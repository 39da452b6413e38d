import Foundation
import Autograd
import Random
import Testing
import TensorCore
import TestSupport
@testable import Objectives

/// A tensor of `shape` with standard normals from `seed` (deterministic, independent per test).
func normalTensor(_ shape: [Int], seed: UInt64) -> Tensor {
    var rng = RandomStream(seed: seed)
    return Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in rng.nextNormal() })
}

/// A tensor of `shape` with uniforms in [0, 1) from `seed`.
func uniformTensor(_ shape: [Int], seed: UInt64) -> Tensor {
    var rng = RandomStream(seed: seed)
    return Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in rng.nextFloat() })
}

/// -log(sigmoid(u)) in Double, stable.
func softplusNeg(_ u: Double) -> Double { u > 0 ? Foundation.log1p(Foundation.exp(-u)) : -u + Foundation.log1p(Foundation.exp(u)) }

/// Per-row mean of (a - b)^2 in Double over rows of `a.count / rows` elements.
func rowMSE(_ a: Tensor, _ b: Tensor, rows: Int) -> [Double] {
    let n = a.count / rows
    return (0..<rows).map { r in
        (0..<n).reduce(0.0) { acc, i in
            let d = Double(a.scalars[r * n + i]) - Double(b.scalars[r * n + i])
            return acc + d * d
        } / Double(n)
    }
}

/// The directional derivative of `f` at `x` along a random normal direction d (from `seed`), both ways:
/// numeric, Richardson-extrapolated central differences at h and h/2 (Float evaluation, Double arithmetic;
/// TestSupport.richardsonDerivative), and analytic, <grad f(x), d> accumulated in Double. `f` must return a
/// one-element Variable.
func directionalCheck(at x: Tensor, h: Float = 2e-2, seed: UInt64,
                      _ f: (Variable) -> Variable) -> (numeric: Double, analytic: Double) {
    let d = normalTensor(x.shape, seed: seed)
    let v = Variable(x, requiresGrad: true)
    f(v).backward()
    let g = v.grad!
    let analytic = zip(g.scalars, d.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    let numeric = richardsonDerivative(h: h) { t in Double(withNoGrad { f(Variable(Kernels.add(x, Kernels.scale(d, t)))).item }) }
    return (numeric, analytic)
}

