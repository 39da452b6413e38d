/// The world-truth attributes a judge reads from a render (issue 14): every one is a fact of the
/// world (the subject's `Appearance` and the scene's background), so a judge's label is exact.
/// Class order is the enum order of the world type the attribute names (`ColorName.allCases`, ...).
public enum WorldAttribute: String, CaseIterable, Sendable, Codable {
    case category
    case mainColor = "main_color"
    case secondaryColor = "secondary_color"
    case bodyPattern = "body_pattern"
    case accentPattern = "accent_pattern"
    case decal
    case decalColor = "decal_color"
    case background

    /// Class names in label order.
    public var classNames: [String] {
        switch self {
        case .category: return ObjectCategory.allCases.map(\.rawValue)
        case .mainColor, .secondaryColor, .decalColor: return ColorName.allCases.map(\.rawValue)
        case .bodyPattern, .accentPattern: return PatternKind.allCases.map(\.rawValue)
        case .decal: return DecalKind.allCases.map(\.rawValue)
        case .background: return Background.allCases.map(\.rawValue)
        }
    }

    /// The label of a render of `subject` (drawn with `appearance`, default its own) on `background`.
    public func label(_ subject: Subject, appearance: Appearance? = nil, background: Background) -> Int {
        let a = appearance ?? subject.appearance
        switch self {
        case .category: return subject.category.index
        case .mainColor: return ColorName.allCases.firstIndex(of: a.main)!
        case .secondaryColor: return ColorName.allCases.firstIndex(of: a.secondary)!
        case .bodyPattern: return PatternKind.allCases.firstIndex(of: a.body.kind)!
        case .accentPattern: return PatternKind.allCases.firstIndex(of: a.accent.kind)!
        case .decal: return DecalKind.allCases.firstIndex(of: a.decal)!
        case .decalColor: return ColorName.allCases.firstIndex(of: a.decalColor)!
        case .background: return WorldAttribute.backgroundLabel(background)
        }
    }

    /// The `background` head's label of a scene (a prompt's background has no subject).
    public static func backgroundLabel(_ background: Background) -> Int { Background.allCases.firstIndex(of: background)! }

    /// Whether a render of `subject` can tell its main colour from its secondary one at all: not when the
    /// body pattern paints both colours in equal shares with nothing to orient them (stripes and checker:
    /// 50/50 with a random phase; a horizontal gradient, which the random flip mirrors), the accent parts
    /// do the same (stripes), and no part is painted in the main colour alone (teddy and robot-toy heads).
    /// Then the same image arises with the two colours swapped, and no judge can read which is the main
    /// one. (A gradient at 45, 90 or 135 degrees always puts the main colour on top, flipped or not.)
    public static func mainColorIsAmbiguous(_ subject: Subject, appearance: Appearance? = nil) -> Bool {
        let a = appearance ?? subject.appearance
        let bodyEven = a.body.kind == .stripes || a.body.kind == .checker || (a.body.kind == .gradient && a.body.angle == 0)
        let accentEven = a.accent.kind == .stripes || a.accent.kind == .checker
        let mainOnly = subject.category.template.parts.contains { $0.role == .mainSolid }
        return bodyEven && accentEven && !mainOnly
    }

    /// Whether a reading keeps the main colour of `subject`: the main-colour head reads it, or, where the
    /// world cannot tell main from secondary (`mainColorIsAmbiguous`), the two colour heads read the pair
    /// swapped. `predicted` holds class indices by `WorldAttribute` raw value.
    public static func keepsMainColor(_ predicted: [String: Int], main: Int, secondary: Int, ambiguous: Bool) -> Bool {
        guard let pm = predicted[WorldAttribute.mainColor.rawValue] else { return false }
        if pm == main { return true }
        return ambiguous && pm == secondary && predicted[WorldAttribute.secondaryColor.rawValue] == main
    }

    /// Whether a judge's reading `predicted` (class indices by raw value) of a render of `subject` in
    /// `background` keeps its identity (category, main colour as far as the world determines it, body
    /// pattern), its detail (decal glyph and colour) and the scene (the background).
    public static func fidelity(_ predicted: [String: Int], subject s: Subject, background: Background)
        -> (identity: Bool, detail: Bool, scene: Bool) {
        let parts = identityParts(predicted, subject: s, background: background)
        return (parts.category && parts.mainColor && parts.bodyPattern,
                detail.allSatisfy { predicted[$0.rawValue] == $0.label(s, background: background) },
                predicted[WorldAttribute.background.rawValue] == backgroundLabel(background))
    }

    /// The three parts of `fidelity`'s identity one by one (which of them a generator misses).
    public static func identityParts(_ predicted: [String: Int], subject s: Subject, background: Background)
        -> (category: Bool, mainColor: Bool, bodyPattern: Bool) {
        let main = keepsMainColor(predicted, main: WorldAttribute.mainColor.label(s, background: background),
                                  secondary: WorldAttribute.secondaryColor.label(s, background: background),
                                  ambiguous: mainColorIsAmbiguous(s))
        return (predicted[WorldAttribute.category.rawValue] == WorldAttribute.category.label(s, background: background), main,
                predicted[WorldAttribute.bodyPattern.rawValue] == WorldAttribute.bodyPattern.label(s, background: background))
    }

    /// The attributes that make a subject's global identity (issue 14 `identity`).
    public static let identity: [WorldAttribute] = [.category, .mainColor, .bodyPattern]
    /// The local details PatchDPO targets (issue 14 `detail`): the decal's glyph and colour.
    public static let detail: [WorldAttribute] = [.decal, .decalColor]
    /// The attributes of the subject (all but the scene's background).
    public static let subject: [WorldAttribute] = allCases.filter { $0 != .background }
}
