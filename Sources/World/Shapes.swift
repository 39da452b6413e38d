/// Analytic 2-D shapes in object coordinates (u right, v down, the object spans [-1, 1]^2).
/// Inside tests are a few multiply-adds, so supersampled rendering stays cheap.
public enum Shape: Sendable, Hashable {
    /// Ellipse: ((u-cx)/rx)^2 + ((v-cy)/ry)^2 <= 1.
    case ellipse(cx: Float, cy: Float, rx: Float, ry: Float)
    /// Axis-aligned box of half sizes (hx, hy) with corner radius r.
    case box(cx: Float, cy: Float, hx: Float, hy: Float, r: Float)
    /// Annulus inner <= |p - c| <= outer, optionally only the half beyond the centre.
    case ring(cx: Float, cy: Float, outer: Float, inner: Float, half: Half)
    /// Trapezoid centred at (cx, cy): half width `top` at v = cy - hh, `bottom` at v = cy + hh.
    case trapezoid(cx: Float, cy: Float, top: Float, bottom: Float, hh: Float)

    public enum Half: Sendable, Hashable { case full, right, top }

    /// Centre of the shape (pattern origin).
    public var center: (Float, Float) {
        switch self {
        case let .ellipse(cx, cy, _, _), let .box(cx, cy, _, _, _),
             let .ring(cx, cy, _, _, _), let .trapezoid(cx, cy, _, _, _):
            return (cx, cy)
        }
    }

    /// The same shape moved by (du, dv).
    public func shifted(_ du: Float, _ dv: Float) -> Shape {
        switch self {
        case let .ellipse(cx, cy, rx, ry): return .ellipse(cx: cx + du, cy: cy + dv, rx: rx, ry: ry)
        case let .box(cx, cy, hx, hy, r): return .box(cx: cx + du, cy: cy + dv, hx: hx, hy: hy, r: r)
        case let .ring(cx, cy, o, i, h): return .ring(cx: cx + du, cy: cy + dv, outer: o, inner: i, half: h)
        case let .trapezoid(cx, cy, t, b, hh): return .trapezoid(cx: cx + du, cy: cy + dv, top: t, bottom: b, hh: hh)
        }
    }

    /// Bounding box (minU, minV, maxU, maxV).
    public var bounds: (Float, Float, Float, Float) {
        switch self {
        case let .ellipse(cx, cy, rx, ry): return (cx - rx, cy - ry, cx + rx, cy + ry)
        case let .box(cx, cy, hx, hy, _): return (cx - hx, cy - hy, cx + hx, cy + hy)
        case let .ring(cx, cy, o, _, _): return (cx - o, cy - o, cx + o, cy + o)
        case let .trapezoid(cx, cy, t, b, hh): let w = max(t, b); return (cx - w, cy - hh, cx + w, cy + hh)
        }
    }

    @inline(__always)
    public func contains(_ u: Float, _ v: Float) -> Bool {
        switch self {
        case let .ellipse(cx, cy, rx, ry):
            let a = (u - cx) / rx, b = (v - cy) / ry
            return a * a + b * b <= 1
        case let .box(cx, cy, hx, hy, r):
            let qx = abs(u - cx) - (hx - r), qy = abs(v - cy) - (hy - r)
            if qx > r || qy > r { return false }
            if qx <= 0 || qy <= 0 { return true }
            return qx * qx + qy * qy <= r * r
        case let .ring(cx, cy, o, i, half):
            let du = u - cx, dv = v - cy
            switch half {
            case .full: break
            case .right: if du < 0 { return false }
            case .top: if dv > 0 { return false }
            }
            let d2 = du * du + dv * dv
            return d2 <= o * o && d2 >= i * i
        case let .trapezoid(cx, cy, t, b, hh):
            let dv = v - cy
            if abs(dv) > hh { return false }
            let w = t + (b - t) * (dv + hh) / (2 * hh)
            return abs(u - cx) <= w
        }
    }
}

/// How a part is coloured.
public enum PartRole: Sendable, Hashable {
    /// The body pattern (main / secondary colours).
    case main
    /// Main colour, no pattern.
    case mainSolid
    /// The accent pattern (secondary colour first).
    case accent
    /// A fixed dark detail (eyes, hands, poles).
    case detail
}

/// One part of a category template.
public struct Part: Sendable, Hashable {
    public var kind: PartKind
    public var role: PartRole
    public var shape: Shape
}

/// A category's template: parts back to front and the decal placement on the body.
public struct Template: Sendable {
    public var parts: [Part]
    /// Decal centre and half size (object units); the glyph sits on a square plate of
    /// half size `decalHalf * 1.2`.
    public var decalCenter: (Float, Float)
    public var decalHalf: Float
}
