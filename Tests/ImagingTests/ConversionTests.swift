import Testing
@testable import Imaging

@Test func chwRoundTripAndLayout() throws {
    let img = testPattern(width: 4, height: 3, channels: 3)
    let chw = img.toCHW()
    #expect(chw.count == 36)
    // Channel 1 of pixel (x=2, y=1) lives at 1*12 + 1*4 + 2.
    #expect(chw[12 + 4 + 2] == Float(img.pixel(x: 2, y: 1)[1]) / 127.5 - 1)
    #expect(chw.allSatisfy { $0 >= -1 && $0 <= 1 })
    #expect(try Image(chw: chw, width: 4, height: 3, channels: 3) == img)
    #expect(throws: ImagingError.self) { _ = try Image(chw: chw, width: 4, height: 4, channels: 3) }
}

@Test func areaResizeAveragesBlocksExactly() {
    // 4x2 gray -> 2x1: each output is the mean of a 2x2 block.
    let img = Image(unchecked: 4, 2, 1, [0, 100, 10, 20, 50, 250, 30, 40])
    let small = img.resizedArea(width: 2, height: 1)
    #expect(small.pixels == [100, 25])
}

@Test func bilinearIsIdentityAtSameSizeAndInterpolatesMidpoints() {
    let img = testPattern(width: 6, height: 5, channels: 3)
    #expect(img.resizedBilinear(width: 6, height: 5) == img)
    let ramp = Image(unchecked: 2, 1, 1, [0, 200])
    let up = ramp.resizedBilinear(width: 4, height: 1)
    #expect(up.pixels == [0, 50, 150, 200])
}

@Test func centerCropAndSquareResize() {
    let img = testPattern(width: 10, height: 6, channels: 3)
    let c = img.centerCropped(width: 6, height: 6)
    #expect(c.pixel(x: 0, y: 0) == img.pixel(x: 2, y: 0))
    let s = img.squareResized(to: 3)
    #expect(s.width == 3 && s.height == 3)
}

@Test func contactSheetPlacesImagesAndCaptions() {
    let red = Image(width: 8, height: 8, fill: [255, 0, 0])
    let blue = Image(width: 8, height: 8, fill: [0, 0, 255])
    var sheet = ContactSheet(columns: 2, scale: 2)
    sheet.padding = 2
    let out = sheet.render([(red, "A"), (blue, nil), (red, "C")])
    // Cell width 16, caption band 10: 2 columns, 2 rows.
    #expect(out.width == 2 + 2 * 18 && out.height == 2 + 2 * (16 + 10 + 2))
    #expect(out.pixel(x: 2, y: 2) == [255, 0, 0])
    #expect(out.pixel(x: 20, y: 2) == [0, 0, 255])
    // Some caption ink exists under the first cell.
    let inked = (0..<16).contains { x in (18..<28).contains { y in out.pixel(x: 2 + x, y: y) == [20, 20, 20] } }
    #expect(inked)
}

@Test func heatmapOverlayUsesTheMapCells() throws {
    let gray = Image(width: 4, height: 4, fill: [128, 128, 128])
    let map = try Image.heatmap(quality: [0, 1, 1, 0], mapWidth: 2, mapHeight: 2, width: 4, height: 4)
    #expect(map.pixel(x: 0, y: 0) == ColorMap.redYellowGreen.color(0))
    #expect(map.pixel(x: 3, y: 0) == ColorMap.redYellowGreen.color(1))
    #expect(map.pixel(x: 3, y: 3) == ColorMap.redYellowGreen.color(0))
    let over = try gray.heatmapOverlay(quality: [0, 1, 1, 0], mapWidth: 2, mapHeight: 2, alpha: 0)
    #expect(over == gray)
    #expect(throws: ImagingError.self) { _ = try gray.heatmapOverlay(quality: [0], mapWidth: 2, mapHeight: 2) }
}
