/// CMYK -> RGB for JPEG files stored as CMYK or YCCK (libjpeg turns YCCK into CMYK; it never converts
/// CMYK to RGB itself). There is no colour management: the naive subtractive model, without ICC profiles.
///
/// With C, M, Y, K the ink amounts in 0...255 (255 = full ink):
///
///     R = (255 - C) * (255 - K) / 255,  G = (255 - M) * (255 - K) / 255,  B = (255 - Y) * (255 - K) / 255
///
/// rounded to nearest. Adobe applications (Photoshop, and most CMYK JPEGs in the wild) write the samples
/// inverted, s = 255 - ink, and mark the file with an APP14 "Adobe" segment; libjpeg reports that marker
/// (`saw_Adobe_marker`), and for such files the formula reads R = s_C * s_K / 255 (and so on). A CMYK file
/// without the Adobe marker is taken as uninverted.
public enum JPEGColour {
    /// RGB bytes (3 a pixel) from CMYK bytes (4 a pixel), by the formula above.
    public static func rgb(cmyk: [UInt8], adobeInverted: Bool) -> [UInt8] {
        precondition(cmyk.count % 4 == 0, "CMYK buffer of \(cmyk.count) bytes is not 4 a pixel")
        let n = cmyk.count / 4
        var out = [UInt8](repeating: 0, count: n * 3)
        for i in 0..<n {
            // s = 255 - ink for each channel (the Adobe samples already are).
            let flip = adobeInverted ? 0 : 255
            let k = abs(flip - Int(cmyk[i * 4 + 3]))
            for c in 0..<3 { out[i * 3 + c] = UInt8((abs(flip - Int(cmyk[i * 4 + c])) * k + 127) / 255) }
        }
        return out
    }
}
