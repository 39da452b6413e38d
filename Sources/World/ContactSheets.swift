import Imaging

/// The documentation contact sheet (`docs/world.png`): every category, several instances of
/// one category (told apart by decal and pattern), every background, the defects with
/// their masks, and one HPatches viewpoint sequence.
public enum WorldSheet {
    public static func make(size: Int = 64, scale: Int = 2) throws -> Image {
        var sections: [Image] = []
        var sheet = ContactSheet(columns: 7, scale: scale)
        sheet.padding = 6

        // 1. Every category: a train subject on the clean background, canonical pose.
        var items: [(image: Image, caption: String?)] = []
        for c in ObjectCategory.allCases {
            let s = Subject(category: c, instance: 1)
            let r = try Renderer.render(RenderRequest(subject: s, scene: .clean, size: size, supersample: 3))
            items.append((r.image, c.noun))
        }
        sections.append(sheet.render(items, title: "CATEGORIES (CLEAN BACKGROUND)"))

        // 2. Seven mugs: same template, identity by colour, pattern and decal.
        items = []
        for i in 0..<7 {
            let s = Subject(category: .mug, instance: UInt64(10 + i))
            let a = s.appearance
            let r = try Renderer.render(RenderRequest(subject: s, scene: .clean, size: size, supersample: 3))
            items.append((r.image, "\(a.body.kind.adjective) \(a.decal.rawValue)"))
        }
        sections.append(sheet.render(items, title: "INSTANCES OF ONE CATEGORY"))

        // 3. Every background with a posed subject.
        items = []
        for (k, b) in Background.allCases.enumerated() {
            let s = Subject(category: ObjectCategory.allCases[k % ObjectCategory.allCases.count], instance: 3)
            let req = RenderRequest(subject: s, scene: Scene(background: b, seed: UInt64(k)),
                                    pose: .random(seed: 7, index: UInt64(k)), size: size, supersample: 3)
            items.append((try Renderer.render(req).image, b.rawValue))
        }
        sections.append(sheet.render(items, title: "BACKGROUNDS AND POSES"))

        // 4. Defects on one striped subject: the corrupted image above its defect mask.
        let striped = (0..<200).map { Subject(category: .backpack, instance: UInt64($0)) }
            .first { $0.appearance.body.kind == .stripes }!
        let req = RenderRequest(subject: striped, scene: Scene(background: .grassField, seed: 2),
                                pose: Pose(rotationDegrees: 8), size: size, supersample: 3)
        let orig = try Renderer.render(req)
        var top: [(image: Image, caption: String?)] = [(orig.image, "original")]
        var bottom: [(image: Image, caption: String?)] = [(maskImage(orig.mask.map { $0 > 0 ? 1 : 0 }, size), "object mask")]
        for d in Defect.applicable(to: striped) {
            guard let r = try? DefectInjector.inject(d, into: req, original: orig) else { continue }
            top.append((r.image, "\(d)".components(separatedBy: "(")[0]))
            bottom.append((maskImage(r.mask, size), "defect mask"))
        }
        sections.append(sheet.render(top, title: "DEFECTS (IMAGE, THEN ITS MASK BELOW)"))
        sections.append(sheet.render(bottom))

        // 5. One HPatches viewpoint sequence (image 1 and its five warps).
        let seq = try HPatches.makeViewpoint(name: "v_world_demo", seed: 3, size: size)
        let hp = seq.images.enumerated().map { (k, img) in (image: img, caption: Optional(k == 0 ? "1 (ref)" : "H_1_\(k + 1)")) }
        var hsheet = sheet; hsheet.columns = 6
        sections.append(hsheet.render(hp, title: "HPATCHES SEQUENCE V_WORLD_DEMO"))
        return ContactSheet.stack(sections, gap: 4)
    }

    /// A 0/1 mask as a white-on-black RGB image.
    static func maskImage(_ mask: [UInt8], _ size: Int) -> Image {
        Image(unchecked: size, size, 3, mask.flatMap { $0 != 0 ? [255, 255, 255] : [30, 30, 30] })
    }
}
