/// Resampling: bilinear (pixel centres aligned, like `align_corners=False`), area
/// (box filter over the exact source footprint, for downscaling), nearest (for upscaling
/// pixel art and maps) and centre crop.
extension Image {
    /// Bilinear resize; source coordinate of output pixel x is `(x + 0.5) * sw / dw - 0.5`.
    public func resizedBilinear(width dw: Int, height dh: Int) -> Image {
        precondition(dw > 0 && dh > 0, "resizedBilinear to \(dw)x\(dh)")
        var out = [UInt8](repeating: 0, count: dw * dh * channels)
        let sx = Float(width) / Float(dw), sy = Float(height) / Float(dh)
        for y in 0..<dh {
            let fy = max(0, (Float(y) + 0.5) * sy - 0.5)
            let y0 = min(Int(fy), height - 1), y1 = min(y0 + 1, height - 1)
            let wy = fy - Float(y0)
            for x in 0..<dw {
                let fx = max(0, (Float(x) + 0.5) * sx - 0.5)
                let x0 = min(Int(fx), width - 1), x1 = min(x0 + 1, width - 1)
                let wx = fx - Float(x0)
                for c in 0..<channels {
                    let a = Float(pixels[offset(x: x0, y: y0) + c]), b = Float(pixels[offset(x: x1, y: y0) + c])
                    let d = Float(pixels[offset(x: x0, y: y1) + c]), e = Float(pixels[offset(x: x1, y: y1) + c])
                    let v = (a * (1 - wx) + b * wx) * (1 - wy) + (d * (1 - wx) + e * wx) * wy
                    out[(y * dw + x) * channels + c] = UInt8(min(255, max(0, v.rounded())))
                }
            }
        }
        return Image(unchecked: dw, dh, channels, out)
    }

    /// Area (box) resize: each output pixel is the coverage-weighted mean of the source
    /// pixels under its footprint. Exact for integer factors; use it to downscale.
    public func resizedArea(width dw: Int, height dh: Int) -> Image {
        precondition(dw > 0 && dh > 0, "resizedArea to \(dw)x\(dh)")
        let sx = Double(width) / Double(dw), sy = Double(height) / Double(dh)
        var out = [UInt8](repeating: 0, count: dw * dh * channels)
        var acc = [Double](repeating: 0, count: channels)
        for y in 0..<dh {
            let ya = Double(y) * sy, yb = Double(y + 1) * sy
            for x in 0..<dw {
                let xa = Double(x) * sx, xb = Double(x + 1) * sx
                for c in 0..<channels { acc[c] = 0 }
                var total = 0.0
                var iy = Int(ya)
                while Double(iy) < yb && iy < height {
                    let wy = min(yb, Double(iy + 1)) - max(ya, Double(iy))
                    var ix = Int(xa)
                    while Double(ix) < xb && ix < width {
                        let w = wy * (min(xb, Double(ix + 1)) - max(xa, Double(ix)))
                        if w > 0 {
                            let o = offset(x: ix, y: iy)
                            for c in 0..<channels { acc[c] += w * Double(pixels[o + c]) }
                            total += w
                        }
                        ix += 1
                    }
                    iy += 1
                }
                for c in 0..<channels {
                    out[(y * dw + x) * channels + c] = UInt8(min(255, max(0, (acc[c] / total).rounded())))
                }
            }
        }
        return Image(unchecked: dw, dh, channels, out)
    }

    /// Nearest-neighbour resize (for upscaling maps and pixel art without blur).
    public func resizedNearest(width dw: Int, height dh: Int) -> Image {
        precondition(dw > 0 && dh > 0, "resizedNearest to \(dw)x\(dh)")
        var out = [UInt8](repeating: 0, count: dw * dh * channels)
        for y in 0..<dh {
            let sy = min(height - 1, y * height / dh)
            for x in 0..<dw {
                let so = offset(x: min(width - 1, x * width / dw), y: sy), d = (y * dw + x) * channels
                for c in 0..<channels { out[d + c] = pixels[so + c] }
            }
        }
        return Image(unchecked: dw, dh, channels, out)
    }

    /// The sub-image of size (w, h) whose top-left corner is (x, y).
    public func cropped(x: Int, y: Int, width w: Int, height h: Int) -> Image {
        precondition(x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= width && y + h <= height,
                     "crop (\(x),\(y)) \(w)x\(h) outside \(width)x\(height)")
        var out = [UInt8](); out.reserveCapacity(w * h * channels)
        for row in y..<(y + h) {
            let o = offset(x: x, y: row)
            out.append(contentsOf: pixels[o..<(o + w * channels)])
        }
        return Image(unchecked: w, h, channels, out)
    }

    /// Centre crop to (w, h) (offsets rounded down).
    public func centerCropped(width w: Int, height h: Int) -> Image {
        cropped(x: (width - w) / 2, y: (height - h) / 2, width: w, height: h)
    }

    /// Centre-crops to a square, then area-resizes (or bilinear upsizes) to `size` x `size`:
    /// how data-set images are brought to model resolution.
    public func squareResized(to size: Int) -> Image {
        let s = min(width, height)
        let sq = centerCropped(width: s, height: s)
        if s == size { return sq }
        return s > size ? sq.resizedArea(width: size, height: size) : sq.resizedBilinear(width: size, height: size)
    }
}
