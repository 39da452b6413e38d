import Foundation
import Manifest
import Report

/// What the report reads of the run beside the results (`Report.RunRecords`): the bench's item records, the
/// manifest's training curves (every metric row with its stage's name) and its heatmap artifacts.
enum ReportRecords {
    static func read(_ run: BenchRun) throws -> RunRecords {
        let stages = Dictionary(uniqueKeysWithValues: try run.db.stageRuns(stage: nil).map { ($0.id, $0.stage) })
        let rows = try run.db.metrics(stageRun: nil).compactMap { m in
            stages[m.stageRun].map { TrainingCurves.Sample(stage: $0, stageRun: m.stageRun, name: m.name, step: m.step, value: m.value) }
        }
        return RunRecords(samples: SampleIndex.load(itemsDirectory: run.root.appendingPathComponent(run.artifacts).appendingPathComponent("items")),
                          curves: TrainingCurves.curves(rows),
                          heatmaps: try run.db.currentArtifacts().filter { $0.kind == PatchHeatmaps.kind }.map(\.relativePath))
    }
}
