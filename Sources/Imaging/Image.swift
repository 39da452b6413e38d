/// An 8-bit image, interleaved HWC, row-major: the sample of channel `c` at (row `y`,
/// column `x`) is `pixels[(y * width + x) * channels + c]`.
/// Channels: 1 = gray, 3 = RGB, 4 = RGBA. This is the on-disk form (PNG, JPEG, PPM); models use
/// the Float CHW form of `FloatConversion.swift`.
public struct Image: Sendable, Equatable {
    /// The most pixels a decoded file may have: 4096 x 4096 = 16,777,216 (any aspect ratio), i.e. at most
    /// 64 MiB of RGBA. `PNG.decode`, `JPEG.decode` and `PPM.decode` check a header's size against it before allocating
    /// anything, so a ~100-byte file that claims 32768 x 32768 cannot make them allocate 4 GiB
    /// (`ImagingError.tooLarge`). Downscale larger photos first.
    public static let maxPixels = 4096 * 4096

    public let width: Int
    public let height: Int
    public let channels: Int
    public var pixels: [UInt8]

    /// Wraps a buffer; throws when its size is not width*height*channels.
    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) throws {
        guard [1, 3, 4].contains(channels) else {
            throw ImagingError.unsupportedChannels(what: "Image(width: \(width), height: \(height))", channels: channels)
        }
        guard width > 0, height > 0, pixels.count == width * height * channels else {
            throw ImagingError.shapeMismatch(what: "Image \(width)x\(height)x\(channels)",
                                             expected: max(0, width * height * channels), got: pixels.count)
        }
        self.width = width; self.height = height; self.channels = channels; self.pixels = pixels
    }

    /// A constant image (every pixel `fill`; `fill.count` gives the channels).
    public init(width: Int, height: Int, fill: [UInt8]) {
        precondition(width > 0 && height > 0 && [1, 3, 4].contains(fill.count),
                     "Image(width: \(width), height: \(height), fill: \(fill))")
        self.width = width; self.height = height; self.channels = fill.count
        var p = [UInt8](); p.reserveCapacity(width * height * fill.count)
        for _ in 0..<(width * height) { p.append(contentsOf: fill) }
        self.pixels = p
    }

    /// Index of the first channel of pixel (x, y).
    @inline(__always) public func offset(x: Int, y: Int) -> Int { (y * width + x) * channels }

    /// The channels of pixel (x, y).
    public func pixel(x: Int, y: Int) -> [UInt8] {
        let o = offset(x: x, y: y)
        return Array(pixels[o..<(o + channels)])
    }

    /// Writes pixel (x, y); `value.count` must equal `channels`.
    public mutating func setPixel(x: Int, y: Int, _ value: [UInt8]) {
        precondition(value.count == channels, "setPixel: \(value.count) values for \(channels) channels")
        let o = offset(x: x, y: y)
        for c in 0..<channels { pixels[o + c] = value[c] }
    }

    /// The same image with `channels` channels: gray <-> RGB by replication / Rec. 601 luma,
    /// alpha dropped (composited over nothing) or added as 255.
    public func converted(toChannels target: Int) -> Image {
        precondition([1, 3, 4].contains(target), "converted(toChannels: \(target))")
        if target == channels { return self }
        var out = [UInt8](repeating: 255, count: width * height * target)
        for i in 0..<(width * height) {
            let s = i * channels, d = i * target
            let r: UInt8, g: UInt8, b: UInt8
            if channels == 1 { r = pixels[s]; g = r; b = r } else { r = pixels[s]; g = pixels[s + 1]; b = pixels[s + 2] }
            if target == 1 {
                let y = 0.299 * Float(r) + 0.587 * Float(g) + 0.114 * Float(b)
                out[d] = UInt8(min(255, max(0, y.rounded())))
            } else {
                out[d] = r; out[d + 1] = g; out[d + 2] = b
                if target == 4 && channels == 4 { out[d + 3] = pixels[s + 3] }
            }
        }
        return Image(unchecked: width, height, target, out)
    }

    /// For buffers the caller built itself (programmer contract, not input): a size
    /// mismatch is a precondition failure that prints the shape.
    public init(unchecked width: Int, _ height: Int, _ channels: Int, _ pixels: [UInt8]) {
        precondition(pixels.count == width * height * channels,
                     "Image \(width)x\(height)x\(channels) with \(pixels.count) bytes")
        self.width = width; self.height = height; self.channels = channels; self.pixels = pixels
    }
}
