import Foundation
@testable import Imaging
import Testing
import TestSupport

/// JPEG decoding against files written by an independent encoder (`cjpeg`, libjpeg-turbo-progs; a missing
/// cjpeg fails with "run scripts/bootstrap"). Tolerances are JPEG's: quality 95, 4:2:0 chroma, smooth image.
@Suite struct JPEGTests {
    /// A smooth RGB image: gradients and a slow sine, nothing a DCT at quality 95 loses much of.
    static func smooth(width: Int = 64, height: Int = 48) -> Image {
        var px = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let o = (y * width + x) * 3
                px[o] = UInt8(20 + 200 * x / (width - 1))
                px[o + 1] = UInt8(30 + 180 * y / (height - 1))
                px[o + 2] = UInt8(128 + 60 * sin(Double(x + y) / 12))
            }
        }
        return Image(unchecked: width, height, 3, px)
    }

    /// Mean and max absolute difference per sample; the shapes must match.
    static func difference(_ a: Image, _ b: Image, sourceLocation: SourceLocation = #_sourceLocation) -> (mean: Double, max: Int) {
        #expect(a.width == b.width && a.height == b.height && a.channels == b.channels,
                "\(a.width)x\(a.height)x\(a.channels) vs \(b.width)x\(b.height)x\(b.channels)", sourceLocation: sourceLocation)
        guard a.pixels.count == b.pixels.count else { return (.infinity, 255) }
        let d = zip(a.pixels, b.pixels).map { abs(Int($0) - Int($1)) }
        return (Double(d.reduce(0, +)) / Double(d.count), d.max() ?? 0)
    }

    @Test(arguments: [["-quality", "95"], ["-quality", "95", "-progressive"], ["-quality", "95", "-sample", "1x1"]])
    func decodesCjpegOutputWithinJPEGTolerance(args: [String]) throws {
        let img = Self.smooth()
        let decoded = try JPEG.decode(try CJPEG.encode(PPM.encode(img), args), name: "smooth.jpg")
        #expect(decoded.channels == 3)
        let d = Self.difference(decoded, img)
        #expect(d.mean < 3 && d.max < 40, "cjpeg \(args): mean abs error \(d.mean), max \(d.max)")
    }

    @Test func grayscaleJPEGDecodesToRGBWithEqualChannels() throws {
        let img = Self.smooth()
        let decoded = try JPEG.decode(try CJPEG.encode(PPM.encode(img), ["-quality", "95", "-grayscale"]), name: "gray.jpg")
        #expect(decoded.channels == 3 && decoded.width == 64 && decoded.height == 48)
        for i in stride(from: 0, to: decoded.pixels.count, by: 3) {
            guard decoded.pixels[i] == decoded.pixels[i + 1] && decoded.pixels[i] == decoded.pixels[i + 2] else {
                Issue.record("pixel \(i / 3): \(decoded.pixels[i..<(i + 3)]) is not gray"); return
            }
        }
        // cjpeg's gray is the JFIF luma Y = 0.299 R + 0.587 G + 0.114 B, as `converted(toChannels: 1)`.
        let d = Self.difference(decoded, img.converted(toChannels: 1).converted(toChannels: 3))
        #expect(d.mean < 3 && d.max < 40, "mean abs error \(d.mean), max \(d.max)")
    }

    /// The offset of the first SOS marker (FF DA), where the entropy-coded data starts.
    static func scanStart(_ jpeg: [UInt8]) -> Int? {
        (2..<(jpeg.count - 1)).first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xDA }
    }

    /// Cut in half, inside the scan data: libjpeg only warns ("Premature end of JPEG file") and would
    /// return the missing rows as gray; the shim makes that warning an error. Cut inside the headers,
    /// libjpeg errors outright ("missing SOS marker"). Both name the file.
    @Test(arguments: ["half", "headers"])
    func truncatedFileIsAnErrorNamingTheFile(cut: String) throws {
        let bytes = try CJPEG.encode(PPM.encode(Self.smooth(width: 256, height: 192)))
        let sos = try #require(Self.scanStart(bytes))
        let keep = cut == "half" ? bytes.count / 2 : sos / 2
        #expect(cut == "half" ? keep > sos + 100 : keep < sos, "SOS at \(sos) of \(bytes.count) bytes, cut at \(keep)")
        let dir = makeTempDir()
        let path = dir + "/\(cut).jpg"
        try AtomicFile.write(Array(bytes.prefix(keep)), to: path)
        #expect {
            _ = try ImageFile.read(path)
        } throws: { error in
            guard case ImagingError.corruptJPEG(let p, let reason) = error else { return false }
            return p == path && "\(error)".contains(path) && (cut == "headers" || reason.contains("Premature end"))
        }
    }

    @Test func stubsAndGarbageAreErrors() throws {
        // Only the SOI marker, and the SOI plus garbage.
        #expect(throws: ImagingError.self) { _ = try JPEG.decode([0xFF, 0xD8, 0xFF], name: "stub.jpg") }
        #expect(throws: ImagingError.self) { _ = try JPEG.decode([0xFF, 0xD8, 0xFF] + Array(repeating: 7, count: 100), name: "junk.jpg") }
        #expect(throws: ImagingError.self) { _ = try JPEG.decode([], name: "empty.jpg") }
    }

    /// The SOFn segment's height and width set to `height` x `width` (SOF0 for baseline, SOF2 progressive).
    static func patchingSize(_ jpeg: [UInt8], width: Int, height: Int) -> [UInt8] {
        var b = jpeg, i = 2
        while i + 9 < b.count, b[i] == 0xFF {
            let marker = b[i + 1], length = Int(b[i + 2]) << 8 | Int(b[i + 3])
            if [0xC0, 0xC1, 0xC2].contains(marker) {
                b[i + 5] = UInt8(height >> 8); b[i + 6] = UInt8(height & 255)
                b[i + 7] = UInt8(width >> 8); b[i + 8] = UInt8(width & 255)
                return b
            }
            i += 2 + length
        }
        Issue.record("no SOF segment found")
        return b
    }

    @Test func headerClaimingAHugeSizeIsRefusedBeforeDecoding() throws {
        for args in [["-quality", "95"], ["-progressive"]] {
            let bytes = try CJPEG.encode(PPM.encode(Self.smooth()), args)
            // 60000 x 60000 x 3 would be 10.8 GB: refused from the header, before any pixel buffer.
            #expect(throws: ImagingError.tooLarge(path: "huge.jpg", width: 60000, height: 60000, limit: Image.maxPixels)) {
                _ = try JPEG.decode(Self.patchingSize(bytes, width: 60000, height: 60000), name: "huge.jpg")
            }
            #expect(throws: ImagingError.tooLarge(path: "wide.jpg", width: 4097, height: 4096, limit: Image.maxPixels)) {
                _ = try ImageFile.decode(Self.patchingSize(bytes, width: 4097, height: 4096), name: "wide.jpg")
            }
        }
    }

    @Test func imageFileDispatchesByContentNotExtension() throws {
        let img = Self.smooth(width: 16, height: 8)
        let dir = makeTempDir()
        // A JPEG named .png and a PNG named .JPG both decode.
        try AtomicFile.write(try CJPEG.encode(PPM.encode(img)), to: dir + "/photo.png")
        try PNG.write(img, to: dir + "/photo.JPG")
        #expect(ImageFile.format(of: try AtomicFile.read(dir + "/photo.png")) == .jpeg)
        #expect(Self.difference(try ImageFile.read(dir + "/photo.png"), img).mean < 3)
        #expect(try ImageFile.read(dir + "/photo.JPG") == img)
        #expect {
            _ = try ImageFile.decode(Array("not an image".utf8), name: "notes.jpeg")
        } throws: { error in
            guard case ImagingError.unsupportedFormat(let p, _, _) = error else { return false }
            return p == "notes.jpeg" && "\(error)".contains("PNG or JPEG")
        }
        #expect(throws: ImagingError.self) { _ = try ImageFile.decode([], name: "empty.png") }
    }

    /// JPEG bytes given to the PNG-only reader point at `ImageFile`.
    @Test func pngDecoderRefusesJPEGWithAHint() throws {
        #expect {
            _ = try PNG.decode([0xFF, 0xD8, 0xFF, 0xE0, 0, 16], name: "photo.jpg")
        } throws: { error in
            guard case ImagingError.unsupportedFormat(let p, "JPEG", _) = error else { return false }
            return p == "photo.jpg" && "\(error)".contains("ImageFile")
        }
    }

    /// CMYK -> RGB (no CMYK JPEG file: cjpeg cannot write one, so only the formula is tested).
    @Test func cmykConversionPlainAndAdobeInverted() {
        // Plain CMYK, samples are ink: none = white, full K = black, full C = cyan, half C and half K.
        #expect(JPEGColour.rgb(cmyk: [0, 0, 0, 0, 0, 0, 0, 255, 255, 0, 0, 0, 128, 0, 0, 128], adobeInverted: false)
                == [255, 255, 255, 0, 0, 0, 0, 255, 255, 63, 127, 127])
        // Adobe: samples are 255 - ink, so the same colours from the complemented bytes.
        #expect(JPEGColour.rgb(cmyk: [255, 255, 255, 255, 255, 255, 255, 0, 0, 255, 255, 255, 127, 255, 255, 127], adobeInverted: true)
                == [255, 255, 255, 0, 0, 0, 0, 255, 255, 63, 127, 127])
    }
}
