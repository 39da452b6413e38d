import Foundation
import Testing
@testable import Imaging

/// Decoders refuse sizes beyond `Image.maxPixels` from the header, before allocating the pixels.
@Suite struct LimitTests {
    /// ~100 bytes whose IHDR claims 32768 x 32768 RGBA: the decoder used to allocate 4 GiB for it.
    @Test func pngHeaderClaimingAHugeSizeIsRefusedBeforeAllocating() throws {
        let bomb = PNGBytes.make(width: 32768, height: 32768, colorType: PNGBytes.rgba, idat: PNGBytes.zlibStored([0, 0, 0, 0, 0]))
        #expect(bomb.count < 120)
        #expect(throws: ImagingError.tooLarge(path: "bomb.png", width: 32768, height: 32768, limit: Image.maxPixels)) {
            _ = try PNG.decode(bomb, name: "bomb.png")
        }
        let message = "\(ImagingError.tooLarge(path: "bomb.png", width: 32768, height: 32768, limit: Image.maxPixels))"
        #expect(message.contains("bomb.png") && message.contains("32768x32768") && message.contains("16777216"))
        // Over the limit by one column, or by a wide shape; a long thin image within it is not refused for its shape.
        #expect(throws: ImagingError.tooLarge(path: "p", width: 4097, height: 4096, limit: Image.maxPixels)) {
            _ = try PNG.decode(PNGBytes.make(width: 4097, height: 4096, colorType: PNGBytes.rgb, idat: PNGBytes.zlibStored([0])), name: "p")
        }
        #expect(throws: ImagingError.tooLarge(path: "p", width: 20_000, height: 900, limit: Image.maxPixels)) {
            _ = try PNG.decode(PNGBytes.make(width: 20_000, height: 900, colorType: PNGBytes.gray, idat: PNGBytes.zlibStored([0])), name: "p")
        }
        let thin = PNGBytes.make(width: 20_000, height: 1, colorType: PNGBytes.rgb, rows: [[UInt8](repeating: 7, count: 60_000)])
        #expect(try PNG.decode(thin, name: "thin.png").width == 20_000)
    }

    @Test func ppmHeaderClaimingAHugeSizeIsRefused() {
        let bomb = Array("P6\n32768 32768\n255\n".utf8) + [1, 2, 3]
        #expect(throws: ImagingError.tooLarge(path: "bomb.ppm", width: 32768, height: 32768, limit: Image.maxPixels)) {
            _ = try PPM.decode(bomb, name: "bomb.ppm")
        }
        #expect(Image.maxPixels == 4096 * 4096)
    }
}
