import Foundation
import Testing
@testable import Imaging

/// RGB and RGBA round-trip exactly; gray is written as gray and read back as RGB with R = G = B.
@Test(arguments: [1, 3, 4])
func pngRoundTripsEveryChannelCount(channels: Int) throws {
    let dir = makeTempDir("png\(channels)")
    let img = testPattern(width: 17, height: 9, channels: channels)
    let path = dir + "/a.png"
    try PNG.write(img, to: path)
    let back = try PNG.read(path)
    #expect(back == (channels == 1 ? img.converted(toChannels: 3) : img))
    // No temporary files are left behind by the atomic write.
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["a.png"])
}

@Test func truncatedPNGIsATypedErrorNamingTheFile() throws {
    let dir = makeTempDir()
    let bytes = try PNG.encode(testPattern(width: 32, height: 32, channels: 3))
    let path = dir + "/cut.png"
    try AtomicFile.write(Array(bytes.prefix(bytes.count / 2)), to: path)
    #expect {
        _ = try PNG.read(path)
    } throws: { error in
        guard case let ImagingError.corruptPNG(p, _) = error else { return false }
        return p == path && "\(error)".contains("cut.png")
    }
}

@Test func garbageAndFlippedBytesAreErrorsNotCrashes() throws {
    #expect(throws: ImagingError.self) { _ = try PNG.decode([1, 2, 3, 4, 5], name: "junk.png") }
    #expect(throws: ImagingError.self) { _ = try PNG.decode([], name: "empty.png") }
    var bytes = try PNG.encode(testPattern(width: 16, height: 16, channels: 3))
    // Corrupt the IDAT payload: the CRC / zlib check must catch it.
    for i in stride(from: bytes.count - 40, to: bytes.count - 20, by: 1) { bytes[i] ^= 0x5A }
    #expect(throws: ImagingError.self) { _ = try PNG.decode(bytes, name: "flipped.png") }
}

@Test func missingFileIsUnreadable() {
    #expect(throws: ImagingError.unreadable(path: "/nonexistent/x.png", reason: "no such file")) {
        _ = try PNG.read("/nonexistent/x.png")
    }
}

@Test func ppmRoundTripAndHeaderComments() throws {
    let dir = makeTempDir()
    let img = testPattern(width: 5, height: 3, channels: 3)
    try PPM.write(img, to: dir + "/a.ppm")
    #expect(try PPM.read(dir + "/a.ppm") == img)
    let withComment = Array("P6\n# made by hand\n5 3\n255\n".utf8) + img.pixels
    #expect(try PPM.decode(withComment) == img)
    #expect(throws: ImagingError.self) { _ = try PPM.decode(Array(withComment.dropLast()), name: "short.ppm") }
    #expect(throws: ImagingError.self) { _ = try PPM.decode(Array("P5\n1 1\n255\n\0".utf8)) }
}
