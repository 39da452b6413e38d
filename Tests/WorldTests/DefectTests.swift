import Testing
import Imaging
@testable import World

@Test func defectMasksCoverExactlyTheChangedPixels() throws {
    var tested: Set<String> = []
    for i in 0..<8 {
        let s = Subject(category: ObjectCategory.allCases[i], instance: UInt64(i * 3))
        let req = RenderRequest(subject: s, scene: Scene(background: .forest, seed: 1), pose: .random(seed: 5, index: UInt64(i)), size: 32)
        let orig = try Renderer.render(req)
        for d in Defect.applicable(to: s) {
            let r: DefectResult
            do { r = try DefectInjector.inject(d, into: req, original: orig) } catch WorldError.defectNotApplicable { continue }
            tested.insert("\(d)".components(separatedBy: "(")[0])
            #expect(r.mask.contains(1), "\(d) on \(s) changed nothing")
            for p in 0..<(32 * 32) {
                let changed = r.image.pixels[p * 3..<(p * 3 + 3)] != orig.image.pixels[p * 3..<(p * 3 + 3)]
                #expect((r.mask[p] == 1) == changed, "\(d) on \(s): pixel \(p) mask \(r.mask[p]) changed \(changed)")
            }
            if case .recolorDecal = d {
                // Only pixels at (or next to) decal pixels may change.
                for p in 0..<(32 * 32) where r.mask[p] == 1 {
                    let x = p % 32, y = p / 32
                    let near = (max(0, y - 1)...min(31, y + 1)).contains { yy in
                        (max(0, x - 1)...min(31, x + 1)).contains { xx in orig.parts[yy * 32 + xx] == PartKind.decal.rawValue } }
                    #expect(near, "recolor-decal changed pixel \(p) away from the decal")
                }
            }
        }
    }
    #expect(tested.isSuperset(of: ["recolor-decal", "swap-pattern", "blur-decal", "shift-decal", "drop-stripe"]), "\(tested)")
}

@Test func dropStripeIsRefusedWithoutStripes() throws {
    let s = (0..<100).map { Subject(category: .ball, instance: UInt64($0)) }.first {
        $0.appearance.body.kind != .stripes && $0.appearance.accent.kind != .stripes
    }!
    #expect(!Defect.applicable(to: s).contains(.dropStripe))
    #expect(throws: WorldError.self) {
        _ = try DefectInjector.inject(.dropStripe, into: RenderRequest(subject: s, scene: .clean, size: 32))
    }
}

@Test func onlyShiftAndDropStripeKeepTheReferencesContent() {
    #expect(Defect.keepsReferenceContent(kind: "shift-decal") == true)
    #expect(Defect.keepsReferenceContent(kind: "drop-stripe") == true)
    #expect(Defect.keepsReferenceContent(kind: "recolor-decal") == false)
    #expect(Defect.keepsReferenceContent(kind: "blur-decal") == false)
    #expect(Defect.keepsReferenceContent(kind: "swap-pattern") == false)
    #expect(Defect.keepsReferenceContent(kind: "melt-decal") == nil)
    #expect(Defect.shiftPart(.decal, du: 0.18, dv: -0.12).keepsReferenceContent)
    #expect(Defect.shiftPart(.decal, du: 0.18, dv: -0.12).kind == "shift-decal")
    #expect(Defect.kind(of: "shift-decal(0.18,-0.12)") == "shift-decal" && Defect.kind(of: "blur-decal") == "blur-decal")
}
