import Foundation

/// Naive backwards (vector-Jacobian products) of the normalisations, softmax, GEGLU and the
/// resampling ops, written from the forward definitions rather than from the fast kernels:
/// `dx_i = sum_j g_j dy_j/dx_i` with the Jacobian entry spelled out, Double throughout, no BLAS,
/// no threads. Each recomputes what it needs (statistics, probabilities) from the input, so a test
/// compares the whole fast forward-then-backward path against the definition.
extension Reference {
    /// Gradients of a normalisation layer: `dweight`/`dbias` are always computed (as if the weight
    /// were ones and the bias zeros when absent); a test compares the ones the layer has.
    struct NormGrads { var dx: Tensor, dw: Tensor, db: Tensor }

    /// `xhat_j = (x_j - mu) rstd` of one normalised set, `mu = mean(x)`,
    /// `rstd = (mean((x - mu)^2) + eps)^(-1/2)`.
    static func normalized(_ x: [Double], eps: Float) -> (xhat: [Double], rstd: Double) {
        let n = Double(x.count)
        let mu = x.reduce(0, +) / n
        let variance = x.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / n
        let rstd = 1 / (variance + Double(eps)).squareRoot()
        return (x.map { ($0 - mu) * rstd }, rstd)
    }

    /// `dx` of one normalised set given `u_j = dL/dxhat_j`. Differentiating `normalized`:
    /// `dmu/dx_i = 1/n`, `drstd/dx_i = -rstd^3 (x_i - mu) / n`, hence the full Jacobian
    /// `dxhat_j/dx_i = rstd (delta_ij - 1/n - xhat_i xhat_j / n)`, summed here term by term (O(n^2)).
    static func normalizedSetBackward(_ x: [Double], _ u: [Double], eps: Float) -> [Double] {
        let (xhat, rstd) = normalized(x, eps: eps), n = Double(x.count)
        var dx = [Double](repeating: 0, count: x.count)
        for i in 0..<x.count { for j in 0..<x.count {
            let jac = rstd * ((i == j ? 1 : 0) - 1 / n - xhat[i] * xhat[j] / n)
            dx[i] += u[j] * jac
        } }
        return dx
    }

    /// `silu(z) = z sigmoid(z)`, so `silu'(z) = s + z s (1 - s)` with `s = sigmoid(z)`.
    static func siluDerivative(_ z: Double) -> Double {
        let s = 1 / (1 + Foundation.exp(-z))
        return s + z * s * (1 - s)
    }

    /// GroupNorm (optionally followed by SiLU) over `x [N, C, *]`: per (n, group) set,
    /// `z = xhat w[c] + b[c]`, `y = silu ? silu(z) : z`. With `dz = g dy/dz`:
    /// `dw[c] = sum dz xhat`, `db[c] = sum dz`, and `dL/dxhat = dz w[c]` into `normalizedSetBackward`.
    static func groupNormBackward(_ g: Tensor, _ x: Tensor, groups: Int, weight: Tensor?, bias: Tensor?,
                                  eps: Float, silu: Bool) -> NormGrads {
        let n = x.shape[0], c = x.shape[1], hw = x.count / (n * c), cpg = c / groups
        var dx = [Double](repeating: 0, count: x.count)
        var dw = [Double](repeating: 0, count: c), db = dw
        for b in 0..<n { for gr in 0..<groups {
            // The set's flat offsets and the channel of each.
            var offs: [Int] = [], chans: [Int] = []
            for ch in gr * cpg..<(gr + 1) * cpg { for p in 0..<hw { offs.append((b * c + ch) * hw + p); chans.append(ch) } }
            let xs = offs.map { Double(x.scalars[$0]) }
            let xhat = normalized(xs, eps: eps).xhat
            var u = [Double](repeating: 0, count: offs.count)
            for (j, o) in offs.enumerated() {
                let ch = chans[j], wc = Double(weight?.scalars[ch] ?? 1), bc = Double(bias?.scalars[ch] ?? 0)
                let z = xhat[j] * wc + bc
                let dz = Double(g.scalars[o]) * (silu ? siluDerivative(z) : 1)
                dw[ch] += dz * xhat[j]; db[ch] += dz
                u[j] = dz * wc
            }
            let dxs = normalizedSetBackward(xs, u, eps: eps)
            for (j, o) in offs.enumerated() { dx[o] = dxs[j] }
        } }
        return NormGrads(dx: tensor(x.shape, dx), dw: tensor([c], dw), db: tensor([c], db))
    }

    /// LayerNorm over the last axis `D`: each row is one set, feature `j` has weight `w[j]`.
    static func layerNormBackward(_ g: Tensor, _ x: Tensor, weight: Tensor?, eps: Float) -> NormGrads {
        let d = x.shape[x.rank - 1]
        var dx = [Double](repeating: 0, count: x.count)
        var dw = [Double](repeating: 0, count: d), db = dw
        for r in 0..<(x.count / d) {
            let xs = (0..<d).map { Double(x.scalars[r * d + $0]) }
            let xhat = normalized(xs, eps: eps).xhat
            var u = [Double](repeating: 0, count: d)
            for j in 0..<d {
                let gj = Double(g.scalars[r * d + j])
                dw[j] += gj * xhat[j]; db[j] += gj
                u[j] = gj * Double(weight?.scalars[j] ?? 1)
            }
            let dxs = normalizedSetBackward(xs, u, eps: eps)
            for j in 0..<d { dx[r * d + j] = dxs[j] }
        }
        return NormGrads(dx: tensor(x.shape, dx), dw: tensor([d], dw), db: tensor([d], db))
    }

    /// Softmax of one row in Double.
    static func softmaxRow(_ x: [Double]) -> [Double] {
        let m = x.max() ?? 0
        let e = x.map { Foundation.exp($0 - m) }, z = e.reduce(0, +)
        return e.map { $0 / z }
    }

    /// Softmax over the last axis from its INPUT `x`: `dy_j/dx_i = y_j (delta_ij - y_i)`.
    static func softmaxBackward(_ g: Tensor, input x: Tensor) -> Tensor {
        rowJacobianProduct(g, x) { y, i, j in y[j] * ((i == j ? 1 : 0) - y[i]) }
    }

    /// Log-softmax over the last axis from its INPUT `x`: `y_j = x_j - log sum_k e^(x_k)`, so
    /// `dy_j/dx_i = delta_ij - softmax(x)_i`.
    static func logSoftmaxBackward(_ g: Tensor, input x: Tensor) -> Tensor {
        rowJacobianProduct(g, x) { p, i, j in (i == j ? 1 : 0) - p[i] }
    }

    /// `dx_i = sum_j g_j jac(softmax(row), i, j)` per last-axis row.
    static func rowJacobianProduct(_ g: Tensor, _ x: Tensor, _ jac: ([Double], Int, Int) -> Double) -> Tensor {
        let n = x.shape[x.rank - 1]
        var dx = [Double](repeating: 0, count: x.count)
        for r in 0..<(n == 0 ? 0 : x.count / n) {
            let p = softmaxRow((0..<n).map { Double(x.scalars[r * n + $0]) })
            for i in 0..<n { for j in 0..<n { dx[r * n + i] += Double(g.scalars[r * n + j]) * jac(p, i, j) } }
        }
        return tensor(x.shape, dx)
    }

    /// GEGLU: `x [.., 2F] = [a | gate]`, `y = a GELU(gate)`, `GELU(t) = t Phi(t)`, Phi the normal CDF
    /// `0.5 (1 + erf(t / sqrt 2))`, phi its density. `dy/da = GELU(gate)`,
    /// `dy/dgate = a (Phi(gate) + gate phi(gate))`.
    static func gegluBackward(_ g: Tensor, input x: Tensor) -> Tensor {
        let f = x.shape[x.rank - 1] / 2
        var dx = [Double](repeating: 0, count: x.count)
        for r in 0..<(f == 0 ? 0 : x.count / (2 * f)) { for j in 0..<f {
            let a = Double(x.scalars[r * 2 * f + j]), t = Double(x.scalars[r * 2 * f + f + j]), gy = Double(g.scalars[r * f + j])
            let cdf = 0.5 * (1 + Foundation.erf(t / 2.0.squareRoot()))
            let pdf = Foundation.exp(-0.5 * t * t) / (2 * Double.pi).squareRoot()
            dx[r * 2 * f + j] = gy * t * cdf
            dx[r * 2 * f + f + j] = gy * a * (cdf + t * pdf)
        } }
        return tensor(x.shape, dx)
    }

    /// VJP of a LINEAR map `f` by its definition: column `i` of the Jacobian is `f(e_i)` (the
    /// reference forward applied to a one-hot input), so `dx_i = <g, f(e_i)>`. Used for the
    /// resampling ops, whose reference forwards (ReferenceOps.swift) are checked against the fast ones.
    static func linearAdjoint(_ g: Tensor, inputShape: [Int], _ f: (Tensor) -> Tensor) -> Tensor {
        var dx = [Double](repeating: 0, count: inputShape.reduce(1, *))
        var basis = Tensor(zeros: inputShape)
        for i in 0..<dx.count {
            basis.scalars[i] = 1
            let column = f(basis)
            precondition(column.shape == g.shape, "linearAdjoint: f gives \(column.shape), grad is \(g.shape)")
            for o in 0..<g.count { dx[i] += Double(g.scalars[o]) * Double(column.scalars[o]) }
            basis.scalars[i] = 0
        }
        return tensor(inputShape, dx)
    }

    static func upsampleNearestBackward(_ g: Tensor, factor f: Int) -> Tensor {
        linearAdjoint(g, inputShape: [g.shape[0], g.shape[1], g.shape[2] / f, g.shape[3] / f]) { upsampleNearest($0, f) }
    }

    static func avgPool2dBackward(_ g: Tensor, kernel k: Int) -> Tensor {
        linearAdjoint(g, inputShape: [g.shape[0], g.shape[1], g.shape[2] * k, g.shape[3] * k]) { avgPool2d($0, k) }
    }

    static func resizeBilinearBackward(_ g: Tensor, inputShape: [Int]) -> Tensor {
        linearAdjoint(g, inputShape: inputShape) { resizeBilinear($0, g.shape[2], g.shape[3]) }
    }

    /// A Float tensor from Double accumulators.
    static func tensor(_ shape: [Int], _ values: [Double]) -> Tensor {
        Tensor(shape: shape, scalars: values.map { Float($0) })
    }
}
