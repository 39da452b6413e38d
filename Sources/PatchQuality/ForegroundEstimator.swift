import Imaging

/// Foreground estimation for images without ground truth (METHODS 2: "a configurable foreground
/// estimator"). Returns per-pixel coverage in [0, 1], row-major width x height.
public enum ForegroundEstimator: String, Sendable, CaseIterable {
    /// Every pixel is foreground (no masking).
    case none
    /// Pixels whose RGB distance to the median border colour exceeds `threshold` (in 0...255 units)
    /// are foreground. Suits the references' clean, plain backgrounds (PatchDPO 4.1).
    case border

    public func coverage(_ image: Image, threshold: Float = 40) -> [Float] {
        let n = image.width * image.height
        switch self {
        case .none:
            return [Float](repeating: 1, count: n)
        case .border:
            let im = image.converted(toChannels: 3)
            let w = im.width, h = im.height
            var border: [[UInt8]] = []
            for x in 0..<w { border.append(im.pixel(x: x, y: 0)); border.append(im.pixel(x: x, y: h - 1)) }
            for y in 1..<max(1, h - 1) { border.append(im.pixel(x: 0, y: y)); border.append(im.pixel(x: w - 1, y: y)) }
            let median = (0..<3).map { c -> Float in
                let v = border.map { $0[c] }.sorted()
                return Float(v[v.count / 2])
            }
            var out = [Float](repeating: 0, count: n)
            for i in 0..<n {
                var d2: Float = 0
                for c in 0..<3 { let d = Float(im.pixels[i * 3 + c]) - median[c]; d2 += d * d }
                out[i] = d2.squareRoot() > threshold ? 1 : 0
            }
            return out
        }
    }
}
