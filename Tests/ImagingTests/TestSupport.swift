import Foundation
@testable import Imaging

/// A fresh temporary directory per test (tests run in parallel; never share paths).
func makeTempDir(_ tag: String = #function) -> String {
    let safe = tag.filter { $0.isLetter || $0.isNumber }
    let dir = NSTemporaryDirectory() + "imaging-\(safe)-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// A deterministic test pattern with every byte value in play.
func testPattern(width: Int, height: Int, channels: Int) -> Image {
    var px = [UInt8](repeating: 0, count: width * height * channels)
    for i in 0..<px.count { px[i] = UInt8((i * 37 + (i / channels) * 11) & 255) }
    return Image(unchecked: width, height, channels, px)
}
