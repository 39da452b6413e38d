import CPNG

/// PNG read/write through libpng's simplified `png_image` API. Writes 8-bit gray, RGB or RGBA.
/// Reads every PNG colour type as 8-bit RGB, or RGBA when the file has alpha: gray is replicated into
/// R = G = B, palette entries are expanded (a `tRNS` chunk gives alpha), gray+alpha becomes RGBA, 16-bit
/// samples are reduced to 8 bits; the stages and the sampler take references as RGB, so a gray or
/// palette reference works like any other.
/// Errors never crash: libpng's simplified API catches its own longjmp, and its message is
/// returned in `ImagingError.corruptPNG` with the file name.
public enum PNG {
    // Format flags from png.h (composite macros do not import into Swift).
    static let flagAlpha: UInt32 = 0x01
    static let flagColor: UInt32 = 0x02

    /// Decodes PNG bytes; `name` is used only in error messages. The header is read first: a size beyond
    /// `Image.maxPixels` (4096 x 4096 pixels) is `ImagingError.tooLarge`, thrown before any pixel buffer is allocated.
    public static func decode(_ bytes: [UInt8], name: String = "<memory>") throws -> Image {
        if ImageFile.format(of: bytes) == .jpeg {
            throw ImagingError.unsupportedFormat(path: name, format: "JPEG",
                hint: "This reads PNG only; read references with `ImageFile.read` / `ImageFile.decode`, which decode JPEG too.")
        }
        var img = png_image()
        img.version = UInt32(PNG_IMAGE_VERSION)
        return try bytes.withUnsafeBytes { raw -> Image in
            guard png_image_begin_read_from_memory(&img, raw.baseAddress, raw.count) != 0 else {
                throw ImagingError.corruptPNG(path: name, reason: message(&img))
            }
            // Asking for RGB(A) makes libpng convert gray and palette files (png_image's equivalent of
            // png_set_gray_to_rgb / png_set_palette_to_rgb / png_set_expand).
            let channels = img.format & flagAlpha != 0 ? 4 : 3
            img.format = channels == 4 ? flagColor | flagAlpha : flagColor
            let w = Int(img.width), h = Int(img.height)
            guard w > 0, h > 0 else {
                png_image_free(&img)
                throw ImagingError.corruptPNG(path: name, reason: "implausible size \(w)x\(h)")
            }
            guard w * h <= Image.maxPixels else {     // UInt32 sides: the product fits in Int
                png_image_free(&img)
                throw ImagingError.tooLarge(path: name, width: w, height: h, limit: Image.maxPixels)
            }
            var pixels = [UInt8](repeating: 0, count: w * h * channels)
            let ok = pixels.withUnsafeMutableBytes { out in
                png_image_finish_read(&img, nil, out.baseAddress, Int32(w * channels), nil)
            }
            guard ok != 0 else { throw ImagingError.corruptPNG(path: name, reason: message(&img)) }
            return Image(unchecked: w, h, channels, pixels)
        }
    }

    /// Encodes an image as PNG bytes.
    public static func encode(_ image: Image) throws -> [UInt8] {
        var img = png_image()
        img.version = UInt32(PNG_IMAGE_VERSION)
        img.width = UInt32(image.width)
        img.height = UInt32(image.height)
        img.format = image.channels == 1 ? 0 : (image.channels == 4 ? flagColor | flagAlpha : flagColor)
        var size: Int = 0
        let stride = Int32(image.width * image.channels)
        // First call: ask for the size.
        let probe = image.pixels.withUnsafeBytes { px in
            png_image_write_to_memory(&img, nil, &size, 0, px.baseAddress, stride, nil)
        }
        guard probe != 0, size > 0 else {
            throw ImagingError.unwritable(path: "<png encoder>", reason: message(&img))
        }
        var out = [UInt8](repeating: 0, count: size)
        let ok = out.withUnsafeMutableBytes { dst in
            image.pixels.withUnsafeBytes { px in
                png_image_write_to_memory(&img, dst.baseAddress, &size, 0, px.baseAddress, stride, nil)
            }
        }
        guard ok != 0 else { throw ImagingError.unwritable(path: "<png encoder>", reason: message(&img)) }
        return Array(out.prefix(size))
    }

    /// Reads a PNG file (whatever its extension). `ImageFile.read` reads PNG or JPEG.
    public static func read(_ path: String) throws -> Image {
        let bytes = try AtomicFile.read(path)
        return try decode(bytes, name: path)
    }

    /// Writes a PNG file atomically (temp file, fsync, rename).
    public static func write(_ image: Image, to path: String) throws {
        let bytes: [UInt8]
        do { bytes = try encode(image) } catch ImagingError.unwritable(_, let reason) {
            throw ImagingError.unwritable(path: path, reason: reason)
        }
        try AtomicFile.write(bytes, to: path)
    }

    private static func message(_ img: inout png_image) -> String {
        withUnsafeBytes(of: &img.message) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}
