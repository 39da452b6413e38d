/// Binary PPM (P6, maxval 255) read/write: the HPatches on-disk format. Gray images are
/// written as RGB; comments (`# ...`) in the header are accepted on read. A header declaring more than
/// `Image.maxPixels` (4096 x 4096) pixels is `ImagingError.tooLarge`, before the pixels are copied.
public enum PPM {
    public static func decode(_ bytes: [UInt8], name: String = "<memory>") throws -> Image {
        var i = 0
        func fail(_ r: String) -> ImagingError { .badPPM(path: name, reason: r) }
        func skipSpaceAndComments() {
            while i < bytes.count {
                if bytes[i] == UInt8(ascii: "#") {
                    while i < bytes.count && bytes[i] != 10 { i += 1 }
                } else if [9, 10, 13, 32].contains(bytes[i]) { i += 1 } else { break }
            }
        }
        func number(_ what: String) throws -> Int {
            skipSpaceAndComments()
            var v = 0, digits = 0
            while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 {
                v = v * 10 + Int(bytes[i] - 48); i += 1; digits += 1
                if v > 1 << 20 { throw fail("\(what) too large") }
            }
            guard digits > 0 else { throw fail("missing \(what) in header") }
            return v
        }
        guard bytes.count >= 2, bytes[0] == UInt8(ascii: "P"), bytes[1] == UInt8(ascii: "6") else {
            throw fail("magic is not P6")
        }
        i = 2
        let w = try number("width"), h = try number("height"), maxval = try number("maxval")
        guard w > 0, h > 0 else { throw fail("size \(w)x\(h)") }
        guard w * h <= Image.maxPixels else {     // sides <= 2^20: the product fits in Int
            throw ImagingError.tooLarge(path: name, width: w, height: h, limit: Image.maxPixels)
        }
        guard maxval == 255 else { throw fail("maxval \(maxval) (only 255 is supported)") }
        guard i < bytes.count, [9, 10, 13, 32].contains(bytes[i]) else { throw fail("no whitespace after header") }
        i += 1
        let n = w * h * 3
        guard bytes.count - i >= n else { throw fail("truncated: \(bytes.count - i) of \(n) pixel bytes") }
        return Image(unchecked: w, h, 3, Array(bytes[i..<(i + n)]))
    }

    public static func encode(_ image: Image) -> [UInt8] {
        let rgb = image.converted(toChannels: 3)
        return Array("P6\n\(rgb.width) \(rgb.height)\n255\n".utf8) + rgb.pixels
    }

    public static func read(_ path: String) throws -> Image { try decode(AtomicFile.read(path), name: path) }

    /// Writes atomically (temp file, fsync, rename).
    public static func write(_ image: Image, to path: String) throws {
        try AtomicFile.write(encode(image), to: path)
    }
}
