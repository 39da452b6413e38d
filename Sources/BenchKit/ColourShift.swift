import Foundation
import Imaging
import Report

/// HSV statistics (METHODS 8, HG-DPO's colour-shift check).
/// Per pixel (r, g, b in 0...1): V = max, S = (max - min) / max (0 when max = 0),
/// H = 60 * ((g - b)/d mod 6 | (b - r)/d + 2 | (r - g)/d + 4) for max = r | g | b, d = max - min
/// (0 when d = 0), in degrees 0..<360. An image's value is the mean over its pixels.
public enum HSV {
    /// (hue degrees, saturation, value) of one 8-bit RGB(A) pixel.
    public static func pixel(_ r8: UInt8, _ g8: UInt8, _ b8: UInt8) -> (h: Double, s: Double, v: Double) {
        let r = Double(r8) / 255, g = Double(g8) / 255, b = Double(b8) / 255
        let mx = max(r, g, b), mn = min(r, g, b), d = mx - mn
        var h = 0.0
        if d > 0 {
            if mx == r { h = 60 * ((g - b) / d).truncatingRemainder(dividingBy: 6) }
            else if mx == g { h = 60 * ((b - r) / d + 2) }
            else { h = 60 * ((r - g) / d + 4) }
            if h < 0 { h += 360 }
        }
        return (h, mx > 0 ? d / mx : 0, mx)
    }

    /// Mean [hue, saturation, value] over the image's pixels.
    public static func mean(_ image: Image) -> [Double] {
        precondition(image.channels >= 3, "HSV.mean: \(image.channels) channels; want RGB")
        var h = 0.0, s = 0.0, v = 0.0
        let n = image.width * image.height, c = image.channels
        for i in 0..<n {
            let p = HSV.pixel(image.pixels[i * c], image.pixels[i * c + 1], image.pixels[i * c + 2])
            h += p.h; s += p.s; v += p.v
        }
        let d = Double(max(n, 1))
        return [h / d, s / d, v / d]
    }

    /// Colour shift of a model against the baseline: 100 * (mean_model - mean_baseline) / mean_baseline
    /// per channel, means over all images (0 when the baseline mean is 0).
    public static func shift(model: String, modelHSV: [[Double]], baseline: String, baselineHSV: [[Double]]) -> ColourShift {
        func avg(_ xs: [[Double]], _ i: Int) -> Double { xs.isEmpty ? 0 : xs.map { $0[i] }.reduce(0, +) / Double(xs.count) }
        func pct(_ i: Int) -> Double {
            let b = avg(baselineHSV, i)
            return b == 0 ? 0 : 100 * (avg(modelHSV, i) - b) / b
        }
        return ColourShift(model: model, baseline: baseline, huePct: pct(0), saturationPct: pct(1), valuePct: pct(2),
                           images: modelHSV.count)
    }
}
