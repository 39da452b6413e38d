/// Reads an image file whatever its format, by content rather than extension: the 8-byte PNG signature
/// (89 50 4E 47 0D 0A 1A 0A) goes to `PNG.decode`, the JPEG start-of-image plus a marker (FF D8 FF) to
/// `JPEG.decode`. A renamed file (a JPEG saved as `.png`, or `.JPG` / `.jpeg`) decodes all the same.
/// Both decoders refuse sizes beyond `Image.maxPixels` before allocating. Gray and palette files
/// come back as RGB; a PNG with alpha as RGBA (callers wanting RGB use `converted(toChannels: 3)`).
public enum ImageFile {
    public enum Format: String, Sendable { case png = "PNG", jpeg = "JPEG" }

    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    static let jpegSignature: [UInt8] = [0xFF, 0xD8, 0xFF]

    /// The format of `bytes` from their first bytes, or nil when neither signature matches.
    public static func format(of bytes: [UInt8]) -> Format? {
        if bytes.starts(with: pngSignature) { return .png }
        if bytes.starts(with: jpegSignature) { return .jpeg }
        return nil
    }

    /// Decodes PNG or JPEG bytes; `name` is used only in error messages. Anything else is
    /// `ImagingError.unsupportedFormat` naming the file.
    public static func decode(_ bytes: [UInt8], name: String = "<memory>") throws -> Image {
        switch format(of: bytes) {
        case .png: return try PNG.decode(bytes, name: name)
        case .jpeg: return try JPEG.decode(bytes, name: name)
        case nil:
            let head = bytes.prefix(8).map { String($0, radix: 16, uppercase: true) }.joined(separator: " ")
            throw ImagingError.unsupportedFormat(path: name, format: bytes.isEmpty ? "an empty file" : "a file starting \(head)",
                hint: "Images are read as PNG or JPEG (recognised by their first bytes, not the extension); "
                    + "the file is corrupt or another format: convert it to PNG.")
        }
    }

    /// Reads and decodes a PNG or JPEG file.
    public static func read(_ path: String) throws -> Image {
        try decode(try AtomicFile.read(path), name: path)
    }
}
