import Foundation
import Imaging
import Report

/// Turns the per-item records into the `BenchResults` sections. DreamBench items have `wRG == nil`;
/// frontier items carry their w_rg. Subjects keep the plan's order; models the given order.
public enum BenchAssembly {
    /// One `ModelResult` per (model, setting): settings in `ReferenceSetting.allCases` order, models
    /// in the given order; a model with no records is left out. The one-reference setting reads the
    /// images conditioned on reference 0; the all-references setting the images conditioned on all of
    /// the subject's references when the bench made them (`condition_on_all`), else the same images.
    public static func models(_ models: [BenchModel], records: [BenchItemRecord]) -> [ModelResult] {
        var out: [ModelResult] = []
        for setting in ReferenceSetting.allCases {
            for m in models {
                let dreambench = records.filter { $0.model == m.name && $0.wRG == nil && !$0.images.isEmpty }
                let onAll = dreambench.filter(\.conditionedOnAll), onOne = dreambench.filter { !$0.conditionedOnAll }
                let mine = setting == .all && !onAll.isEmpty ? onAll : onOne
                guard !mine.isEmpty else { continue }
                out.append(ModelResult(name: m.name, loss: m.loss, vit: m.vit, trainSeed: m.trainSeed, setting: setting.rawValue,
                                       perSubject: mine.map { BenchMetrics.subjectScores($0.subject, $0.images, setting: setting) }))
            }
        }
        return out
    }

    /// Win rates of every non-base model against `baseline` under each scorer, per prompt
    /// (subject, prompt index), DINO and CLIP-I over all references.
    public static func winRates(_ models: [BenchModel], baseline: String, records: [BenchItemRecord], tieTolerance: Double) -> [WinRate] {
        let base = images(of: baseline, records)
        guard !base.isEmpty else { return [] }
        var out: [WinRate] = []
        for m in models where m.name != baseline {
            let mine = images(of: m.name, records)
            guard !mine.isEmpty else { continue }
            for s in BenchMetrics.scorers {
                out.append(BenchMetrics.winRate(model: m.name, modelScores: BenchMetrics.perPrompt(mine, scorer: s), baseline: baseline,
                                                baselineScores: BenchMetrics.perPrompt(base, scorer: s), scorer: s,
                                                tieTolerance: tieTolerance))
            }
        }
        return out
    }

    /// HSV colour shift of every non-base model against `baseline` (all their DreamBench images).
    public static func colourShift(_ models: [BenchModel], baseline: String, records: [BenchItemRecord]) -> [ColourShift] {
        // In subject order, not the dictionary's (which changes per process): sums are then byte-identical.
        let base = images(of: baseline, records).sorted { $0.key < $1.key }.flatMap(\.value).map(\.hsv)
        guard !base.isEmpty else { return [] }
        return models.filter { $0.name != baseline }.compactMap { m in
            let mine = images(of: m.name, records).sorted { $0.key < $1.key }.flatMap(\.value).map(\.hsv)
            return mine.isEmpty ? nil : HSV.shift(model: m.name, modelHSV: mine, baseline: baseline, baselineHSV: base)
        }
    }

    /// Frontier points (all-references setting), sorted by (model, w_rg).
    public static func frontier(records: [BenchItemRecord]) -> [FrontierPoint] {
        var groups: [String: (String, Double, [BenchItemRecord])] = [:]
        for r in records {
            guard let w = r.wRG, !r.images.isEmpty else { continue }
            let k = "\(r.model)|\(w)"
            groups[k, default: (r.model, w, [])].2.append(r)
        }
        return groups.values.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map { m, w, rs in
            FrontierPoint(model: m, wRG: w, perSubject: rs.map { BenchMetrics.subjectScores($0.subject, $0.images, setting: .all) })
        }
    }

    /// A model's DreamBench images conditioned on reference 0, by subject (win rates and colour shift).
    static func images(of model: String, _ records: [BenchItemRecord]) -> [String: [ImageScores]] {
        var out: [String: [ImageScores]] = [:]
        for r in records where r.model == model && r.wRG == nil && !r.conditionedOnAll { out[r.subject, default: []] += r.images }
        return out
    }

    /// A sample grid: one row per (subject, prompt): the reference then the K samples, captioned.
    public static func grid(title: String, rows: [(reference: Image, samples: [Image], caption: String)]) -> Image {
        precondition(!rows.isEmpty, "BenchAssembly.grid: no rows")
        let k = rows.map(\.samples.count).max()!
        var items: [(image: Image, caption: String?)] = []
        for r in rows {
            items.append((r.reference, "ref"))
            for j in 0..<k {
                let im = j < r.samples.count ? r.samples[j] : Image(width: r.reference.width, height: r.reference.height, fill: [245, 245, 245])
                items.append((im, j == 0 ? r.caption : nil))
            }
        }
        let scale = max(1, 96 / max(rows[0].reference.width, 1))
        return ContactSheet(columns: 1 + k, scale: scale).render(items, title: title)
    }
}
