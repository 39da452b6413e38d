import Foundation
import Random
import World

/// One prompt of the bench for one subject: its index in the subject's list, the text, and its kind
/// ("scene": the subject placed in a background; "attribute": a colour or pattern change).
public struct BenchPrompt: Codable, Sendable, Equatable {
    public var index: Int
    public var text: String
    public var kind: String
    /// One initial-noise seed per image k (the same for every model).
    public var seeds: [UInt64]
    /// World prompts: the prompted background (`Background` raw value), and for an attribute prompt the
    /// colour (`ColorName`) or pattern (`PatternKind`) it asks for instead of the subject's own.
    public var background: String?
    public var colour: String?
    public var pattern: String?
    public init(index: Int, text: String, kind: String, seeds: [UInt64], background: String? = nil, colour: String? = nil,
                pattern: String? = nil) {
        self.index = index; self.text = text; self.kind = kind; self.seeds = seeds
        self.background = background; self.colour = colour; self.pattern = pattern
    }

    /// The prompt as a world edit: its background and the appearance change it asks for (nil fields when
    /// the prompt is not a world prompt).
    public var worldBackground: Background? { background.flatMap(Background.init(rawValue:)) }

    /// `appearance` with this prompt's requested change: a colour replaces the main colour (body primary
    /// and accent secondary, as the world paints it), a pattern replaces the body's pattern kind.
    public func edited(_ appearance: Appearance) -> Appearance {
        var a = appearance
        if let c = colour.flatMap(ColorName.init(rawValue:)) {
            a.main = c; a.body.primary = c; a.accent.secondary = c
        }
        if let p = pattern.flatMap(PatternKind.init(rawValue:)) { a.body.kind = p }
        return a
    }
}

/// One evaluated subject: a stable id (world `mug-0009`, or a DreamBench folder name), where its
/// references come from, and its prompts.
public struct BenchSubject: Codable, Sendable, Equatable {
    public var id: String
    /// World subject (nil for a DreamBench folder subject).
    public var category: String?
    public var instance: UInt64?
    /// Class noun used in prompts ("mug", "robot toy", or the DreamBench class).
    public var noun: String
    public var prompts: [BenchPrompt]

    /// The world subject (nil for a folder subject or an unknown category).
    public var worldSubject: Subject? {
        guard let c = category.flatMap(ObjectCategory.init(rawValue:)), let i = instance else { return nil }
        return Subject(category: c, instance: i)
    }
}

/// The DreamBench protocol on the world (issue 7): a pure function of (subjects, prompts per subject,
/// images per prompt, seed).
/// - subjects: test-split subjects (by default; nothing trains on the test split), categories in
///   `ObjectCategory.allCases` order, subject i is subject number `firstSubject + i / 13` of category
///   i % 13 in the split. Tuning runs use `.validation` from subject 16 on: validation subjects the
///   judges never trained on (they train on the first 16 of each category), and not the test subjects
///   the final numbers are measured on;
/// - prompts: the subject's canonical list of 25 (`promptList`), of which the first P are used;
/// - seeds[k] of prompt j of subject s: the 64-bit value of RNGKey(seed).fold("bench-seed").fold(s.id).fold(j).fold(k).
public enum BenchPlanner {
    /// Scene prompts (10 backgrounds x 2 templates), then attribute prompts.
    public static let scenePrompts = 20
    public static let attributePrompts = 5
    public static var fullPromptCount: Int { scenePrompts + attributePrompts }

    /// Seed of image k of prompt `prompt` of subject `subject` (independent of the model).
    public static func seed(_ seed: UInt64, subject: String, prompt: Int, image k: Int) -> UInt64 {
        let key = RNGKey(seed: seed).fold(in: "bench-seed").fold(in: subject).fold(in: UInt64(prompt)).fold(in: UInt64(k))
        return UInt64(key.k0) << 32 | UInt64(key.k1)
    }

    /// The world bench: `subjects` subjects of `split` (from number `firstSubject` of each category)
    /// x `prompts` prompts x `imagesPerPrompt` seeds.
    public static func world(subjects: Int, prompts: Int, imagesPerPrompt: Int, seed: UInt64,
                             split: Split = .test, firstSubject: Int = 0) -> [BenchSubject] {
        precondition(subjects >= 1 && prompts >= 1 && prompts <= fullPromptCount && imagesPerPrompt >= 1 && firstSubject >= 0,
                     "BenchPlanner.world: subjects \(subjects), prompts \(prompts) (max \(fullPromptCount)), images \(imagesPerPrompt), first \(firstSubject)")
        let cats = ObjectCategory.allCases
        return (0..<subjects).map { i in
            let c = cats[i % cats.count], u = firstSubject + i / cats.count
            let s = split.subjects(of: c, count: u + 1)[u]
            let texts = promptList(s, seed: seed).prefix(prompts)
            let ps = texts.enumerated().map { j, t in
                var p = t
                p.index = j
                p.seeds = (0..<imagesPerPrompt).map { seedFor(seed, s.id, j, $0) }
                return p
            }
            return BenchSubject(id: s.id, category: c.rawValue, instance: s.instance, noun: c.noun, prompts: ps)
        }
    }

    /// A folder bench: each subject's prompts (already filled with its class noun), first `prompts` of them.
    public static func folder(_ subjects: [(id: String, noun: String, prompts: [String])], prompts: Int,
                              imagesPerPrompt: Int, seed: UInt64) -> [BenchSubject] {
        subjects.map { s in
            let ps = s.prompts.prefix(prompts).enumerated().map { j, t in
                BenchPrompt(index: j, text: t, kind: "scene", seeds: (0..<imagesPerPrompt).map { seedFor(seed, s.id, j, $0) })
            }
            return BenchSubject(id: s.id, category: nil, instance: nil, noun: s.noun, prompts: Array(ps))
        }
    }

    /// The 25 prompts of a world subject, interleaved so that any prefix mixes kinds: positions
    /// 0, 5, 10, 15, 20 are attribute prompts, the others scenes. Scenes: every textured background
    /// once with template `t1`, then once more with template `t2` (both drawn from (seed, subject)).
    /// Attributes: "a <colour> <noun> <where>" with a colour other than the subject's main colour
    /// (three of them), "a <pattern adjective> <noun> <where>" with a pattern the body does not have (two).
    /// Every word is in `WorldText`'s vocabulary (colours, pattern adjectives, nouns, background phrases).
    /// Each prompt carries its background and requested change (`index` and `seeds` are filled by the caller).
    public static func promptList(_ s: Subject, seed: UInt64) -> [BenchPrompt] {
        let key = RNGKey(seed: seed).fold(in: "bench-prompts").fold(in: s.id)
        func pick(_ n: Int, _ i: UInt64) -> Int { Int(key.uint32(at: i) % UInt32(n)) }
        let backgrounds = Background.textured
        let ts = Prompts.templates
        let t1 = pick(ts.count, 0), t2 = (t1 + 1 + pick(ts.count - 1, 1)) % ts.count
        var scenes: [BenchPrompt] = []
        for (round, t) in [t1, t2].enumerated() {
            let offset = pick(backgrounds.count, UInt64(2 + round))
            for b in 0..<backgrounds.count {
                let bg = backgrounds[(b + offset) % backgrounds.count]
                scenes.append(BenchPrompt(index: 0, text: Prompts.fill(ts[t], object: s.category.noun, background: bg), kind: "scene",
                                          seeds: [], background: bg.rawValue))
            }
        }
        let a = s.appearance
        let colours = ColorName.allCases.filter { $0 != a.main }
        let patterns = PatternKind.allCases.filter { $0 != a.body.kind && $0 != .solid }
        var attributes: [BenchPrompt] = []
        for i in 0..<attributePrompts {
            let bg = backgrounds[pick(backgrounds.count, UInt64(10 + i))]
            let colour = i < 3 ? colours[(pick(colours.count, 4) + i * 5) % colours.count] : nil
            let pattern = i < 3 ? nil : patterns[(pick(patterns.count, 5) + i) % patterns.count]
            let word = colour?.rawValue ?? pattern!.adjective
            attributes.append(BenchPrompt(index: 0, text: "a \(word) \(s.category.noun) \(bg.phrase)", kind: "attribute", seeds: [],
                                          background: bg.rawValue, colour: colour?.rawValue, pattern: pattern?.rawValue))
        }
        var out: [BenchPrompt] = []
        var si = 0
        for j in 0..<fullPromptCount {
            if j % 5 == 0 { out.append(attributes[j / 5]) } else { out.append(scenes[si]); si += 1 }
        }
        return out
    }

    static func seedFor(_ seed: UInt64, _ subject: String, _ j: Int, _ k: Int) -> UInt64 {
        self.seed(seed, subject: subject, prompt: j, image: k)
    }
}
