import Foundation

extension Reference {
    /// Permute by visiting every output multi-index.
    static func permute(_ x: Tensor, _ dims: [Int]) -> Tensor {
        let shape = dims.map { x.shape[$0] }
        var out = Tensor(zeros: shape)
        for o in 0..<out.count {
            let idx = index(o, shape)
            var src = [Int](repeating: 0, count: x.rank)
            for (a, d) in dims.enumerated() { src[d] = idx[a] }
            out.scalars[o] = x[src]
        }
        return out
    }

    /// Softmax of each last-axis row in Double.
    static func softmax(_ x: Tensor) -> Tensor {
        let n = x.shape[x.rank - 1]
        var out = x
        for r in 0..<(x.count / n) {
            let row = (0..<n).map { Double(x.scalars[r * n + $0]) }
            let m = row.max()!
            let z = row.map { Foundation.exp($0 - m) }.reduce(0, +)
            for i in 0..<n { out.scalars[r * n + i] = Float(Foundation.exp(row[i] - m) / z) }
        }
        return out
    }

    /// GroupNorm by the definition, in Double.
    static func groupNorm(_ x: Tensor, groups: Int, weight: Tensor?, bias: Tensor?, eps: Float) -> Tensor {
        let n = x.shape[0], c = x.shape[1], hw = x.count / (n * c), cpg = c / groups
        var out = x
        for b in 0..<n { for g in 0..<groups {
            let idx = (0..<(cpg * hw)).map { b * c * hw + g * cpg * hw + $0 }
            let vals = idx.map { Double(x.scalars[$0]) }
            let mu = vals.reduce(0, +) / Double(vals.count)
            let v = vals.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(vals.count)
            for (k, i) in idx.enumerated() {
                let ch = g * cpg + k / hw
                let y = (vals[k] - mu) / (v + Double(eps)).squareRoot()
                out.scalars[i] = Float(y * Double(weight?.scalars[ch] ?? 1) + Double(bias?.scalars[ch] ?? 0))
            }
        } }
        return out
    }

    /// LayerNorm by the definition, in Double.
    static func layerNorm(_ x: Tensor, weight: Tensor?, bias: Tensor?, eps: Float) -> Tensor {
        let d = x.shape[x.rank - 1]
        var out = x
        for r in 0..<(x.count / d) {
            let vals = (0..<d).map { Double(x.scalars[r * d + $0]) }
            let mu = vals.reduce(0, +) / Double(d)
            let v = vals.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(d)
            for j in 0..<d {
                let y = (vals[j] - mu) / (v + Double(eps)).squareRoot()
                out.scalars[r * d + j] = Float(y * Double(weight?.scalars[j] ?? 1) + Double(bias?.scalars[j] ?? 0))
            }
        }
        return out
    }

    /// Bilinear resize following PyTorch's `upsample_bilinear2d` (align_corners=False) in Double.
    static func resizeBilinear(_ x: Tensor, _ oh: Int, _ ow: Int) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        func tap(_ d: Int, _ inS: Int, _ outS: Int) -> (Int, Int, Double) {
            let src = Swift.max(0, (Double(d) + 0.5) * Double(inS) / Double(outS) - 0.5)
            let i0 = Int(src.rounded(.down)), i1 = i0 < inS - 1 ? i0 + 1 : i0
            return (i0, i1, src - Double(i0))
        }
        var out = Tensor(zeros: [n, c, oh, ow])
        for b in 0..<n { for ch in 0..<c { for oy in 0..<oh { for ox in 0..<ow {
            let (y0, y1, ly) = tap(oy, h, oh), (x0, x1, lx) = tap(ox, w, ow)
            let v = (1 - ly) * ((1 - lx) * Double(x[[b, ch, y0, x0]]) + lx * Double(x[[b, ch, y0, x1]]))
                + ly * ((1 - lx) * Double(x[[b, ch, y1, x0]]) + lx * Double(x[[b, ch, y1, x1]]))
            out[[b, ch, oy, ox]] = Float(v)
        } } } }
        return out
    }

    /// Nearest upsample and average pool by their definitions.
    static func upsampleNearest(_ x: Tensor, _ f: Int) -> Tensor {
        var out = Tensor(zeros: [x.shape[0], x.shape[1], x.shape[2] * f, x.shape[3] * f])
        for o in 0..<out.count {
            let i = index(o, out.shape)
            out.scalars[o] = x[[i[0], i[1], i[2] / f, i[3] / f]]
        }
        return out
    }

    static func avgPool2d(_ x: Tensor, _ k: Int) -> Tensor {
        var out = Tensor(zeros: [x.shape[0], x.shape[1], x.shape[2] / k, x.shape[3] / k])
        for o in 0..<out.count {
            let i = index(o, out.shape)
            var s = 0.0
            for a in 0..<k { for b in 0..<k { s += Double(x[[i[0], i[1], i[2] * k + a, i[3] * k + b]]) } }
            out.scalars[o] = Float(s / Double(k * k))
        }
        return out
    }

    /// Attention by loops: scores, masked, softmax, weighted sum of values.
    static func attention(_ q: Tensor, _ k: Tensor, _ v: Tensor, mask: Tensor?, scale: Double) -> Tensor {
        let (b, h, lq, d) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3])
        let lk = k.shape[2], dv = v.shape[3]
        var out = Tensor(zeros: [b, h, lq, dv])
        for bi in 0..<b { for hi in 0..<h { for i in 0..<lq {
            var s = [Double](repeating: 0, count: lk)
            for j in 0..<lk {
                for t in 0..<d { s[j] += Double(q[[bi, hi, i, t]]) * Double(k[[bi, hi, j, t]]) }
                s[j] *= scale
                if let mask { s[j] += Double(broadcastElement(mask, [bi, hi, i, j])) }
            }
            let m = s.max()!
            let e = s.map { Foundation.exp($0 - m) }, z = e.reduce(0, +)
            for t in 0..<dv {
                var acc = 0.0
                for j in 0..<lk { acc += e[j] / z * Double(v[[bi, hi, j, t]]) }
                out[[bi, hi, i, t]] = Float(acc)
            }
        } } }
        return out
    }
}
