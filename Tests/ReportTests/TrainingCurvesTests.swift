import Foundation
import Report
import Testing

private func rows(stage: String, run: Int64, name: String, values: [Double]) -> [TrainingCurves.Sample] {
    values.enumerated().map { TrainingCurves.Sample(stage: stage, stageRun: run, name: name, step: $0.offset + 1, value: $0.element) }
}

@Test func trainingCurvesTakeEachStagesLatestRunAndDrawOnePolylinePerRun() {
    var samples: [TrainingCurves.Sample] = []
    // An older dpo-train run (replaced by run 11), then two adapters' curves.
    samples += rows(stage: "dpo-train", run: 5, name: "old-s1/loss", values: [9, 9, 9])
    for adapter in ["dm-s1", "diffusion-dpo-s1"] {
        samples += rows(stage: "dpo-train", run: 11, name: "\(adapter)/loss", values: [0.5, 0.4, .nan, 0.3])
        samples += rows(stage: "dpo-train", run: 11, name: "\(adapter)/grad_norm", values: [2, 1, 1.5, 1])
        samples += rows(stage: "dpo-train", run: 11, name: "\(adapter)/mse", values: [1, 2])       // not plotted
    }
    samples += rows(stage: "dpo-train", run: 11, name: "diffusion-dpo-s1/implicit_acc", values: [0.5, 0.75])
    samples += rows(stage: "ssl-finetune-vit", run: 9, name: "loss", values: [3, 2, 1])
    samples += rows(stage: "ssl-finetune-vit", run: 9, name: "patch_matching_after_block7", values: [40])   // one point
    samples += rows(stage: "pretrain-judge", run: 1, name: "loss", values: [1, 2])                       // not a plotted stage
    let curves = TrainingCurves.curves(samples)
    #expect(curves.map { "\($0.stage) \($0.run) \($0.metric)" } == [
        "dpo-train diffusion-dpo-s1 loss", "dpo-train dm-s1 loss", "dpo-train diffusion-dpo-s1 implicit_acc",
        "dpo-train diffusion-dpo-s1 grad_norm", "dpo-train dm-s1 grad_norm", "ssl-finetune-vit ssl-finetune-vit loss",
    ])
    #expect(curves[0].steps == [1, 2, 4] && curves[0].values == [0.5, 0.4, 0.3])      // the NaN step is left out
    let html = TrainingCurves.html(curves)
    // One plot per (stage, metric), one polyline per curve in it, no point markers.
    let plots = html.components(separatedBy: "<svg").dropFirst()
    #expect(plots.map { $0.components(separatedBy: "<polyline").count - 1 } == [2, 1, 2, 1])
    #expect(!html.contains("<circle"))
    #expect(html.contains("gradient norm") && html.contains("implicit accuracy") && html.contains(">dm-s1</text>"))
    #expect(TrainingCurves.html([]).contains("No training curves"))
}

@Test func moreRunsThanColoursAreSplitAcrossPlots() {
    let samples = (0..<12).flatMap { i in rows(stage: "dpo-train", run: 3, name: String(format: "run%02d/loss", i), values: [1, 0.5]) }
    let html = TrainingCurves.html(TrainingCurves.curves(samples))
    let plots = html.components(separatedBy: "<svg").dropFirst()
    #expect(plots.map { $0.components(separatedBy: "<polyline").count - 1 } == [9, 3])
    #expect(html.contains("runs 1-9 of 12") && html.contains("runs 10-12 of 12"))
}
