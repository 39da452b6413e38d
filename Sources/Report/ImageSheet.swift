import Foundation

/// Embeds each image file once, however often the page shows it: every PNG becomes one CSS class whose
/// background is its data URI (`.im3{background-image:url(data:image/png;base64,...)}`), and a thumbnail is
/// an empty `<span class="th im3">`. The drill-down table and the side-by-side rows show the same samples,
/// so the page carries each file once and stays one self-contained file (no network, no server).
public struct ImageSheet {
    let runDirectory: URL
    private(set) var classes: [String: String] = [:]
    private(set) var rules: [String] = []
    /// Files that were missing or not PNG (shown as a grey "missing" box naming them).
    private(set) var missing: [String] = []

    public init(runDirectory: URL) { self.runDirectory = runDirectory }

    /// The thumbnail of `path` (relative to the run directory) at `size` CSS pixels, with `title` on hover.
    /// A missing or non-PNG file is a grey box whose tooltip names the path.
    public mutating func thumbnail(_ path: String, size: Int, title: String) -> String {
        let style = "width:\(size)px;height:\(size)px"
        guard let cls = embed(path) else {
            return "<span class=\"th nofile\" style=\"\(style)\" title=\"\(HTML.escape("missing: \(path)"))\">?</span>"
        }
        return "<span class=\"th \(cls)\" style=\"\(style)\" role=\"img\" title=\"\(HTML.escape(title))\" aria-label=\"\(HTML.escape(title))\"></span>"
    }

    /// The class of `path`, reading the file on first use; nil when it is missing or not a PNG.
    mutating func embed(_ path: String) -> String? {
        if let c = classes[path] { return c }
        if missing.contains(path) { return nil }
        guard let data = try? Data(contentsOf: runDirectory.appendingPathComponent(path)),
              data.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else {
            missing.append(path); return nil
        }
        let cls = "im\(rules.count)"
        classes[path] = cls
        rules.append(".\(cls){background-image:url(data:image/png;base64,\(data.base64EncodedString()))}")
        return cls
    }

    /// The `<style>` element holding every embedded image (empty when none was used).
    public var styleElement: String {
        rules.isEmpty ? "" : "<style>" + rules.joined(separator: "\n") + "</style>"
    }

    static let style = """
    .th{display:inline-block;background-size:100% 100%;image-rendering:pixelated;border:1px solid #ddd;margin:1px;vertical-align:middle}
    .nofile{background:#eee;color:#999;font-size:11px;text-align:center}
    """
}
