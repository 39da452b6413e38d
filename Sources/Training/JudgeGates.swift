import Autograd
import Models
import TensorCore
import World

/// Result of the dino-judge gate (`Gates.instanceRetrieval`): top-1 over the whole gallery and over the
/// query's own category only, with the chance levels of both (1 / gallery, 1 / subjects per category).
public struct InstanceRetrievalGate: Sendable, Equatable {
    public var top1: Double
    public var sameCategoryTop1: Double
    public var chance: Double
    public var sameCategoryChance: Double
    public var queries: Int
    public var gallery: Int

    /// As record metrics.
    public var metrics: [String: Double] {
        ["instance_top1": top1, "instance_top1_same_category": sameCategoryTop1,
         "instance_top1_chance": chance, "instance_top1_same_category_chance": sameCategoryChance]
    }
}

extension Gates {
    /// Instance retrieval (the dino-judge gate): gallery = clean canonical renders of the first
    /// `subjectsPerCategory` subjects of every category in `split` (13 x k images); queries = each of
    /// them rendered `queriesPerSubject` times on a textured background in a random pose (scene and pose
    /// keyed by `seed`). A query is right when the gallery image with the highest cosine of `embed`
    /// (unit rows [B, D]) is its own subject's; `sameCategoryTop1` restricts the gallery to its category.
    public static func instanceRetrieval(embed: (Tensor) -> Tensor, resolution: Int, seed: UInt64, subjectsPerCategory: Int = 2,
                                         queriesPerSubject: Int = 2, split: Split = .test) throws -> InstanceRetrievalGate {
        let subjects = ObjectCategory.allCases.flatMap { split.subjects(of: $0, count: subjectsPerCategory) }
        let gallery = embed(try WorldData.references(subjects, resolution: resolution))
        var reqs: [RenderRequest] = [], owners: [Int] = []
        let tex = Background.textured
        for (i, s) in subjects.enumerated() {
            for q in 0..<queriesPerSubject {
                let n = UInt64(i * queriesPerSubject + q)
                let bg = tex[Int((seed &+ n &* 7919) % UInt64(tex.count))]
                reqs.append(RenderRequest(subject: s, scene: Scene(background: bg, seed: seed &+ n), pose: Pose.random(seed: seed &+ n),
                                          size: resolution))
                owners.append(i)
            }
        }
        var queries: [Tensor] = []
        for start in stride(from: 0, to: reqs.count, by: 64) {           // bounded memory per forward
            let part = Array(reqs[start..<min(reqs.count, start + 64)])
            let r = try Renderer.renderBatch(part, threads: 2)
            queries.append(embed(Tensor(shape: [part.count, 3, resolution, resolution], scalars: Array(r.map { $0.image.toCHW() }.joined()))))
        }
        let scores = retrievalScores(queries: Kernels.concat(queries, axis: 0), owners: owners, gallery: gallery,
                                     categories: subjects.map(\.category.index))
        return InstanceRetrievalGate(top1: scores.top1, sameCategoryTop1: scores.sameCategory, chance: 1 / Double(subjects.count),
                                     sameCategoryChance: 1 / Double(subjectsPerCategory), queries: owners.count, gallery: subjects.count)
    }

    /// Top-1 retrieval of query rows [Q, D] against gallery rows [G, D] by dot product (cosine for unit
    /// rows): query q is right when the best gallery row is `owners[q]`; `sameCategory` only ranks the
    /// gallery rows whose category equals the owner's. Ties go to the lower gallery index.
    public static func retrievalScores(queries: Tensor, owners: [Int], gallery: Tensor, categories: [Int])
        -> (top1: Double, sameCategory: Double) {
        precondition(queries.rank == 2 && gallery.rank == 2 && queries.shape[1] == gallery.shape[1]
                     && owners.count == queries.shape[0] && categories.count == gallery.shape[0],
                     "retrievalScores: queries \(queries.shape), owners \(owners.count), gallery \(gallery.shape), categories \(categories.count)")
        let d = queries.shape[1], g = gallery.shape[0]
        var hits = 0, sameHits = 0
        for (q, owner) in owners.enumerated() {
            var best = -1, bestScore = -Float.infinity, bestSame = -1, bestSameScore = -Float.infinity
            for j in 0..<g {
                var s: Float = 0
                for k in 0..<d { s += queries.scalars[q * d + k] * gallery.scalars[j * d + k] }
                if s > bestScore { (best, bestScore) = (j, s) }
                if categories[j] == categories[owner] && s > bestSameScore { (bestSame, bestSameScore) = (j, s) }
            }
            if best == owner { hits += 1 }
            if bestSame == owner { sameHits += 1 }
        }
        let n = Double(max(owners.count, 1))
        return (Double(hits) / n, Double(sameHits) / n)
    }
}
