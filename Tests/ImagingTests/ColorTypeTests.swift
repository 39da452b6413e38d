import Foundation
import Testing
@testable import Imaging

/// Gray and palette PNGs (written by hand with `PNGBytes`, as other tools write them) decode to RGB, or
/// RGBA when they carry alpha, instead of 1-channel images the sampler and the stages refuse.
@Suite struct ColorTypeTests {
    @Test func grayIsReplicatedIntoRGB() throws {
        let rows = (0..<4).map { y in (0..<64).map { UInt8((y * 64 + $0) & 255) } }     // every gray value once
        let img = try PNG.decode(PNGBytes.make(width: 64, height: 4, colorType: PNGBytes.gray, rows: rows), name: "gray.png")
        #expect(img.channels == 3 && img.width == 64 && img.height == 4)
        for y in 0..<4 { for x in 0..<64 { #expect(img.pixel(x: x, y: y) == Array(repeating: rows[y][x], count: 3)) } }
    }

    @Test func lowBitDepthGrayIsScaledTo8Bits() throws {
        // 1-bit gray: 0 -> 0, 1 -> 255; one row of 8 pixels 10110000.
        let img = try PNG.decode(PNGBytes.make(width: 8, height: 1, bitDepth: 1, colorType: PNGBytes.gray, rows: [[0b1011_0000]]))
        #expect(img.channels == 3)
        #expect((0..<8).map { img.pixel(x: $0, y: 0)[0] } == [255, 0, 255, 255, 0, 0, 0, 0])
    }

    @Test func grayAlphaBecomesRGBA() throws {
        let img = try PNG.decode(PNGBytes.make(width: 2, height: 1, colorType: PNGBytes.grayAlpha, rows: [[10, 255, 200, 255]]))
        #expect(img.channels == 4 && img.pixel(x: 0, y: 0) == [10, 10, 10, 255] && img.pixel(x: 1, y: 0) == [200, 200, 200, 255])
    }

    @Test func paletteIsExpandedToRGB() throws {
        let palette: [[UInt8]] = [[255, 0, 0], [0, 128, 255], [7, 8, 9]]
        let img = try PNG.decode(PNGBytes.make(width: 3, height: 2, colorType: PNGBytes.palette, rows: [[0, 1, 2], [2, 2, 0]],
                                               palette: palette), name: "palette.png")
        #expect(img.channels == 3)
        #expect([img.pixel(x: 0, y: 0), img.pixel(x: 1, y: 0), img.pixel(x: 2, y: 0)] == palette)
        #expect([img.pixel(x: 0, y: 1), img.pixel(x: 1, y: 1), img.pixel(x: 2, y: 1)] == [palette[2], palette[2], palette[0]])
    }

    @Test func paletteWithTransparencyBecomesRGBA() throws {
        let img = try PNG.decode(PNGBytes.make(width: 2, height: 1, colorType: PNGBytes.palette, rows: [[0, 1]],
                                               palette: [[1, 2, 3], [4, 5, 6]], transparency: [0]))
        #expect(img.channels == 4 && img.pixel(x: 0, y: 0) == [1, 2, 3, 0] && img.pixel(x: 1, y: 0) == [4, 5, 6, 255])
    }

    /// The hand-built writer itself: an RGB file it writes reads back exactly (so the tests above test the decoder).
    @Test func handBuiltRGBReadsBackExactly() throws {
        let img = testPattern(width: 5, height: 3, channels: 3)
        let rows = (0..<3).map { y in Array(img.pixels[(y * 15)..<(y * 15 + 15)]) }
        #expect(try PNG.decode(PNGBytes.make(width: 5, height: 3, colorType: PNGBytes.rgb, rows: rows)) == img)
    }
}
