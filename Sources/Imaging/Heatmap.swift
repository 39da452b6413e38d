/// Heatmap overlays: a quality map q in [0, 1] (any grid size, e.g. 8x8 patches) drawn over
/// an image with a colour map. The map is upsampled by nearest neighbour (patch borders stay
/// visible) and blended: out = (1 - alpha) * image + alpha * colormap(q).
public enum ColorMap: Sendable {
    /// Dark red (q = 0, bad) -> yellow -> green (q = 1, good).
    case redYellowGreen
    /// Perceptual blue -> green -> yellow (viridis approximation).
    case viridis

    /// RGB for q in [0, 1] (clamped; NaN draws as magenta so it is never silently "good").
    public func color(_ q: Float) -> [UInt8] {
        if q.isNaN { return [255, 0, 255] }
        let t = min(1, max(0, q))
        let stops: [(Float, Float, Float)]
        switch self {
        case .redYellowGreen: stops = [(165, 0, 38), (244, 109, 67), (254, 224, 139), (166, 217, 106), (26, 152, 80)]
        case .viridis: stops = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)]
        }
        let f = t * Float(stops.count - 1)
        let i = min(stops.count - 2, Int(f)), w = f - Float(i)
        let a = stops[i], b = stops[i + 1]
        func mix(_ x: Float, _ y: Float) -> UInt8 { UInt8(min(255, max(0, (x * (1 - w) + y * w).rounded()))) }
        return [mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2)]
    }
}

extension Image {
    /// Blends a `mapWidth` x `mapHeight` quality map (row-major, values in [0, 1]) over this
    /// image. Throws when the map size does not match its declared shape.
    public func heatmapOverlay(quality: [Float], mapWidth: Int, mapHeight: Int,
                               colorMap: ColorMap = .redYellowGreen, alpha: Float = 0.5) throws -> Image {
        guard mapWidth > 0, mapHeight > 0, quality.count == mapWidth * mapHeight else {
            throw ImagingError.shapeMismatch(what: "quality map \(mapWidth)x\(mapHeight)",
                                             expected: max(0, mapWidth * mapHeight), got: quality.count)
        }
        let base = converted(toChannels: 3)
        var out = base.pixels
        let a = min(1, max(0, alpha))
        for y in 0..<height {
            let my = min(mapHeight - 1, y * mapHeight / height)
            for x in 0..<width {
                let mx = min(mapWidth - 1, x * mapWidth / width)
                let col = colorMap.color(quality[my * mapWidth + mx])
                let o = (y * width + x) * 3
                for c in 0..<3 {
                    out[o + c] = UInt8(min(255, max(0, (Float(out[o + c]) * (1 - a) + Float(col[c]) * a).rounded())))
                }
            }
        }
        return Image(unchecked: width, height, 3, out)
    }

    /// The quality map alone as an RGB image of this image's size (for side-by-side sheets).
    public static func heatmap(quality: [Float], mapWidth: Int, mapHeight: Int, width: Int, height: Int,
                               colorMap: ColorMap = .redYellowGreen) throws -> Image {
        let blank = Image(width: width, height: height, fill: [0, 0, 0])
        return try blank.heatmapOverlay(quality: quality, mapWidth: mapWidth, mapHeight: mapHeight,
                                        colorMap: colorMap, alpha: 1)
    }
}
