/// Contact sheets: images laid out in a grid on a light background, each cell optionally
/// captioned below with the built-in bitmap font, and sections stacked vertically.
/// Cells are `cellWidth` x `cellHeight` (defaults: the largest image); smaller images are
/// centred in their cell. Output is RGB.
public struct ContactSheet: Sendable {
    public var columns: Int
    public var padding: Int = 4
    /// Integer nearest-neighbour magnification applied to every image (for tiny renders).
    public var scale: Int = 1
    public var captionScale: Int = 1
    public var background: [UInt8] = [245, 245, 245]
    public var textColor: [UInt8] = [20, 20, 20]

    public init(columns: Int, scale: Int = 1) {
        precondition(columns > 0 && scale > 0, "ContactSheet(columns: \(columns), scale: \(scale))")
        self.columns = columns; self.scale = scale
    }

    /// Lays out `items` (image, caption); captions longer than the cell are cut with "..".
    public func render(_ items: [(image: Image, caption: String?)], title: String? = nil) -> Image {
        precondition(!items.isEmpty, "ContactSheet.render with no images")
        let cw = items.map { $0.image.width * scale }.max()!
        let ch = items.map { $0.image.height * scale }.max()!
        let hasCaptions = items.contains { ($0.caption ?? "").isEmpty == false }
        let capH = hasCaptions ? (BitmapFont.glyphHeight + 3) * captionScale : 0
        let titleH = title == nil ? 0 : (BitmapFont.glyphHeight + 4) * 2
        let cols = min(columns, items.count), rows = (items.count + cols - 1) / cols
        let cellW = max(cw, 8), cellH = ch + capH
        let width = padding + cols * (cellW + padding)
        let height = titleH + padding + rows * (cellH + padding)
        var sheet = Image(width: width, height: height, fill: background)
        if let title { BitmapFont.draw(title, on: &sheet, x: padding, y: 4, color: textColor, scale: 2) }
        for (k, item) in items.enumerated() {
            let r = k / cols, c = k % cols
            let x0 = padding + c * (cellW + padding), y0 = titleH + padding + r * (cellH + padding)
            var img = item.image.converted(toChannels: 3)
            if scale > 1 { img = img.resizedNearest(width: img.width * scale, height: img.height * scale) }
            sheet.paste(img, x: x0 + (cellW - img.width) / 2, y: y0 + (ch - img.height) / 2)
            if let cap = item.caption, !cap.isEmpty {
                let maxChars = max(1, (cellW + 1) / (BitmapFont.advance * captionScale))
                let text = cap.count <= maxChars ? cap : String(cap.prefix(max(1, maxChars - 2))) + ".."
                let tx = x0 + (cellW - BitmapFont.width(of: text, scale: captionScale)) / 2
                BitmapFont.draw(text, on: &sheet, x: tx, y: y0 + ch + 2 * captionScale, color: textColor, scale: captionScale)
            }
        }
        return sheet
    }

    /// Stacks images vertically (left-aligned) on the sheet background, `gap` pixels apart.
    public static func stack(_ parts: [Image], gap: Int = 6, background: [UInt8] = [245, 245, 245]) -> Image {
        precondition(!parts.isEmpty, "ContactSheet.stack with no images")
        let w = parts.map(\.width).max()!
        let h = parts.map(\.height).reduce(0, +) + gap * (parts.count - 1)
        var out = Image(width: w, height: h, fill: background)
        var y = 0
        for p in parts { out.paste(p.converted(toChannels: 3), x: 0, y: y); y += p.height + gap }
        return out
    }
}

extension Image {
    /// Copies `src` (same channel count) with its top-left at (x, y), clipped to this image.
    public mutating func paste(_ src: Image, x: Int, y: Int) {
        precondition(src.channels == channels, "paste: \(src.channels) channels onto \(channels)")
        for sy in 0..<src.height {
            let ty = y + sy
            guard ty >= 0 && ty < height else { continue }
            for sx in 0..<src.width {
                let tx = x + sx
                guard tx >= 0 && tx < width else { continue }
                let s = src.offset(x: sx, y: sy), d = offset(x: tx, y: ty)
                for c in 0..<channels { pixels[d + c] = src.pixels[s + c] }
            }
        }
    }
}
