import Foundation
import Random
import TensorCore
import World

/// One batch of instance discrimination: N distinct subjects, each rendered twice.
/// `images` [2N, 3, S, S] in [-1, 1]: rows 0..<N are view A, rows N..<2N view B, row i and row N + i
/// show `subjects[i]`; `backgrounds` [2N] (the two views of a subject never share a background).
public struct InstanceBatch: Sendable {
    public var images: Tensor
    public var subjects: [Subject]
    public var backgrounds: [Background]
}

/// The dino-judge's data: subjects are drawn in groups of `perCategory` from one category (so a batch
/// always holds same-category negatives, which is what the judge must tell apart: decals, patterns,
/// colours), categories in a keyed shuffled order; each view draws its own background (textured, or the
/// clean one with `config.cleanFraction`), scene seed and random pose. A pure function of
/// (seed, step, config), like `WorldData.batch`.
public enum InstanceData {
    public static func batch(seed: UInt64, step: Int, subjects n: Int, perCategory: Int, config: WorldDataConfig,
                             threads: Int = 2) throws -> InstanceBatch {
        precondition(n >= 1 && perCategory >= 1, "InstanceData.batch: subjects \(n), perCategory \(perCategory)")
        let subjects = draw(seed: seed, step: step, count: n, perCategory: perCategory, config: config)
        let base = RNGKey(seed: seed).fold(in: "instance-views").fold(in: UInt64(step))
        var requests: [RenderRequest] = [], bgs: [Background] = []
        for view in 0..<2 {
            for (i, s) in subjects.enumerated() {
                let k = base.fold(in: UInt64(i))
                let bg = background(k, view: view, cleanFraction: config.cleanFraction)
                let v = k.fold(in: UInt64(view))
                let poseSeed = UInt64(v.uint32(at: 0)) << 32 | UInt64(v.uint32(at: 1))
                let pose = config.randomPose ? Pose.random(seed: poseSeed) : .canonical
                requests.append(RenderRequest(subject: s, scene: Scene(background: bg, seed: UInt64(v.uint32(at: 2))), pose: pose,
                                              size: config.resolution, supersample: config.supersample))
                bgs.append(bg)
            }
        }
        let renders = try Renderer.renderBatch(requests, threads: threads)
        let side = config.resolution
        var scalars: [Float] = []
        scalars.reserveCapacity(2 * n * 3 * side * side)
        for r in renders { scalars += r.image.toCHW() }
        return InstanceBatch(images: Tensor(shape: [2 * n, 3, side, side], scalars: scalars), subjects: subjects, backgrounds: bgs)
    }

    /// The two views' backgrounds of one subject: each is clean with `cleanFraction`, else textured;
    /// view 1 never repeats view 0's background (a clean view 0 makes view 1 textured), so the scenes differ.
    static func background(_ k: RNGKey, view: Int, cleanFraction: Double) -> Background {
        let tex = Background.textured
        let first: Background = Double(k.uniform(at: 10)) < cleanFraction ? .clean : tex[min(tex.count - 1, Int(k.uniform(at: 11) * Float(tex.count)))]
        if view == 0 { return first }
        if first != .clean && Double(k.uniform(at: 12)) < cleanFraction { return .clean }
        let rest = tex.filter { $0 != first }
        return rest[min(rest.count - 1, Int(k.uniform(at: 13) * Float(rest.count)))]
    }

    /// `count` distinct subjects of `config.split`: groups of `perCategory` from one category, the
    /// categories in a keyed shuffled order (repeating after all 13, with fresh subjects when the pool allows).
    static func draw(seed: UInt64, step: Int, count: Int, perCategory: Int, config: WorldDataConfig) -> [Subject] {
        let k = RNGKey(seed: seed).fold(in: "instance-subjects").fold(in: UInt64(step))
        let cats = shuffled(ObjectCategory.allCases, key: k.fold(in: "categories"))
        let pool = config.subjectsPerCategory
        var order: [ObjectCategory: [Subject]] = [:]
        var used: [ObjectCategory: Int] = [:]
        var out: [Subject] = []
        var group = 0
        while out.count < count {
            let c = cats[group % cats.count]
            if order[c] == nil {
                order[c] = shuffled(config.pool(of: c), key: k.fold(in: UInt64(c.index)))
            }
            for _ in 0..<perCategory where out.count < count {
                let u = used[c, default: 0]
                out.append(order[c]![u % pool])
                used[c] = u + 1
            }
            group += 1
        }
        return out
    }

    /// Fisher-Yates with counter-based draws.
    static func shuffled<T>(_ items: [T], key: RNGKey) -> [T] {
        var a = items
        for i in stride(from: a.count - 1, to: 0, by: -1) {
            a.swapAt(i, min(i, Int(key.uniform(at: UInt64(i)) * Float(i + 1))))
        }
        return a
    }
}
