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
        return ContactSheet.stack(sections, gap: 4)
    }
}
