import ErrorKinds

/// Errors for reading, writing and converting images. Every case names the file (or the
/// argument) that was wrong and says what to do next.
public enum ImagingError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file could not be opened or read.
    case unreadable(path: String, reason: String)
    /// The file could not be written (or renamed into place).
    case unwritable(path: String, reason: String)
    /// libpng rejected the bytes: corrupt, truncated, or not a PNG.
    case corruptPNG(path: String, reason: String)
    /// libjpeg rejected the bytes (or warned about them): corrupt, truncated, or not a JPEG.
    case corruptJPEG(path: String, reason: String)
    /// A PPM header or body that does not match the P6 / maxval 255 layout.
    case badPPM(path: String, reason: String)
    /// A format the called decoder does not read (e.g. JPEG bytes given to `PNG.decode`, or neither PNG nor JPEG).
    case unsupportedFormat(path: String, format: String, hint: String)
    /// A file whose header declares more than `Image.maxPixels` pixels (refused before allocating).
    case tooLarge(path: String, width: Int, height: Int, limit: Int)
    /// A pixel buffer whose size does not match width x height x channels.
    case shapeMismatch(what: String, expected: Int, got: Int)
    /// Channels other than 1 (gray), 3 (RGB) or 4 (RGBA).
    case unsupportedChannels(what: String, channels: Int)

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "cannot read \(path): \(reason). Check that the file exists and is readable."
        case let .unwritable(path, reason):
            return "cannot write \(path): \(reason). Check that the directory exists and is writable."
        case let .corruptPNG(path, reason):
            return "\(path) is not a valid PNG (\(reason)). The file is corrupt or truncated: re-create it."
        case let .corruptJPEG(path, reason):
            return "\(path) is not a valid JPEG (\(reason)). The file is corrupt or truncated: re-create or re-download it."
        case let .badPPM(path, reason):
            return "\(path) is not a binary PPM (P6, maxval 255): \(reason)."
        case let .unsupportedFormat(path, format, hint):
            return "\(path): \(format) is not supported. \(hint)"
        case let .tooLarge(path, width, height, limit):
            return "\(path): the header declares \(width)x\(height) = \(width * height) pixels, more than the limit of \(limit) "
                + "(4096x4096); the file is corrupt or too large: downscale it first, e.g. `convert in.png -resize 4096x4096 out.png`."
        case let .shapeMismatch(what, expected, got):
            return "\(what): expected \(expected) values, got \(got). Pass width, height and channels matching the buffer."
        case let .unsupportedChannels(what, channels):
            return "\(what): \(channels) channels; only 1 (gray), 3 (RGB) and 4 (RGBA) are supported."
        }
    }
}

extension ImagingError: ClassifiedError {
    /// A file that is not there is missing input, one that cannot be written an I/O failure, bytes that
    /// break PNG/JPEG/PPM (or a format not decoded here) bad data; a buffer of the wrong size or channel
    /// count is the calling code's bug.
    public var errorKind: ErrorKind {
        switch self {
        case .unreadable: return .missingInput
        case .unwritable: return .io
        case .corruptPNG, .corruptJPEG, .badPPM, .unsupportedFormat, .tooLarge: return .badData
        case .shapeMismatch, .unsupportedChannels: return .internalError
        }
    }
}
