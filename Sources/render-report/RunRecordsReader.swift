import Foundation
import Manifest
import Report

/// What the report reads of a run directory beside its results (`Report.RunRecords`): the bench's item records
/// (`artifacts/bench/items`) and, from `manifest.sqlite` opened read-only (never modified), the training curves
/// and the heatmap artifacts. A missing manifest gives no curves or heatmaps; an unreadable one the same, with a
/// warning on stderr (the rest of the report does not need it).
enum RunRecordsReader {
    static func read(runDirectory: URL) -> RunRecords {
        var records = RunRecords(samples: SampleIndex.load(itemsDirectory: runDirectory.appendingPathComponent("artifacts/bench/items")))
        let path = runDirectory.appendingPathComponent("manifest.sqlite").path
        guard FileManager.default.fileExists(atPath: path) else { return records }
        do {
            let db = try ManifestDB(path: path, mode: .readOnly)
            let stages = Dictionary(uniqueKeysWithValues: try db.stageRuns(stage: nil).map { ($0.id, $0.stage) })
            records.curves = TrainingCurves.curves(try db.metrics(stageRun: nil).compactMap { m in
                stages[m.stageRun].map { TrainingCurves.Sample(stage: $0, stageRun: m.stageRun, name: m.name, step: m.step, value: m.value) }
            })
            records.heatmaps = try db.currentArtifacts().filter { $0.kind == PatchHeatmaps.kind }.map(\.relativePath)
        } catch {
            FileHandle.standardError.write(Data("render-report: warning: no training curves or heatmaps: \(path): \(error)\n".utf8))
        }
        return records
    }
}
