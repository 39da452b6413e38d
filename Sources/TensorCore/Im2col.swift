/// Geometry of a 2-D convolution over one image `[C, H, W]` with a `[kh, kw]` kernel.
/// `outH = (H + 2 padH - kh) / strideH + 1` (same for W).
/// The column matrix is `[C * kh * kw, outH * outW]`: row `(c, i, j)` holds, for each output
/// pixel `(oy, ox)`, the input at `(oy * strideH - padH + i, ox * strideW - padW + j)` or 0 in padding.
public struct ConvGeometry: Sendable, Equatable {
    public var channels, height, width, kernelH, kernelW, strideH, strideW, padH, padW: Int
    public var outH: Int { (height + 2 * padH - kernelH) / strideH + 1 }
    public var outW: Int { (width + 2 * padW - kernelW) / strideW + 1 }
    public var colRows: Int { channels * kernelH * kernelW }
    public var colCols: Int { outH * outW }
    public var isPointwise: Bool { kernelH == 1 && kernelW == 1 && strideH == 1 && strideW == 1 && padH == 0 && padW == 0 }

    public init(channels: Int, height: Int, width: Int, kernelH: Int, kernelW: Int,
                strideH: Int, strideW: Int, padH: Int, padW: Int) {
        self.channels = channels; self.height = height; self.width = width
        self.kernelH = kernelH; self.kernelW = kernelW
        self.strideH = strideH; self.strideW = strideW; self.padH = padH; self.padW = padW
    }
}

/// Unfolds one image into `col` (`colRows x colCols`, rows `ld >= colCols` apart so several images
/// can sit side by side), parallel over column rows (fixed chunks), or on the calling thread when
/// `serial` (callers that already run one image per thread).
func im2col(_ g: ConvGeometry, image: UnsafePointer<Float>, col: UnsafeMutablePointer<Float>, ld: Int, serial: Bool = false) {
    let oh = g.outH, ow = g.outW, kk = g.kernelH * g.kernelW
    let col = UnsafeSendable(col)
    let chunk = serial ? Swift.max(1, g.colRows) : Swift.max(1, 8192 / Swift.max(1, oh * ow))
    Threads.parallelFor(g.colRows, chunk: chunk) { rows in
        for row in rows {
            let c = row / kk, i = (row % kk) / g.kernelW, j = row % g.kernelW
            let src = image + c * g.height * g.width
            let dst = col.value + row * ld
            for oy in 0..<oh {
                let y = oy * g.strideH - g.padH + i
                let d = dst + oy * ow
                if y < 0 || y >= g.height { for ox in 0..<ow { d[ox] = 0 }; continue }
                let s = src + y * g.width
                if g.strideW == 1 {
                    // x = ox - padW + j: zero the padded ends, copy the middle.
                    let x0 = j - g.padW
                    let lo = Swift.min(ow, Swift.max(0, -x0)), hi = Swift.max(lo, Swift.min(ow, g.width - x0))
                    for ox in 0..<lo { d[ox] = 0 }
                    if hi > lo { (d + lo).update(from: s + lo + x0, count: hi - lo) }
                    for ox in hi..<ow { d[ox] = 0 }
                } else {
                    for ox in 0..<ow {
                        let x = ox * g.strideW - g.padW + j
                        d[ox] = x >= 0 && x < g.width ? s[x] : 0
                    }
                }
            }
        }
    }
}

/// Folds `col` back into one image, ADDING overlapping contributions (the adjoint of `im2col`).
/// Rows of `col` are `ld` apart. Parallel over channels: each channel's rows write only that
/// channel, in a fixed order.
func col2im(_ g: ConvGeometry, col: UnsafePointer<Float>, ld: Int, image: UnsafeMutablePointer<Float>) {
    let oh = g.outH, ow = g.outW, kk = g.kernelH * g.kernelW
    let image = UnsafeSendable(image)
    Threads.parallelFor(g.channels, chunk: Swift.max(1, 8192 / Swift.max(1, kk * oh * ow))) { cs in
        for c in cs {
            let dstC = image.value + c * g.height * g.width
            for k in 0..<kk {
                let i = k / g.kernelW, j = k % g.kernelW
                let src = col + (c * kk + k) * ld
                for oy in 0..<oh {
                    let y = oy * g.strideH - g.padH + i
                    if y < 0 || y >= g.height { continue }
                    let d = dstC + y * g.width, s = src + oy * ow
                    if g.strideW == 1 {
                        // x = ox - padW + j over the in-range span only: a branch-free, vectorisable add.
                        let x0 = j - g.padW
                        let lo = Swift.min(ow, Swift.max(0, -x0)), hi = Swift.max(lo, Swift.min(ow, g.width - x0))
                        let dd = d + (x0 + lo), ss = s + lo
                        for t in 0..<(hi - lo) { dd[t] += ss[t] }
                    } else {
                        for ox in 0..<ow {
                            let x = ox * g.strideW - g.padW + j
                            if x >= 0 && x < g.width { d[x] += s[ox] }
                        }
                    }
                }
            }
        }
    }
}
