import Foundation
import Imaging
@testable import World

/// Repository root (for data/vocab files), from this file's path.
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

func tempDir(_ tag: String) -> String {
    let dir = NSTemporaryDirectory() + "world-\(tag)-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

func render(_ s: Subject?, _ bg: Background = .clean, pose: Pose = .canonical, size: Int = 32,
            seed: UInt64 = 0) throws -> RenderResult {
    try Renderer.render(RenderRequest(subject: s, scene: Scene(background: bg, seed: seed), pose: pose, size: size))
}
