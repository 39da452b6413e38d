/// Gated GELU (diffusers `GEGLU`, exact erf GELU), fused: for `x [.., 2F]` split on the last axis
/// into `a = x[.., :F]` and `g = x[.., F:]`,
///   `y = a * GELU(g)` `[.., F]`,  GELU(g) = g Phi(g) = 0.5 g (1 + erf(g / sqrt 2));
/// backward: `da = dy GELU(g)`, `dg = dy a (Phi(g) + g phi(g))`, phi the normal density.
/// Same values as slice + gelu + multiply (identical scalar formulas); one pass instead of five
/// kernels and no zero-filled slice gradients. Rows run in parallel in fixed chunks.
extension Kernels {
    public static func geglu(_ x: Tensor) -> Tensor {
        precondition(x.rank >= 1 && x.shape[x.rank - 1] % 2 == 0, "geglu: last axis of \(x.shape) must be even (a and gate halves)")
        let f = x.shape[x.rank - 1] / 2, rows = f == 0 ? 0 : x.count / (2 * f)
        var out = uninitializedStorage(rows * f)
        if !out.isEmpty {
            x.scalars.withUnsafeBufferPointer { px in
                out.withUnsafeMutableBufferPointer { po in
                    let px = px.baseAddress!, po = UnsafeSendable(po.baseAddress!)
                    Threads.parallelFor(rows, chunk: Swift.max(1, elementChunk / f)) { rs in
                        for r in rs {
                            let a = px + r * 2 * f, g = a + f, y = po.value + r * f
                            for j in 0..<f { y[j] = a[j] * gegluGelu(g[j]) }
                        }
                    }
                }
            }
        }
        return Tensor(shape: Array(x.shape.dropLast()) + [f], scalars: out)
    }

    /// `dL/dx [.., 2F]` of `geglu` given `grad [.., F]` and the input `x`.
    public static func gegluBackward(_ grad: Tensor, input x: Tensor) -> Tensor {
        let f = x.rank >= 1 ? x.shape[x.rank - 1] / 2 : 0
        precondition(x.rank >= 1 && grad.shape == Array(x.shape.dropLast()) + [f],
                     "gegluBackward: grad \(grad.shape) must be input \(x.shape) with the last axis halved")
        let rows = f == 0 ? 0 : x.count / (2 * f)
        var dx = uninitializedStorage(x.count)
        if rows > 0 {
            x.scalars.withUnsafeBufferPointer { px in
                grad.scalars.withUnsafeBufferPointer { pg in
                    dx.withUnsafeMutableBufferPointer { pd in
                        let px = px.baseAddress!, pg = pg.baseAddress!, pd = UnsafeSendable(pd.baseAddress!)
                        Threads.parallelFor(rows, chunk: Swift.max(1, elementChunk / f)) { rs in
                            for r in rs {
                                let a = px + r * 2 * f, g = a + f, dy = pg + r * f
                                let da = pd.value + r * 2 * f, dg = da + f
                                for j in 0..<f {
                                    let (gelu, slope) = gegluGeluAndSlope(g[j])
                                    da[j] = dy[j] * gelu
                                    dg[j] = dy[j] * a[j] * slope
                                }
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: x.shape, scalars: dx)
    }
}

/// GELU(x) = x Phi(x), the same expression as `geluErfScalar` (kept inline so loops vectorise).
@inline(__always)
func gegluGelu(_ x: Float) -> Float { 0.5 * x * (1 + fastErf(x * invSqrt2)) }

/// (GELU(x), GELU'(x) = Phi(x) + x phi(x)), with the expressions of `geluErfScalar` and
/// `Fn.GeluErfBackward`.
@inline(__always)
func gegluGeluAndSlope(_ x: Float) -> (Float, Float) {
    let erf = fastErf(x * invSqrt2)
    let cdf = 0.5 * (1 + erf)
    let pdf = invSqrt2Pi * fastExp(-0.5 * x * x)
    return (0.5 * x * (1 + erf), cdf + x * pdf)
}
