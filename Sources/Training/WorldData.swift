import Foundation
import Random
import TensorCore
import World

/// What the world data pipeline draws from: image side, subject split, how many subjects per
/// category (instances taken in order from the split), the share of clean-background renders, and
/// the renderer's supersampling.
public struct WorldDataConfig: Sendable, Codable, Equatable {
    public var resolution: Int
    public var split: Split
    public var subjectsPerCategory: Int
    /// Probability that a row uses the clean (reference-style) background instead of a textured one.
    public var cleanFraction: Double
    public var supersample: Int
    /// Random pose (position, scale, rotation, flip, perspective) instead of the canonical pose.
    public var randomPose: Bool
    /// Subjects skipped at the start of the split before the `subjectsPerCategory` drawn from (the
    /// judges skip validation subjects the bench tunes on).
    public var subjectOffset: Int

    public init(resolution: Int = 32, split: Split = .train, subjectsPerCategory: Int = 16,
                cleanFraction: Double = 0.1, supersample: Int = 2, randomPose: Bool = true, subjectOffset: Int = 0) {
        self.resolution = resolution; self.split = split; self.subjectsPerCategory = subjectsPerCategory
        self.cleanFraction = cleanFraction; self.supersample = supersample; self.randomPose = randomPose
        self.subjectOffset = subjectOffset
    }

    /// The subjects of `category` this data draws from: `subjectsPerCategory` of `split`, after `subjectOffset`.
    public func pool(of category: ObjectCategory) -> [Subject] {
        Array(split.subjects(of: category, count: subjectOffset + subjectsPerCategory).dropFirst(subjectOffset))
    }
}

/// One batch of world renders: images [B, 3, S, S] in [-1, 1], category labels (index into
/// `ObjectCategory.allCases`), plain prompts ("a {object} in the {background}" templates), subjects
/// and backgrounds.
public struct WorldBatch: Sendable {
    public var images: Tensor
    public var labels: [Int32]
    public var prompts: [String]
    public var subjects: [Subject]
    public var backgrounds: [Background]
    /// Object coverage of every pixel in [0, 1] (the renderer's mask), [B * S * S] row-major.
    public var coverage: [Float]
    /// Each row's pose (`.canonical` everywhere when `randomPose` is off).
    public var poses: [Pose]
}

/// The requests of one world batch before rendering, with each row's metadata (`WorldData.plan`).
public struct WorldBatchPlan: Sendable {
    public var requests: [RenderRequest] = []
    public var labels: [Int32] = []
    public var prompts: [String] = []
    public var subjects: [Subject] = []
    public var backgrounds: [Background] = []
}

/// The world data pipeline: batch `step` of a run seeded `seed` is a pure function of
/// (seed, step, size, config): row i draws its category, subject, background, pose and scene from
/// counter-based randoms keyed by (seed, step, i), so a resumed run sees exactly the batches an
/// uninterrupted one would, and rendering threads do not change a byte.
public enum WorldData {
    public static func batch(seed: UInt64, step: Int, size: Int, config: WorldDataConfig, threads: Int = 2) throws -> WorldBatch {
        try render(plan(seed: seed, step: step, size: size, config: config), config: config, threads: threads)
    }

    /// What batch `step` renders: one request per row and the row's label, prompt, subject and background.
    public static func plan(seed: UInt64, step: Int, size: Int, config: WorldDataConfig) -> WorldBatchPlan {
        let cats = ObjectCategory.allCases
        let textured = Background.textured
        var p = WorldBatchPlan()
        let base = RNGKey(seed: seed).fold(in: "world-data").fold(in: UInt64(step))
        for i in 0..<size {
            let k = base.fold(in: UInt64(i))
            let c = cats[min(cats.count - 1, Int(k.uniform(at: 0) * Float(cats.count)))]
            let pool = config.pool(of: c)
            let subject = pool[min(pool.count - 1, Int(k.uniform(at: 1) * Float(pool.count)))]
            let bg: Background = Double(k.uniform(at: 2)) < config.cleanFraction
                ? .clean : textured[min(textured.count - 1, Int(k.uniform(at: 3) * Float(textured.count)))]
            let poseSeed = UInt64(k.uint32(at: 4)) << 32 | UInt64(k.uint32(at: 5))
            let sceneSeed = UInt64(k.uint32(at: 6))
            let pose = config.randomPose ? Pose.random(seed: poseSeed) : .canonical
            p.requests.append(RenderRequest(subject: subject, scene: Scene(background: bg, seed: sceneSeed), pose: pose,
                                            size: config.resolution, supersample: config.supersample))
            p.labels.append(Int32(c.index))
            p.prompts.append(Prompts.plain(c, bg, seed: poseSeed, index: 0))
            p.subjects.append(subject)
            p.backgrounds.append(bg)
        }
        return p
    }

    /// Renders a plan (its requests possibly edited) into a batch.
    public static func render(_ p: WorldBatchPlan, config: WorldDataConfig, threads: Int = 2) throws -> WorldBatch {
        let renders = try Renderer.renderBatch(p.requests, threads: threads)
        let s = config.resolution
        var scalars: [Float] = []
        scalars.reserveCapacity(p.requests.count * 3 * s * s)
        for r in renders { scalars += r.image.toCHW() }
        return WorldBatch(images: Tensor(shape: [p.requests.count, 3, s, s], scalars: scalars), labels: p.labels, prompts: p.prompts,
                          subjects: p.subjects, backgrounds: p.backgrounds, coverage: Array(renders.map(\.mask).joined()),
                          poses: p.requests.map(\.pose))
    }

    /// Renders of given subjects on the clean background in the canonical pose (reference images),
    /// [B, 3, S, S] in [-1, 1]; `poses` (one per subject, or nil for the canonical pose) draws each subject in its own.
    public static func references(_ subjects: [Subject], resolution: Int, supersample: Int = 2, poses: [Pose]? = nil,
                                  threads: Int = 2) throws -> Tensor {
        precondition(poses.map { $0.count == subjects.count } ?? true, "WorldData.references: \(poses?.count ?? 0) poses for \(subjects.count) subjects")
        let reqs = subjects.indices.map { i in
            RenderRequest(subject: subjects[i], scene: .clean, pose: poses?[i] ?? .canonical, size: resolution, supersample: supersample)
        }
        let renders = try Renderer.renderBatch(reqs, threads: threads)
        return images(renders)
    }

    /// The images of square RGB renders as one [B, 3, S, S] tensor in [-1, 1].
    public static func images(_ renders: [RenderResult]) -> Tensor {
        let side = renders.first?.image.width ?? 0
        return Tensor(shape: [renders.count, 3, side, side], scalars: Array(renders.map { $0.image.toCHW() }.joined()))
    }
}
