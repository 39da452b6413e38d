import Foundation
import Manifest
import Models
import PatchQuality
import StageKit

/// The pretrain-vit model by the stage contract's names: `vit.safetensors` (kind `checkpoint/vit`)
/// and its record `vit.json` (heads). A missing file names the stage that should have produced it.
func loadPretrainedViT(_ r: StageRunner, inputs: [ArtifactRecord], defaultHeads: Int) throws -> ViT {
    let mine = inputs.filter { $0.relativePath.hasPrefix("artifacts/pretrain-vit/") }
    guard let file = mine.first(where: { $0.kind == "checkpoint/vit" || $0.relativePath.hasSuffix("/vit.safetensors") }) else {
        throw StageError.missingFile(path: r.layout.artifacts("pretrain-vit").appendingPathComponent("vit.safetensors").path,
                                     hint: "stage pretrain-vit should have produced it (kind checkpoint/vit); rerun pretrain-vit")
    }
    let record = try mine.first { $0.relativePath.hasSuffix("/vit.json") }.map { try r.readVerified($0, upstream: "pretrain-vit") }
    return try ViTLoading.load(checkpoint: try r.readVerified(file, upstream: "pretrain-vit"),
                               path: r.layout.root.appendingPathComponent(file.relativePath).path,
                               record: record, defaultHeads: defaultHeads)
}
