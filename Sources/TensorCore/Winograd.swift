/// 3x3 convolutions with stride 1 and padding 1 by Winograd F(2x2, 3x3) (Lavin & Gray 2016).
///
/// Each 2x2 output tile comes from a 4x4 input tile `d`:  `Y = A^T [ (G w G^T) ⊙ (B^T d B) ] A`, with
///   `B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]`, `G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1]`,
///   `A^T = [1 1 1 0; 0 1 -1 -1]`.
/// Summed over input channels this is, for each of the 16 tile positions ξ, one GEMM
/// `M_ξ [O, T] = U_ξ [O, C] · V_ξ [C, T]` (U = transformed weights, V = transformed input tiles,
/// T = tiles): 16 O C T multiply-adds against im2col's 36 O C T (9 C rows for 4 T pixels), 2.25x
/// fewer. The gradients are the transposed computation (WinogradBackward.swift): `dM = A dY A^T` per
/// tile, then `dU_ξ = dM_ξ V_ξ^T` (`dW = G^T dU G`) and `dV_ξ = U_ξ^T dM_ξ` (dx: `B dV B^T` per tile,
/// overlapping tiles added).
///
/// Accuracy: the transforms add and halve, so results differ from im2col by rounding only
/// (relative ~1e-6 here; F(2x2) is the most accurate Winograd variant).
/// Threads: image groups (at least `convParallelGroups` when the batch allows, about
/// `winogradTileTarget` tiles each) run on their own thread with their own buffers and one
/// single-threaded sgemm per ξ; the weight gradient adds per-group partials in group order. All of
/// it is fixed by the shape, so the bits do not depend on the thread count.
extension Kernels {
    /// Tiles per group that the image grouping aims for (the GEMMs' width).
    static let winogradTileTarget = 256

    /// Output width from which Winograd is used: a tile row then fills at least one SIMD4 of the
    /// transforms. With scalar transforms only, the U-Net's 8x8 convs measured slower than im2col
    /// (forward 26 -> 32 ms, backward 60 -> 66 ms per step, loaded machine); 16x16 and 32x32
    /// measured faster (forward 52 -> 40 and 63 -> 53 ms).
    static let winogradMinWidth = 7

    /// Whether `conv2d` / `conv2dBackwardWeight` use Winograd for this geometry.
    static func usesWinograd(_ g: ConvGeometry) -> Bool {
        g.kernelH == 3 && g.kernelW == 3 && g.strideH == 1 && g.strideW == 1 && g.padH == 1 && g.padW == 1
            && g.outW >= winogradMinWidth
    }

    /// Tiles per image (`th` x `tw`, the last row/column cut off for odd sizes) and images per group.
    struct WinogradPlan {
        var th, tw, group, groups: Int
        var tilesPerImage: Int { th * tw }
        init(_ g: ConvGeometry, batch: Int) {
            th = (g.outH + 1) / 2; tw = (g.outW + 1) / 2
            let wide = Swift.max(1, Swift.min(batch, winogradTileTarget / Swift.max(1, th * tw)))
            group = Swift.min(wide, Swift.max(1, batch / convParallelGroups))
            groups = (batch + group - 1) / group
        }
    }

    /// Runs `body` once per image group of `plan` (images `start ..< start + count`, `t` tiles), the
    /// groups spread over the worker threads. Each thread owns its scratch: `v` the transformed
    /// input tiles [16, channels, t], `m` the tile products [16, outputs, t] (forward) or their
    /// gradients (weight gradient), and `plane` one padded plane of the transforms.
    static func forEachWinogradGroup(_ plan: WinogradPlan, channels c: Int, outputs o: Int, batch n: Int,
                                     _ body: (_ v: UnsafeMutablePointer<Float>, _ m: UnsafeMutablePointer<Float>,
                                              _ plane: UnsafeMutablePointer<Float>, _ group: Int, _ start: Int,
                                              _ count: Int, _ tiles: Int) -> Void) {
        Threads.parallelFor(plan.groups, chunk: 1) { gs in
            let tg = plan.group * plan.tilesPerImage
            let v = UnsafeMutablePointer<Float>.allocate(capacity: 16 * c * tg)
            let m = UnsafeMutablePointer<Float>.allocate(capacity: 16 * o * tg)
            let plane = UnsafeMutablePointer<Float>.allocate(capacity: winogradPlaneCount(plan))
            defer { v.deallocate(); m.deallocate(); plane.deallocate() }
            for gi in gs {
                let start = gi * plan.group, count = Swift.min(plan.group, n - start)
                body(v, m, plane, gi, start, count, count * plan.tilesPerImage)
            }
        }
    }

    /// `y = conv2d(x, weight, padding 1) + bias` for 3x3 kernels; same contract as `conv2d`.
    static func conv2dWinograd(_ x: Tensor, weight: Tensor, bias: Tensor?, _ g: ConvGeometry) -> Tensor {
        let n = x.shape[0], o = weight.shape[0], c = g.channels
        let plan = WinogradPlan(g, batch: n), imageSize = c * g.height * g.width, outSize = o * g.outH * g.outW
        let u = winogradWeights(weight)
        var out = uninitializedStorage(n * outSize)   // every tile writes its in-range pixels
        x.scalars.withUnsafeBufferPointer { px in u.withUnsafeBufferPointer { pu in out.withUnsafeMutableBufferPointer { po in
            let px = px.baseAddress!, pu = pu.baseAddress!, po = UnsafeSendable(po.baseAddress!)
            let bias = bias?.scalars
            forEachWinogradGroup(plan, channels: c, outputs: o, batch: n) { v, m, plane, gi, start, count, t in
                for i in 0..<count {
                    winogradInput(px + (start + i) * imageSize, g, plan, v: v, ld: t, tile0: i * plan.tilesPerImage, plane: plane)
                }
                for xi in 0..<16 {
                    sgemmOnThisThread(transA: false, transB: false, m: o, n: t, k: c, a: pu + xi * o * c, lda: c,
                                      b: v + xi * c * t, ldb: t, c: m + xi * o * t, ldc: t)
                }
                for i in 0..<count {
                    winogradOutput(m + i * plan.tilesPerImage, ld: t, outputs: o, g, plan, bias: bias,
                                   image: po.value + (start + i) * outSize, plane: plane)
                }
            }
        } } }
        return Tensor(shape: [n, o, g.outH, g.outW], scalars: out)
    }

    /// `U_ξ [O, C] = (G w[o, c] G^T)_ξ`, stored `[16, O, C]`.
    static func winogradWeights(_ w: Tensor) -> [Float] {
        let o = w.shape[0], c = w.shape[1]
        var u = [Float](repeating: 0, count: 16 * o * c)
        for oc in 0..<(o * c) {
            // Rows of the kernel as SIMD4 (last lane unused); G k, then each row of it times G^T.
            func row(_ i: Int) -> SIMD4<Float> {
                SIMD4(w.scalars[oc * 9 + 3 * i], w.scalars[oc * 9 + 3 * i + 1], w.scalars[oc * 9 + 3 * i + 2], 0)
            }
            let k0 = row(0), k1 = row(1), k2 = row(2)
            for (i, t) in [(0, k0), (1, 0.5 * (k0 + k1 + k2)), (2, 0.5 * (k0 - k1 + k2)), (3, k2)] {
                let r0 = t[0], r1 = t[1], r2 = t[2]
                u[(4 * i) * o * c + oc] = r0
                u[(4 * i + 1) * o * c + oc] = 0.5 * (r0 + r1 + r2)
                u[(4 * i + 2) * o * c + oc] = 0.5 * (r0 - r1 + r2)
                u[(4 * i + 3) * o * c + oc] = r2
            }
        }
        return u
    }
}
