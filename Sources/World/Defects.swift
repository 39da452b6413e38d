import Imaging

/// Local defects injected into a render: the ground truth for patch-quality estimation.
public enum Defect: Sendable, Hashable, CustomStringConvertible {
    /// The decal glyph gets another colour.
    case recolorDecal
    /// One stripe of a striped part is painted over with the base colour.
    case dropStripe
    /// The body pattern becomes another kind (stripes -> dots, ...).
    case swapPattern
    /// A part is box-blurred (radius 1 px per 32 px of image size).
    case blurPart(PartKind)
    /// A part is moved by (du, dv) object units.
    case shiftPart(PartKind, du: Float, dv: Float)

    public var description: String {
        switch self {
        case .recolorDecal: return "recolor-decal"
        case .dropStripe: return "drop-stripe"
        case .swapPattern: return "swap-pattern"
        case let .blurPart(p): return "blur-\(p)"
        case let .shiftPart(p, du, dv): return "shift-\(p)(\(du),\(dv))"
        }
    }

    /// Whether the defect only moves or removes content: a shifted part and a dropped stripe (painted
    /// in the base colour) leave patches whose colours and textures all appear somewhere on the
    /// undamaged subject. A patch quality that is a max over the reference's patches (METHODS 2, q_g)
    /// cannot flag them by construction; recolour, blur and swap-pattern make content the reference lacks.
    public var keepsReferenceContent: Bool {
        switch self {
        case .dropStripe, .shiftPart: return true
        case .recolorDecal, .swapPattern, .blurPart: return false
        }
    }

    /// The kind of a defect: its `description` without parameters ("shift-decal(0.18,-0.12)" -> "shift-decal").
    public var kind: String { Defect.kind(of: description) }

    /// The kind named by a defect `description` (as stored in files and sample labels).
    public static func kind(of description: String) -> String { String(description.prefix { $0 != "(" }) }

    /// `keepsReferenceContent` of a defect named by its `kind` ("shift-decal", "blur-decal",
    /// "drop-stripe", ...); nil for a name no defect has.
    public static func keepsReferenceContent(kind: String) -> Bool? {
        let probes: [Defect] = [.recolorDecal, .dropStripe, .swapPattern]
            + PartKind.allCases.flatMap { [Defect.blurPart($0), .shiftPart($0, du: 0, dv: 0)] }
        return probes.first { $0.kind == kind }?.keepsReferenceContent
    }

    /// The defects that change something for this subject (drop-stripe needs stripes).
    public static func applicable(to subject: Subject) -> [Defect] {
        let a = subject.appearance
        var out: [Defect] = [.recolorDecal, .swapPattern, .blurPart(.decal), .shiftPart(.decal, du: 0.18, dv: -0.12)]
        let accentUsed = subject.category.template.parts.contains { $0.role == .accent }
        if a.body.kind == .stripes || (accentUsed && a.accent.kind == .stripes) { out.insert(.dropStripe, at: 1) }
        return out
    }
}

/// A corrupted render: the image, the defect mask (1 exactly where any channel changed,
/// row-major H x W) and the appearance that produced it.
public struct DefectResult: Sendable {
    public var defect: Defect
    public var image: Image
    public var mask: [UInt8]
    public var appearance: Appearance
    /// Fraction of pixels changed.
    public var changedFraction: Float { Float(mask.reduce(0) { $0 + Int($1) }) / Float(max(1, mask.count)) }
}

public enum DefectInjector {
    /// Applies `defect` to the render of `request` (which must have a subject).
    /// Throws `defectNotApplicable` when the defect would change no pixel.
    public static func inject(_ defect: Defect, into request: RenderRequest,
                              original: RenderResult? = nil) throws -> DefectResult {
        guard let subject = request.subject else {
            throw WorldError.defectNotApplicable(defect: "\(defect)", subject: "<no subject>", reason: "background-only render")
        }
        let orig = try original ?? Renderer.render(request)
        var app = request.appearance ?? subject.appearance
        func rerender(_ a: Appearance) throws -> Image {
            var r = request; r.appearance = a
            return try Renderer.render(r).image
        }
        func result(_ img: Image, _ a: Appearance) throws -> DefectResult {
            let mask = diffMask(orig.image, img)
            guard mask.contains(1) else {
                throw WorldError.defectNotApplicable(defect: "\(defect)", subject: subject.id, reason: "no pixel changes in this view")
            }
            return DefectResult(defect: defect, image: img, mask: mask, appearance: a)
        }
        let notApplicable = { (why: String) in
            WorldError.defectNotApplicable(defect: "\(defect)", subject: subject.id, reason: why)
        }
        switch defect {
        case .recolorDecal:
            let taken: Set<ColorName> = [app.decalColor, app.main, app.secondary, app.plateColor]
            let choices = ColorName.allCases.filter { !taken.contains($0) }
            app.decalColor = choices[WorldRandom.below(choices.count, seed: subject.instance,
                                                       stream: Stream.defect.rawValue, index: 0)]
            return try result(rerender(app), app)
        case .dropStripe:
            let onBody = app.body.kind == .stripes
            let pattern = onBody ? app.body : app.accent
            guard pattern.kind == .stripes else { throw notApplicable("no striped part") }
            let k0 = PreparedPattern(pattern).stripeIndex(0, 0)
            for k in [k0 + 1, k0 - 1, k0, k0 + 2, k0 - 2] {
                var a = app
                if onBody { a.body.droppedStripe = k } else { a.accent.droppedStripe = k }
                let img = try rerender(a)
                if img != orig.image { return try result(img, a) }
            }
            throw notApplicable("no stripe near the body centre is visible")
        case .swapPattern:
            let next: [PatternKind: PatternKind] = [.solid: .stripes, .stripes: .dots, .dots: .checker,
                                                   .checker: .stripes, .gradient: .checker]
            app.body.kind = next[app.body.kind]!
            return try result(rerender(app), app)
        case let .blurPart(kind):
            guard orig.parts.contains(kind.rawValue) else { throw notApplicable("part \(kind) is not visible") }
            let radius = max(1, request.width / 32)
            return try result(blur(orig.image, where: orig.parts, equals: kind.rawValue, radius: radius), app)
        case let .shiftPart(kind, du, dv):
            app.shifted.append(.init(part: kind, du: du, dv: dv))
            return try result(rerender(app), app)
        }
    }

    /// 1 where any channel differs, else 0.
    public static func diffMask(_ a: Image, _ b: Image) -> [UInt8] {
        precondition(a.width == b.width && a.height == b.height && a.channels == b.channels,
                     "diffMask: \(a.width)x\(a.height)x\(a.channels) vs \(b.width)x\(b.height)x\(b.channels)")
        var m = [UInt8](repeating: 0, count: a.width * a.height)
        for i in 0..<m.count {
            for c in 0..<a.channels where a.pixels[i * a.channels + c] != b.pixels[i * a.channels + c] {
                m[i] = 1; break
            }
        }
        return m
    }

    /// Box blur of radius r applied to the pixels whose part id equals `id` (sources may be any pixel).
    static func blur(_ img: Image, where parts: [UInt8], equals id: UInt8, radius r: Int) -> Image {
        var out = img
        let w = img.width, h = img.height, ch = img.channels
        for y in 0..<h {
            for x in 0..<w where parts[y * w + x] == id {
                var acc = [Int](repeating: 0, count: ch)
                var n = 0
                for yy in max(0, y - r)...min(h - 1, y + r) {
                    for xx in max(0, x - r)...min(w - 1, x + r) {
                        let o = (yy * w + xx) * ch
                        for c in 0..<ch { acc[c] += Int(img.pixels[o + c]) }
                        n += 1
                    }
                }
                let o = (y * w + x) * ch
                for c in 0..<ch { out.pixels[o + c] = UInt8((acc[c] + n / 2) / n) }
            }
        }
        return out
    }
}
