import Foundation

/// The self-contained index.html: header, headline, tables with their plots, side-by-side samples, the
/// per-subject table, training curves, heatmaps, figures, performance and stage times. Inline CSS, SVG and two
/// small scripts (sort, sample chooser), PNGs as data URIs: it opens from disk with no server or network.
public enum ReportPage {
    /// `records`: the run's sample records, training curves and heatmaps (`RunRecords`; empty parts are notes).
    public static func html(_ c: ReportContent, runDirectory: URL, records: RunRecords = RunRecords()) -> String {
        let r = c.results
        var sheet = ImageSheet(runDirectory: runDirectory)
        let drill = section("subjects", "Per subject", body: SubjectDrillDown.html(r, samples: records.samples, sheet: &sheet))
        let sideBySide = section("side-by-side", "Side-by-side samples",
                                 body: SideBySide.html(r, samples: records.samples, setting: c.headline.setting ?? r.models.first?.setting ?? "",
                                                       sheet: &sheet))
        var b = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        b += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        b += "<title>\(HTML.escape("Bench report: \(r.run)"))</title><style>\(HTML.style)</style>\(sheet.styleElement)</head><body>"
        b += header(r)
        b += "<nav>" + [("headline", "Headline"), ("dreambench", "Table 4"), ("side-by-side", "Side by side"), ("subjects", "Per subject"),
                        ("curves", "Training curves"), ("matching", "Table 1"), ("winrates", "Win rates"), ("colour", "Colour shift"),
                        ("frontier-sec", "Frontier"), ("auroc-sec", "AUROC"), ("heatmaps-sec", "Heatmaps"), ("figures", "Samples"),
                        ("perf", "Performance"), ("stages", "Stage times")]
            .map { "<a href=\"#\($0.0)\">\($0.1)</a>" }.joined() + "</nav>"
        b += headline(c)
        b += section("dreambench", "DreamBench protocol (PatchDPO Table 4)", body: HTML.table(c.table("table4-dreambench")!) + table4Plots(c))
        b += sideBySide + drill + section("curves", "Training curves", body: TrainingCurves.html(records.curves))
        b += section("matching", "Patch matching before and after SSL finetuning (PatchDPO Table 1)",
                     body: HTML.table(c.table("table1-patch-matching")!) + matchingPlot(r.patchMatching))
        b += section("winrates", "Win rates against the base model (HG-DPO)", body: HTML.table(c.table("win-rates")!) + winPlot(r.winRates))
        b += section("colour", "HSV colour shift", body: HTML.table(c.table("colour-shift")!))
        b += section("frontier-sec", "Reward-guidance frontier (DCO)", body: HTML.table(c.table("frontier")!) + frontierPlot(c.frontier))
        b += section("auroc-sec", "Patch-quality AUROC", body: HTML.table(c.table("auroc")!))
        b += section("heatmaps-sec", "Patch-quality heatmaps",
                     body: PatchHeatmaps.html(records.heatmaps, runDirectory: runDirectory, skip: Set(r.figures.map(\.path))))
        b += section("figures", "Samples and heatmaps", body: figures(r.figures, runDirectory: runDirectory))
        b += section("perf", "Performance", body: HTML.table(c.table("performance")!))
        b += section("stages", "Stage times", body: HTML.table(c.table("stage-times")!))
        return b + "<p class=\"note\">Written by the Report library (docs/REPORT.md explains every number).</p></body></html>\n"
    }

    static func section(_ id: String, _ title: String, body: String) -> String {
        "<section id=\"\(id)\"><h2>\(HTML.escape(title))</h2>\(body)</section>"
    }

    static func header(_ r: BenchResults) -> String {
        let p = r.protocolInfo
        var s = "<h1>\(HTML.escape("PatchDPO bench report - \(r.run)"))</h1><table class=\"meta\">"
        let rows: [(String, String)] = [
            ("Run", r.run), ("Dataset", p.dataset),
            ("Protocol", "\(p.subjects) subjects x \(p.promptsPerSubject) prompts x \(p.imagesPerPrompt) images at \(p.resolution)x\(p.resolution); \(p.sampler)"),
        ]
        for (k, v) in rows { s += "<tr><th>\(HTML.escape(k))</th><td>\(HTML.escape(v))</td></tr>" }
        for j in p.judges {
            let metrics = j.metrics.sorted { $0.key < $1.key }.map { "\($0.key) \(Cell.format($0.value, 3))" }.joined(separator: ", ")
            s += "<tr><th>Judge \(HTML.escape(j.role))</th><td>\(HTML.escape(j.weights)) <code title=\"\(HTML.escape(j.sha256))\">"
                + "sha256 \(HTML.escape(String(j.sha256.prefix(16))))</code>\(metrics.isEmpty ? "" : " - " + HTML.escape(metrics))</td></tr>"
        }
        if p.judges.isEmpty { s += "<tr><th>Judges</th><td class=\"missing\">none recorded</td></tr>" }
        s += "</table><details><summary>Bench configuration</summary><table class=\"meta\">"
        s += r.config.sorted { $0.key < $1.key }.map { "<tr><th>\(HTML.escape($0.key))</th><td>\(HTML.escape($0.value))</td></tr>" }.joined()
        return s + "</table></details>"
    }

    static func headline(_ c: ReportContent) -> String {
        var s = "<section id=\"headline\" class=\"headline\"><h2>Headline</h2>"
        if c.headline.comparisons.isEmpty {
            s += "<p class=\"missing\">No headline comparison: the run has no original model or no patchdpo (finetuned ViT) results.</p>"
        }
        for cmp in c.headline.comparisons {
            s += "<p class=\"big\"><b>\(HTML.escape(cmp.metric))</b>: \(HTML.escape(cmp.model.name)) "
                + "\(HTML.escape(Cell.estimate(cmp.modelEstimate, digits: 3).display)) vs \(HTML.escape(cmp.base.name)) "
                + "\(HTML.escape(Cell.estimate(cmp.baseEstimate, digits: 3).display)): <b>\(HTML.escape(signedEstimate(cmp.relativePct)))</b> relative, "
                + "paired difference \(HTML.escape(Cell.estimate(cmp.difference, digits: 3).display)) "
                + "<span class=\"ci\">(\(cmp.relativePct.subjects) subjects, \(cmp.relativePct.images) images, \(HTML.escape(c.headline.setting ?? "")))</span></p>"
        }
        s += c.headline.notes.map { "<p class=\"note\">\(HTML.escape($0))</p>" }.joined() + "<ul>"
        for g in c.headline.goals {
            let cls = g.status == .met ? "met" : g.status == .notMet ? "notmet" : "nm"
            s += "<li><span class=\"\(cls)\">\(HTML.escape(g.status.rawValue.uppercased()))</span> \(HTML.escape(g.goal)) "
                + "<span class=\"ci\">\(HTML.escape(g.detail))</span></li>"
        }
        return s + "</ul></section>"
    }

    static func signedEstimate(_ e: Estimate) -> String {
        guard let m = e.mean else { return "n/a" }
        let sign = m >= 0 ? "+" : ""
        guard let lo = e.low, let hi = e.high else { return "\(sign)\(Cell.format(m, 1))%" }
        return "\(sign)\(Cell.format(m, 1))% [\(Cell.format(lo, 1)), \(Cell.format(hi, 1))]"
    }

    static func table4Plots(_ c: ReportContent) -> String {
        let reps = ModelSummaries.representatives(c.summaries)
        var settings: [String] = []
        for r in reps where !settings.contains(r.setting) { settings.append(r.setting) }
        return settings.map { setting in
            let rows = reps.filter { $0.setting == setting }
            let metrics: [(String, KeyPath<ModelSummary, Estimate>)] = [("Identity", \.identity), ("Detail", \.detail), ("Scene", \.scene),
                                                                        ("DINO", \.dino), ("CLIP-I", \.clipI), ("CLIP-T", \.clipT), ("Avg", \.avg)]
            let values = metrics.map { m in rows.map { r -> SVGPlot.Bar? in
                r[keyPath: m.1].mean.map { SVGPlot.Bar(value: $0, low: r[keyPath: m.1].low, high: r[keyPath: m.1].high) } } }
            return "<p class=\"note\">\(HTML.escape(setting)): bars = mean over subjects, whiskers = bootstrap 95% interval.</p>"
                + SVGPlot.groupedBars(groups: metrics.map(\.0), series: rows.map { ModelSummaries.label($0.name, loss: $0.loss) }, values: values, yLabel: "share / cosine")
        }.joined()
    }

    static func matchingPlot(_ rows: [PatchMatchingRow]) -> String {
        guard !rows.isEmpty else { return "" }
        var sources: [String] = []
        for r in rows where !sources.contains(r.source) { sources.append(r.source) }
        let series = sources.flatMap { s -> [SVGPlot.Series] in
            let rs = rows.filter { $0.source == s }.sorted { $0.block < $1.block }
            return [SVGPlot.Series(name: "\(s) before", points: rs.map { (Double($0.block), $0.beforePct) }),
                    SVGPlot.Series(name: "\(s) after", points: rs.map { (Double($0.block), $0.afterPct) })]
        }
        return SVGPlot.lines(series, xLabel: "ViT block", yLabel: "patch-matching score (%)", integerX: true)
    }

    static func winPlot(_ w: [WinRate]) -> String {
        guard !w.isEmpty else { return "" }
        return SVGPlot.stackedBars(rows: w.map { ("\(ModelSummaries.label($0.model)) / \($0.scorer) (n=\($0.prompts))", [$0.wins, $0.ties, $0.losses]) },
                                   parts: ["wins", "ties", "losses"])
    }

    static func frontierPlot(_ f: [PaperTables.FrontierSummary]) -> String {
        guard !f.isEmpty else { return "" }
        var models: [String] = []
        for p in f where !models.contains(p.model) { models.append(p.model) }
        let series = models.map { m -> SVGPlot.Series in
            let pts = f.filter { $0.model == m && $0.dino.mean != nil && $0.clipT.mean != nil }
            return SVGPlot.Series(name: m, points: pts.map { ($0.clipT.mean!, $0.dino.mean!) },
                                  labels: pts.map { "w=\(Cell.format($0.wRG, $0.wRG == $0.wRG.rounded() ? 0 : 1))" })
        }
        return SVGPlot.lines(series, xLabel: "CLIP-T (text alignment)", yLabel: "DINO (subject fidelity)")
    }

    static func figures(_ figs: [Figure], runDirectory: URL) -> String {
        guard !figs.isEmpty else { return "<p class=\"note\">No figures recorded in this run.</p>" }
        var sections: [String] = []
        for f in figs where !sections.contains(f.section) { sections.append(f.section) }
        return sections.map { s in
            "<h3>\(HTML.escape(s))</h3>" + figs.filter { $0.section == s }.map { HTML.figure($0, runDirectory: runDirectory) }.joined()
        }.joined()
    }
}
