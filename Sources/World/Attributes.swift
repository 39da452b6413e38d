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
        case .background: return Background.allCases.firstIndex(of: background)!
        }
    }

    /// The attributes that make a subject's global identity (issue 14 `identity`).
    public static let identity: [WorldAttribute] = [.category, .mainColor, .bodyPattern]
    /// The local details PatchDPO targets (issue 14 `detail`): the decal's glyph and colour.
    public static let detail: [WorldAttribute] = [.decal, .decalColor]
    /// The attributes of the subject (all but the scene's background).
    public static let subject: [WorldAttribute] = allCases.filter { $0 != .background }
}
