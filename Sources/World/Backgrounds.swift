import Foundation
import Random

/// Procedural backgrounds. Each is a cheap analytic texture of normalised scene coordinates
/// (x, y in [0, 1] over the image; it extends beyond, so warped views stay defined), with
/// details (offsets, heights, star fields) drawn from the scene seed.

/// A background plus the seed of its details.
public struct Scene: Sendable, Hashable, Codable {
    public var background: Background
    public var seed: UInt64
    public init(background: Background, seed: UInt64 = 0) { self.background = background; self.seed = seed }
    public static let clean = Scene(background: .clean)
}

/// A scene with its random parameters drawn once per render.
struct PreparedScene: Sendable {
    let kind: Background
    let seed: UInt64
    let p0: Float, p1: Float, p2: Float, p3: Float
    let cellKey: RNGKey

    init(_ s: Scene) {
        kind = s.background; seed = s.seed
        let st = Stream.scene.rawValue
        p0 = WorldRandom.unit(seed: s.seed, stream: st, index: 0)
        p1 = WorldRandom.unit(seed: s.seed, stream: st, index: 1)
        p2 = WorldRandom.unit(seed: s.seed, stream: st, index: 2)
        p3 = WorldRandom.unit(seed: s.seed, stream: st, index: 3)
        cellKey = WorldRandom.key(seed: s.seed, stream: st &+ 16)
    }

    /// Random value in [0, 1) for integer cell (i, j): the building block of star fields,
    /// building heights and grass.
    @inline(__always)
    func cell(_ i: Int, _ j: Int, _ salt: UInt64 = 0) -> Float {
        let idx = UInt64(bitPattern: Int64(i)) &* 0x1_0000_0001 &+ UInt64(bitPattern: Int64(j)) &* 0x9E37 &+ salt << 48
        return cellKey.uniform(at: idx)
    }

    @inline(__always)
    static func mix(_ a: SIMD3<Float>, _ b: SIMD3<Float>, _ t: Float) -> SIMD3<Float> {
        let w = min(1, max(0, t))
        return a * (1 - w) + b * w
    }

    @inline(__always)
    static func fract(_ v: Float) -> Float { v - v.rounded(.down) }

    /// Colour at normalised scene coordinates (x, y).
    @inline(__always)
    func color(_ x: Float, _ y: Float) -> SIMD3<Float> {
        let mix = PreparedScene.mix, fract = PreparedScene.fract
        switch kind {
        case .clean:
            return mix(SIMD3(0.93, 0.93, 0.91), SIMD3(0.86, 0.86, 0.85), y)
        case .beach:
            let horizon = 0.32 + 0.06 * p0
            if y < horizon { return mix(SIMD3(0.55, 0.78, 0.95), SIMD3(0.80, 0.90, 0.98), y / horizon) }
            let shore = horizon + 0.16 + 0.03 * Float(sin(Double(x * 14 + p1 * 6)))
            if y < shore { return mix(SIMD3(0.10, 0.45, 0.70), SIMD3(0.30, 0.70, 0.80), (y - horizon) / (shore - horizon)) }
            let grain = cell(Int((x * 90).rounded(.down)), Int((y * 90).rounded(.down))) * 0.05
            return mix(SIMD3(0.93, 0.84, 0.62), SIMD3(0.85, 0.72, 0.50), (y - shore) * 1.5) + grain
        case .forest:
            let col = Int((x * 7 + p0 * 3).rounded(.down))
            let fx = fract(x * 7 + p0 * 3)
            let width = 0.16 + 0.14 * cell(col, 0)
            if fx < width && y > 0.25 * cell(col, 1) { return SIMD3(0.32, 0.20, 0.11) * (0.8 + 0.4 * fx / width) }
            let leaf = cell(Int((x * 24).rounded(.down)), Int((y * 24).rounded(.down)))
            return mix(SIMD3(0.10, 0.32, 0.12), SIMD3(0.22, 0.50, 0.20), y + 0.3 * leaf - 0.15)
        case .snow:
            let ground = 0.55 + 0.05 * Float(sin(Double(x * 6 + p0 * 5)))
            var c = y < ground ? mix(SIMD3(0.70, 0.80, 0.92), SIMD3(0.88, 0.92, 0.97), y / ground)
                               : mix(SIMD3(0.97, 0.97, 0.99), SIMD3(0.86, 0.89, 0.95), (y - ground) * 2)
            let i = Int((x * 28).rounded(.down)), j = Int((y * 28).rounded(.down))
            if cell(i, j) < 0.18 {
                let dx = fract(x * 28) - 0.5, dy = fract(y * 28) - 0.5
                if dx * dx + dy * dy < 0.06 { c = SIMD3(1, 1, 1) }
            }
            return c
        case .cityStreet:
            if y > 0.72 {
                let dash = fract(x * 5 + p0) < 0.5 && abs(y - 0.86) < 0.015
                return dash ? SIMD3(0.95, 0.85, 0.2) : SIMD3(0.30, 0.30, 0.32)
            }
            if y > 0.66 { return SIMD3(0.60, 0.58, 0.55) }
            let col = Int((x * 5 + p1 * 2).rounded(.down))
            let top = 0.08 + 0.4 * cell(col, 7)
            if y < top { return mix(SIMD3(0.65, 0.75, 0.88), SIMD3(0.85, 0.85, 0.88), y * 2) }
            let shade = 0.35 + 0.3 * cell(col, 8)
            let wx = fract(x * 30), wy = fract(y * 22)
            if wx > 0.3 && wx < 0.75 && wy > 0.3 && wy < 0.75 {
                return cell(Int((x * 30).rounded(.down)), Int((y * 22).rounded(.down))) < 0.4 ? SIMD3(0.95, 0.85, 0.45) : SIMD3(0.18, 0.2, 0.25)
            }
            return SIMD3(shade, shade * 0.95, shade * 0.9)
        case .kitchenTable:
            if y < 0.35 + 0.05 * p0 { return mix(SIMD3(0.92, 0.88, 0.78), SIMD3(0.85, 0.80, 0.70), y * 2) }
            let wobble: Double = 4 * sin(Double(x * 7 + p1 * 6))
            let grain = Float(sin(Double(y * 90) + wobble))
            return mix(SIMD3(0.55, 0.35, 0.18), SIMD3(0.70, 0.48, 0.26), 0.5 + 0.5 * grain)
        case .nightSky:
            var c = mix(SIMD3(0.02, 0.03, 0.12), SIMD3(0.08, 0.10, 0.28), y)
            let i = Int((x * 40).rounded(.down)), j = Int((y * 40).rounded(.down))
            if cell(i, j) < 0.10 {
                let dx = fract(x * 40) - 0.5, dy = fract(y * 40) - 0.5
                if dx * dx + dy * dy < 0.05 { c = SIMD3(1, 1, 0.85) }
            }
            let mx = x - (0.15 + 0.7 * p0), my = y - 0.15
            if mx * mx + my * my < 0.006 { c = SIMD3(0.95, 0.93, 0.8) }
            return c
        case .desert:
            let horizon = 0.35 + 0.05 * p0
            if y < horizon { return mix(SIMD3(0.98, 0.75, 0.45), SIMD3(0.70, 0.80, 0.92), 1 - y / horizon) }
            let dune = Float(sin(Double(x * 9 + p1 * 6 + y * 14))) * 0.5 + 0.5
            return mix(SIMD3(0.90, 0.70, 0.40), SIMD3(0.78, 0.55, 0.28), dune * 0.7 + (y - horizon) * 0.4)
        case .grassField:
            let horizon = 0.38 + 0.05 * p0
            if y < horizon { return mix(SIMD3(0.45, 0.70, 0.95), SIMD3(0.80, 0.90, 0.98), y / horizon) }
            let blade = cell(Int((x * 60).rounded(.down)), Int((y * 12).rounded(.down)))
            return mix(SIMD3(0.30, 0.62, 0.18), SIMD3(0.18, 0.45, 0.10), (y - horizon) + 0.35 * blade)
        case .brickWall:
            let rows: Float = 9, row = (y * rows + p0).rounded(.down)
            let shift: Float = Int(row) & 1 == 0 ? 0 : 0.5
            let bx = fract(x * 4.5 + shift + p1), by = fract(y * rows + p0)
            if bx < 0.06 || by < 0.12 { return SIMD3(0.80, 0.78, 0.72) }
            let tone = cell(Int((x * 4.5 + shift + p1).rounded(.down)), Int(row))
            return mix(SIMD3(0.62, 0.22, 0.15), SIMD3(0.75, 0.35, 0.22), tone)
        case .livingRoom:
            let floor = 0.62 + 0.05 * p0
            if y > floor {
                let plank = fract(x * 6 + (Int((y * 14).rounded(.down)) & 1 == 0 ? 0 : 0.5))
                return plank < 0.04 ? SIMD3(0.35, 0.22, 0.12) : mix(SIMD3(0.62, 0.42, 0.25), SIMD3(0.55, 0.36, 0.2), y)
            }
            let stripe = fract(x * 12 + p1) < 0.5
            let wall = p2 < 0.5 ? SIMD3<Float>(0.85, 0.80, 0.65) : SIMD3<Float>(0.70, 0.80, 0.78)
            return stripe ? wall : wall * 0.9
        }
    }
}
