/// Part templates of every category, in object units (u right, v down, roughly [-1, 1]^2).
/// Parts are listed back to front; the decal sits on the body at a fixed place.
extension ObjectCategory {
    public var template: Template {
        switch self {
        case .mug:
            return Template(parts: [
                Part(kind: .handle, role: .accent, shape: .ring(cx: 0.42, cy: 0.05, outer: 0.48, inner: 0.28, half: .right)),
                Part(kind: .body, role: .main, shape: .box(cx: -0.15, cy: 0.05, hx: 0.62, hy: 0.78, r: 0.1)),
                Part(kind: .lid, role: .accent, shape: .box(cx: -0.15, cy: -0.75, hx: 0.62, hy: 0.07, r: 0.03)),
            ], decalCenter: (-0.15, 0.1), decalHalf: 0.26)
        case .backpack:
            return Template(parts: [
                Part(kind: .strap, role: .accent, shape: .ring(cx: 0, cy: -0.62, outer: 0.38, inner: 0.24, half: .top)),
                Part(kind: .body, role: .main, shape: .box(cx: 0, cy: 0.1, hx: 0.7, hy: 0.85, r: 0.3)),
                Part(kind: .lid, role: .accent, shape: .box(cx: 0, cy: 0.55, hx: 0.5, hy: 0.3, r: 0.12)),
            ], decalCenter: (0, -0.22), decalHalf: 0.24)
        case .ball:
            return Template(parts: [
                Part(kind: .body, role: .main, shape: .ellipse(cx: 0, cy: 0, rx: 0.88, ry: 0.88)),
                Part(kind: .strap, role: .accent, shape: .box(cx: 0, cy: 0.58, hx: 0.6, hy: 0.08, r: 0.05)),
            ], decalCenter: (0, -0.08), decalHalf: 0.28)
        case .teddy:
            return Template(parts: [
                Part(kind: .limb, role: .accent, shape: .ellipse(cx: -0.52, cy: -0.78, rx: 0.22, ry: 0.22)),
                Part(kind: .limb, role: .accent, shape: .ellipse(cx: 0.52, cy: -0.78, rx: 0.22, ry: 0.22)),
                Part(kind: .limb, role: .accent, shape: .ellipse(cx: -0.62, cy: 0.25, rx: 0.2, ry: 0.3)),
                Part(kind: .limb, role: .accent, shape: .ellipse(cx: 0.62, cy: 0.25, rx: 0.2, ry: 0.3)),
                Part(kind: .body, role: .main, shape: .ellipse(cx: 0, cy: 0.42, rx: 0.58, ry: 0.56)),
                Part(kind: .head, role: .mainSolid, shape: .ellipse(cx: 0, cy: -0.45, rx: 0.46, ry: 0.42)),
                Part(kind: .detail, role: .detail, shape: .ellipse(cx: -0.17, cy: -0.5, rx: 0.07, ry: 0.07)),
                Part(kind: .detail, role: .detail, shape: .ellipse(cx: 0.17, cy: -0.5, rx: 0.07, ry: 0.07)),
            ], decalCenter: (0, 0.45), decalHalf: 0.24)
        case .vase:
            return Template(parts: [
                Part(kind: .body, role: .main, shape: .ellipse(cx: 0, cy: 0.28, rx: 0.68, ry: 0.66)),
                Part(kind: .head, role: .accent, shape: .trapezoid(cx: 0, cy: -0.5, top: 0.24, bottom: 0.3, hh: 0.3)),
                Part(kind: .lid, role: .accent, shape: .box(cx: 0, cy: -0.83, hx: 0.38, hy: 0.08, r: 0.04)),
            ], decalCenter: (0, 0.3), decalHalf: 0.26)
        case .clock:
            return Template(parts: [
                Part(kind: .base, role: .accent, shape: .ellipse(cx: -0.5, cy: 0.85, rx: 0.16, ry: 0.12)),
                Part(kind: .base, role: .accent, shape: .ellipse(cx: 0.5, cy: 0.85, rx: 0.16, ry: 0.12)),
                Part(kind: .body, role: .main, shape: .ellipse(cx: 0, cy: 0, rx: 0.78, ry: 0.78)),
                Part(kind: .lid, role: .accent, shape: .ring(cx: 0, cy: 0, outer: 0.9, inner: 0.76, half: .full)),
                Part(kind: .detail, role: .detail, shape: .box(cx: 0, cy: -0.28, hx: 0.04, hy: 0.3, r: 0.02)),
                Part(kind: .detail, role: .detail, shape: .box(cx: 0.2, cy: 0, hx: 0.22, hy: 0.04, r: 0.02)),
            ], decalCenter: (0, 0.42), decalHalf: 0.2)
        case .sneaker:
            return Template(parts: [
                Part(kind: .head, role: .accent, shape: .ellipse(cx: -0.42, cy: -0.2, rx: 0.36, ry: 0.38)),
                Part(kind: .body, role: .main, shape: .ellipse(cx: 0, cy: 0.22, rx: 0.9, ry: 0.42)),
                Part(kind: .base, role: .accent, shape: .box(cx: 0, cy: 0.6, hx: 0.94, hy: 0.13, r: 0.1)),
                Part(kind: .strap, role: .detail, shape: .box(cx: 0.25, cy: -0.05, hx: 0.22, hy: 0.05, r: 0.02)),
            ], decalCenter: (-0.05, 0.24), decalHalf: 0.2)
        case .can:
            return Template(parts: [
                Part(kind: .body, role: .main, shape: .box(cx: 0, cy: 0, hx: 0.55, hy: 0.8, r: 0.05)),
                Part(kind: .lid, role: .accent, shape: .box(cx: 0, cy: -0.84, hx: 0.5, hy: 0.07, r: 0.03)),
                Part(kind: .base, role: .accent, shape: .box(cx: 0, cy: 0.84, hx: 0.5, hy: 0.07, r: 0.03)),
            ], decalCenter: (0, 0), decalHalf: 0.28)
        case .box:
            return Template(parts: [
                Part(kind: .body, role: .main, shape: .box(cx: 0, cy: 0.18, hx: 0.76, hy: 0.66, r: 0.02)),
                Part(kind: .strap, role: .accent, shape: .box(cx: 0, cy: 0.18, hx: 0.1, hy: 0.66, r: 0)),
                Part(kind: .lid, role: .accent, shape: .box(cx: 0, cy: -0.55, hx: 0.84, hy: 0.15, r: 0.03)),
            ], decalCenter: (0.42, 0.38), decalHalf: 0.22)
        case .lamp:
            return Template(parts: [
                Part(kind: .detail, role: .detail, shape: .box(cx: 0, cy: 0.35, hx: 0.07, hy: 0.5, r: 0.02)),
                Part(kind: .base, role: .accent, shape: .ellipse(cx: 0, cy: 0.85, rx: 0.5, ry: 0.13)),
                Part(kind: .body, role: .main, shape: .trapezoid(cx: 0, cy: -0.4, top: 0.38, bottom: 0.78, hh: 0.42)),
            ], decalCenter: (0, -0.35), decalHalf: 0.22)
        case .robotToy:
            return Template(parts: [
                Part(kind: .detail, role: .detail, shape: .box(cx: 0, cy: -0.82, hx: 0.03, hy: 0.1, r: 0)),
                Part(kind: .detail, role: .accent, shape: .ellipse(cx: 0, cy: -0.92, rx: 0.08, ry: 0.08)),
                Part(kind: .limb, role: .accent, shape: .box(cx: -0.7, cy: 0.22, hx: 0.12, hy: 0.36, r: 0.06)),
                Part(kind: .limb, role: .accent, shape: .box(cx: 0.7, cy: 0.22, hx: 0.12, hy: 0.36, r: 0.06)),
                Part(kind: .base, role: .accent, shape: .box(cx: 0, cy: 0.85, hx: 0.45, hy: 0.12, r: 0.04)),
                Part(kind: .body, role: .main, shape: .box(cx: 0, cy: 0.25, hx: 0.56, hy: 0.5, r: 0.06)),
                Part(kind: .head, role: .mainSolid, shape: .box(cx: 0, cy: -0.5, hx: 0.4, hy: 0.26, r: 0.06)),
                Part(kind: .detail, role: .detail, shape: .ellipse(cx: -0.17, cy: -0.52, rx: 0.08, ry: 0.08)),
                Part(kind: .detail, role: .detail, shape: .ellipse(cx: 0.17, cy: -0.52, rx: 0.08, ry: 0.08)),
            ], decalCenter: (0, 0.25), decalHalf: 0.26)
        case .bottle:
            return Template(parts: [
                Part(kind: .body, role: .main, shape: .box(cx: 0, cy: 0.25, hx: 0.44, hy: 0.7, r: 0.14)),
                Part(kind: .head, role: .main, shape: .trapezoid(cx: 0, cy: -0.6, top: 0.16, bottom: 0.42, hh: 0.16)),
                Part(kind: .lid, role: .accent, shape: .box(cx: 0, cy: -0.85, hx: 0.17, hy: 0.1, r: 0.03)),
            ], decalCenter: (0, 0.28), decalHalf: 0.26)
        case .handbag:
            return Template(parts: [
                Part(kind: .handle, role: .accent, shape: .ring(cx: 0, cy: -0.22, outer: 0.5, inner: 0.38, half: .top)),
                Part(kind: .body, role: .main, shape: .trapezoid(cx: 0, cy: 0.3, top: 0.62, bottom: 0.88, hh: 0.55)),
                Part(kind: .lid, role: .accent, shape: .trapezoid(cx: 0, cy: -0.13, top: 0.62, bottom: 0.66, hh: 0.12)),
            ], decalCenter: (0, 0.38), decalHalf: 0.24)
        }
    }
}
