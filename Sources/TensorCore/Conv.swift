/// 2-D convolution (groups 1, NCHW, PyTorch weight layout `[O, C, kh, kw]`) by im2col + sgemm.
///
/// Images are processed in groups of G (G = 1 for large feature maps; for small ones enough images
/// that the GEMM has >= `convColumnTarget` columns): `col = [im2col(x[n]) for n in group]`
/// `[C kh kw, G Ho Wo]`, then
/// - forward: `Y = W [O, C kh kw] col + bias`, scattered to `y[n]` `[O, Ho Wo]`;
/// - backward data: `x_grad[n] = col2im(W^T G_grad)`, or, for stride 1 with padding <= k-1, the
///   "full" convolution of the gradient with the flipped kernel (no col2im scatter), or for Winograd's
///   geometries its transposed products (WinogradBackward.swift);
/// - backward weight: `W_grad = sum_groups G_grad col^T`; bias gradient: `sum over n, y, x of g`.
/// One reused column buffer; BLAS threads the sgemm, `Threads` the im2col/col2im (never both at once).
extension Kernels {
    /// Minimum GEMM width (columns) that image grouping aims for on small feature maps. 256 groups
    /// only maps of 8x8 and smaller: on this 2-core machine, grouping 16x16 maps to 1024 columns
    /// measured no faster (the extra copy and larger column buffer cancel the wider GEMM).
    static let convColumnTarget = 256

    static func convGeometry(_ xShape: [Int], _ wShape: [Int], stride: (Int, Int), padding: (Int, Int), _ name: String) -> ConvGeometry {
        precondition(xShape.count == 4 && wShape.count == 4 && xShape[1] == wShape[1],
                     "\(name): input \(xShape) and weight \(wShape) must be [N, C, H, W] and [O, C, kh, kw]")
        precondition(stride.0 >= 1 && stride.1 >= 1 && padding.0 >= 0 && padding.1 >= 0,
                     "\(name): stride \(stride) must be >= 1 and padding \(padding) >= 0")
        let g = ConvGeometry(channels: xShape[1], height: xShape[2], width: xShape[3], kernelH: wShape[2], kernelW: wShape[3],
                             strideH: stride.0, strideW: stride.1, padH: padding.0, padW: padding.1)
        precondition(xShape[2] + 2 * padding.0 >= wShape[2] && xShape[3] + 2 * padding.1 >= wShape[3],
                     "\(name): kernel \(wShape) larger than padded input \(xShape) (padding \(padding))")
        return g
    }

    /// Images per GEMM for `batch` images of geometry `g`.
    static func imagesPerGemm(_ g: ConvGeometry, batch: Int) -> Int {
        Swift.max(1, Swift.min(batch, convColumnTarget / Swift.max(1, g.colCols)))
    }

    /// Copies `[gc, o, cols]` (images `start..<start+gc` of a `[N, o, cols]` tensor) into `[o, gc cols]`,
    /// or back when `toGroup` is false.
    static func regroup(_ a: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>, start: Int, gc: Int,
                        o: Int, cols: Int, toGroup: Bool) {
        for i in 0..<gc {
            for oc in 0..<o {
                let t = a + ((start + i) * o + oc) * cols, gp = b + oc * gc * cols + i * cols
                if toGroup { gp.update(from: t, count: cols) } else { t.update(from: gp, count: cols) }
            }
        }
    }

    /// `y [N, O, Ho, Wo] = conv2d(x [N, C, H, W], weight [O, C, kh, kw]) + bias [O]`.
    public static func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: (Int, Int) = (1, 1),
                              padding: (Int, Int) = (0, 0)) -> Tensor {
        let g = convGeometry(x.shape, weight.shape, stride: stride, padding: padding, "conv2d")
        let n = x.shape[0], o = weight.shape[0], cols = g.colCols
        precondition(bias.map { $0.shape == [o] } ?? true, "conv2d: bias \(bias?.shape ?? []) must be [\(o)]")
        if n * o * cols == 0 { return Tensor(shape: [n, o, g.outH, g.outW], scalars: []) }
        if usesWinograd(g) { return conv2dWinograd(x, weight: weight, bias: bias, g) }   // Winograd.swift
        return conv2dByIm2col(x, weight: weight, bias: bias, g)
    }

    /// `conv2d` by im2col + sgemm, any geometry (the reference for the Winograd path). Non-empty output.
    static func conv2dByIm2col(_ x: Tensor, weight: Tensor, bias: Tensor?, _ g: ConvGeometry) -> Tensor {
        let n = x.shape[0], o = weight.shape[0], cols = g.colCols, rows = g.colRows
        if usesImageGroupPath(g, batch: n) { return conv2dByImageGroups(x, weight: weight, bias: bias, g) }   // ConvImageGroups.swift
        let group = imagesPerGemm(g, batch: n), direct = g.isPointwise && group == 1
        var out = uninitializedStorage(n * o * cols)
        var col = uninitializedStorage(direct ? 0 : rows * group * cols)
        var tmp = uninitializedStorage(group > 1 ? o * group * cols : 0)
        let imageSize = g.channels * g.height * g.width
        x.scalars.withUnsafeBufferPointer { px in
            weight.scalars.withUnsafeBufferPointer { pw in
                out.withUnsafeMutableBufferPointer { po in
                    col.withUnsafeMutableBufferPointer { pc in
                        tmp.withUnsafeMutableBufferPointer { pt in
                            for start in Swift.stride(from: 0, to: n, by: group) {
                                let gc = Swift.min(group, n - start), ld = gc * cols
                                let src: UnsafePointer<Float>
                                if direct { src = px.baseAddress! + start * imageSize } else {
                                    for i in 0..<gc {
                                        im2col(g, image: px.baseAddress! + (start + i) * imageSize, col: pc.baseAddress! + i * cols, ld: ld)
                                    }
                                    src = UnsafePointer(pc.baseAddress!)
                                }
                                let dst = group == 1 ? po.baseAddress! + start * o * cols : pt.baseAddress!
                                if let bias {
                                    for oc in 0..<o { (dst + oc * ld).update(repeating: bias.scalars[oc], count: ld) }
                                }
                                sgemm(transA: false, transB: false, m: o, n: ld, k: rows, a: pw.baseAddress!, lda: rows,
                                      b: src, ldb: ld, beta: bias == nil ? 0 : 1, c: dst, ldc: ld)
                                if group > 1 {
                                    regroup(po.baseAddress!, pt.baseAddress!, start: start, gc: gc, o: o, cols: cols, toGroup: false)
                                }
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: [n, o, g.outH, g.outW], scalars: out)
    }

    /// `dL/dx` of `conv2d` given `grad [N, O, Ho, Wo]`.
    public static func conv2dBackwardData(_ grad: Tensor, weight: Tensor, inputShape: [Int], stride: (Int, Int) = (1, 1),
                                          padding: (Int, Int) = (0, 0)) -> Tensor {
        let g = convGeometry(inputShape, weight.shape, stride: stride, padding: padding, "conv2dBackwardData")
        let n = inputShape[0], o = weight.shape[0], cols = g.colCols, rows = g.colRows
        precondition(grad.shape == [n, o, g.outH, g.outW],
                     "conv2dBackwardData: grad \(grad.shape) must be \([n, o, g.outH, g.outW]) for input \(inputShape), weight \(weight.shape)")
        if grad.count > 0 && weight.count > 0 && usesWinograd(g) {   // WinogradBackward.swift
            return conv2dBackwardWinograd(grad, input: nil, weight: weight, weightShape: weight.shape, g, data: true,
                                          weightGradient: false).dx!
        }
        if stride == (1, 1) && padding.0 <= g.kernelH - 1 && padding.1 <= g.kernelW - 1 && !g.isPointwise {
            // Stride 1: the data gradient is a "full" convolution of grad with the spatially flipped,
            // in/out-swapped kernel: one im2col + sgemm with K = O kh kw, no col2im scatter.
            return conv2d(grad, weight: flippedTransposedKernel(weight), bias: nil, stride: (1, 1),
                          padding: (g.kernelH - 1 - padding.0, g.kernelW - 1 - padding.1))
        }
        let group = imagesPerGemm(g, batch: n), direct = g.isPointwise && group == 1
        let imageSize = g.channels * g.height * g.width
        var dx = [Float](repeating: 0, count: n * imageSize)
        if dx.isEmpty || grad.count == 0 { return Tensor(shape: inputShape, scalars: dx) }
        var col = uninitializedStorage(direct ? 0 : rows * group * cols)
        var gbuf = uninitializedStorage(group > 1 ? o * group * cols : 0)
        grad.scalars.withUnsafeBufferPointer { pgRead in
            let pg = UnsafeMutableBufferPointer(mutating: pgRead)   // only read: regroup(toGroup: true) copies from it
            weight.scalars.withUnsafeBufferPointer { pw in
                dx.withUnsafeMutableBufferPointer { pd in
                    col.withUnsafeMutableBufferPointer { pc in
                        gbuf.withUnsafeMutableBufferPointer { pb in
                            for start in Swift.stride(from: 0, to: n, by: group) {
                                let gc = Swift.min(group, n - start), ld = gc * cols
                                var gsrc = pg.baseAddress! + start * o * cols
                                if group > 1 {
                                    regroup(pg.baseAddress!, pb.baseAddress!, start: start, gc: gc, o: o, cols: cols, toGroup: true)
                                    gsrc = pb.baseAddress!
                                }
                                let dst = direct ? pd.baseAddress! + start * imageSize : pc.baseAddress!
                                sgemm(transA: true, transB: false, m: rows, n: ld, k: o, a: pw.baseAddress!, lda: rows,
                                      b: gsrc, ldb: ld, c: dst, ldc: ld)
                                if !direct {
                                    for i in 0..<gc {
                                        col2im(g, col: pc.baseAddress! + i * cols, ld: ld, image: pd.baseAddress! + (start + i) * imageSize)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: inputShape, scalars: dx)
    }

    /// `(dL/dx, dL/dweight)` of `conv2d` given `grad [N, O, Ho, Wo]`, each only when asked (nil otherwise): the same
    /// values as `conv2dBackwardData` and `conv2dBackwardWeight`, but when both are asked of a Winograd geometry,
    /// `grad` is transformed once for both (WinogradBackward.swift); one alone goes through its own function.
    public static func conv2dBackward(_ grad: Tensor, input x: Tensor, weight: Tensor, stride: (Int, Int) = (1, 1),
                                      padding: (Int, Int) = (0, 0), data: Bool, weightGradient: Bool) -> (dx: Tensor?, dw: Tensor?) {
        let g = convGeometry(x.shape, weight.shape, stride: stride, padding: padding, "conv2dBackward")
        let expected = [x.shape[0], weight.shape[0], g.outH, g.outW]
        precondition(grad.shape == expected, "conv2dBackward: grad \(grad.shape) must be \(expected) for input \(x.shape), weight \(weight.shape)")
        if data && weightGradient && grad.count > 0 && weight.count > 0 && usesWinograd(g) {
            return conv2dBackwardWinograd(grad, input: x, weight: weight, weightShape: weight.shape, g, data: data, weightGradient: weightGradient)
        }
        return (data ? conv2dBackwardData(grad, weight: weight, inputShape: x.shape, stride: stride, padding: padding) : nil,
                weightGradient ? conv2dBackwardWeight(grad, input: x, weightShape: weight.shape, stride: stride, padding: padding) : nil)
    }

    /// `W'[c, o, i, j] = W[o, c, kh-1-i, kw-1-j]`: `[O, C, kh, kw] -> [C, O, kh, kw]`.
    static func flippedTransposedKernel(_ w: Tensor) -> Tensor {
        let (o, c, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
        var out = [Float](repeating: 0, count: w.count)
        for oc in 0..<o { for ic in 0..<c { for i in 0..<kh { for j in 0..<kw {
            out[((ic * o + oc) * kh + (kh - 1 - i)) * kw + (kw - 1 - j)] = w.scalars[((oc * c + ic) * kh + i) * kw + j]
        } } } }
        return Tensor(shape: [c, o, kh, kw], scalars: out)
    }

    /// `dL/dweight [O, C, kh, kw]` of `conv2d` given `grad [N, O, Ho, Wo]` and the input `x`.
    public static func conv2dBackwardWeight(_ grad: Tensor, input x: Tensor, weightShape: [Int], stride: (Int, Int) = (1, 1),
                                            padding: (Int, Int) = (0, 0)) -> Tensor {
        let g = convGeometry(x.shape, weightShape, stride: stride, padding: padding, "conv2dBackwardWeight")
        let n = x.shape[0], o = weightShape[0], rows = g.colRows
        precondition(grad.shape == [n, o, g.outH, g.outW],
                     "conv2dBackwardWeight: grad \(grad.shape) must be \([n, o, g.outH, g.outW]) for input \(x.shape), weight \(weightShape)")
        if grad.count == 0 || o * rows == 0 { return Tensor(zeros: weightShape) }
        if usesWinograd(g) { return conv2dBackwardWeightWinograd(grad, input: x, weightShape: weightShape, g) }   // WinogradBackward.swift
        return conv2dBackwardWeightByIm2col(grad, input: x, weightShape: weightShape, g)
    }

    /// `conv2dBackwardWeight` by im2col + sgemm, any geometry (the reference for the Winograd path).
    /// Non-empty grad and weight.
    static func conv2dBackwardWeightByIm2col(_ grad: Tensor, input x: Tensor, weightShape: [Int], _ g: ConvGeometry) -> Tensor {
        let n = x.shape[0], o = weightShape[0], cols = g.colCols, rows = g.colRows
        let group = imagesPerGemm(g, batch: n), direct = g.isPointwise && group == 1
        let imageSize = g.channels * g.height * g.width
        var dw = [Float](repeating: 0, count: o * rows)
        if usesImageGroupPath(g, batch: n) { return conv2dBackwardWeightByImageGroups(grad, input: x, weightShape: weightShape, g) }
        var col = uninitializedStorage(direct ? 0 : rows * group * cols)
        var gbuf = uninitializedStorage(group > 1 ? o * group * cols : 0)
        x.scalars.withUnsafeBufferPointer { px in
            grad.scalars.withUnsafeBufferPointer { pgRead in
                let pg = UnsafeMutableBufferPointer(mutating: pgRead)   // only read: regroup(toGroup: true) copies from it
                dw.withUnsafeMutableBufferPointer { pd in
                    col.withUnsafeMutableBufferPointer { pc in
                        gbuf.withUnsafeMutableBufferPointer { pb in
                            for start in Swift.stride(from: 0, to: n, by: group) {
                                let gc = Swift.min(group, n - start), ld = gc * cols
                                let src: UnsafePointer<Float>
                                if direct { src = px.baseAddress! + start * imageSize } else {
                                    for i in 0..<gc {
                                        im2col(g, image: px.baseAddress! + (start + i) * imageSize, col: pc.baseAddress! + i * cols, ld: ld)
                                    }
                                    src = UnsafePointer(pc.baseAddress!)
                                }
                                var gsrc = pg.baseAddress! + start * o * cols
                                if group > 1 {
                                    regroup(pg.baseAddress!, pb.baseAddress!, start: start, gc: gc, o: o, cols: cols, toGroup: true)
                                    gsrc = pb.baseAddress!
                                }
                                sgemm(transA: false, transB: true, m: o, n: rows, k: ld, a: gsrc, lda: ld,
                                      b: src, ldb: ld, beta: start == 0 ? 0 : 1, c: pd.baseAddress!, ldc: rows)
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: weightShape, scalars: dw)
    }

    /// `dL/dbias [O]` of `conv2d`: the sum of `grad [N, O, Ho, Wo]` over N, Ho, Wo, each image's map in 8 Double lanes
    /// (`rowSumDouble`), the output channels spread over the threads. Why not `sum(grad, axes: [0, 2, 3])`: its inner
    /// loop is one serial chain of Float additions per map, which perf put at 1.8% of a U-Net training step.
    public static func conv2dBackwardBias(_ grad: Tensor) -> Tensor {
        precondition(grad.rank == 4, "conv2dBackwardBias: grad must be [N, O, Ho, Wo], got \(grad.shape)")
        let n = grad.shape[0], o = grad.shape[1], hw = grad.shape[2] * grad.shape[3]
        var out = [Float](repeating: 0, count: o)
        if grad.count == 0 { return Tensor(shape: [o], scalars: out) }
        grad.scalars.withUnsafeBufferPointer { pg in out.withUnsafeMutableBufferPointer { po in
            let pg = pg.baseAddress!, po = UnsafeSendable(po.baseAddress!)
            Threads.parallelFor(o, chunk: Swift.max(1, o / 8)) { channels in
                for ch in channels {
                    var acc = 0.0
                    for i in 0..<n { acc += rowSumDouble(pg + (i * o + ch) * hw, hw) }
                    po.value[ch] = Float(acc)
                }
            }
        } }
        return Tensor(shape: [o], scalars: out)
    }
}
