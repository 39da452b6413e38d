import Foundation

/// Pattern and decal evaluation at a point. Patterns live in part-local object coordinates
/// (origin at the part centre), so they move, rotate and foreshorten with the object.

/// A pattern with its trigonometry and colours resolved once per render.
struct PreparedPattern: Sendable {
    let kind: PatternKind
    let a: SIMD3<Float>, b: SIMD3<Float>
    let cosA: Float, sinA: Float, invPeriod: Float, phase: Float
    let dropped: Int?

    init(_ p: Pattern) {
        kind = p.kind; a = p.primary.rgb; b = p.secondary.rgb
        let rad = p.angle * .pi / 180
        cosA = Float(cos(Double(rad))); sinA = Float(sin(Double(rad)))
        invPeriod = 1 / p.period; phase = p.phase; dropped = p.droppedStripe
    }

    /// Colour at part-local (du, dv).
    @inline(__always)
    func color(_ du: Float, _ dv: Float) -> SIMD3<Float> {
        switch kind {
        case .solid:
            return a
        case .stripes:
            let t = (du * cosA + dv * sinA) * invPeriod + phase
            let k = t.rounded(.down)
            if t - k < 0.5 && Int(k) != dropped { return b }
            return a
        case .dots:
            let s = (du * cosA + dv * sinA) * invPeriod + phase
            let t = (dv * cosA - du * sinA) * invPeriod + phase
            let fs = s - s.rounded(.down) - 0.5, ft = t - t.rounded(.down) - 0.5
            return fs * fs + ft * ft < 0.09 ? b : a
        case .checker:
            let s = (du * cosA + dv * sinA) * invPeriod * 0.8 + phase
            let t = (dv * cosA - du * sinA) * invPeriod * 0.8 + phase
            let parity = (Int(s.rounded(.down)) + Int(t.rounded(.down))) & 1
            return parity == 0 ? a : b
        case .gradient:
            let w = min(1, max(0, 0.5 + 0.6 * (du * cosA + dv * sinA)))
            return a * (1 - w) + b * w
        }
    }

    /// The stripe index at part-local (du, dv) (used by the drop-stripe defect).
    func stripeIndex(_ du: Float, _ dv: Float) -> Int {
        Int(((du * cosA + dv * sinA) * invPeriod + phase).rounded(.down))
    }
}

extension DecalKind {
    /// Inside test in glyph coordinates (x right, y down, glyph spans [-1, 1]^2).
    @inline(__always)
    func contains(_ x: Float, _ y: Float) -> Bool {
        switch self {
        case .star:
            let r2 = x * x + y * y
            if r2 > 1 { return false }
            if r2 < 0.14 { return true }
            // Five spikes pointing up: radius limit oscillates between 0.38 and 1.
            let theta = Float(atan2(Double(x), Double(-y)))  // 0 at the top
            let f = theta * (5 / (2 * .pi))
            let tri = abs(f - f.rounded()) * 2  // 0 at a spike, 1 between spikes
            let lim = 1 - 0.62 * tri
            return r2 <= lim * lim
        case .heart:
            let hx = x * 1.15, hy = -(y * 1.15) + 0.15
            let q = hx * hx + hy * hy - 1
            return q * q * q - hx * hx * hy * hy * hy <= 0
        case .cross:
            return (abs(x) < 0.3 && abs(y) < 0.9) || (abs(y) < 0.3 && abs(x) < 0.9)
        case .ring:
            let r2 = x * x + y * y
            return r2 < 0.85 && r2 > 0.3
        case .triangle:
            return y <= 0.75 && y >= -0.9 && abs(x) <= (y + 0.9) * 0.58
        case .diamond:
            return abs(x) * 0.8 + abs(y) <= 0.95
        case .moon:
            let dx = x - 0.38, dy = y + 0.12
            return x * x + y * y < 0.8 && dx * dx + dy * dy > 0.4
        case .bars:
            return abs(y) < 0.88 && (abs(x) < 0.16 || abs(abs(x) - 0.6) < 0.16)
        }
    }
}
