import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The report's entry point, called by the bench stage (and by `render-report`).
public enum ReportWriter {
    /// Validates `results`, then writes into `reportDirectory` (created if needed), each file atomically
    /// (temp file, fsync, rename): `index.html`, `results.json` (the input, for re-rendering), `reproduction.md`
    /// (`ReproductionDocument`) and `tables/<id>.{csv,json,md}` for every table and the headline. Returns the files written, sorted.
    /// Figure paths in `results` and the paths in `records` (sample records, heatmaps) are relative to `runDirectory`.
    @discardableResult
    public static func write(_ results: BenchResults, runDirectory: URL, reportDirectory: URL,
                             records: RunRecords = RunRecords()) throws -> [URL] {
        try validate(results)
        let content = ReportContent(results)
        let tablesDir = reportDirectory.appendingPathComponent("tables")
        do {
            try FileManager.default.createDirectory(at: tablesDir, withIntermediateDirectories: true)
        } catch {
            throw ReportError.cannotWrite(path: tablesDir.path, reason: error.localizedDescription)
        }
        var written: [URL] = []
        func put(_ data: Data, _ url: URL) throws { try atomicWrite(data, to: url); written.append(url) }
        for t in content.tables + [content.headlineTable] {
            let base = tablesDir.appendingPathComponent(t.id)
            try put(Data(t.csv.utf8), base.appendingPathExtension("csv"))
            try put(Data(t.markdown.utf8), base.appendingPathExtension("md"))
            let json: Data
            do { json = try t.json() } catch { throw ReportError.cannotWrite(path: base.path + ".json", reason: "\(error)") }
            try put(json, base.appendingPathExtension("json"))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try put(try encoder.encode(results), reportDirectory.appendingPathComponent("results.json"))
        } catch let e as ReportError { throw e } catch {
            throw ReportError.cannotWrite(path: reportDirectory.appendingPathComponent("results.json").path, reason: "\(error)")
        }
        try put(Data(ReportPage.html(content, runDirectory: runDirectory, records: records).utf8), reportDirectory.appendingPathComponent("index.html"))
        try put(Data(ReproductionDocument.markdown(content).utf8), reportDirectory.appendingPathComponent("reproduction.md"))
        return written.sorted { $0.path < $1.path }
    }

    /// Rejects values no table can show honestly: non-finite scores, negative counts.
    public static func validate(_ r: BenchResults) throws {
        func finite(_ v: Double, _ field: String) throws {
            guard v.isFinite else { throw ReportError.invalidValue(field: field, value: "\(v)", hint: "the bench stage produced a non-finite score; rerun it with --force and check its judges") }
        }
        func count(_ v: Int, _ field: String) throws {
            guard v >= 0 else { throw ReportError.invalidValue(field: field, value: "\(v)", hint: "counts cannot be negative; the results file is corrupt, rerun the bench stage") }
        }
        func scores(_ s: [SubjectScores], _ path: String) throws {
            for (i, x) in s.enumerated() {
                let f = "\(path).perSubject[\(i)] (\(x.subject))"
                try finite(x.dino, f + ".dino"); try finite(x.clipI, f + ".clipI"); try finite(x.clipT, f + ".clipT")
                try count(x.images, f + ".images")
                for (name, v) in [("identity", x.identity), ("detail", x.detail), ("scene", x.scene)] {
                    if let v {
                        guard (0...1).contains(v) else {
                            throw ReportError.invalidValue(field: f + "." + name, value: "\(v)",
                                                           hint: "a share of images must be in 0...1; rerun the bench stage with --force")
                        }
                    }
                }
            }
        }
        for (i, m) in r.models.enumerated() { try scores(m.perSubject, "models[\(i)] (\(m.name))") }
        for (i, p) in r.frontier.enumerated() { try finite(p.wRG, "frontier[\(i)].wRG"); try scores(p.perSubject, "frontier[\(i)] (\(p.model))") }
        for (i, w) in r.winRates.enumerated() {
            try count(w.wins, "winRates[\(i)].wins"); try count(w.ties, "winRates[\(i)].ties"); try count(w.losses, "winRates[\(i)].losses")
        }
        for (i, c) in r.colourShift.enumerated() {
            try finite(c.huePct, "colourShift[\(i)].huePct"); try finite(c.saturationPct, "colourShift[\(i)].saturationPct")
            try finite(c.valuePct, "colourShift[\(i)].valuePct")
        }
        for (i, p) in r.patchMatching.enumerated() {
            try finite(p.beforePct, "patchMatching[\(i)].beforePct"); try finite(p.afterPct, "patchMatching[\(i)].afterPct")
        }
        for (i, a) in r.auroc.enumerated() { try finite(a.auroc, "auroc[\(i)].auroc") }
        for (i, p) in r.performance.enumerated() { try finite(p.value, "performance[\(i)].value (\(p.bench))") }
        for (i, s) in r.stageTimes.enumerated() { try finite(s.seconds, "stageTimes[\(i)].seconds (\(s.stage))") }
        for (i, c) in (r.benchCost ?? []).enumerated() {
            try finite(c.samplingSeconds, "benchCost[\(i)].samplingSeconds (\(c.row))")
            try finite(c.judgingSeconds, "benchCost[\(i)].judgingSeconds (\(c.row))")
            try finite(c.bookkeepingSeconds, "benchCost[\(i)].bookkeepingSeconds (\(c.row))")
        }
    }

    /// Writes `data` to a temporary file beside `url`, fsyncs it, then renames it over `url`, so a
    /// reader sees the old file or the new one, never half of one.
    public static func atomicWrite(_ data: Data, to url: URL) throws {
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        let fd = open(tmp.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw ReportError.cannotWrite(path: url.path, reason: String(cString: strerror(errno))) }
        var ok = true
        data.withUnsafeBytes { buf in
            var off = 0
            while off < buf.count {
                #if canImport(Glibc)
                let n = Glibc.write(fd, buf.baseAddress! + off, buf.count - off)
                #else
                let n = Darwin.write(fd, buf.baseAddress! + off, buf.count - off)
                #endif
                if n <= 0 { if errno == EINTR { continue }; ok = false; return }
                off += n
            }
        }
        let reason = ok ? nil : String(cString: strerror(errno))
        let synced = fsync(fd) == 0
        close(fd)
        guard ok, synced else {
            unlink(tmp.path)
            throw ReportError.cannotWrite(path: url.path, reason: reason ?? "fsync failed: \(String(cString: strerror(errno)))")
        }
        guard rename(tmp.path, url.path) == 0 else {
            let r = String(cString: strerror(errno)); unlink(tmp.path)
            throw ReportError.cannotWrite(path: url.path, reason: r)
        }
    }
}
