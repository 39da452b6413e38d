import Foundation
import Manifest
import Report

/// The training curves of a run directory's manifest (opened read-only, never modified); none, with a warning
/// on stderr, when it is missing or cannot be read (the rest of the report does not need it).
enum ManifestCurves {
    static func read(runDirectory: URL) -> [TrainingCurves.Curve] {
        let path = runDirectory.appendingPathComponent("manifest.sqlite").path
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        do {
            let db = try ManifestDB(path: path, mode: .readOnly)
            let stages = Dictionary(uniqueKeysWithValues: try db.stageRuns(stage: nil).map { ($0.id, $0.stage) })
            return TrainingCurves.curves(try db.metrics(stageRun: nil).compactMap { m in
                stages[m.stageRun].map { TrainingCurves.Sample(stage: $0, stageRun: m.stageRun, name: m.name, step: m.step, value: m.value) }
            })
        } catch {
            FileHandle.standardError.write(Data("render-report: warning: no training curves: \(path): \(error)\n".utf8))
            return []
        }
    }
}
