import Foundation

/// The patch-quality stage's heatmap sheets (manifest kind `heatmap`, `artifacts/patch-quality/heatmaps/<vit>/<pair>.png`):
/// per ViT, each sheet embedded as written, reference | generated | q_g over the generated image | q_r over the
/// reference (| the expected image | the aligned quality over the generated image, with `aligned = true`).
/// Report reads no manifest: the caller lists the paths (render-report and the bench stage, through Manifest).
public enum PatchHeatmaps {
    /// The kind the patch-quality stage records its sheets under.
    public static let kind = "heatmap"

    /// (ViT, pair key) of a sheet path: the folder after `heatmaps/` and the file name without `.png`.
    static func parts(_ path: String) -> (vit: String, key: String) {
        let comps = path.split(separator: "/").map(String.init)
        let key = (comps.last ?? path).replacingOccurrences(of: ".png", with: "")
        guard let i = comps.firstIndex(of: "heatmaps"), i + 2 < comps.count else { return ("", key) }
        return (comps[i + 1], key)
    }

    /// The section body: one heading per ViT (first-seen order of the sorted paths), its sheets in path order.
    /// `skip` are paths the results' figures already show.
    public static func html(_ paths: [String], runDirectory: URL, skip: Set<String> = []) -> String {
        let shown = paths.filter { !skip.contains($0) }.sorted()
        guard !shown.isEmpty else {
            return "<p class=\"note\">No patch-quality heatmaps recorded in this run's manifest (kind \"\(kind)\"; the stage writes "
                + "its `heatmaps` config's count per ViT).</p>"
        }
        var vits: [String] = []
        for p in shown where !vits.contains(parts(p).vit) { vits.append(parts(p).vit) }
        return "<p class=\"note\">Each sheet: reference | generated | q_g (generated patches' quality) over the generated image | "
            + "q_r over the reference; with the aligned quality also the expected image and q_aligned over the generated image. "
            + "Red = low quality (a patch the loss weights down), green = high.</p>"
            + vits.map { vit in
                "<h3>\(HTML.escape(vit.isEmpty ? "heatmaps" : "\(vit) ViT"))</h3>"
                    + shown.filter { parts($0).vit == vit }.map { p in
                        HTML.figure(Figure(section: "heatmaps", title: parts(p).key, path: p, caption: ""), runDirectory: runDirectory)
                    }.joined()
            }.joined()
    }
}
