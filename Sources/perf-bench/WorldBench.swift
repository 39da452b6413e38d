import Foundation
import World

/// Renders per second on one core at 32x32 and 64x64 (default 2x2 supersampling), posed
/// subjects on textured backgrounds. One JSON line per size.
func runWorldBenches() {
    for size in [32, 64] {
        let count = size == 32 ? 2000 : 500
        let reqs = (0..<count).map { i in
            RenderRequest(subject: Subject(category: ObjectCategory.allCases[i % ObjectCategory.allCases.count], instance: UInt64(i)),
                          scene: Scene(background: Background.allCases[i % Background.allCases.count], seed: UInt64(i)),
                          pose: .random(seed: 1, index: UInt64(i)), size: size)
        }
        _ = try? Renderer.render(reqs[0])  // warm-up
        let t0 = DispatchTime.now().uptimeNanoseconds
        var checksum = 0
        for r in reqs { checksum &+= Int((try? Renderer.render(r))?.image.pixels[size * size + 1] ?? 0) }
        let secs = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        print("{\"bench\":\"world_render\",\"size\":\(size),\"supersample\":2,\"images\":\(count),\"images_per_s\":\(String(format: "%.1f", Double(count) / secs)),\"checksum\":\(checksum)}")
    }
}
