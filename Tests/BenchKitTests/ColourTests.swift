import BenchKit
import Imaging
import Testing

@Suite struct ColourTests {
    @Test func hsvOfKnownColours() {
        func close(_ p: (h: Double, s: Double, v: Double), _ h: Double, _ s: Double, _ v: Double) -> Bool {
            abs(p.h - h) < 1e-9 && abs(p.s - s) < 1e-9 && abs(p.v - v) < 1e-9
        }
        #expect(close(HSV.pixel(255, 0, 0), 0, 1, 1))
        #expect(close(HSV.pixel(0, 255, 0), 120, 1, 1))
        #expect(close(HSV.pixel(0, 0, 255), 240, 1, 1))
        #expect(close(HSV.pixel(255, 0, 255), 300, 1, 1))
        #expect(close(HSV.pixel(255, 255, 0), 60, 1, 1))
        #expect(close(HSV.pixel(255, 255, 255), 0, 0, 1))
        #expect(close(HSV.pixel(0, 0, 0), 0, 0, 0))
        #expect(close(HSV.pixel(255, 128, 128), 0, 127.0 / 255, 1))
    }

    @Test func shiftIsPercentChangeOfMeans() throws {
        // Half blue, half green: mean hue 180, saturation 1, value 1.
        var px: [UInt8] = []
        for i in 0..<4 { px += i < 2 ? [0, 0, 255] : [0, 255, 0] }
        let im = try Image(width: 2, height: 2, channels: 3, pixels: px)
        #expect(HSV.mean(im) == [180, 1, 1])
        let dark = try Image(width: 1, height: 1, channels: 3, pixels: [0, 0, 128])
        let base = [HSV.mean(im)], model = [HSV.mean(dark)]
        let s = HSV.shift(model: "m", modelHSV: model, baseline: "b", baselineHSV: base)
        #expect(abs(s.huePct - 100 * (240 - 180) / 180) < 1e-9)
        #expect(abs(s.saturationPct) < 1e-9)
        #expect(abs(s.valuePct - 100 * (128.0 / 255 - 1)) < 1e-9)
        #expect(s.images == 1 && s.model == "m" && s.baseline == "b")
    }
}
