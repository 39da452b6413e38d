/// Conversions between 8-bit HWC images and Float32 CHW planes in [-1, 1], the layout
/// models use: `chw[c * H * W + y * W + x] = pixel[y, x, c] / 127.5 - 1`.
/// The inverse is `round((v + 1) * 127.5)` clamped to [0, 255], so 8-bit values round-trip.
extension Image {
    /// Float32 CHW in [-1, 1]; count = channels * height * width.
    public func toCHW() -> [Float] {
        let hw = width * height
        var out = [Float](repeating: 0, count: hw * channels)
        for i in 0..<hw {
            for c in 0..<channels {
                out[c * hw + i] = Float(pixels[i * channels + c]) / 127.5 - 1
            }
        }
        return out
    }

    /// Builds an image from Float32 CHW in [-1, 1] (values outside are clamped).
    public init(chw: [Float], width: Int, height: Int, channels: Int) throws {
        guard [1, 3, 4].contains(channels) else {
            throw ImagingError.unsupportedChannels(what: "Image(chw:)", channels: channels)
        }
        let hw = width * height
        guard width > 0, height > 0, chw.count == hw * channels else {
            throw ImagingError.shapeMismatch(what: "CHW buffer \(channels)x\(height)x\(width)",
                                             expected: max(0, hw * channels), got: chw.count)
        }
        var px = [UInt8](repeating: 0, count: hw * channels)
        for c in 0..<channels {
            for i in 0..<hw {
                let v = chw[c * hw + i]
                let s = v.isNaN ? 127.5 : ((v + 1) * 127.5).rounded()
                px[i * channels + c] = UInt8(min(255, max(0, s)))
            }
        }
        self.init(unchecked: width, height, channels, px)
    }
}
