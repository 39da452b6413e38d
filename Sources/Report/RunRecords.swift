import Foundation

/// What the report shows beside `BenchResults` that the run records elsewhere: the bench's sample records
/// (drill-down, side-by-side), the manifest's training curves and the patch-quality heatmap paths. The caller
/// reads them (render-report, the bench stage); empty parts become notes on the page.
public struct RunRecords: Sendable {
    public var samples: SampleIndex
    public var curves: [TrainingCurves.Curve]
    /// Run-relative paths of the manifest's `heatmap` artifacts.
    public var heatmaps: [String]
    public init(samples: SampleIndex = SampleIndex(), curves: [TrainingCurves.Curve] = [], heatmaps: [String] = []) {
        self.samples = samples; self.curves = curves; self.heatmaps = heatmaps
    }
}
