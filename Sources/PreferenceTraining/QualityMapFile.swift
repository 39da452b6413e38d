import Checkpoint
import Foundation
import Manifest
import TensorCore

/// A pair's quality maps as patch-quality writes them: `q/<vit>/<key>.safetensors` with square tensors
/// `q_r`, `q_g` (and `q_aligned` when patch-quality ran with `aligned = true`) and metadata `vit`.
public enum QualityMapFile {
    /// The maps of pair `key` by ViT `vit` among patch-quality's recorded outputs, read verified through
    /// `upstream`, at `side` x `side` (`maps(in:...)`).
    public static func read(key: String, vit: String, side: Int, generated: String = "q_g",
                            upstream: any UpstreamReading) throws -> (Tensor, Tensor) {
        guard let a = (try upstream.outputs("patch-quality")).first(where: { $0.relativePath.hasSuffix("/q/\(vit)/\(key).safetensors") }) else {
            throw DPOTrainError.missingQualityMap(key: key, hint: "patch-quality recorded no q/\(vit)/\(key).safetensors; "
                                                  + "add \"\(vit)\" to [patch-quality].vits and rerun patch-quality")
        }
        let file = try SafeTensors.parse(try upstream.data(a, of: "patch-quality"), path: a.relativePath)
        return try maps(in: file, key: key, vit: vit, side: side, generated: generated, path: a.relativePath)
    }

    /// `q_r` and the generated image's map `generated` (`q_g`, or `q_aligned`) of `file` (at `path`), which must
    /// say `vit = vit`, each resized bilinearly to `side` x `side` when it has another side and clamped to [0, 1]:
    /// `[1, 1, side, side]`.
    public static func maps(in file: SafeTensorsFile, key: String, vit: String, side: Int, generated: String = "q_g",
                            path: String) throws -> (Tensor, Tensor) {
        guard file.metadata["vit"] == vit else {
            throw DPOTrainError.missingQualityMap(key: key, hint: "\(path) says vit = \(file.metadata["vit"] ?? "nothing"), "
                                                  + "not \(vit); rerun patch-quality")
        }
        func map(_ name: String) throws -> Tensor {
            guard let t = file.tensors[name], t.values.count > 0 else {
                let fix = name == "q_aligned" ? "; set [patch-quality] aligned = true and rerun patch-quality" : ""
                throw DPOTrainError.missingQualityMap(key: key, hint: "\(path) has no tensor `\(name)`" + fix)
            }
            let n = Int(Double(t.values.count).squareRoot())
            guard n * n == t.values.count else {
                throw DPOTrainError.missingQualityMap(key: key, hint: "\(path): `\(name)` of shape \(t.shape) is not square")
            }
            var m = Tensor(shape: [1, 1, n, n], scalars: t.values)
            if n != side { m = Kernels.resizeBilinear(m, height: side, width: side) }
            m.scalars = m.scalars.map { min(max($0, 0), 1) }
            return m
        }
        return (try map("q_r"), try map(generated))
    }
}
