/// The world's vocabularies. The names here are the contents of `data/vocab/objects.txt`
/// and `data/vocab/backgrounds.txt` (a test checks they agree), and the words prompts use.

/// Object categories: each is a template of parts (see `Templates.swift`).
public enum ObjectCategory: String, CaseIterable, Sendable, Codable, Hashable {
    case mug, backpack, ball, teddy, vase, clock, sneaker, can, box, lamp
    case robotToy = "robot toy"
    case bottle, handbag

    /// The class noun used in prompts ("robot toy").
    public var noun: String { rawValue }
    /// Stable small integer (index in `allCases`).
    public var index: Int { Self.allCases.firstIndex(of: self)! }
}

/// Scene backgrounds; `clean` is the plain light background used for reference images.
public enum Background: String, CaseIterable, Sendable, Codable, Hashable {
    case clean
    case beach, forest, snow
    case cityStreet = "city street"
    case kitchenTable = "kitchen table"
    case nightSky = "night sky"
    case desert
    case grassField = "grass field"
    case brickWall = "brick wall"
    case livingRoom = "living room"

    /// The non-clean backgrounds (the ones listed in backgrounds.txt).
    public static var textured: [Background] { allCases.filter { $0 != .clean } }

    /// The phrase a prompt uses to place an object in this background.
    public var phrase: String {
        switch self {
        case .clean: return "on a plain background"
        case .beach: return "on the beach"
        case .forest: return "in the forest"
        case .snow: return "in the snow"
        case .cityStreet: return "on a city street"
        case .kitchenTable: return "on the kitchen table"
        case .nightSky: return "under the night sky"
        case .desert: return "in the desert"
        case .grassField: return "on a grass field"
        case .brickWall: return "in front of a brick wall"
        case .livingRoom: return "in the living room"
        }
    }
}

/// Named colours (prompts name them); `rgb` in 0...1, linear blend space.
public enum ColorName: String, CaseIterable, Sendable, Codable {
    case red, orange, yellow, green, teal, blue, purple, pink, brown, white, black, gray

    public var rgb: SIMD3<Float> {
        switch self {
        case .red: return SIMD3(0.85, 0.12, 0.12)
        case .orange: return SIMD3(0.98, 0.55, 0.10)
        case .yellow: return SIMD3(0.98, 0.88, 0.15)
        case .green: return SIMD3(0.15, 0.65, 0.20)
        case .teal: return SIMD3(0.05, 0.60, 0.60)
        case .blue: return SIMD3(0.15, 0.30, 0.85)
        case .purple: return SIMD3(0.50, 0.20, 0.70)
        case .pink: return SIMD3(0.97, 0.55, 0.75)
        case .brown: return SIMD3(0.50, 0.30, 0.13)
        case .white: return SIMD3(0.96, 0.96, 0.94)
        case .black: return SIMD3(0.08, 0.08, 0.09)
        case .gray: return SIMD3(0.52, 0.52, 0.54)
        }
    }

    /// Rec. 601 luma, for choosing contrasting decal colours.
    public var luma: Float { 0.299 * rgb.x + 0.587 * rgb.y + 0.114 * rgb.z }
}

/// Surface patterns of a part.
public enum PatternKind: String, CaseIterable, Sendable, Codable {
    case solid, stripes, dots, checker, gradient

    /// The adjective a comprehensive caption uses ("striped").
    public var adjective: String {
        switch self {
        case .solid: return "plain"
        case .stripes: return "striped"
        case .dots: return "dotted"
        case .checker: return "checkered"
        case .gradient: return "gradient"
        }
    }
}

/// Decal glyphs: small high-frequency logos placed at a fixed spot on the body.
public enum DecalKind: String, CaseIterable, Sendable, Codable {
    case star, heart, cross, ring, triangle, diamond, moon, bars
}

/// Part identifiers of the part-id map (0 = background).
public enum PartKind: UInt8, CaseIterable, Sendable, Codable {
    case background = 0, body, handle, lid, strap, base, head, limb, detail, decal
}
