import CJPEG

/// JPEG decoding through libjpeg-turbo (the libjpeg62 API), for real photo references such as the
/// DreamBench release (`dataset/<subject>/*.jpg`). Reads baseline and progressive files of every
/// colour space as 8-bit RGB: gray is replicated into R = G = B and YCbCr converted by libjpeg-turbo
/// (`JCS_EXT_RGB`, its default islow IDCT and fancy upsampling); CMYK and YCCK come out of libjpeg as
/// CMYK and are converted by `JPEGColour.rgb(cmyk:adobeInverted:)`. No encoder: the project writes PNG.
///
/// Errors never crash or exit: all libjpeg calls run inside the C shim (`Sources/CJPEG/shim.h`), whose
/// error manager longjmps back to the shim on any error. libjpeg's warnings (a truncated file's
/// "Premature end of JPEG file", "Corrupt JPEG data: ...") are errors too, so a damaged file is
/// `ImagingError.corruptJPEG` naming the file rather than an image whose missing rows are gray.
public enum JPEG {
    /// Decodes JPEG bytes; `name` is used only in error messages. The header is read first: a size beyond
    /// `Image.maxPixels` (4096 x 4096 pixels) is `ImagingError.tooLarge`, thrown before libjpeg starts
    /// decompressing (which allocates its working buffers) and before the pixel buffer is allocated.
    public static func decode(_ bytes: [UInt8], name: String = "<memory>") throws -> Image {
        guard let dec = pdpo_jpeg_create() else {
            throw ImagingError.corruptJPEG(path: name, reason: "out of memory for the decoder")
        }
        defer { pdpo_jpeg_destroy(dec) }
        return try bytes.withUnsafeBufferPointer { src -> Image in
            guard pdpo_jpeg_read_header(dec, src.baseAddress, UInt(src.count)) == 0 else {
                throw ImagingError.corruptJPEG(path: name, reason: message(dec))
            }
            let cinfo = dec.pointee.cinfo
            let w = Int(cinfo.output_width), h = Int(cinfo.output_height), comps = Int(cinfo.output_components)
            guard w > 0, h > 0 else {
                throw ImagingError.corruptJPEG(path: name, reason: "implausible size \(w)x\(h)")
            }
            guard w * h <= Image.maxPixels else {     // JPEG sides are at most 65,500: the product fits in Int
                throw ImagingError.tooLarge(path: name, width: w, height: h, limit: Image.maxPixels)
            }
            let cmyk = cinfo.out_color_space == JCS_CMYK
            guard comps == (cmyk ? 4 : 3) else {
                throw ImagingError.corruptJPEG(path: name, reason: "libjpeg gives \(comps) components for colour space \(cinfo.out_color_space.rawValue)")
            }
            var pixels = [UInt8](repeating: 0, count: w * h * comps)
            let ok = pixels.withUnsafeMutableBufferPointer { out in
                pdpo_jpeg_decode(dec, out.baseAddress, w * comps)
            }
            guard ok == 0 else { throw ImagingError.corruptJPEG(path: name, reason: message(dec)) }
            if cmyk {
                pixels = JPEGColour.rgb(cmyk: pixels, adobeInverted: dec.pointee.cinfo.saw_Adobe_marker != 0)
            }
            return Image(unchecked: w, h, 3, pixels)
        }
    }

    private static func message(_ dec: UnsafeMutablePointer<pdpo_jpeg>) -> String {
        withUnsafeBytes(of: &dec.pointee.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
