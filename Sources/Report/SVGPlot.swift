import Foundation

/// Inline SVG plots for the report (no scripts, no external files). Every text is HTML-escaped.
/// Coordinates: a `width` x `height` viewBox with margins for the axes; y grows upward in data space.
public enum SVGPlot {
    static let palette = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f", "#bab0ac"]
    public static func colour(_ i: Int) -> String { palette[i % palette.count] }

    /// A value with an optional interval (whisker).
    public struct Bar: Sendable { public var value: Double; public var low: Double?; public var high: Double?
        public init(value: Double, low: Double?, high: Double?) { self.value = value; self.low = low; self.high = high } }

    /// Grouped bars from zero with CI whiskers: `values[g][s]` is series s in group g (nil = no bar).
    public static func groupedBars(groups: [String], series: [String], values: [[Bar?]], yLabel: String,
                                   width: Double = 760, height: Double = 320) -> String {
        let all = values.flatMap { $0.compactMap { $0 } }.filter { $0.value.isFinite }
        let top = all.map { max($0.value, $0.high ?? $0.value) }.max() ?? 1
        let floor = all.map { min($0.value, $0.low ?? $0.value) }.min() ?? 0
        // Bars start at zero; the axis covers zero and every whisker (cosines can be negative).
        let yHigh = top > 0 ? niceCeil(top * 1.05) : 0, yLow = floor < 0 ? -niceCeil(-floor * 1.05) : 0
        var frame = Frame(width: width, height: height, x: (0, 1), y: (yLow, yHigh > yLow ? yHigh : yLow + 1))
        frame.right = legendWidth(series)
        var svg = frame.open() + frame.yAxis(label: yLabel)
        let gw = frame.plotWidth / Double(max(groups.count, 1)), bw = gw * 0.8 / Double(max(series.count, 1))
        for (g, name) in groups.enumerated() {
            let gx = frame.left + Double(g) * gw
            svg += text(gx + gw / 2, frame.bottom + 18, name, anchor: "middle")
            if g == 0 && frame.y.0 < 0 { svg += line(frame.left, frame.py(0), frame.left + frame.plotWidth, frame.py(0)) }
            for (s, bar) in values[g].enumerated() {
                guard let bar, bar.value.isFinite else { continue }
                let x = gx + gw * 0.1 + Double(s) * bw, y = frame.py(bar.value), zero = frame.py(0)
                svg += "<rect x=\"\(f(x))\" y=\"\(f(min(y, zero)))\" width=\"\(f(bw * 0.9))\" height=\"\(f(abs(zero - y)))\" fill=\"\(colour(s))\">"
                    + "<title>\(HTML.escape("\(series[s]) \(name): \(Cell.format(bar.value, 3))"))</title></rect>"
                if let lo = bar.low, let hi = bar.high, lo.isFinite, hi.isFinite {
                    let cx = x + bw * 0.45
                    svg += line(cx, frame.py(lo), cx, frame.py(hi)) + line(cx - 3, frame.py(lo), cx + 3, frame.py(lo))
                        + line(cx - 3, frame.py(hi), cx + 3, frame.py(hi))
                }
            }
        }
        return svg + legend(series, frame: frame) + "</svg>"
    }

    /// One named series of (x, y) points drawn as a polyline with markers; `labels` annotate points.
    public struct Series: Sendable {
        public var name: String; public var points: [(x: Double, y: Double)]; public var labels: [String]
        public init(name: String, points: [(x: Double, y: Double)], labels: [String] = []) {
            self.name = name; self.points = points; self.labels = labels
        }
    }

    /// Line plot (Table 1 by block; the frontier CLIP-T vs DINO labelled by w_rg).
    /// `markers` false draws the lines alone (training curves: one point per step).
    public static func lines(_ series: [Series], xLabel: String, yLabel: String, integerX: Bool = false, markers: Bool = true,
                             width: Double = 760, height: Double = 320) -> String {
        let pts = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        let xs = pts.map(\.x), ys = pts.map(\.y)
        func range(_ v: [Double]) -> (Double, Double) {
            guard let lo = v.min(), let hi = v.max() else { return (0, 1) }
            let pad = hi > lo ? (hi - lo) * 0.08 : max(abs(lo) * 0.05, 0.5)
            return (lo - pad, hi + pad)
        }
        var frame = Frame(width: width, height: height, x: range(xs), y: range(ys))
        frame.right = legendWidth(series.map(\.name))
        var svg = frame.open() + frame.yAxis(label: yLabel) + frame.xAxis(label: xLabel, integer: integerX)
        for (i, s) in series.enumerated() {
            let p = s.points.filter { $0.x.isFinite && $0.y.isFinite }
            svg += "<polyline fill=\"none\" stroke=\"\(colour(i))\" stroke-width=\"2\" points=\""
                + p.map { "\(f(frame.px($0.x))),\(f(frame.py($0.y)))" }.joined(separator: " ") + "\"/>"
            for (k, q) in s.points.enumerated() where markers && q.x.isFinite && q.y.isFinite {
                svg += "<circle cx=\"\(f(frame.px(q.x)))\" cy=\"\(f(frame.py(q.y)))\" r=\"4\" fill=\"\(colour(i))\"/>"
                if k < s.labels.count { svg += text(frame.px(q.x) + 6, frame.py(q.y) - 6, s.labels[k], anchor: "start", size: 11) }
            }
        }
        return svg + legend(series.map(\.name), frame: frame) + "</svg>"
    }

    /// Horizontal 100% stacked bars (wins, ties, losses) with counts in the tooltips.
    public static func stackedBars(rows: [(label: String, counts: [Int])], parts: [String], width: Double = 760) -> String {
        let rowH = 22.0, left = 16 + 6.8 * Double(rows.map(\.label.count).max() ?? 10), right = 20.0, height = Double(rows.count) * rowH + 50
        let plotW = width - left - right
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(f(width)) \(f(height))\" width=\"\(f(width))\" role=\"img\">"
        for (r, row) in rows.enumerated() {
            let y = 10 + Double(r) * rowH, total = max(row.counts.reduce(0, +), 1)
            svg += text(left - 8, y + 15, row.label, anchor: "end", size: 12)
            var x = left
            for (k, c) in row.counts.enumerated() {
                let w = plotW * Double(c) / Double(total)
                svg += "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(w))\" height=\"\(f(rowH - 4))\" fill=\"\(colour(k == 1 ? 8 : k == 0 ? 2 : 3))\">"
                    + "<title>\(HTML.escape("\(row.label): \(parts[k]) \(c) of \(total)"))</title></rect>"
                x += w
            }
        }
        let y = 10 + Double(rows.count) * rowH + 16
        svg += line(left + plotW / 2, 6, left + plotW / 2, y - 12, dash: true)
        for (k, p) in parts.enumerated() {
            let x = left + Double(k) * 120
            svg += "<rect x=\"\(f(x))\" y=\"\(f(y - 10))\" width=\"12\" height=\"12\" fill=\"\(colour(k == 1 ? 8 : k == 0 ? 2 : 3))\"/>"
                + text(x + 16, y, p, anchor: "start", size: 12)
        }
        return svg + "</svg>"
    }

    // MARK: - drawing helpers

    struct Frame {
        var width: Double, height: Double, x: (Double, Double), y: (Double, Double)
        /// Room on the right for the legend (about 6.2 px per character at 11 px).
        var right = 170.0
        let left = 60.0, topMargin = 14.0, bottomMargin = 44.0
        var plotWidth: Double { width - left - right }
        var bottom: Double { height - bottomMargin }
        func px(_ v: Double) -> Double { left + (v - x.0) / max(x.1 - x.0, 1e-12) * plotWidth }
        func py(_ v: Double) -> Double { bottom - (v - y.0) / max(y.1 - y.0, 1e-12) * (bottom - topMargin) }
        func open() -> String {
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(f(width)) \(f(height))\" width=\"\(f(width))\" role=\"img\">"
                + "<rect x=\"\(f(left))\" y=\"\(f(topMargin))\" width=\"\(f(plotWidth))\" height=\"\(f(bottom - topMargin))\" fill=\"#fafafa\" stroke=\"#ccc\"/>"
        }
        func yAxis(label: String) -> String {
            var s = ""
            let ts = ticks(y.0, y.1)
            for t in ts {
                s += line(left - 4, py(t), left + plotWidth, py(t), colour: "#e4e4e4")
                    + text(left - 6, py(t) + 4, tickText(t, step: step(ts)), anchor: "end", size: 11)
            }
            return s + "<text x=\"14\" y=\"\(f((topMargin + bottom) / 2))\" font-size=\"12\" text-anchor=\"middle\" "
                + "transform=\"rotate(-90 14 \(f((topMargin + bottom) / 2)))\">\(HTML.escape(label))</text>"
        }
        func xAxis(label: String, integer: Bool) -> String {
            var s = ""
            let ts = ticks(x.0, x.1)
            for t in ts where !integer || t == t.rounded() {
                s += line(px(t), bottom, px(t), bottom + 4)
                    + text(px(t), bottom + 16, integer ? String(Int(t)) : tickText(t, step: step(ts)), anchor: "middle", size: 11)
            }
            return s + text(left + plotWidth / 2, height - 6, label, anchor: "middle", size: 12)
        }
    }

    static func legendWidth(_ names: [String]) -> Double { 40 + 6.2 * Double(names.map(\.count).max() ?? 0) }

    static func legend(_ names: [String], frame: Frame) -> String {
        names.enumerated().map { i, n in
            let x = frame.left + frame.plotWidth + 12, y = frame.topMargin + 8 + Double(i) * 18
            return "<rect x=\"\(f(x))\" y=\"\(f(y - 9))\" width=\"12\" height=\"12\" fill=\"\(colour(i))\"/>" + text(x + 16, y + 2, n, anchor: "start", size: 11)
        }.joined()
    }

    /// About five round tick values covering [lo, hi].
    static func ticks(_ lo: Double, _ hi: Double) -> [Double] {
        guard hi > lo, lo.isFinite, hi.isFinite else { return [lo] }
        let raw = (hi - lo) / 5, mag = pow(10, floor(log10(raw))), step = [1.0, 2, 2.5, 5, 10].map { $0 * mag }.first { $0 >= raw }!
        var t = (lo / step).rounded(.up) * step, out: [Double] = []
        while t <= hi + step * 1e-9 { out.append(abs(t) < step * 1e-9 ? 0 : t); t += step }
        return out
    }
    /// The smallest tick value >= v, so the bars' axis ends on a round number.
    static func niceCeil(_ v: Double) -> Double {
        let t = ticks(0, v)
        guard t.count > 1, let last = t.last else { return v }
        return last >= v ? last : last + (t[1] - t[0])
    }
    /// Tick text with just enough decimals for the tick step (so 0.505 and 0.51 stay distinct).
    static func tickText(_ v: Double, step: Double) -> String {
        guard step > 0, step.isFinite else { return String(format: "%.2f", v) }
        var digits = max(0, Int((-log10(step)).rounded(.up)))
        if digits < 6, abs(step * pow(10, Double(digits)) - (step * pow(10, Double(digits))).rounded()) > 1e-6 { digits += 1 }
        return String(format: "%.\(digits)f", v)
    }
    static func step(_ t: [Double]) -> Double { t.count > 1 ? t[1] - t[0] : 1 }
    static func f(_ v: Double) -> String { String(format: "%.1f", v) }
    static func text(_ x: Double, _ y: Double, _ s: String, anchor: String, size: Int = 12) -> String {
        "<text x=\"\(f(x))\" y=\"\(f(y))\" font-size=\"\(size)\" text-anchor=\"\(anchor)\">\(HTML.escape(s))</text>"
    }
    static func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, colour: String = "#333", dash: Bool = false) -> String {
        "<line x1=\"\(f(x1))\" y1=\"\(f(y1))\" x2=\"\(f(x2))\" y2=\"\(f(y2))\" stroke=\"\(colour)\"\(dash ? " stroke-dasharray=\"4 3\"" : "")/>"
    }
}
