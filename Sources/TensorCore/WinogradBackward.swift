/// Both gradients of the Winograd F(2x2, 3x3) convolution (Winograd.swift) from one transform of the output gradient.
///
/// Per tile `dM = A dY A^T` (`winogradGradient`); then, per transform point ξ,
/// - weight: `dU_ξ [O, C] = dM_ξ [O, T] V_ξ^T` with `V` the input's tiles, folded by `dW = G^T dU G`;
/// - data: `dV_ξ [C, T] = U_ξ^T [C, O] dM_ξ`, then `dx` = the adjoint of the input transform (`B dV B^T` per tile,
///   overlapping tiles added, the padding dropped: `winogradInputAdjoint`).
/// Why not the data gradient as the flipped-kernel convolution (as for other stride-1 geometries, Conv.swift): that
/// transforms `dY` a second time (`winogradInput` of `dY` and `winogradOutput` of `dx`, both over memory) and the
/// flipped kernel's weights again; here `dM` serves both gradients and the data gradient adds one transform.
/// The weight gradient transforms the input again rather than keep the forward's `V` (4x the input): keeping it
/// measured no faster per training step (`perf-bench unet`, conv backward 128-136 -> 124-127 ms, step within noise)
/// for 200 MB more peak memory.
/// Same grouping and threads as the forward; the weight gradient adds per-group partials in group order, and each
/// group writes its own images' `dx`, so the bits do not depend on the thread count.
extension Kernels {
    /// `(dL/dx, dL/dweight)` of the Winograd convolution of geometry `g` given `grad [N, O, outH, outW]`, each only when
    /// asked: `data` needs `weight [O, C, 3, 3]`, `weightGradient` the input `x [N, C, H, W]`.
    static func conv2dBackwardWinograd(_ grad: Tensor, input x: Tensor?, weight: Tensor?, weightShape: [Int], _ g: ConvGeometry,
                                       data: Bool, weightGradient: Bool) -> (dx: Tensor?, dw: Tensor?) {
        precondition(!data || weight != nil, "conv2dBackwardWinograd: the data gradient needs the weight")
        precondition(!weightGradient || x != nil, "conv2dBackwardWinograd: the weight gradient needs the input")
        let n = grad.shape[0], o = weightShape[0], c = g.channels
        let plan = WinogradPlan(g, batch: n), imageSize = c * g.height * g.width, outSize = o * g.outH * g.outW
        let u = data ? winogradWeights(weight!) : [0]
        var dx = uninitializedStorage(data ? n * imageSize : 1)   // every group writes its images' dx
        var partials = uninitializedStorage(weightGradient ? plan.groups * 16 * o * c : 1)   // group gi's dU at gi * 16 o c
        let xs = x?.scalars ?? [0]
        xs.withUnsafeBufferPointer { px in grad.scalars.withUnsafeBufferPointer { pg in u.withUnsafeBufferPointer { pu in
        dx.withUnsafeMutableBufferPointer { pdx in partials.withUnsafeMutableBufferPointer { pp in
            let px = px.baseAddress!, pg = pg.baseAddress!, pu = pu.baseAddress!
            let pdx = UnsafeSendable(pdx.baseAddress!), pp = UnsafeSendable(pp.baseAddress!)
            forEachWinogradGroup(plan, channels: c, outputs: o, batch: n) { v, dm, plane, gi, start, count, t in
                for i in 0..<count {
                    let tile0 = i * plan.tilesPerImage
                    winogradGradient(pg + (start + i) * outSize, outputs: o, g, plan, dm: dm, ld: t, tile0: tile0, plane: plane)
                    if weightGradient {
                        winogradInput(px + (start + i) * imageSize, g, plan, v: v, ld: t, tile0: tile0, plane: plane)
                    }
                }
                if weightGradient {
                    let du = pp.value + gi * 16 * o * c
                    for xi in 0..<16 {
                        sgemmOnThisThread(transA: false, transB: true, m: o, n: c, k: t, a: dm + xi * o * t, lda: t,
                                          b: v + xi * c * t, ldb: t, c: du + xi * o * c, ldc: c)
                    }
                }
                if data {   // dV into v (the weight gradient, if asked, is done with V)
                    for xi in 0..<16 {
                        sgemmOnThisThread(transA: true, transB: false, m: c, n: t, k: o, a: pu + xi * o * c, lda: c,
                                          b: dm + xi * o * t, ldb: t, c: v + xi * c * t, ldc: t)
                    }
                    for i in 0..<count {
                        winogradInputAdjoint(v + i * plan.tilesPerImage, ld: t, g, plan, image: pdx.value + (start + i) * imageSize,
                                             plane: plane)
                    }
                }
            }
        } } } } }
        return (data ? Tensor(shape: [n, c, g.height, g.width], scalars: dx) : nil,
                weightGradient ? Tensor(shape: weightShape, scalars: winogradFoldWeightGradient(partials, groups: plan.groups, o: o, c: c)) : nil)
    }

    /// `dL/dweight [O, C, 3, 3]` of the Winograd convolution given `grad [N, O, H, W]`.
    static func conv2dBackwardWeightWinograd(_ grad: Tensor, input x: Tensor, weightShape: [Int], _ g: ConvGeometry) -> Tensor {
        conv2dBackwardWinograd(grad, input: x, weight: nil, weightShape: weightShape, g, data: false, weightGradient: true).dw!
    }

    /// `dW [O, C, 3, 3]` from the per-group partials of `dU` (`groups` blocks of `[16, O, C]`): their sum in group order
    /// (fixed, so the bits do not depend on the thread count), then `dW = G^T dU G` per (o, c).
    static func winogradFoldWeightGradient(_ partials: [Float], groups: Int, o: Int, c: Int) -> [Float] {
        var du = Array(partials[0..<(16 * o * c)])
        for gi in 1..<Swift.max(1, groups) {
            let base = gi * 16 * o * c
            for j in 0..<(16 * o * c) { du[j] += partials[base + j] }
        }
        var dw = [Float](repeating: 0, count: o * c * 9)
        for oc in 0..<(o * c) {
            // Rows of dU (i), each a SIMD4 over j; G^T = [1 ½ ½ 0; 0 ½ -½ 0; 0 ½ ½ 1] on both sides.
            func row(_ i: Int) -> SIMD4<Float> {
                SIMD4(du[(4 * i) * o * c + oc], du[(4 * i + 1) * o * c + oc], du[(4 * i + 2) * o * c + oc], du[(4 * i + 3) * o * c + oc])
            }
            let s0 = row(0), s1 = row(1), s2 = row(2), s3 = row(3)
            let q0 = s0 + 0.5 * (s1 + s2), q1 = 0.5 * (s1 - s2), q2 = 0.5 * (s1 + s2) + s3
            for (i, q) in [(0, q0), (1, q1), (2, q2)] {
                dw[oc * 9 + i * 3] = q[0] + 0.5 * (q[1] + q[2])
                dw[oc * 9 + i * 3 + 1] = 0.5 * (q[1] - q[2])
                dw[oc * 9 + i * 3 + 2] = 0.5 * (q[1] + q[2]) + q[3]
            }
        }
        return dw
    }
}
