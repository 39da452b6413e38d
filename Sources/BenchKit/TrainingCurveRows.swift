import Manifest
import Report

/// The manifest's metric rows as the report's training-curve samples (each row with its stage's name).
enum TrainingCurveRows {
    static func read(_ db: ManifestDB) throws -> [TrainingCurves.Sample] {
        let stages = Dictionary(uniqueKeysWithValues: try db.stageRuns(stage: nil).map { ($0.id, $0.stage) })
        return try db.metrics(stageRun: nil).compactMap { m in
            stages[m.stageRun].map { TrainingCurves.Sample(stage: $0, stageRun: m.stageRun, name: m.name, step: m.step, value: m.value) }
        }
    }
}
