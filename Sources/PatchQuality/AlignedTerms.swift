import Imaging

/// Image terms beside the aligned quality's feature similarity (beyond the paper), in the manner of SSIM's luminance,
/// contrast and structure: q_a (structure, `AlignedQuality.positional`) times how well each generated cell keeps the
/// expected cell's colours (`pixel`) and the square root of how much of its local contrast it keeps (`contrast`). A
/// blurred decal keeps features and colours at 32 px but loses its edges, which is what the contrast term sees: on the
/// defect benchmark (finetuned ViT, block 1, 256 samples) it lifts blur-decal from 0.74-0.79 to 0.86-0.88 and the
/// overall AUROC from 0.848-0.855 to 0.890-0.894 (docs/PATCHQUALITY.md, "Aligned quality with image terms").
extension AlignedQuality {
    /// Which terms multiply q_a (`aligned_terms`).
    public enum Terms: String, Sendable, CaseIterable {
        /// q_a alone.
        case features
        /// q_a x pixel x contrast^(1/2).
        case featuresPixelsContrast = "features+pixels+contrast"
    }

    /// The contrast term's floor (squared 8-bit luminance steps): cells flatter than this on both sides read about 1.
    public static let contrastFloor: Float = 400

    /// q_a with `terms` applied to the generated foreground cells (`foreground`, nil = every cell); background cells stay 1.
    /// `generated` and `expected` are the two images on `patch`-pixel cells (square, the same size).
    public static func withTerms(_ qa: [Float], generated: Image, expected: Image, patch: Int, foreground: [Bool]?, terms: Terms) -> [Float] {
        guard terms == .featuresPixelsContrast else { return qa }
        let pixel = pixelTerm(generated, expected, patch: patch), contrast = contrastTerm(generated, expected, patch: patch)
        precondition(pixel.count == qa.count, "AlignedQuality.withTerms: \(qa.count) qualities for \(pixel.count) cells")
        return (0..<qa.count).map { i in foreground.map { $0[i] } ?? true ? qa[i] * pixel[i] * contrast[i].squareRoot() : 1 }
    }

    /// Per cell, 1 - the mean absolute RGB difference / 255 between `a` and `b`, the least over shifts of `b` by up to
    /// `shift` px (edge pixels repeated).
    public static func pixelTerm(_ a: Image, _ b: Image, patch p: Int, shift: Int = 0) -> [Float] {
        let x = a.converted(toChannels: 3), y = b.converted(toChannels: 3), s = x.width, side = s / p
        precondition(x.height == s && y.width == s && y.height == s && s % p == 0, "AlignedQuality.pixelTerm: \(s)x\(x.height) vs \(y.width)x\(y.height), patch \(p)")
        var out = [Float](repeating: 0, count: side * side)
        for r in 0..<side {
            for c in 0..<side {
                var best = Float.infinity
                for dy in -shift...shift {
                    for dx in -shift...shift {
                        var d: Float = 0
                        for yy in (r * p)..<((r + 1) * p) {
                            for xx in (c * p)..<((c + 1) * p) {
                                let sy = min(s - 1, max(0, yy + dy)), sx = min(s - 1, max(0, xx + dx))
                                for ch in 0..<3 { d += abs(Float(x.pixels[(yy * s + xx) * 3 + ch]) - Float(y.pixels[(sy * s + sx) * 3 + ch])) }
                            }
                        }
                        best = min(best, d / Float(p * p * 3 * 255))
                    }
                }
                out[r * side + c] = 1 - best
            }
        }
        return out
    }

    /// Per cell, how much of `b`'s local contrast `a` keeps: min(1, (E_a + floor) / (E_b + floor)), E a cell's mean squared
    /// luminance step to its right and lower neighbours (8-bit scale; none past the image's edge).
    public static func contrastTerm(_ a: Image, _ b: Image, patch p: Int, floor: Float = contrastFloor) -> [Float] {
        zip(contrastEnergy(a, patch: p), contrastEnergy(b, patch: p)).map { min(1, ($0 + floor) / ($1 + floor)) }
    }

    /// Each cell's mean squared luminance step (Rec. 601 luminance).
    static func contrastEnergy(_ image: Image, patch p: Int) -> [Float] {
        let x = image.converted(toChannels: 3), s = x.width, side = s / p
        let lum: [Float] = (0..<(s * x.height)).map { i -> Float in
            let r = Float(x.pixels[i * 3]), g = Float(x.pixels[i * 3 + 1]), b = Float(x.pixels[i * 3 + 2])
            return 0.299 * r + 0.587 * g + 0.114 * b
        }
        var out = [Float](repeating: 0, count: side * side)
        for r in 0..<side {
            for c in 0..<side {
                var e: Float = 0
                for yy in (r * p)..<((r + 1) * p) {
                    for xx in (c * p)..<((c + 1) * p) {
                        let v = lum[yy * s + xx]
                        let gx: Float = xx + 1 < s ? lum[yy * s + xx + 1] - v : 0
                        let gy: Float = yy + 1 < x.height ? lum[(yy + 1) * s + xx] - v : 0
                        e += gx * gx + gy * gy
                    }
                }
                out[r * side + c] = e / Float(p * p)
            }
        }
        return out
    }
}
