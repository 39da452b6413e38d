/// Spatial resampling of NCHW tensors: nearest upsample, average pool, bilinear resize; each with
/// its backward. Parallel over the N*C planes (each plane written by one chunk).
extension Kernels {
    @inline(__always)
    static func planes(_ shape: [Int], _ name: String) -> (planes: Int, h: Int, w: Int) {
        precondition(shape.count == 4, "\(name): expected [N, C, H, W], got \(shape)")
        return (shape[0] * shape[1], shape[2], shape[3])
    }

    /// Runs `body(plane, src, dst)` for each plane of `src` (`srcPlane` elements) into a fresh
    /// tensor of `outShape` (`dstPlane` elements per plane).
    @inline(__always)
    static func perPlane(_ src: Tensor, outShape: [Int], srcPlane: Int, dstPlane: Int,
                         _ body: (UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void) -> Tensor {
        var out = [Float](repeating: 0, count: outShape.reduce(1, *))
        if out.isEmpty || src.count == 0 { return Tensor(shape: outShape, scalars: out) }
        src.scalars.withUnsafeBufferPointer { ps in
            out.withUnsafeMutableBufferPointer { po in
                let ps = ps.baseAddress!, po = UnsafeSendable(po.baseAddress!)
                let planes = src.count / srcPlane
                Threads.parallelFor(planes, chunk: Swift.max(1, elementChunk / Swift.max(srcPlane, dstPlane))) { r in
                    for p in r { body(ps + p * srcPlane, po.value + p * dstPlane) }
                }
            }
        }
        return Tensor(shape: outShape, scalars: out)
    }

    /// `y[n, c, y, x] = x[n, c, y / f, x / f]`: `[N, C, H, W] -> [N, C, H f, W f]`.
    public static func upsampleNearest(_ x: Tensor, factor f: Int) -> Tensor {
        let (_, h, w) = planes(x.shape, "upsampleNearest")
        precondition(f >= 1, "upsampleNearest: factor \(f) must be >= 1")
        let ow = w * f
        return perPlane(x, outShape: [x.shape[0], x.shape[1], h * f, ow], srcPlane: h * w, dstPlane: h * f * ow) { s, d in
            for oy in 0..<h * f {
                let srow = s + (oy / f) * w, drow = d + oy * ow
                for ox in 0..<ow { drow[ox] = srow[ox / f] }
            }
        }
    }

    /// Backward of `upsampleNearest`: each input pixel gets the sum of its `f x f` block.
    public static func upsampleNearestBackward(_ grad: Tensor, factor f: Int) -> Tensor {
        let (_, gh, gw) = planes(grad.shape, "upsampleNearestBackward")
        precondition(f >= 1 && gh % f == 0 && gw % f == 0, "upsampleNearestBackward: grad \(grad.shape) not a multiple of factor \(f)")
        let h = gh / f, w = gw / f
        return perPlane(grad, outShape: [grad.shape[0], grad.shape[1], h, w], srcPlane: gh * gw, dstPlane: h * w) { s, d in
            for oy in 0..<gh { for ox in 0..<gw { d[(oy / f) * w + ox / f] += s[oy * gw + ox] } }
        }
    }

    /// Average pool with kernel = stride = `k` (no padding): `[N, C, H, W] -> [N, C, H/k, W/k]`.
    public static func avgPool2d(_ x: Tensor, kernel k: Int) -> Tensor {
        let (_, h, w) = planes(x.shape, "avgPool2d")
        precondition(k >= 1 && h % k == 0 && w % k == 0, "avgPool2d: kernel \(k) must divide H, W of \(x.shape)")
        let oh = h / k, ow = w / k, inv = 1 / Float(k * k)
        return perPlane(x, outShape: [x.shape[0], x.shape[1], oh, ow], srcPlane: h * w, dstPlane: oh * ow) { s, d in
            for y in 0..<h { for xx in 0..<w { d[(y / k) * ow + xx / k] += s[y * w + xx] } }
            for i in 0..<oh * ow { d[i] *= inv }
        }
    }

    /// Backward of `avgPool2d`: `grad / k^2` spread over each block.
    public static func avgPool2dBackward(_ grad: Tensor, kernel k: Int) -> Tensor {
        let (_, oh, ow) = planes(grad.shape, "avgPool2dBackward")
        let h = oh * k, w = ow * k, inv = 1 / Float(k * k)
        return perPlane(grad, outShape: [grad.shape[0], grad.shape[1], h, w], srcPlane: oh * ow, dstPlane: h * w) { s, d in
            for y in 0..<h { for xx in 0..<w { d[y * w + xx] = s[(y / k) * ow + xx / k] * inv } }
        }
    }

    /// PyTorch source index for bilinear, align_corners=false: `max(0, (dst + 0.5) * in/out - 0.5)`,
    /// returning the lower index, the upper index (clamped) and the upper weight.
    @inline(__always)
    static func bilinearTap(_ dst: Int, inSize: Int, outSize: Int) -> (Int, Int, Float) {
        let scale = Float(inSize) / Float(outSize)
        let src = Swift.max(0, (Float(dst) + 0.5) * scale - 0.5)
        let i0 = Swift.min(Int(src), inSize - 1)
        let i1 = Swift.min(i0 + 1, inSize - 1)
        return (i0, i1, src - Float(i0))
    }

    /// Bilinear resize `[N, C, H, W] -> [N, C, outH, outW]` with PyTorch semantics
    /// (`F.interpolate(size=(outH, outW), mode="bilinear", align_corners=False, antialias=False)`).
    /// The source scale is `in / out`; PyTorch called with `scale_factor=s` uses `1 / s` instead,
    /// which differs only when `in * s` is not an integer.
    public static func resizeBilinear(_ x: Tensor, height oh: Int, width ow: Int) -> Tensor {
        let (_, h, w) = planes(x.shape, "resizeBilinear")
        precondition(oh >= 1 && ow >= 1 && h >= 1 && w >= 1, "resizeBilinear: \(x.shape) to \(oh)x\(ow)")
        let ty = (0..<oh).map { bilinearTap($0, inSize: h, outSize: oh) }
        let tx = (0..<ow).map { bilinearTap($0, inSize: w, outSize: ow) }
        return perPlane(x, outShape: [x.shape[0], x.shape[1], oh, ow], srcPlane: h * w, dstPlane: oh * ow) { s, d in
            for oy in 0..<oh {
                let (y0, y1, ly) = ty[oy]
                for ox in 0..<ow {
                    let (x0, x1, lx) = tx[ox]
                    let top = (1 - lx) * s[y0 * w + x0] + lx * s[y0 * w + x1]
                    let bot = (1 - lx) * s[y1 * w + x0] + lx * s[y1 * w + x1]
                    d[oy * ow + ox] = (1 - ly) * top + ly * bot
                }
            }
        }
    }

    /// Backward of `resizeBilinear`: each output gradient scattered to its four taps.
    public static func resizeBilinearBackward(_ grad: Tensor, inputShape: [Int]) -> Tensor {
        let (_, oh, ow) = planes(grad.shape, "resizeBilinearBackward")
        let (_, h, w) = planes(inputShape, "resizeBilinearBackward")
        precondition(grad.shape[0] == inputShape[0] && grad.shape[1] == inputShape[1],
                     "resizeBilinearBackward: grad \(grad.shape) vs input \(inputShape)")
        let ty = (0..<oh).map { bilinearTap($0, inSize: h, outSize: oh) }
        let tx = (0..<ow).map { bilinearTap($0, inSize: w, outSize: ow) }
        return perPlane(grad, outShape: inputShape, srcPlane: oh * ow, dstPlane: h * w) { s, d in
            for oy in 0..<oh {
                let (y0, y1, ly) = ty[oy]
                for ox in 0..<ow {
                    let (x0, x1, lx) = tx[ox]
                    let g = s[oy * ow + ox]
                    d[y0 * w + x0] += (1 - ly) * (1 - lx) * g
                    d[y0 * w + x1] += (1 - ly) * lx * g
                    d[y1 * w + x0] += ly * (1 - lx) * g
                    d[y1 * w + x1] += ly * lx * g
                }
            }
        }
    }
}
