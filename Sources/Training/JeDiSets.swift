import Foundation
import Imaging
import Random
import TensorCore
import World

/// One same-subject set as JeDi trains on it (the S3 analogue): which subject, how many members, the seed of their
/// scenes and poses, and whether member 0 is the subject's clean canonical render (the reference personalization gives
/// at test time, which S3's sets never show). Everything else (the members' pixels and prompts) follows from it:
/// `JeDiSets.members`. `pretrain jedi-sets` writes one per item, as `sets/<key>.json` beside its member PNGs.
public struct JeDiSetSpec: Codable, Sendable, Equatable {
    public var subject: Subject
    public var size: Int
    public var seed: UInt64
    public var cleanMember: Bool

    public init(subject: Subject, size: Int, seed: UInt64, cleanMember: Bool) {
        self.subject = subject; self.size = size; self.seed = seed; self.cleanMember = cleanMember
    }
}

/// A set as the stage recorded it: its spec, its members' prompts and their files (relative to the record's folder).
public struct JeDiSetRecord: Codable, Sendable, Equatable {
    public var key: String
    public var spec: JeDiSetSpec
    public var prompts: [String]
    public var files: [String]

    public init(key: String, spec: JeDiSetSpec, prompts: [String], files: [String]) {
        self.key = key; self.spec = spec; self.prompts = prompts; self.files = files
    }

    /// Key-sorted pretty JSON.
    public func encoded() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try e.encode(self)
    }

    /// Parses a record; the error names `path` and what is wrong.
    public static func decode(_ data: Data, path: String) throws(TrainingError) -> JeDiSetRecord {
        let r: JeDiSetRecord
        do { r = try JSONDecoder().decode(JeDiSetRecord.self, from: data) } catch {
            throw .badSet(path: path, reason: "not a JeDi set record: \(error)")
        }
        guard SameSubjectSet.sizes.contains(r.spec.size), r.files.count == r.spec.size, r.prompts.count == r.spec.size else {
            throw .badSet(path: path, reason: "size \(r.spec.size) with \(r.files.count) files and \(r.prompts.count) prompts "
                          + "(sizes \(SameSubjectSet.sizes), one file and prompt per member)")
        }
        return r
    }
}

/// Same-subject sets for JeDi: drawing a set (`spec`), rendering its members (`members`) and sets read back from
/// `pretrain jedi-sets` (`StoredJeDiSets`). The procedural path (`JeDiTask` drawing sets per step) and the stage draw
/// with the same function, so a set is the same pixels however it reaches training.
public enum JeDiSets {
    /// The set drawn from key `k` at size `size`: a category uniformly, one of its `data` subjects, a set seed, and a
    /// clean member 0 with probability `cleanMemberFraction` (draws 0-4 of `k`, as JeDiTask has always made them).
    public static func spec(_ k: RNGKey, size: Int, data: WorldDataConfig, cleanMemberFraction: Float) -> JeDiSetSpec {
        let cats = ObjectCategory.allCases
        let c = cats[min(cats.count - 1, Int(k.uniform(at: 0) * Float(cats.count)))]
        let pool = data.pool(of: c)
        let subject = pool[min(pool.count - 1, Int(k.uniform(at: 1) * Float(pool.count)))]
        let setSeed = UInt64(k.uint32(at: 2)) << 32 | UInt64(k.uint32(at: 3))
        return JeDiSetSpec(subject: subject, size: size, seed: setSeed, cleanMember: k.uniform(at: 4) < cleanMemberFraction)
    }

    /// Set `index` of a `pretrain jedi-sets` run seeded `seed`: its size drawn from `sizes`, then `spec`.
    public static func spec(index: Int, seed: UInt64, sizes: [Int], data: WorldDataConfig, cleanMemberFraction: Float) -> JeDiSetSpec {
        precondition(!sizes.isEmpty, "JeDiSets.spec: no set sizes")
        let k = RNGKey(seed: seed).fold(in: "jedi-sets").fold(in: UInt64(index))
        let size = sizes[min(sizes.count - 1, Int(k.fold(in: "set-size").uniform(at: 0) * Float(sizes.count)))]
        return spec(k, size: size, data: data, cleanMemberFraction: cleanMemberFraction)
    }

    /// The members of a set: their renders (`SameSubjectSet`, member 0 replaced by the clean canonical render when the
    /// spec says so) and prompts.
    public static func members(_ spec: JeDiSetSpec, resolution: Int, supersample: Int) throws -> [(image: Image, prompt: String)] {
        var members = try SameSubjectSet.make(spec.subject, count: spec.size, seed: spec.seed, size: resolution, supersample: supersample)
            .map { (image: $0.render.image, prompt: $0.prompt) }
        if spec.cleanMember {
            let clean = try Renderer.render(RenderRequest(subject: spec.subject, scene: .clean, pose: .canonical, size: resolution,
                                                          supersample: supersample))
            members[0] = (clean.image, Prompts.plain(spec.subject.category, .clean, seed: spec.seed, index: 0))
        }
        return members
    }
}

/// Sets read back from `pretrain jedi-sets`, grouped by size (a batch holds sets of one size: coupled attention joins
/// each set's tokens, so a batch's sets must be equally long). Members are kept as [-1, 1] CHW floats.
public struct StoredJeDiSets: Sendable {
    public struct Entry: Sendable {
        public var subject: Subject
        /// The members' pixels, set-major CHW in [-1, 1].
        public var images: [Float]
        public var prompts: [String]
    }

    /// Entries by set size, each list in the order given (the stage's key order).
    public private(set) var bySize: [Int: [Entry]] = [:]
    public let resolution: Int

    public init(resolution: Int) { self.resolution = resolution }

    public var count: Int { bySize.values.reduce(0) { $0 + $1.count } }
    public var sizes: [Int] { bySize.keys.sorted() }

    /// The sizes of `wanted` that hold at least one set, in `wanted`'s order.
    public func sizes(among wanted: [Int]) -> [Int] { wanted.filter { !(bySize[$0] ?? []).isEmpty } }

    /// Adds a set from its record and its members' images (in the record's file order); the error names `path`.
    public mutating func add(_ record: JeDiSetRecord, images: [Image], path: String) throws(TrainingError) {
        guard images.count == record.spec.size else {
            throw .badSet(path: path, reason: "\(images.count) images for a set of \(record.spec.size)")
        }
        var scalars: [Float] = []
        scalars.reserveCapacity(images.count * 3 * resolution * resolution)
        for (i, im) in images.enumerated() {
            guard im.width == resolution, im.height == resolution, im.channels == 3 else {
                throw .badSet(path: path, reason: "\(record.files[i]) is \(im.width)x\(im.height)x\(im.channels), training reads "
                              + "\(resolution)x\(resolution) RGB (the sets were written at another resolution)")
            }
            scalars += im.toCHW()
        }
        bySize[record.spec.size, default: []].append(Entry(subject: record.spec.subject, images: scalars, prompts: record.prompts))
    }
}
