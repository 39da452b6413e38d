import Bench
import Foundation
import Imaging
import Manifest
import Report
import StageKit

/// The `_results` item: reads every item record of this stage run, assembles `results.json`
/// (Report.BenchResults, kind `table`), one sample grid per model (kind `figure`), then the report.
struct BenchResultsBuilder {
    let work: BenchWork
    var r: StageRunner { work.r }

    func build(_ item: ItemContext) throws -> [NewArtifact] {
        let c = r.config
        let done = try r.db.artifacts(stageRun: item.stageRun).filter { $0.kind == "scores" }
        var records: [BenchItemRecord] = []
        for a in done {
            let url = r.layout.root.appendingPathComponent(a.relativePath)
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw BenchError.badFile(path: url.path, reason: "missing", hint: "rerun bench with --force")
            }
            records.append(try BenchItemRecord.decode(data, path: url.path))
        }
        let expected = work.keys.filter { !$0.hasPrefix("refs/") && $0 != BenchWork.resultsKey }
        let have = Set(records.map(\.key))
        let missing = expected.filter { !have.contains($0) }
        guard missing.isEmpty else {
            throw BenchError.badFile(path: r.layout.artifacts(r.stage).path,
                                     reason: "\(missing.count) item(s) have no scores yet (first: \(missing[0]))",
                                     hint: "rerun bench: failed items are retried, then results are assembled")
        }
        let order = Dictionary(uniqueKeysWithValues: work.subjects.enumerated().map { ($1.id, $0) })
        records.sort { (order[$0.subject] ?? 0, $0.key) < (order[$1.subject] ?? 0, $1.key) }

        let models = work.inputs.models
        var results = BenchResults(run: r.run.name, config: configText(), protocolInfo: protocolInfo())
        results.models = BenchAssembly.models(models, records: records)
        results.winRates = BenchAssembly.winRates(models, baseline: BenchModel.baseName, records: records,
                                                  tieTolerance: c.double("tie_tolerance"))
        results.colourShift = BenchAssembly.colourShift(models, baseline: BenchModel.baseName, records: records)
        results.frontier = BenchAssembly.frontier(records: records)
        let up = work.inputs.up.artifacts
        results.patchMatching = try UpstreamTables.patchMatching(try up.data("patch-matching.json", of: "ssl-finetune-vit"),
                                                                 path: "ssl-finetune-vit/patch-matching.json")
        results.auroc = try UpstreamTables.auroc(try up.data("auroc.json", of: "patch-quality"), path: "patch-quality/auroc.json")
        results.stageTimes = try stageTimes()
        let perf = c.string("perf_json")
        if !perf.isEmpty {
            if let d = FileManager.default.contents(atPath: perf) {
                results.performance = PerfEntry.parse(jsonLines: String(decoding: d, as: UTF8.self))
            } else {
                r.log.warn("bench.perf_json: \(perf) does not exist; the report has no performance section (run `make bench` first)")
            }
        }
        var out: [NewArtifact] = []
        for m in models {
            guard let (png, figure) = try grid(m, records) else { continue }
            let a = try item.write(Data(try PNG.encode(png)), name: "grids/\(m.slug).png", kind: "figure")
            out.append(a)
            results.figures.append(Figure(section: "samples", title: figure, path: a.relativePath,
                                          caption: "reference | \(c.int("images_per_prompt")) sample(s) per prompt, same seeds for every model"))
        }
        out.append(try item.write(try BenchJSON.encode(results), name: "results.json", kind: "table"))
        for m in results.models where m.setting == ReferenceSetting.all.rawValue {
            let mean = BenchMetrics.mean(m.perSubject)
            r.log.info("\(m.name): DINO \(f3(mean.dino)) CLIP-I \(f3(mean.clipI)) CLIP-T \(f3(mean.clipT)) over \(m.perSubject.count) subject(s)")
        }
        if c.bool("report") { try writeReport(results, runDirectory: r.layout.root, log: r.log) }
        return out
    }

    func f3(_ x: Double) -> String { String(format: "%.3f", x) }

    func configText() -> [String: String] {
        var out: [String: String] = [:]
        for k in r.config.schema.keys.map(\.name) {
            if case let .string(v) = r.config.value(k) { out[k] = v } else { out[k] = r.config.value(k).canonical }
        }
        out["seed"] = "\(r.run.seed)"
        if let f = work.folder, !f.skipped.isEmpty {
            out["skipped_subjects"] = f.skipped.map { "\($0.subject) (\($0.path): \($0.reason))" }.joined(separator: "; ")
        }
        return out
    }

    func protocolInfo() -> ProtocolInfo {
        let c = r.config
        let o = work.options
        var sampler = "DDIM \(o.steps) steps, eta \(o.eta), CFG \(o.guidanceScale), ip scale \(o.ipScale)"
        if c.bool("adaptive_norm") { sampler += ", HG-DPO adaptive normalisation" }
        sampler += c.bool("condition_on_all")
            ? "; conditioned on all references in the all-references rows, on reference 0 in the one-reference rows"
            : "; conditioned on reference 0 in both settings"
        let dir = c.string("dreambench_dir"), split = c.string("split"), offset = c.int("subject_offset")
        let world = split == "test" && offset == 0 ? "world" : "world (\(split) split, from subject \(offset) of each category)"
        return ProtocolInfo(dataset: dir.isEmpty ? world : dir, subjects: work.subjects.count,
                            promptsPerSubject: work.subjects.map(\.prompts.count).max() ?? 0,
                            imagesPerPrompt: c.int("images_per_prompt"), resolution: work.inputs.base.resolution,
                            sampler: sampler, judges: work.inputs.judges.info)
    }

    /// Wall time of the newest finished run of every other stage.
    func stageTimes() throws -> [StageTime] {
        var seen: Set<String> = []
        var out: [StageTime] = []
        for s in try r.db.stageRuns(stage: nil) where s.stage != r.stage && !seen.contains(s.stage) {
            guard s.status == .done, let a = s.started, let b = s.finished else { continue }
            seen.insert(s.stage)
            out.append(StageTime(stage: s.stage, seconds: b - a, status: s.status.rawValue))
        }
        return out.sorted { $0.stage < $1.stage }
    }

    /// Reference | K samples per prompt, first `grid_subjects` subjects x `grid_prompts` prompts.
    func grid(_ m: BenchModel, _ records: [BenchItemRecord]) throws -> (Image, String)? {
        let c = r.config
        var rows: [(reference: Image, samples: [Image], caption: String)] = []
        for rec in records.filter({ $0.model == m.name && $0.wRG == nil }).prefix(c.int("grid_subjects")) {
            let ref = try PNG.read(r.layout.root.appendingPathComponent(rec.references[0]).path)
            for (j, text) in rec.prompts.enumerated().prefix(c.int("grid_prompts")) {
                let samples = try rec.images.filter { $0.prompt == j }.sorted { $0.k < $1.k }
                    .map { try PNG.read(r.layout.root.appendingPathComponent($0.file).path) }
                rows.append((ref, samples, "\(rec.subject): \(text)"))
            }
        }
        return rows.isEmpty ? nil : (BenchAssembly.grid(title: m.name, rows: rows), "Samples: \(m.name)")
    }
}
