extension Image {
    /// Foreground of an image on a plain backdrop: 1 where a pixel's RGB distance to the median colour of the
    /// image's border exceeds `threshold` (0...255 units), else 0; row-major width x height. Suits clean
    /// references (PatchDPO 4.1's white-background references, the world's canonical renders); textured
    /// scenes need a segmenter.
    public func borderForeground(threshold: Float = 40) -> [Float] {
        let im = converted(toChannels: 3)
        let w = im.width, h = im.height
        var border: [[UInt8]] = []
        for x in 0..<w { border.append(im.pixel(x: x, y: 0)); border.append(im.pixel(x: x, y: h - 1)) }
        for y in 1..<max(1, h - 1) { border.append(im.pixel(x: 0, y: y)); border.append(im.pixel(x: w - 1, y: y)) }
        let median = (0..<3).map { c -> Float in
            let v = border.map { $0[c] }.sorted()
            return Float(v[v.count / 2])
        }
        var out = [Float](repeating: 0, count: w * h)
        for i in 0..<(w * h) {
            var d2: Float = 0
            for c in 0..<3 { let d = Float(im.pixels[i * 3 + c]) - median[c]; d2 += d * d }
            out[i] = d2.squareRoot() > threshold ? 1 : 0
        }
        return out
    }
}
