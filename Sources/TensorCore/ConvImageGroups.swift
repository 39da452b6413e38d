/// Convolution forward and weight gradient with the batch spread over threads: each task takes
/// whole image groups (the `imagesPerGemm` groups of Conv.swift) and runs their im2col and ONE
/// single-threaded sgemm per group with its own column buffer.
///
/// Why: the per-group path of Conv.swift threads each image's im2col and splits each sgemm into 8
/// column blocks, so a batch of 16 images at 32x32 cost 32 hand-offs between threads and 128
/// small sgemms (each re-packing the weights) per call. Used when there are at least
/// `convParallelGroups` groups (a choice by shape, never by thread count).
/// Determinism: the groups and their sgemms are fixed by the shape; the weight gradient is a sum
/// of per-group partials `G_g col_g^T` added in group order. So results are identical for any
/// thread count (and equal to Conv.swift's path up to rounding).
extension Kernels {
    /// Image groups needed before the batch is spread over threads instead of each image's work.
    static let convParallelGroups = 4

    /// Whether `conv2d` / `conv2dBackwardWeight` take the image-group path for this shape.
    static func usesImageGroupPath(_ g: ConvGeometry, batch: Int) -> Bool {
        let group = imagesPerGemm(g, batch: batch)
        return (batch + group - 1) / group >= convParallelGroups
    }

    /// `conv2d` on the image-group path; same contract.
    static func conv2dByImageGroups(_ x: Tensor, weight: Tensor, bias: Tensor?, _ g: ConvGeometry) -> Tensor {
        let n = x.shape[0], o = weight.shape[0], cols = g.colCols, rows = g.colRows
        let group = imagesPerGemm(g, batch: n), direct = g.isPointwise && group == 1
        let imageSize = g.channels * g.height * g.width, groups = (n + group - 1) / group
        var out = uninitializedStorage(n * o * cols)   // every group writes its images' outputs
        x.scalars.withUnsafeBufferPointer { px in
            weight.scalars.withUnsafeBufferPointer { pw in
                out.withUnsafeMutableBufferPointer { po in
                    let px = px.baseAddress!, pw = pw.baseAddress!, po = UnsafeSendable(po.baseAddress!)
                    Threads.parallelFor(groups, chunk: 1) { gs in
                        let col = UnsafeMutablePointer<Float>.allocate(capacity: direct ? 1 : rows * group * cols)
                        let tmp = UnsafeMutablePointer<Float>.allocate(capacity: group > 1 ? o * group * cols : 1)
                        defer { col.deallocate(); tmp.deallocate() }
                        for gi in gs {
                            let start = gi * group, gc = Swift.min(group, n - start), ld = gc * cols
                            let src = groupColumns(g, px, start: start, count: gc, imageSize: imageSize, direct: direct, col: col)
                            let dst = group == 1 ? po.value + start * o * cols : tmp
                            if let bias {
                                for oc in 0..<o { (dst + oc * ld).update(repeating: bias.scalars[oc], count: ld) }
                            }
                            sgemmOnThisThread(transA: false, transB: false, m: o, n: ld, k: rows, a: pw, lda: rows,
                                              b: src, ldb: ld, beta: bias == nil ? 0 : 1, c: dst, ldc: ld)
                            if group > 1 { regroup(po.value, tmp, start: start, gc: gc, o: o, cols: cols, toGroup: false) }
                        }
                    }
                }
            }
        }
        return Tensor(shape: [n, o, g.outH, g.outW], scalars: out)
    }

    /// `conv2dBackwardWeight` on the image-group path; same contract.
    static func conv2dBackwardWeightByImageGroups(_ grad: Tensor, input x: Tensor, weightShape: [Int], _ g: ConvGeometry) -> Tensor {
        let n = x.shape[0], o = weightShape[0], cols = g.colCols, rows = g.colRows
        let group = imagesPerGemm(g, batch: n), direct = g.isPointwise && group == 1
        let imageSize = g.channels * g.height * g.width, groups = (n + group - 1) / group
        var partials = uninitializedStorage(groups * o * rows)   // group gi's G col^T at gi * o * rows
        x.scalars.withUnsafeBufferPointer { px in
            grad.scalars.withUnsafeBufferPointer { pg in
                partials.withUnsafeMutableBufferPointer { pp in
                    let px = px.baseAddress!, pg = UnsafeMutablePointer(mutating: pg.baseAddress!)   // pg only read
                    let pp = UnsafeSendable(pp.baseAddress!)
                    Threads.parallelFor(groups, chunk: 1) { gs in
                        let col = UnsafeMutablePointer<Float>.allocate(capacity: direct ? 1 : rows * group * cols)
                        let gbuf = UnsafeMutablePointer<Float>.allocate(capacity: group > 1 ? o * group * cols : 1)
                        defer { col.deallocate(); gbuf.deallocate() }
                        for gi in gs {
                            let start = gi * group, gc = Swift.min(group, n - start), ld = gc * cols
                            let src = groupColumns(g, px, start: start, count: gc, imageSize: imageSize, direct: direct, col: col)
                            var gsrc = UnsafePointer(pg + start * o * cols)
                            if group > 1 {
                                regroup(pg, gbuf, start: start, gc: gc, o: o, cols: cols, toGroup: true)
                                gsrc = UnsafePointer(gbuf)
                            }
                            sgemmOnThisThread(transA: false, transB: true, m: o, n: rows, k: ld, a: gsrc, lda: ld,
                                              b: src, ldb: ld, c: pp.value + gi * o * rows, ldc: rows)
                        }
                    }
                }
            }
        }
        // Sum the partials in group order (fixed, so the bits do not depend on the thread count).
        var dw = Array(partials[0..<(o * rows)])
        dw.withUnsafeMutableBufferPointer { pd in
            partials.withUnsafeBufferPointer { pp in
                for gi in 1..<Swift.max(1, groups) {
                    let p = pp.baseAddress! + gi * o * rows
                    for j in 0..<(o * rows) { pd[j] += p[j] }
                }
            }
        }
        return Tensor(shape: weightShape, scalars: dw)
    }

    /// The column matrix of images start..<start+count side by side ([rows, count * cols], row stride
    /// count * cols): the images themselves when `direct` (1x1 stride-1 conv, one image), else im2col into `col`.
    @inline(__always)
    static func groupColumns(_ g: ConvGeometry, _ px: UnsafePointer<Float>, start: Int, count: Int, imageSize: Int,
                             direct: Bool, col: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
        if direct { return px + start * imageSize }
        let cols = g.colCols, ld = count * cols
        for i in 0..<count { im2col(g, image: px + (start + i) * imageSize, col: col + i * cols, ld: ld, serial: true) }
        return UnsafePointer(col)
    }
}
