extension Reference {
    /// Direct 7-loop convolution (Double accumulation), no im2col, no BLAS.
    static func conv2d(_ x: Tensor, _ w: Tensor, _ bias: Tensor?, stride: (Int, Int), padding: (Int, Int)) -> Tensor {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
        let oh = (h + 2 * padding.0 - kh) / stride.0 + 1, ow = (wd + 2 * padding.1 - kw) / stride.1 + 1
        var out = Tensor(zeros: [n, o, oh, ow])
        for b in 0..<n { for oc in 0..<o { for oy in 0..<oh { for ox in 0..<ow {
            var s = Double(bias?.scalars[oc] ?? 0)
            for ic in 0..<c { for i in 0..<kh { for j in 0..<kw {
                let y = oy * stride.0 - padding.0 + i, xx = ox * stride.1 - padding.1 + j
                if y < 0 || y >= h || xx < 0 || xx >= wd { continue }
                s += Double(x[[b, ic, y, xx]]) * Double(w[[oc, ic, i, j]])
            } } }
            out[[b, oc, oy, ox]] = Float(s)
        } } } }
        return out
    }

    /// Direct loops for both conv gradients: every (output, tap) pair adds its product.
    static func conv2dBackward(_ g: Tensor, _ x: Tensor, _ w: Tensor, stride: (Int, Int), padding: (Int, Int)) -> (dx: Tensor, dw: Tensor) {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
        let (oh, ow) = (g.shape[2], g.shape[3])
        var dx = [Double](repeating: 0, count: x.count), dw = [Double](repeating: 0, count: w.count)
        for b in 0..<n { for oc in 0..<o { for oy in 0..<oh { for ox in 0..<ow {
            let gv = Double(g[[b, oc, oy, ox]])
            for ic in 0..<c { for i in 0..<kh { for j in 0..<kw {
                let y = oy * stride.0 - padding.0 + i, xx = ox * stride.1 - padding.1 + j
                if y < 0 || y >= h || xx < 0 || xx >= wd { continue }
                dx[x.offset(of: [b, ic, y, xx])] += gv * Double(w[[oc, ic, i, j]])
                dw[w.offset(of: [oc, ic, i, j])] += gv * Double(x[[b, ic, y, xx]])
            } } }
        } } } }
        return (Tensor(shape: x.shape, scalars: dx.map(Float.init)), Tensor(shape: w.shape, scalars: dw.map(Float.init)))
    }
}
