import ErrorKinds
import Foundation
import Random
import World

/// One prompt of the generation pool (PatchDPO 4.1, HG-DPO 3.1): the prompt text, the training subject
/// whose clean-background render is the reference, the background named in the prompt, and one seed per
/// generated image. Item `i` depends only on (pool seed, i, images per prompt, subjects per category),
/// so raising the prompt count appends items and never changes finished ones.
public struct PoolItemPlan: Codable, Sendable, Equatable {
    public struct SubjectRef: Codable, Sendable, Equatable {
        public var category: String
        public var instance: UInt64
    }
    /// `p00000`, `p00001`, ...
    public var key: String
    public var prompt: String
    public var subject: SubjectRef
    public var background: String
    /// One initial-noise seed per generated image (distinct within the item).
    public var seeds: [UInt64]

    /// The world subject of `subject` (an unknown category is a typed error).
    public func worldSubject() throws(PoolError) -> Subject {
        guard let c = ObjectCategory(rawValue: subject.category) else {
            throw .badFile(path: key, reason: "unknown category `\(subject.category)`",
                           hint: "use one of \(ObjectCategory.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return Subject(category: c, instance: subject.instance)
    }
}

/// Seeded prompt planning over the training subjects (no test or validation subject ever enters the pool).
public enum PoolPlanner {
    /// Item key of index `i`: `p` + five digits.
    public static func key(_ i: Int) -> String { "p" + String(format: "%05d", i) }

    /// The first `count` items of the pool of `seed`. `plan(count: n)` is a prefix of `plan(count: m)`
    /// for n <= m (append-only growth).
    /// - prompt, category, background: `World.Prompts.list(count:seed:)` (categories x textured
    ///   backgrounds in a seed-shuffled cycle, templates vary);
    /// - subject: train subject number u of that category, u uniform in 0..<subjectsPerCategory drawn
    ///   from RNGKey(seed).fold("pool-subject").fold(i);
    /// - seeds[k] = 64-bit value of RNGKey(seed).fold("pool-seed").fold(i).fold(k) (k < imagesPerPrompt).
    public static func plan(count: Int, seed: UInt64, imagesPerPrompt: Int, subjectsPerCategory: Int) -> [PoolItemPlan] {
        precondition(count >= 0 && imagesPerPrompt >= 1 && subjectsPerCategory >= 1,
                     "PoolPlanner.plan: count \(count), imagesPerPrompt \(imagesPerPrompt), subjectsPerCategory \(subjectsPerCategory)")
        let prompts = Prompts.list(count: count, seed: seed)
        let root = RNGKey(seed: seed)
        return prompts.enumerated().map { i, p in
            let u = Int(root.fold(in: "pool-subject").fold(in: UInt64(i)).uint32(at: 0) % UInt32(subjectsPerCategory))
            let subject = Split.train.subjects(of: p.category, count: u + 1)[u]
            let seeds = (0..<imagesPerPrompt).map { k in
                let key = root.fold(in: "pool-seed").fold(in: UInt64(i)).fold(in: UInt64(k))
                return UInt64(key.k0) << 32 | UInt64(key.k1)
            }
            return PoolItemPlan(key: key(i), prompt: p.prompt,
                                subject: .init(category: subject.category.rawValue, instance: subject.instance),
                                background: p.background.rawValue, seeds: seeds)
        }
    }
}

/// `pool/<key>/prompt.json`: the plan of an item plus the files written for it (names relative to
/// the item's directory: `reference.png`, `gen-0.png`, ...).
public struct PoolPromptRecord: Codable, Sendable, Equatable {
    public var key: String
    public var prompt: String
    public var subject: PoolItemPlan.SubjectRef
    public var background: String
    public var seeds: [UInt64]
    public var reference: String
    public var files: [String]
    /// The generator that sampled the files when it is not the IP-Adapter model: "jedi" (absent = adapter).
    public var generator: String?

    public init(plan: PoolItemPlan, reference: String, files: [String], generator: String? = nil) {
        key = plan.key; prompt = plan.prompt; subject = plan.subject; background = plan.background
        seeds = plan.seeds; self.reference = reference; self.files = files; self.generator = generator
    }

    /// Key-sorted pretty JSON.
    public func encoded() throws -> Data { try PoolJSON.encode(self) }

    /// Parses a record; the error names `path`.
    public static func decode(_ data: Data, path: String) throws(PoolError) -> PoolPromptRecord {
        do { return try JSONDecoder().decode(PoolPromptRecord.self, from: data) } catch {
            throw .badFile(path: path, reason: "not a pool prompt record: \(error)", hint: "rerun generate-pool with --force")
        }
    }
}

/// Stable JSON encoding (sorted keys, pretty) for every file this module writes.
public enum PoolJSON {
    /// Throws instead of writing an empty file (a non-finite number cannot be JSON).
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try e.encode(value)
    }
}

/// Bad input met by the pool stages; each case names the file and ends with a hint.
public enum PoolError: Error, CustomStringConvertible, Equatable {
    case badFile(path: String, reason: String, hint: String)
    case badConfig(key: String, reason: String)

    public var description: String {
        switch self {
        case let .badFile(path, reason, hint): return "\(path): \(reason); hint: \(hint)"
        case let .badConfig(key, reason): return "config key `\(key)`: \(reason); hint: fix it in the stage's section or with --set"
        }
    }
}

extension PoolError: ClassifiedError {
    /// Both cases are bad data: a file that does not read as its contract, a config value the stage cannot use.
    public var errorKind: ErrorKind {
        switch self {
        case .badFile, .badConfig: return .badData
        }
    }
}
