import Autograd
import Imaging
import Models
import TensorCore

/// Patch features of one image at one block: `rows` x `columns` cells, each a `dim`-vector,
/// row-major [N, D] in `values`, every row L2-normalised (so dot products are cosines).
public struct PatchFeatures: Sendable, Equatable {
    public let rows: Int
    public let columns: Int
    public let dim: Int
    public let values: [Float]

    /// Wraps raw features [N, D] and L2-normalises each row (a zero row stays zero).
    public init(rows: Int, columns: Int, dim: Int, raw: [Float]) {
        precondition(rows > 0 && columns > 0 && dim > 0 && raw.count == rows * columns * dim,
                     "PatchFeatures: \(raw.count) values for \(rows)x\(columns) cells of dim \(dim)")
        self.rows = rows; self.columns = columns; self.dim = dim
        var v = raw
        for i in 0..<(rows * columns) {
            var ss: Double = 0
            for j in 0..<dim { let x = Double(v[i * dim + j]); ss += x * x }
            let inv = ss > 0 ? Float(1 / ss.squareRoot()) : 0
            for j in 0..<dim { v[i * dim + j] *= inv }
        }
        values = v
    }

    public var count: Int { rows * columns }

    /// cos(self[i], other[k]) (rows are unit vectors), accumulated in Double.
    @inline(__always)
    public func cosine(_ i: Int, _ other: PatchFeatures, _ k: Int) -> Float {
        var s: Double = 0
        let a = i * dim, b = k * other.dim
        for j in 0..<dim { s += Double(values[a + j]) * Double(other.values[b + j]) }
        return Float(s)
    }
}

/// Runs a ViT without gradients and returns L2-normalised patch features per tapped block.
public enum PatchFeatureExtractor {
    /// Images (any size and channel count) -> [B, 3, S, S] in [-1, 1] at the ViT's `imageSize`
    /// (bilinear resize when the size differs; gray and RGBA converted to RGB).
    public static func tensor(_ images: [Image], size: Int) -> Tensor {
        var out: [Float] = []
        out.reserveCapacity(images.count * 3 * size * size)
        for img in images {
            var im = img.converted(toChannels: 3)
            if im.width != size || im.height != size { im = im.resizedBilinear(width: size, height: size) }
            out += im.toCHW()
        }
        return Tensor(shape: [images.count, 3, size, size], scalars: out)
    }

    /// Features of `blocks` (1-based) for every image: result[b][block]. Batches of `batch` images.
    public static func features(_ vit: ViT, images: [Image], blocks: [Int], batch: Int = 16) -> [[Int: PatchFeatures]] {
        precondition(batch > 0, "PatchFeatureExtractor: batch \(batch) must be positive")
        let s = vit.config.imageSize, side = s / vit.config.patchSize
        var out: [[Int: PatchFeatures]] = []
        var start = 0
        while start < images.count {
            let end = min(images.count, start + batch)
            let x = tensor(Array(images[start..<end]), size: s)
            let taps = withNoGrad { ViTTaps.forward(vit, Variable(x), taps: blocks) }
            for b in 0..<(end - start) {
                var perBlock: [Int: PatchFeatures] = [:]
                for block in blocks {
                    let t = ViTTaps.patchTokens(taps, after: block).value        // [B, N, D]
                    let n = t.shape[1], d = t.shape[2]
                    let row = Array(t.scalars[(b * n * d)..<((b + 1) * n * d)])
                    perBlock[block] = PatchFeatures(rows: side, columns: side, dim: d, raw: row)
                }
                out.append(perBlock)
            }
            start = end
        }
        return out
    }
}
