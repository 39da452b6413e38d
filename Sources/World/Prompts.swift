import Foundation

/// Prompt generation: seeded combinatorial templates (the ChatGPT step of PatchDPO 4.1) and
/// the comprehensive-caption variant of DCO 4.3 that also names colour, pattern and decal:
/// "a red striped mug with a star logo in the forest".
public enum Prompts {
    /// Templates; `{object}` is the object phrase, `{where}` the background phrase.
    public static let templates: [String] = [
        "a {object} {where}",
        "a photo of a {object} {where}",
        "a picture of a {object} {where}",
        "a close-up photo of a {object} {where}",
        "a good photo of a {object} {where}",
        "a {object} seen {where}",
    ]

    /// What a reference render (a subject on the clean background) shows, as JeDi's sets caption their references in
    /// training, gates, the pool and the bench: the plain clean-background prompt of template seed 0.
    public static func referenceCaption(_ category: ObjectCategory) -> String { plain(category, .clean, seed: 0) }

    /// The plain prompt for (category, background), template chosen by (seed, index).
    public static func plain(_ category: ObjectCategory, _ background: Background,
                             seed: UInt64, index: UInt64 = 0) -> String {
        let t = templates[WorldRandom.below(templates.count, seed: seed, stream: Stream.prompt.rawValue, index: index)]
        return fill(t, object: category.noun, background: background)
    }

    /// The comprehensive caption: colour, pattern adjective, noun, decal, place.
    /// A solid body omits the pattern word ("a red mug with a star logo ...").
    public static func comprehensive(_ subject: Subject, _ background: Background,
                                     appearance: Appearance? = nil) -> String {
        let a = appearance ?? subject.appearance
        let pattern = a.body.kind == .solid ? "" : a.body.kind.adjective + " "
        let object = "\(a.main.rawValue) \(pattern)\(subject.category.noun) with a \(a.decal.rawValue) logo"
        return "a \(object) \(background.phrase)"
    }

    /// A seeded list of `count` (category, background, prompt) triples: categories and
    /// backgrounds cycle through all combinations in a seed-shuffled order, templates vary.
    public static func list(count: Int, seed: UInt64, backgrounds: [Background] = Background.textured)
        -> [(category: ObjectCategory, background: Background, prompt: String)] {
        let cats = ObjectCategory.allCases
        var combos: [(ObjectCategory, Background)] = []
        for c in cats { for b in backgrounds { combos.append((c, b)) } }
        // Fisher-Yates with counter-based draws.
        for i in stride(from: combos.count - 1, to: 0, by: -1) {
            let j = WorldRandom.below(i + 1, seed: seed, stream: Stream.prompt.rawValue &+ 1, index: UInt64(i))
            combos.swapAt(i, j)
        }
        return (0..<count).map { k in
            let (c, b) = combos[k % combos.count]
            return (c, b, plain(c, b, seed: seed, index: UInt64(k)))
        }
    }

    public static func fill(_ template: String, object: String, background: Background) -> String {
        template.replacingOccurrences(of: "{object}", with: object)
            .replacingOccurrences(of: "{where}", with: background.phrase)
    }
}
