import Foundation

/// A subject: an object category plus an instance seed. The seed fixes its identity
/// (colours, patterns, decal, proportions) through `appearance`.
public struct Subject: Sendable, Hashable, Codable, CustomStringConvertible {
    public let category: ObjectCategory
    public let instance: UInt64

    public init(category: ObjectCategory, instance: UInt64) {
        self.category = category; self.instance = instance
    }

    /// Stable id such as "mug-0042".
    public var id: String {
        category.rawValue.replacingOccurrences(of: " ", with: "_") + "-" + zeroPadded4(instance)
    }
    public var description: String { id }

    /// The split this subject belongs to (fixed by its instance seed; see `Split`).
    public var split: Split { Split.of(instance: instance) }

    /// The instance's identity, a pure function of (category, instance).
    public var appearance: Appearance { Appearance(subject: self) }
}

/// Train / validation / test split by instance seed, fixed forever:
/// `instance % 10 == 9` -> test, `== 8` -> validation, otherwise train (80/10/10).
/// `data/vocab/splits.csv` records it for seeds 0..<100 (a test checks the file).
public enum Split: String, CaseIterable, Sendable, Codable {
    case train, validation, test

    public static func of(instance: UInt64) -> Split {
        switch instance % 10 {
        case 9: return .test
        case 8: return .validation
        default: return .train
        }
    }

    /// The first `count` subjects of `category` in this split, in instance order.
    public func subjects(of category: ObjectCategory, count: Int) -> [Subject] {
        var out: [Subject] = []
        var s: UInt64 = 0
        while out.count < count {
            if Split.of(instance: s) == self { out.append(Subject(category: category, instance: s)) }
            s += 1
        }
        return out
    }

    /// CSV listing (`category,instance,subject_id,split`) of every subject with instance < `instances`.
    public static func listingCSV(instances: Int) -> String {
        var lines = ["category,instance,subject_id,split"]
        for c in ObjectCategory.allCases {
            for i in 0..<UInt64(instances) {
                let s = Subject(category: c, instance: i)
                lines.append("\(c.rawValue),\(i),\(s.id),\(s.split.rawValue)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// A surface pattern: two colours, a kind, an orientation and a period (object units).
public struct Pattern: Sendable, Hashable, Codable {
    public var kind: PatternKind
    public var primary: ColorName
    public var secondary: ColorName
    /// Orientation in degrees (stripes, checker, gradient direction).
    public var angle: Float
    /// Period in object units (the object spans [-1, 1]).
    public var period: Float
    /// Phase offset in periods.
    public var phase: Float
    /// Stripe index painted in the primary colour instead (the "drop stripe" defect).
    public var droppedStripe: Int? = nil
}

/// The identity of a subject: everything a render needs besides scene and pose.
/// Defects edit a copy of it (see `Defects.swift`).
public struct Appearance: Sendable, Hashable, Codable {
    public var main: ColorName
    public var secondary: ColorName
    public var body: Pattern
    public var accent: Pattern
    public var decal: DecalKind
    public var decalColor: ColorName
    /// Plate colour under the glyph (black or white, whichever contrasts the glyph).
    public var plateColor: ColorName
    /// Horizontal stretch of the whole object (proportion jitter, 0.92...1.08).
    public var aspect: Float
    /// Parts displaced by the "shift part" defect: (part, du, dv) in object units.
    public var shifted: [PartShift] = []

    public struct PartShift: Sendable, Hashable, Codable {
        public var part: PartKind
        public var du: Float
        public var dv: Float
    }

    init(subject: Subject) {
        let seed = subject.instance
        let stream = Stream.appearance.rawValue &+ UInt64(subject.category.index) << 8
        func pick(_ n: Int, _ i: UInt64) -> Int { WorldRandom.below(n, seed: seed, stream: stream, index: i) }
        func u(_ i: UInt64) -> Float { WorldRandom.unit(seed: seed, stream: stream, index: i) }
        let colors = ColorName.allCases
        let main = colors[pick(colors.count, 0)]
        let others = colors.filter { $0 != main && abs($0.luma - main.luma) > 0.12 }
        let secondary = others[pick(others.count, 1)]
        let bodyKind = PatternKind.allCases[pick(PatternKind.allCases.count, 2)]
        let angles: [Float] = [0, 45, 90, 135]
        body = Pattern(kind: bodyKind, primary: main, secondary: secondary,
                       angle: angles[pick(4, 3)], period: 0.30 + 0.14 * u(4), phase: u(5))
        let accentKinds: [PatternKind] = [.solid, .solid, .stripes, .dots]
        accent = Pattern(kind: accentKinds[pick(4, 6)], primary: secondary, secondary: main,
                         angle: angles[pick(4, 7)], period: 0.26 + 0.1 * u(8), phase: u(9))
        decal = DecalKind.allCases[pick(DecalKind.allCases.count, 10)]
        let decalChoices = colors.filter { $0 != main && $0 != secondary && $0 != .gray }
        let dc = decalChoices[pick(decalChoices.count, 11)]
        decalColor = dc
        plateColor = dc.luma > 0.45 ? .black : .white
        aspect = 0.92 + 0.16 * u(12)
        self.main = main; self.secondary = secondary
    }
}

/// Zero-padded decimal, at least 4 digits.
func zeroPadded4(_ v: UInt64) -> String {
    let s = "\(v)"
    return String(repeating: "0", count: max(0, 4 - s.count)) + s
}
