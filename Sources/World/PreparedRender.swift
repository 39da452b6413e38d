import Imaging

/// One render with everything resolved up front (inverse pose, patterns, decal), so the
/// per-sample loop is arithmetic only. Sample (k, l) of pixel (x, y) sits at pixel
/// coordinates (x + (k + 0.5) / n - 0.5, y + (l + 0.5) / n - 0.5) (pixel centres at integers).
struct PreparedRender {
    struct PPart { let shape: Shape; let kind: UInt8; let role: PartRole; let cu: Float; let cv: Float }

    let width: Int, height: Int, n: Int
    let scene: PreparedScene
    let lighting: Lighting
    let warp: Homography?
    let hasObject: Bool
    // Scene -> object homography (Float, row-major).
    let h: [Float]
    let parts: [PPart]
    let bounds: (Float, Float, Float, Float)
    let body: PreparedPattern, accent: PreparedPattern
    let main: SIMD3<Float>, detail: SIMD3<Float>
    let decal: DecalKind, decalU: Float, decalV: Float, decalInv: Float
    let decalColor: SIMD3<Float>, plateColor: SIMD3<Float>

    init(_ r: RenderRequest) {
        width = r.width; height = r.height; n = r.supersample
        scene = PreparedScene(r.scene); lighting = r.lighting; warp = r.viewToBase
        let subject = r.subject ?? Subject(category: .mug, instance: 0)
        hasObject = r.subject != nil
        let app = r.appearance ?? subject.appearance
        let tpl = subject.category.template
        func shift(_ k: PartKind) -> (Float, Float) {
            var du: Float = 0, dv: Float = 0
            for s in app.shifted where s.part == k { du += s.du; dv += s.dv }
            return (du, dv)
        }
        var ps: [PPart] = []
        var b: (Float, Float, Float, Float) = (.infinity, .infinity, -.infinity, -.infinity)
        for p in tpl.parts.reversed() {  // front to back: first hit wins
            let (du, dv) = shift(p.kind)
            let sh = p.shape.shifted(du, dv)
            let c = sh.center
            ps.append(PPart(shape: sh, kind: p.kind.rawValue, role: p.role, cu: c.0, cv: c.1))
            let bb = sh.bounds
            b = (min(b.0, bb.0), min(b.1, bb.1), max(b.2, bb.2), max(b.3, bb.3))
        }
        parts = ps; bounds = b
        let inv = r.pose.objectToScene(aspect: app.aspect).inverse
        h = inv.m.map { Float($0) }
        body = PreparedPattern(app.body); accent = PreparedPattern(app.accent)
        main = app.main.rgb; detail = SIMD3(0.1, 0.1, 0.12)
        let (ddu, ddv) = shift(.decal)
        decal = app.decal; decalU = tpl.decalCenter.0 + ddu; decalV = tpl.decalCenter.1 + ddv
        decalInv = 1 / tpl.decalHalf
        decalColor = app.decalColor.rgb; plateColor = app.plateColor.rgb
    }

    /// Colour and part id of the object at object coordinates (u, v); part 0 = missed.
    @inline(__always)
    func shadeObject(_ u: Float, _ v: Float) -> (SIMD3<Float>, UInt8) {
        if u < bounds.0 || v < bounds.1 || u > bounds.2 || v > bounds.3 { return (.zero, 0) }
        // Decal plate (front-most, inside the body by construction).
        let gx = (u - decalU) * decalInv, gy = (v - decalV) * decalInv
        if abs(gx) <= 1.2 && abs(gy) <= 1.2 {
            return (decal.contains(gx, gy) ? decalColor : plateColor, PartKind.decal.rawValue)
        }
        for p in parts where p.shape.contains(u, v) {
            let du = u - p.cu, dv = v - p.cv
            switch p.role {
            case .main: return (body.color(du, dv), p.kind)
            case .mainSolid: return (main, p.kind)
            case .accent: return (accent.color(du, dv), p.kind)
            case .detail: return (detail, p.kind)
            }
        }
        return (.zero, 0)
    }

    func run() -> RenderResult {
        let count = width * height
        var rgb = [UInt8](repeating: 0, count: count * 3)
        var mask = [Float](repeating: 0, count: count)
        var partMap = [UInt8](repeating: 0, count: count)
        var votes = [Int](repeating: 0, count: PartKind.allCases.count)
        let inv = 1 / Float(n)
        let sideScale = 1 / Float(min(width, height))
        let halfW = Float(width) / 2, halfH = Float(height) / 2
        let samples = Float(n * n)
        for y in 0..<height {
            for x in 0..<width {
                var acc = SIMD3<Float>.zero
                var hits = 0
                for k in 0..<votes.count { votes[k] = 0 }
                for sy in 0..<n {
                    for sx in 0..<n {
                        var bx = Float(x) + (Float(sx) + 0.5) * inv - 0.5
                        var by = Float(y) + (Float(sy) + 0.5) * inv - 0.5
                        if let warp {
                            let (wx, wy) = warp.apply(Double(bx), Double(by))
                            bx = Float(wx); by = Float(wy)
                        }
                        let sceneX = (bx + 0.5 - halfW) * sideScale + 0.5
                        let sceneY = (by + 0.5 - halfH) * sideScale + 0.5
                        var c = SIMD3<Float>.zero
                        var part: UInt8 = 0
                        if hasObject {
                            let w = h[6] * sceneX + h[7] * sceneY + h[8]
                            let u = (h[0] * sceneX + h[1] * sceneY + h[2]) / w
                            let v = (h[3] * sceneX + h[4] * sceneY + h[5]) / w
                            (c, part) = w > 0 ? shadeObject(u, v) : (.zero, 0)
                        }
                        if part == 0 { c = scene.color(sceneX, sceneY) } else { hits += 1 }
                        votes[Int(part)] += 1
                        if lighting != .neutral {
                            let shade = 1 + lighting.gradX * (sceneX - 0.5) + lighting.gradY * (sceneY - 0.5)
                            c = c * lighting.gain * shade + lighting.bias
                        }
                        acc += c
                    }
                }
                let i = y * width + x
                let mean = acc / samples
                rgb[i * 3] = Self.byte(mean.x); rgb[i * 3 + 1] = Self.byte(mean.y); rgb[i * 3 + 2] = Self.byte(mean.z)
                mask[i] = Float(hits) / samples
                var best = 0
                for k in 1..<votes.count where votes[k] > votes[best] { best = k }
                partMap[i] = UInt8(best)
            }
        }
        return RenderResult(image: Image(unchecked: width, height, 3, rgb), mask: mask, parts: partMap)
    }

    @inline(__always)
    static func byte(_ v: Float) -> UInt8 { UInt8(min(255, max(0, v * 255).rounded())) }
}
