/// GroupNorm and LayerNorm, forward (returning the saved mean and rstd) and backward.
///
/// Normalisation: `xhat = (x - mean) * rstd`, `rstd = 1 / sqrt(var_biased + eps)`,
/// `y = xhat * weight + bias` (per channel for GroupNorm, per feature for LayerNorm).
/// Backward over one normalised set of n elements, with `dxhat = g * weight`:
/// `dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))`,
/// `dweight = sum g * xhat`, `dbias = sum g` (over everything but the channel/feature).
public struct NormResult: Sendable {
    /// Normalised and affinely transformed output, the input's shape.
    public var output: Tensor
    /// Mean of each normalised set: `[N, G]` for GroupNorm, `[rows]` for LayerNorm.
    public var mean: Tensor
    /// `1 / sqrt(var + eps)` of each set, same shape as `mean`.
    public var rstd: Tensor
}

/// Gradients of a normalisation layer; `weight`/`bias` are nil when the layer had none.
public struct NormGradients: Sendable {
    public var input: Tensor
    public var weight: Tensor?
    public var bias: Tensor?
}

extension Kernels {
    /// Statistics and normalisation of `sets` contiguous sets of `n` elements. Each set is a
    /// sequence of runs of `run` elements; run `r` of set `s` uses affine channel
    /// `(s % channelSets) * (n / run) + r` (GroupNorm: run = H W; LayerNorm: run = 1). Parallel over sets.
    /// With `silu`, the output is `silu(y)` instead of `y` (GroupNormSiLU.swift).
    static func normalizeSets(
        _ x: Tensor, sets: Int, n: Int, eps: Float, weight: Tensor?, bias: Tensor?,
        run: Int, channelSets: Int, statsShape: [Int], silu: Bool = false
    ) -> NormResult {
        var out = [Float](repeating: 0, count: x.count)
        var mean = [Float](repeating: 0, count: sets), rstd = [Float](repeating: 0, count: sets)
        let (w, b) = affine(weight, bias, channels: channelSets * (n / run))
        w.withUnsafeBufferPointer { pw in b.withUnsafeBufferPointer { pb in
        let pw = pw.baseAddress!, pb = pb.baseAddress!
        x.scalars.withUnsafeBufferPointer { px in
            out.withUnsafeMutableBufferPointer { po in
                mean.withUnsafeMutableBufferPointer { pm in
                    rstd.withUnsafeMutableBufferPointer { pr in
                        let px = px.baseAddress!, po = UnsafeSendable(po.baseAddress!)
                        let pm = UnsafeSendable(pm.baseAddress!), pr = UnsafeSendable(pr.baseAddress!)
                        Threads.parallelFor(sets, chunk: Swift.max(1, elementChunk / n)) { ss in
                            for s in ss {
                                let src = px + s * n, dst = po.value + s * n
                                let mu = Float(rowSumDouble(src, n) / Double(n))
                                let v = rowSquaredDeviationDouble(src, n, mean: mu)
                                let r = 1 / (Float(v / Double(n)) + eps).squareRoot()
                                pm.value[s] = mu; pr.value[s] = r
                                let runs = n / run, c0 = (s % channelSets) * runs
                                if run == 1 {
                                    for j in 0..<n { dst[j] = (src[j] - mu) * r * pw[c0 + j] + pb[c0 + j] }
                                    if silu { for j in 0..<n { dst[j] *= sigmoidScalar(dst[j]) } }
                                    continue
                                }
                                for q in 0..<runs {
                                    // y = (x - mu) r w + b = x a + c with a = r w, c = b - mu a.
                                    let a = r * pw[c0 + q], c = pb[c0 + q] - mu * a
                                    let xs = src + q * run, ys = dst + q * run
                                    if silu {
                                        for t in 0..<run { let z = xs[t] * a + c; ys[t] = z * sigmoidScalar(z) }
                                    } else {
                                        for t in 0..<run { ys[t] = xs[t] * a + c }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        } }
        return NormResult(output: Tensor(shape: x.shape, scalars: out),
                          mean: Tensor(shape: statsShape, scalars: mean), rstd: Tensor(shape: statsShape, scalars: rstd))
    }

    /// Weight and bias values, ones and zeros when absent.
    static func affine(_ weight: Tensor?, _ bias: Tensor?, channels: Int) -> ([Float], [Float]) {
        (weight?.scalars ?? [Float](repeating: 1, count: channels), bias?.scalars ?? [Float](repeating: 0, count: channels))
    }

    /// `dx` for each set (parallel over sets) given the per-set stats, with `dxhat = g * weight[channel]`.
    private static func normBackwardInput(
        _ grad: Tensor, _ x: Tensor, mean: Tensor, rstd: Tensor, sets: Int, n: Int,
        weight: Tensor?, run: Int, channelSets: Int
    ) -> Tensor {
        var dx = [Float](repeating: 0, count: x.count)
        let w = affine(weight, nil, channels: channelSets * (n / run)).0
        w.withUnsafeBufferPointer { pw in
        mean.scalars.withUnsafeBufferPointer { pmean in rstd.scalars.withUnsafeBufferPointer { prstd in
        let pw = pw.baseAddress!, pmean = pmean.baseAddress!, prstd = prstd.baseAddress!
        x.scalars.withUnsafeBufferPointer { px in
            grad.scalars.withUnsafeBufferPointer { pg in
                dx.withUnsafeMutableBufferPointer { pd in
                    let px = px.baseAddress!, pg = pg.baseAddress!, pd = UnsafeSendable(pd.baseAddress!)
                    Threads.parallelFor(sets, chunk: Swift.max(1, elementChunk / n)) { ss in
                        for s in ss {
                            let mu = pmean[s], r = prstd[s]
                            let xs = px + s * n, gs = pg + s * n, ds = pd.value + s * n
                            let runs = n / run, c0 = (s % channelSets) * runs
                            var sumD = 0.0, sumDX = 0.0
                            for q in 0..<runs {
                                let wq = pw[c0 + q]
                                var pd: Float = 0, pdx: Float = 0
                                for t in q * run..<(q + 1) * run {
                                    let d = gs[t] * wq
                                    pd += d; pdx += d * (xs[t] - mu)
                                }
                                sumD += Double(pd); sumDX += Double(pdx * r)
                            }
                            let mD = Float(sumD / Double(n)), mDX = Float(sumDX / Double(n))
                            if run == 1 {
                                for j in 0..<n { ds[j] = r * (gs[j] * pw[c0 + j] - mD - (xs[j] - mu) * r * mDX) }
                                continue
                            }
                            for q in 0..<runs {
                                let wq = pw[c0 + q]
                                for t in q * run..<(q + 1) * run {
                                    let xh = (xs[t] - mu) * r
                                    ds[t] = r * (gs[t] * wq - mD - xh * mDX)
                                }
                            }
                        }
                    }
                }
            }
        }
        } } }
        return Tensor(shape: x.shape, scalars: dx)
    }

    // MARK: GroupNorm

    /// GroupNorm over `x [N, C, *]` with `groups` dividing C; `weight`, `bias` are `[C]` or nil.
    /// Stats: `[N, groups]`.
    public static func groupNorm(_ x: Tensor, groups: Int, weight: Tensor?, bias: Tensor?, eps: Float = 1e-5) -> NormResult {
        precondition(x.rank >= 2 && groups > 0 && x.shape[1] % groups == 0,
                     "groupNorm: \(groups) groups do not divide the channels of \(x.shape)")
        let c = x.shape[1], hw = x.shape[2...].reduce(1, *), cpg = c / groups
        precondition(weight.map { $0.shape == [c] } ?? true && bias.map { $0.shape == [c] } ?? true,
                     "groupNorm: weight \(weight?.shape ?? []) / bias \(bias?.shape ?? []) must be [\(c)] for \(x.shape)")
        let n = cpg * hw
        return normalizeSets(x, sets: x.shape[0] * groups, n: n, eps: eps, weight: weight, bias: bias,
                             run: hw, channelSets: groups, statsShape: [x.shape[0], groups])
    }

    /// Gradients of `groupNorm` given `grad = dL/dy` and the saved mean and rstd.
    public static func groupNormBackward(_ grad: Tensor, input x: Tensor, mean: Tensor, rstd: Tensor,
                                         groups: Int, weight: Tensor?, hasBias: Bool) -> NormGradients {
        precondition(grad.shape == x.shape && mean.count == x.shape[0] * groups && rstd.count == mean.count,
                     "groupNormBackward: grad \(grad.shape), input \(x.shape), stats \(mean.shape)/\(rstd.shape), groups \(groups)")
        let batch = x.shape[0], c = x.shape[1], hw = x.shape[2...].reduce(1, *), cpg = c / groups
        let dx = normBackwardInput(grad, x, mean: mean, rstd: rstd, sets: batch * groups, n: cpg * hw,
                                   weight: weight, run: hw, channelSets: groups)
        // Per (n, c) partial sums in parallel, then a fixed-order sum over n.
        var pw = [Float](repeating: 0, count: batch * c), pb = pw
        x.scalars.withUnsafeBufferPointer { px in
            grad.scalars.withUnsafeBufferPointer { pg in
                pw.withUnsafeMutableBufferPointer { ow in
                    pb.withUnsafeMutableBufferPointer { ob in
                        let px = px.baseAddress!, pg = pg.baseAddress!
                        let ow = UnsafeSendable(ow.baseAddress!), ob = UnsafeSendable(ob.baseAddress!)
                        Threads.parallelFor(batch * c, chunk: Swift.max(1, elementChunk / hw)) { ps in
                            for p in ps {
                                let s = (p / c) * groups + (p % c) / cpg
                                let mu = mean.scalars[s], r = rstd.scalars[s]
                                var sw = 0.0, sb = 0.0
                                for j in 0..<hw {
                                    let g = pg[p * hw + j]
                                    sw += Double(g * (px[p * hw + j] - mu) * r); sb += Double(g)
                                }
                                ow.value[p] = Float(sw); ob.value[p] = Float(sb)
                            }
                        }
                    }
                }
            }
        }
        return channelGradients(input: dx, weightPartials: pw, biasPartials: pb, batch: batch, channels: c,
                                hasWeight: weight != nil, hasBias: hasBias)
    }

    /// GroupNorm's gradients from per-(n, c) partial sums `[batch * channels]` of dweight and dbias,
    /// summed over n in a fixed order (so the bits do not depend on the thread count).
    static func channelGradients(input dx: Tensor, weightPartials pw: [Float], biasPartials pb: [Float],
                                 batch: Int, channels c: Int, hasWeight: Bool, hasBias: Bool) -> NormGradients {
        var dw = [Float](repeating: 0, count: c), db = dw
        for b in 0..<batch { for ch in 0..<c { dw[ch] += pw[b * c + ch]; db[ch] += pb[b * c + ch] } }
        return NormGradients(input: dx, weight: hasWeight ? Tensor(shape: [c], scalars: dw) : nil,
                             bias: hasBias ? Tensor(shape: [c], scalars: db) : nil)
    }

    // MARK: LayerNorm

    /// LayerNorm over the last axis of `x [..., D]`; `weight`, `bias` are `[D]` or nil. Stats: `[rows]`.
    public static func layerNorm(_ x: Tensor, weight: Tensor?, bias: Tensor?, eps: Float = 1e-5) -> NormResult {
        precondition(x.rank >= 1, "layerNorm: need rank >= 1, got \(x.shape)")
        let d = x.shape[x.rank - 1]
        precondition(weight.map { $0.shape == [d] } ?? true && bias.map { $0.shape == [d] } ?? true,
                     "layerNorm: weight \(weight?.shape ?? []) / bias \(bias?.shape ?? []) must be [\(d)] for \(x.shape)")
        return normalizeSets(x, sets: x.count / d, n: d, eps: eps, weight: weight, bias: bias,
                             run: 1, channelSets: 1, statsShape: [x.count / d])
    }

    /// Gradients of `layerNorm`; the weight/bias sums run over fixed chunks of 64 rows.
    public static func layerNormBackward(_ grad: Tensor, input x: Tensor, mean: Tensor, rstd: Tensor,
                                         weight: Tensor?, hasBias: Bool) -> NormGradients {
        let d = x.shape[x.rank - 1], rows = x.count / d
        precondition(grad.shape == x.shape && mean.count == rows && rstd.count == rows,
                     "layerNormBackward: grad \(grad.shape), input \(x.shape), stats \(mean.shape)/\(rstd.shape)")
        let dx = normBackwardInput(grad, x, mean: mean, rstd: rstd, sets: rows, n: d, weight: weight, run: 1, channelSets: 1)
        let partials = x.scalars.withUnsafeBufferPointer { px in
            grad.scalars.withUnsafeBufferPointer { pg in
                let px = px.baseAddress!, pg = pg.baseAddress!
                return Threads.parallelMap(rows, chunk: 64) { rs -> ([Float], [Float]) in
                    var sw = [Float](repeating: 0, count: d), sb = sw
                    for r in rs {
                        let mu = mean.scalars[r], rs = rstd.scalars[r]
                        for j in 0..<d {
                            let g = pg[r * d + j]
                            sw[j] += g * (px[r * d + j] - mu) * rs; sb[j] += g
                        }
                    }
                    return (sw, sb)
                }
            }
        }
        var dw = [Float](repeating: 0, count: d), db = dw
        for (sw, sb) in partials { for j in 0..<d { dw[j] += sw[j]; db[j] += sb[j] } }
        return NormGradients(input: dx, weight: weight == nil ? nil : Tensor(shape: [d], scalars: dw),
                             bias: hasBias ? Tensor(shape: [d], scalars: db) : nil)
    }
}
