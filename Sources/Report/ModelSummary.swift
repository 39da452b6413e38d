import Foundation

/// One row of Table 4: a model (one training seed, or the mean of several seeds) in one reference
/// setting, with DINO, CLIP-I, CLIP-T and Avg as unweighted means over subjects plus bootstrap CIs.
public struct ModelSummary: Sendable, Equatable {
    public var name: String
    public var loss: String?
    public var vit: String?
    /// The training seed, nil for the base model and for a seed-mean row.
    public var trainSeed: Int?
    /// Seeds averaged into this row (1 for a single run; > 1 for a seed-mean row).
    public var seedCount: Int
    public var setting: String
    /// Shares of judged images with the reference's identity, its detail, and the prompted scene (issue 14),
    /// means over the subjects that have them.
    public var identity: Estimate
    public var detail: Estimate
    public var scene: Estimate
    public var dino: Estimate
    public var clipI: Estimate
    public var clipT: Estimate
    public var avg: Estimate
    /// Per-subject scores the row is computed from (seed-averaged for a seed-mean row), by subject.
    public var subjects: [SubjectScores]
    public var isSeedMean: Bool { seedCount > 1 }
}

/// Groups, orders and summarises `ModelResult`s (METHODS 8). Order: base model, dm, diffusion-dpo,
/// patchdpo with the original ViT, patchdpo with the finetuned ViT, then every other model in input
/// order, within each reference setting (settings in input order). Results that differ only in `trainSeed` get a row each and then a seed-mean row whose
/// per-subject scores are the mean over seeds (subjects present in every seed only).
public enum ModelSummaries {
    public static func summarise(_ results: [ModelResult], seed: UInt64) -> [ModelSummary] {
        var groups: [(key: String, members: [ModelResult])] = []
        for r in results {
            let key = groupKey(r)
            if let i = groups.firstIndex(where: { $0.key == key }) { groups[i].members.append(r) } else { groups.append((key, [r])) }
        }
        var settings: [String] = []
        for r in results where !settings.contains(r.setting) { settings.append(r.setting) }
        let ordered = groups.enumerated().sorted { a, b in
            let sa = settings.firstIndex(of: a.element.members[0].setting) ?? 0
            let sb = settings.firstIndex(of: b.element.members[0].setting) ?? 0
            if sa != sb { return sa < sb }
            let ra = rank(a.element.members[0]), rb = rank(b.element.members[0])
            return ra != rb ? ra < rb : a.offset < b.offset
        }.map(\.element)
        var out: [ModelSummary] = []
        for g in ordered {
            let members = g.members.sorted { ($0.trainSeed ?? -1) < ($1.trainSeed ?? -1) }
            for m in members {
                out.append(summary(name: m.name, of: m, scores: m.perSubject, trainSeed: m.trainSeed, seedCount: 1, seed: seed))
            }
            let seeds = Set(members.compactMap(\.trainSeed))
            if members.count > 1 && seeds.count == members.count {
                let name = "\(baseName(members[0].name)) (mean of \(members.count) seeds)"
                out.append(summary(name: name, of: members[0], scores: seedMean(members), trainSeed: nil,
                                   seedCount: members.count, seed: seed))
            }
        }
        return out
    }

    /// The rows a comparison uses: a seed-mean row where one exists, else the single-seed rows.
    public static func representatives(_ rows: [ModelSummary]) -> [ModelSummary] {
        let meanKeys = Set(rows.filter(\.isSeedMean).map { "\($0.setting)|\($0.loss ?? "")|\($0.vit ?? "")" })
        return rows.filter { $0.isSeedMean || !meanKeys.contains("\($0.setting)|\($0.loss ?? "")|\($0.vit ?? "")") || $0.loss == nil }
    }

    /// Per-subject mean over seeds; only subjects every seed has, in the first seed's order.
    static func seedMean(_ members: [ModelResult]) -> [SubjectScores] {
        let maps = members.map { Dictionary($0.perSubject.map { ($0.subject, $0) }, uniquingKeysWith: { a, _ in a }) }
        return members[0].perSubject.compactMap { s in
            let all = maps.compactMap { $0[s.subject] }
            guard all.count == maps.count else { return nil }
            let k = Double(all.count)
            func opt(_ key: KeyPath<SubjectScores, Double?>) -> Double? {
                let v = all.compactMap { $0[keyPath: key] }
                return v.count == all.count ? v.reduce(0, +) / k : nil
            }
            return SubjectScores(subject: s.subject, dino: all.map(\.dino).reduce(0, +) / k,
                                 clipI: all.map(\.clipI).reduce(0, +) / k, clipT: all.map(\.clipT).reduce(0, +) / k,
                                 images: all.map(\.images).reduce(0, +), identity: opt(\.identity), detail: opt(\.detail),
                                 scene: opt(\.scene))
        }
    }

    static func summary(name: String, of m: ModelResult, scores: [SubjectScores], trainSeed: Int?, seedCount: Int,
                        seed: UInt64) -> ModelSummary {
        let images = scores.map(\.images).reduce(0, +)
        let label = "\(m.setting)|\(name)"
        func est(_ metric: String, _ v: [Double]) -> Estimate {
            BenchStatistics.bootstrap(v, images: images, seed: BenchStatistics.seed(seed, "\(label)|\(metric)"))
        }
        func estPresent(_ metric: String, _ key: KeyPath<SubjectScores, Double?>) -> Estimate {
            let have = scores.filter { $0[keyPath: key] != nil }
            return BenchStatistics.bootstrap(have.map { $0[keyPath: key]! }, images: have.map(\.images).reduce(0, +),
                                             seed: BenchStatistics.seed(seed, "\(label)|\(metric)"))
        }
        return ModelSummary(name: name, loss: m.loss, vit: m.vit, trainSeed: trainSeed, seedCount: seedCount,
                            setting: m.setting, identity: estPresent("identity", \.identity), detail: estPresent("detail", \.detail),
                            scene: estPresent("scene", \.scene), dino: est("dino", scores.map(\.dino)), clipI: est("clipI", scores.map(\.clipI)),
                            clipT: est("clipT", scores.map(\.clipT)),
                            avg: est("avg", scores.map { BenchStatistics.avg(dino: $0.dino, clipI: $0.clipI, clipT: $0.clipT) }),
                            subjects: scores)
    }

    /// Rows that differ only in the training seed share a key. Base models (loss nil) group by name.
    static func groupKey(_ r: ModelResult) -> String {
        guard let loss = r.loss else { return "\(r.setting)|base|\(r.name)" }
        return "\(r.setting)|\(loss)|\(r.vit ?? "")|\(baseName(r.name))"
    }

    /// The display name without a seed mention ("patchdpo (finetuned ViT) seed 2" -> "patchdpo (finetuned ViT)",
    /// dpo-train's run names "patchdpo-finetuned-s2" -> "patchdpo-finetuned").
    public static func baseName(_ name: String) -> String {
        let stripped = name.replacingOccurrences(of: #"[\s,;-]*\(?\bseed[\s=:#]*\d+\)?"#, with: "",
                                                 options: [.regularExpression, .caseInsensitive])
            .replacingOccurrences(of: #"-s\d+$"#, with: "", options: .regularExpression)
        let t = stripped.trimmingCharacters(in: .whitespaces)
        return t.isEmpty ? name : t
    }

    /// Paper order: original, real renders (the upper bound), dm, diffusion-dpo, patchdpo (original ViT),
    /// patchdpo (finetuned ViT), others.
    static func rank(_ r: ModelResult) -> Int {
        guard let loss = r.loss?.lowercased() else { return 0 }
        switch loss {
        case upperBoundLoss: return 1
        case "dm": return 2
        case "diffusion-dpo": return 3
        case "patchdpo": return r.vit?.lowercased() == "finetuned" ? 5 : 4
        default: return 6
        }
    }

    /// The `loss` of the bench's real-renders row (what a perfect generator would score).
    public static let upperBoundLoss = "real-renders"
    /// Its model name (win rates and colour shift carry only the name).
    public static let upperBoundName = "real-renders"

    /// A model's name as every table, plot and column shows it: the real-renders row says it is the upper bound.
    public static func label(_ name: String, loss: String? = nil) -> String {
        loss == upperBoundLoss || name == upperBoundName ? "\(name) (upper bound)" : name
    }
}
