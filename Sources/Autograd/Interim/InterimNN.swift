import Foundation
import TensorCore

// INTERIM naive kernels: see InterimElementwise.swift.

extension Interim {
    static func softmaxRows(_ x: Tensor, log: Bool) -> Tensor {
        let d = x.shape.last ?? 1
        var out = x.scalars
        for r in 0..<(x.count / Swift.max(d, 1)) {
            let seg = x.scalars[r * d ..< (r + 1) * d]
            let m = seg.max() ?? 0
            let z = seg.reduce(0.0) { $0 + Foundation.exp(Double($1 - m)) }
            for k in 0..<d {
                let v = Double(x.scalars[r * d + k] - m)
                out[r * d + k] = log ? Float(v - Foundation.log(z)) : Float(Foundation.exp(v) / z)
            }
        }
        return Tensor(shape: x.shape, scalars: out)
    }

    /// softmax: y (g - sum g y); log-softmax: g - exp(y) sum g.
    static func softmaxRowsBackward(_ y: Tensor, _ g: Tensor, log: Bool) -> Tensor {
        let d = y.shape.last ?? 1
        var out = g.scalars
        for r in 0..<(y.count / Swift.max(d, 1)) {
            var s = 0.0
            for k in 0..<d { s += log ? Double(g.scalars[r * d + k]) : Double(g.scalars[r * d + k] * y.scalars[r * d + k]) }
            for k in 0..<d {
                let i = r * d + k
                out[i] = log ? g.scalars[i] - Foundation.exp(y.scalars[i]) * Float(s) : y.scalars[i] * (g.scalars[i] - Float(s))
            }
        }
        return Tensor(shape: y.shape, scalars: out)
    }

    static func upsampleNearest(_ x: Tensor, factor f: Int) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        var out = [Float](repeating: 0, count: x.count * f * f)
        for p in 0..<(n * c) { for y in 0..<(h * f) { for xx in 0..<(w * f) {
            out[(p * h * f + y) * w * f + xx] = x.scalars[(p * h + y / f) * w + xx / f]
        } } }
        return Tensor(shape: [n, c, h * f, w * f], scalars: out)
    }

    /// Sum over k x k windows (scaled by `scale`), [N, C, H, W] -> [N, C, H/k, W/k].
    static func windowSum(_ x: Tensor, k: Int, scale: Float) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let oh = h / k, ow = w / k
        var out = [Float](repeating: 0, count: n * c * oh * ow)
        for p in 0..<(n * c) { for y in 0..<(oh * k) { for xx in 0..<(ow * k) {
            out[(p * oh + y / k) * ow + xx / k] += x.scalars[(p * h + y) * w + xx] * scale
        } } }
        return Tensor(shape: [n, c, oh, ow], scalars: out)
    }

    /// PyTorch align_corners=False source coordinate: (i0, i1, weight of i1).
    static func bilinearTaps(_ dst: Int, inSize: Int, outSize: Int) -> (Int, Int, Float) {
        let src = Swift.max((Float(dst) + 0.5) * Float(inSize) / Float(outSize) - 0.5, 0)
        let i0 = Swift.min(Int(src), inSize - 1)
        let i1 = Swift.min(i0 + 1, inSize - 1)
        return (i0, i1, src - Float(i0))
    }

    /// Bilinear resize; with `backward`, `x` is the output gradient and the result has `inputShape`.
    static func bilinear(_ x: Tensor, height oh: Int, width ow: Int, backward inputShape: [Int]?) -> Tensor {
        let s = inputShape ?? x.shape
        let (n, c, h, w) = (s[0], s[1], s[2], s[3])
        var out = [Float](repeating: 0, count: inputShape == nil ? n * c * oh * ow : n * c * h * w)
        for p in 0..<(n * c) { for y in 0..<oh {
            let (y0, y1, ly) = bilinearTaps(y, inSize: h, outSize: oh)
            for xx in 0..<ow {
                let (x0, x1, lx) = bilinearTaps(xx, inSize: w, outSize: ow)
                let taps = [(y0, x0, (1 - ly) * (1 - lx)), (y0, x1, (1 - ly) * lx), (y1, x0, ly * (1 - lx)), (y1, x1, ly * lx)]
                let o = (p * oh + y) * ow + xx
                for (ty, tx, wt) in taps {
                    let i = (p * h + ty) * w + tx
                    if inputShape == nil { out[o] += wt * x.scalars[i] } else { out[i] += wt * x.scalars[o] }
                }
            }
        } }
        return Tensor(shape: inputShape ?? [n, c, oh, ow], scalars: out)
    }

    static func embedding(_ idx: [Int32], table: Tensor) -> Tensor {
        let d = table.shape[1]
        var out = [Float](); out.reserveCapacity(idx.count * d)
        for i in idx {
            precondition(i >= 0 && Int(i) < table.shape[0], "embedding: index \(i) out of range for table \(table.shape)")
            out += table.scalars[Int(i) * d ..< (Int(i) + 1) * d]
        }
        return Tensor(shape: [idx.count, d], scalars: out)
    }

    static func embeddingBackward(_ g: Tensor, idx: [Int32], vocabulary v: Int) -> Tensor {
        let d = g.shape[1]
        var out = [Float](repeating: 0, count: v * d)
        for (r, i) in idx.enumerated() { for k in 0..<d { out[Int(i) * d + k] += g.scalars[r * d + k] } }
        return Tensor(shape: [v, d], scalars: out)
    }

    /// Cross-entropy mean over rows and its gradient (softmax - onehot) / N.
    static func crossEntropy(_ logits: Tensor, targets: [Int32]) -> (Tensor, Tensor) {
        let (n, c) = (logits.shape[0], logits.shape[1])
        let ls = softmaxRows(logits, log: true)
        var loss = 0.0
        var g = [Float](repeating: 0, count: n * c)
        for r in 0..<n {
            let t = Int(targets[r])
            precondition(t >= 0 && t < c, "crossEntropy: target \(t) at row \(r) outside 0..<\(c)")
            loss -= Double(ls.scalars[r * c + t])
            for k in 0..<c { g[r * c + k] = (Foundation.exp(ls.scalars[r * c + k]) - (k == t ? 1 : 0)) / Float(n) }
        }
        return (Tensor(scalar: Float(loss / Double(n))), Tensor(shape: [n, c], scalars: g))
    }
}
