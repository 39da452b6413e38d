import Foundation
import Imaging
import Manifest
import Report

/// The `_results` item: reads every item record of this stage run, assembles `results.json`
/// (Report.BenchResults, kind `table`), one sample grid per model (kind `figure`), then the report.
struct BenchResultsBuilder {
    let work: BenchWork
    var run: BenchRun { work.run }
    var settings: BenchSettings { work.settings }

    func build(stageRun: Int64, write: ArtifactWrite) throws -> [NewArtifact] {
        var records: [BenchItemRecord] = []
        for a in try run.db.artifacts(stageRun: stageRun) where a.kind == "scores" {
            let url = run.url(a.relativePath)
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw BenchError.badFile(path: url.path, reason: "missing", hint: "rerun bench with --force")
            }
            records.append(try BenchItemRecord.decode(data, path: url.path))
        }
        records = try BenchAssembly.ordered(records, expected: work.keys, subjects: work.subjects, folder: run.url(run.artifacts).path)
        let models = work.inputs.models
        var results = BenchAssembly.results(run: run.name, config: configText(), models: models, records: records,
                                            tieTolerance: settings.tieTolerance,
                                            protocolInfo: settings.protocolInfo(subjects: work.subjects, resolution: work.inputs.base.resolution,
                                                                                judges: work.inputs.judges.info,
                                                                                referenceAttention: settings.referenceAttention(for: work.inputs.base)))
        let up = work.inputs.upstream
        results.patchMatching = try UpstreamTables.patchMatching(try up.data("patch-matching.json", of: "ssl-finetune-vit"),
                                                                 path: "ssl-finetune-vit/patch-matching.json")
        results.auroc = try UpstreamTables.auroc(try up.data("auroc.json", of: "patch-quality"), path: "patch-quality/auroc.json")
        results.stageTimes = try stageTimes()
        results.benchCost = CostSplit.rows(try run.db.metrics(stageRun: stageRun))
        if !settings.perfJSON.isEmpty {
            if let d = FileManager.default.contents(atPath: settings.perfJSON) {
                results.performance = PerfEntry.parse(jsonLines: String(decoding: d, as: UTF8.self))
            } else {
                run.warn("bench.perf_json: \(settings.perfJSON) does not exist; the report has no performance section (run `make bench` first)")
            }
        }
        var out: [NewArtifact] = []
        for m in models {
            guard let (png, figure) = try grid(m, records) else { continue }
            let a = try write(Data(try PNG.encode(png)), "grids/\(m.slug).png", "figure")
            out.append(a)
            results.figures.append(Figure(section: "samples", title: figure, path: a.relativePath,
                                          caption: "reference | \(settings.imagesPerPrompt) sample(s) per prompt, same seeds for every model"))
        }
        out.append(try write(try BenchJSON.encode(results), "results.json", "table"))
        for m in results.models where m.setting == ReferenceSetting.all.rawValue {
            let mean = BenchMetrics.mean(m.perSubject)
            run.info("\(m.name): DINO \(f3(mean.dino)) CLIP-I \(f3(mean.clipI)) CLIP-T \(f3(mean.clipT)) over \(m.perSubject.count) subject(s)")
        }
        if settings.report { try writeReport(results) }
        return out
    }

    func f3(_ x: Double) -> String { String(format: "%.3f", x) }

    /// The section's keys as text, the run's seed, and the DreamBench subjects the folder reader skipped.
    func configText() -> [String: String] {
        var out = run.config
        out["seed"] = "\(run.seed)"
        if let f = work.folder, !f.skipped.isEmpty {
            out["skipped_subjects"] = f.skipped.map { "\($0.subject) (\($0.path): \($0.reason))" }.joined(separator: "; ")
        }
        return out
    }

    /// Wall time of the newest finished run of every other stage.
    func stageTimes() throws -> [StageTime] {
        var seen: Set<String> = []
        var out: [StageTime] = []
        for s in try run.db.stageRuns(stage: nil) where s.stage != run.stage && !seen.contains(s.stage) {
            guard s.status == .done, let a = s.started, let b = s.finished else { continue }
            seen.insert(s.stage)
            out.append(StageTime(stage: s.stage, seconds: b - a, status: s.status.rawValue))
        }
        return out.sorted { $0.stage < $1.stage }
    }

    /// Reference | K samples per prompt, first `gridSubjects` subjects x `gridPrompts` prompts.
    func grid(_ m: BenchModel, _ records: [BenchItemRecord]) throws -> (Image, String)? {
        var rows: [(reference: Image, samples: [Image], caption: String)] = []
        for rec in records.filter({ $0.model == m.name && $0.wRG == nil }).prefix(settings.gridSubjects) {
            let ref = try PNG.read(run.url(rec.references[0]).path)
            for (j, text) in rec.prompts.enumerated().prefix(settings.gridPrompts) {
                let samples = try rec.images.filter { $0.prompt == j }.sorted { $0.k < $1.k }.map { try PNG.read(run.url($0.file).path) }
                rows.append((ref, samples, "\(rec.subject): \(text)"))
            }
        }
        return rows.isEmpty ? nil : (BenchAssembly.grid(title: m.name, rows: rows), "Samples: \(m.name)")
    }

    /// Writes the report of `results` into `<run>/report` (index.html and tables/*.{csv,json,md}, each
    /// file atomically) and logs where it went.
    func writeReport(_ results: BenchResults) throws {
        let dir = run.root.appendingPathComponent("report")
        let files = try ReportWriter.write(results, runDirectory: run.root, reportDirectory: dir, records: try ReportRecords.read(run))
        run.info("report: \(dir.appendingPathComponent("index.html").path) (\(files.count) files)")
    }
}
