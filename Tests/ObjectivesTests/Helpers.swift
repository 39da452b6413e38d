import Foundation
import Autograd
import Random
import Testing
import TensorCore
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

/// Central finite difference of `f` at `x` along a random direction d, compared with <grad f(x), d>:
/// (f(x + h d) - f(x - h d)) / 2h. Returns (numeric, analytic); `f` must return a one-element Variable.
func directionalCheck(at x: Tensor, h: Float = 1e-2, seed: UInt64 = 99,
                      _ f: (Variable) -> Variable) -> (numeric: Double, analytic: Double) {
    let d = normalTensor(x.shape, seed: seed)
    let v = Variable(x, requiresGrad: true)
    f(v).backward()
    let g = v.grad!
    let analytic = zip(g.scalars, d.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    let plus = withNoGrad { f(Variable(Kernels.add(x, Kernels.scale(d, h)))).item }
    let minus = withNoGrad { f(Variable(Kernels.sub(x, Kernels.scale(d, h)))).item }
    return ((Double(plus) - Double(minus)) / (2 * Double(h)), analytic)
}

/// Expect |a - b| <= tol * max(1, |b|), naming what is compared.
func expectClose(_ a: Double, _ b: Double, tol: Double, _ what: String,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(abs(a - b) <= tol * max(1, abs(b)), "\(what): got \(a), want \(b) (tol \(tol))", sourceLocation: sourceLocation)
}
