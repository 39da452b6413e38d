/// GroupNorm followed by SiLU as one kernel: `y = silu(z)`, `z = groupNorm(x)` (Norms.swift).
///
/// Why: every ResNet block (twice) and the U-Net's output apply SiLU right after GroupNorm. As two
/// ops that is a pass writing z, a pass reading z and writing y, and in the backward a SiLU pass
/// writing dz before GroupNorm's own passes. Fused, the forward writes y only and keeps no z (the
/// backward recomputes it from x and the saved stats, one multiply-add), and the backward makes
/// one pass for every sum and one for dx.
/// Backward, per group with `z = xhat w + b`, `s = sigmoid(z)`:
///   `dz = g s (1 + z (1 - s))`, then GroupNorm's rules with dz as the output gradient:
///   `dx = rstd (dz w - mean(dz w) - xhat mean(dz w xhat))`, `dweight = sum dz xhat`, `dbias = sum dz`.
extension Kernels {
    /// `silu(groupNorm(x))` with the same arguments and saved stats as `groupNorm`.
    public static func groupNormSiLU(_ x: Tensor, groups: Int, weight: Tensor?, bias: Tensor?, eps: Float = 1e-5) -> NormResult {
        precondition(x.rank >= 2 && groups > 0 && x.shape[1] % groups == 0,
                     "groupNormSiLU: \(groups) groups do not divide the channels of \(x.shape)")
        let c = x.shape[1], hw = x.shape[2...].reduce(1, *)
        precondition(weight.map { $0.shape == [c] } ?? true && bias.map { $0.shape == [c] } ?? true,
                     "groupNormSiLU: weight \(weight?.shape ?? []) / bias \(bias?.shape ?? []) must be [\(c)] for \(x.shape)")
        return normalizeSets(x, sets: x.shape[0] * groups, n: c / groups * hw, eps: eps, weight: weight, bias: bias,
                             run: hw, channelSets: groups, statsShape: [x.shape[0], groups], silu: true)
    }

    /// Gradients of `groupNormSiLU` given `grad = dL/dy` and the saved mean and rstd. `bias` is the
    /// forward's bias value (z needs it); its gradient is returned when it is non-nil.
    public static func groupNormSiLUBackward(_ grad: Tensor, input x: Tensor, mean: Tensor, rstd: Tensor,
                                             groups: Int, weight: Tensor?, bias: Tensor?) -> NormGradients {
        precondition(grad.shape == x.shape && x.rank >= 2 && x.shape[1] % groups == 0
                     && mean.count == x.shape[0] * groups && rstd.count == mean.count,
                     "groupNormSiLUBackward: grad \(grad.shape), input \(x.shape), stats \(mean.shape)/\(rstd.shape), groups \(groups)")
        let batch = x.shape[0], c = x.shape[1], hw = x.shape[2...].reduce(1, *), cpg = c / groups, n = cpg * hw
        let (w, b) = affine(weight, bias, channels: c)
        var dx = uninitializedStorage(x.count)
        var pw = [Float](repeating: 0, count: batch * c), pb = pw   // per (n, c) sums (zero when H W = 0)
        if x.count > 0 {
            w.withUnsafeBufferPointer { pwt in b.withUnsafeBufferPointer { pbs in
            mean.scalars.withUnsafeBufferPointer { pmean in rstd.scalars.withUnsafeBufferPointer { prstd in
            x.scalars.withUnsafeBufferPointer { px in grad.scalars.withUnsafeBufferPointer { pg in
            dx.withUnsafeMutableBufferPointer { pd in pw.withUnsafeMutableBufferPointer { ow in pb.withUnsafeMutableBufferPointer { ob in
                let (pwt, pbs, pmean, prstd) = (pwt.baseAddress!, pbs.baseAddress!, pmean.baseAddress!, prstd.baseAddress!)
                let px = px.baseAddress!, pg = pg.baseAddress!
                let pd = UnsafeSendable(pd.baseAddress!), ow = UnsafeSendable(ow.baseAddress!), ob = UnsafeSendable(ob.baseAddress!)
                Threads.parallelFor(batch * groups, chunk: Swift.max(1, elementChunk / Swift.max(1, n))) { ss in
                    for s in ss {
                        let mu = pmean[s], r = prstd[s], first = (s / groups) * c + (s % groups) * cpg   // (n, c) index
                        var sumD = 0.0, sumDX = 0.0
                        for q in 0..<cpg {
                            let ch = first % c + q, off = (first + q) * hw
                            let xs = px + off, gs = pg + off, ds = pd.value + off
                            let a = r * pwt[ch], shift = pbs[ch] - mu * a   // z = x a + shift
                            for t in 0..<hw {
                                let z = xs[t] * a + shift, sg = sigmoidScalar(z)
                                ds[t] = gs[t] * sg * (1 + z * (1 - sg))
                            }
                            let sd = rowSum(ds, hw), sdx = r * rowDotCentered(ds, xs, mu, hw)   // sum dz, sum dz xhat
                            ob.value[first + q] = sd; ow.value[first + q] = sdx
                            sumD += Double(pwt[ch] * sd); sumDX += Double(pwt[ch] * sdx)
                        }
                        let mD = Float(sumD / Double(n)), mDX = Float(sumDX / Double(n))
                        for q in 0..<cpg {
                            let ch = first % c + q, off = (first + q) * hw, wq = pwt[ch]
                            let xs = px + off, ds = pd.value + off
                            for t in 0..<hw { ds[t] = r * (ds[t] * wq - mD - (xs[t] - mu) * r * mDX) }
                        }
                    }
                }
            } } }
            } }
            } }
            } }
        }
        return channelGradients(input: Tensor(shape: x.shape, scalars: dx), weightPartials: pw, biasPartials: pb,
                                batch: batch, channels: c, hasWeight: weight != nil, hasBias: bias != nil)
    }
}

/// `sum_i d[i] (x[i] - mu)`, 8 partial sums combined at the end (RowMath.swift's convention).
@inline(__always)
func rowDotCentered(_ d: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ mu: Float, _ n: Int) -> Float {
    var i = 0
    var acc = SIMD8<Float>(repeating: 0)
    let rd = UnsafeRawPointer(d), rx = UnsafeRawPointer(x), m = SIMD8<Float>(repeating: mu)
    while i + 8 <= n {
        acc += rd.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            * (rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) - m)
        i += 8
    }
    var s = acc.sum()
    while i < n { s += d[i] * (x[i] - mu); i += 1 }
    return s
}
