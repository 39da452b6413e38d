import Foundation

/// Training curves from the manifest's metrics: per stage, one SVG line plot per plotted metric with one
/// polyline per run (dpo-train: every adapter's loss, implicit accuracy and gradient norm, recorded as
/// `<run>/<metric>`; ssl-finetune-vit: its loss, equivariance and regulariser terms). Report knows no SQLite:
/// the caller reads the rows (render-report and the bench stage, through Manifest) and passes them here.
public enum TrainingCurves {
    /// One manifest metric row.
    public struct Sample: Sendable, Equatable {
        public var stage: String
        public var stageRun: Int64
        public var name: String
        public var step: Int
        public var value: Double
        public init(stage: String, stageRun: Int64, name: String, step: Int, value: Double) {
            self.stage = stage; self.stageRun = stageRun; self.name = name; self.step = step; self.value = value
        }
    }

    /// One curve: a stage, the run within it (an adapter, or the stage itself), a metric and its (step, value) points.
    public struct Curve: Sendable, Equatable {
        public var stage: String
        public var run: String
        public var metric: String
        public var steps: [Int]
        public var values: [Double]
    }

    /// The plotted stages in page order, each with its metrics (name in the manifest, axis label).
    static let plotted: [(stage: String, metrics: [(name: String, label: String)])] = [
        ("dpo-train", [("loss", "loss"), ("implicit_acc", "implicit accuracy"), ("grad_norm", "gradient norm")]),
        ("ssl-finetune-vit", [("loss", "loss"), ("equivariance", "equivariance term"), ("regularizer", "regulariser term")]),
    ]

    /// The curves of `samples`: for each plotted stage, the metrics of its latest stage run that recorded any
    /// (an earlier run's curves were replaced by the rerun), non-finite values and one-point series left out,
    /// runs in name order.
    public static func curves(_ samples: [Sample]) -> [Curve] {
        var out: [Curve] = []
        for (stage, metrics) in plotted {
            let mine = samples.filter { $0.stage == stage }
            guard let latest = mine.map(\.stageRun).max() else { continue }
            var byKey: [String: [(Int, Double)]] = [:]
            for s in mine where s.stageRun == latest && s.value.isFinite { byKey[s.name, default: []].append((s.step, s.value)) }
            for (name, _) in metrics {
                for key in byKey.keys.sorted() {
                    let (run, metric) = split(key, stage: stage)
                    guard metric == name, let pts = byKey[key], pts.count > 1 else { continue }
                    let sorted = pts.sorted { $0.0 < $1.0 }
                    out.append(Curve(stage: stage, run: run, metric: metric, steps: sorted.map(\.0), values: sorted.map(\.1)))
                }
            }
        }
        return out
    }

    /// "<run>/<metric>" -> (run, metric); a name without "/" is the stage's own (run = stage).
    static func split(_ name: String, stage: String) -> (String, String) {
        guard let slash = name.lastIndex(of: "/") else { return (stage, name) }
        return (String(name[..<slash]), String(name[name.index(after: slash)...]))
    }

    /// The section body: per stage a heading, then per metric one plot (a polyline per run) for every nine runs.
    public static func html(_ curves: [Curve]) -> String {
        guard !curves.isEmpty else {
            return "<p class=\"note\">No training curves: the manifest of this run has no dpo-train or ssl-finetune-vit metrics "
                + "(or render-report found no manifest.sqlite in the run directory).</p>"
        }
        var s = ""
        for (stage, metrics) in plotted {
            let mine = curves.filter { $0.stage == stage }
            guard !mine.isEmpty else { continue }
            s += "<h3>\(HTML.escape(stage))</h3>"
            for (name, label) in metrics {
                let cs = mine.filter { $0.metric == name }
                guard !cs.isEmpty else { continue }
                // At most one palette's worth of runs per plot, so no two lines of a plot share a colour.
                let per = SVGPlot.palette.count
                for start in stride(from: 0, to: cs.count, by: per) {
                    let chunk = cs[start..<min(start + per, cs.count)]
                    let series = chunk.map { c in SVGPlot.Series(name: c.run, points: zip(c.steps, c.values).map { (Double($0.0), $0.1) }) }
                    let which = cs.count > per ? ", runs \(start + 1)-\(start + chunk.count) of \(cs.count)" : " (\(cs.count) run\(cs.count == 1 ? "" : "s"))"
                    s += "<p class=\"note\">\(HTML.escape("\(stage): \(label) by step\(which)"))</p>"
                        + SVGPlot.lines(series, xLabel: "step", yLabel: label, integerX: true, markers: false)
                }
            }
        }
        return s
    }
}
