/// 2-D convolution (groups 1, NCHW, PyTorch weight layout `[O, C, kh, kw]`) by im2col + sgemm.
///
/// Forward per image n: `col = im2col(x[n])` `[C kh kw, Ho Wo]`, `y[n] = W [O, C kh kw] col + bias`.
/// Backward data: `x_grad[n] = col2im(W^T g[n])`. Backward weight: `W_grad = sum_n g[n] col(x[n])^T`.
/// Bias gradient: `sum over n, y, x of g`. One reused column buffer; BLAS threads the sgemm,
/// `Threads` the im2col/col2im (never both at once). 1x1/stride-1/no-padding skips im2col.
extension Kernels {
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

    /// `y [N, O, Ho, Wo] = conv2d(x [N, C, H, W], weight [O, C, kh, kw]) + bias [O]`.
    public static func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: (Int, Int) = (1, 1),
                              padding: (Int, Int) = (0, 0)) -> Tensor {
        let g = convGeometry(x.shape, weight.shape, stride: stride, padding: padding, "conv2d")
        let n = x.shape[0], o = weight.shape[0], cols = g.colCols, rows = g.colRows
        precondition(bias.map { $0.shape == [o] } ?? true, "conv2d: bias \(bias?.shape ?? []) must be [\(o)]")
        var out = [Float](repeating: 0, count: n * o * cols)
        var col = [Float](repeating: 0, count: g.isPointwise ? 0 : rows * cols)
        let imageSize = g.channels * g.height * g.width
        x.scalars.withUnsafeBufferPointer { px in
            weight.scalars.withUnsafeBufferPointer { pw in
                out.withUnsafeMutableBufferPointer { po in
                    col.withUnsafeMutableBufferPointer { pc in
                        for b in 0..<n {
                            let img = px.baseAddress! + b * imageSize
                            let dst = po.baseAddress! + b * o * cols
                            if let bias {
                                for oc in 0..<o { (dst + oc * cols).update(repeating: bias.scalars[oc], count: cols) }
                            }
                            let src: UnsafePointer<Float>
                            if g.isPointwise { src = img } else {
                                im2col(g, image: img, col: pc.baseAddress!)
                                src = UnsafePointer(pc.baseAddress!)
                            }
                            sgemm(transA: false, transB: false, m: o, n: cols, k: rows, a: pw.baseAddress!, lda: rows,
                                  b: src, ldb: cols, beta: bias == nil ? 0 : 1, c: dst, ldc: cols)
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
        let imageSize = g.channels * g.height * g.width
        var dx = [Float](repeating: 0, count: n * imageSize)
        var col = [Float](repeating: 0, count: g.isPointwise ? 0 : rows * cols)
        grad.scalars.withUnsafeBufferPointer { pg in
            weight.scalars.withUnsafeBufferPointer { pw in
                dx.withUnsafeMutableBufferPointer { pd in
                    col.withUnsafeMutableBufferPointer { pc in
                        for b in 0..<n {
                            let dimg = pd.baseAddress! + b * imageSize
                            let dst = g.isPointwise ? dimg : pc.baseAddress!
                            sgemm(transA: true, transB: false, m: rows, n: cols, k: o, a: pw.baseAddress!, lda: rows,
                                  b: pg.baseAddress! + b * o * cols, ldb: cols, c: dst, ldc: cols)
                            if !g.isPointwise { col2im(g, col: pc.baseAddress!, image: dimg) }
                        }
                    }
                }
            }
        }
        return Tensor(shape: inputShape, scalars: dx)
    }

    /// `dL/dweight [O, C, kh, kw]` of `conv2d` given `grad [N, O, Ho, Wo]` and the input `x`.
    public static func conv2dBackwardWeight(_ grad: Tensor, input x: Tensor, weightShape: [Int], stride: (Int, Int) = (1, 1),
                                            padding: (Int, Int) = (0, 0)) -> Tensor {
        let g = convGeometry(x.shape, weightShape, stride: stride, padding: padding, "conv2dBackwardWeight")
        let n = x.shape[0], o = weightShape[0], cols = g.colCols, rows = g.colRows
        precondition(grad.shape == [n, o, g.outH, g.outW],
                     "conv2dBackwardWeight: grad \(grad.shape) must be \([n, o, g.outH, g.outW]) for input \(x.shape), weight \(weightShape)")
        let imageSize = g.channels * g.height * g.width
        var dw = [Float](repeating: 0, count: o * rows)
        var col = [Float](repeating: 0, count: g.isPointwise ? 0 : rows * cols)
        x.scalars.withUnsafeBufferPointer { px in
            grad.scalars.withUnsafeBufferPointer { pg in
                dw.withUnsafeMutableBufferPointer { pd in
                    col.withUnsafeMutableBufferPointer { pc in
                        for b in 0..<n {
                            let img = px.baseAddress! + b * imageSize
                            let src: UnsafePointer<Float>
                            if g.isPointwise { src = img } else {
                                im2col(g, image: img, col: pc.baseAddress!)
                                src = UnsafePointer(pc.baseAddress!)
                            }
                            sgemm(transA: false, transB: true, m: o, n: rows, k: cols, a: pg.baseAddress! + b * o * cols, lda: cols,
                                  b: src, ldb: cols, beta: b == 0 ? 0 : 1, c: pd.baseAddress!, ldc: rows)
                        }
                    }
                }
            }
        }
        return Tensor(shape: weightShape, scalars: dw)
    }

    /// `dL/dbias [O]` of `conv2d`: the sum of `grad [N, O, Ho, Wo]` over N, Ho, Wo.
    public static func conv2dBackwardBias(_ grad: Tensor) -> Tensor {
        precondition(grad.rank == 4, "conv2dBackwardBias: grad must be [N, O, Ho, Wo], got \(grad.shape)")
        return sum(grad, axes: [0, 2, 3])
    }
}
