import Checkpoint
import Foundation
import Models
import NN
import Random

/// Builds a ViT from a safetensors file (timm keys, MODELS.md) without being told its config:
/// every size is read from the shapes (`pos_embed` [1, 1+N, D], `patch_embed.proj.weight`
/// [D, C, p, p], `patch_embed.backbone.convs.{i}.weight` [c_i, c_{i-1}, 3, 3] when the model has a conv
/// stem, `blocks.{i}.mlp.fc1.weight` [M, D], `head.weight` [K, D]); only the head count
/// cannot be, so it comes from `heads` (the pretrain record), else the file's metadata `heads`, else
/// 3 (MODELS.md). The file is then loaded strictly (every key and shape checked by name).
public enum ViTLoading {
    public static func config(of file: SafeTensorsFile, path: String, heads: Int? = nil) throws -> ViTConfig {
        func shape(_ key: String) throws -> [Int] {
            guard let t = file.tensors[key] else {
                throw PatchQualityError.badViTCheckpoint(path: path, detail: "missing tensor `\(key)`")
            }
            return t.shape
        }
        let pos = try shape("pos_embed"), conv = try shape("patch_embed.proj.weight")
        var stem: [[Int]] = []                                           // HybridEmbed backbone conv shapes
        while let t = file.tensors["patch_embed.backbone.convs.\(stem.count).weight"] { stem.append(t.shape) }
        let inChannels = stem.first.map { $0.count == 4 ? $0[1] : -1 } ?? conv[1]
        for (i, w) in stem.enumerated() where w.count != 4 || w[2] != 3 || w[3] != 3 || w[1] != (i == 0 ? inChannels : stem[i - 1][0]) {
            throw PatchQualityError.badViTCheckpoint(path: path, detail: "patch_embed.backbone.convs.\(i).weight \(w) does not chain 3x3 convs")
        }
        guard pos.count == 3, conv.count == 4, conv[2] == conv[3], conv[0] == pos[2], conv[1] == (stem.last?[0] ?? conv[1]) else {
            throw PatchQualityError.badViTCheckpoint(path: path, detail: "pos_embed \(pos) and patch_embed.proj.weight \(conv) disagree")
        }
        let n = pos[1] - 1, side = Int(Double(n).squareRoot().rounded())
        guard side * side == n, n > 0 else {
            throw PatchQualityError.badViTCheckpoint(path: path, detail: "pos_embed holds \(n) patch tokens, not a square grid")
        }
        var depth = 0
        while file.tensors["blocks.\(depth).norm1.weight"] != nil { depth += 1 }
        let fc1 = try shape("blocks.0.mlp.fc1.weight")
        var c = ViTConfig()
        c.width = pos[2]
        c.patchSize = conv[2]
        c.inChannels = inChannels
        c.stemChannels = stem.map { $0[0] }
        c.imageSize = side * conv[2]
        c.depth = depth
        c.mlpDim = fc1[0]
        c.heads = heads ?? file.metadata["heads"].flatMap { Int($0) } ?? 3
        c.classes = file.tensors["head.weight"]?.shape.first
        do { try c.validate() } catch {
            throw PatchQualityError.badViTCheckpoint(path: path, detail: "\(error)")
        }
        return c
    }

    /// Reads `url` and returns the loaded ViT.
    public static func load(_ url: URL, heads: Int? = nil) throws -> ViT {
        let file = try SafeTensors.read(url)
        return try load(file, path: url.path, heads: heads)
    }

    public static func load(_ file: SafeTensorsFile, path: String, heads: Int? = nil) throws -> ViT {
        let vit = try ViT(config: try config(of: file, path: path, heads: heads), key: RNGKey(seed: 0))
        try vit.loadStrict(file, path: path)
        return vit
    }

    /// The pretrain-vit model from its checkpoint bytes and optional record (`vit.json`): heads from
    /// the record, else `defaultHeads` when > 0, else the file's metadata or 3.
    public static func load(checkpoint: Data, path: String, record: Data?, defaultHeads: Int) throws -> ViT {
        let heads = record.flatMap { Self.heads(inRecord: $0) } ?? (defaultHeads > 0 ? defaultHeads : nil)
        return try load(try SafeTensors.parse(checkpoint, path: path), path: path, heads: heads)
    }

    /// Splits `blocks` into those that exist in a ViT of `depth` and those that do not.
    public static func partition(blocks: [Int], depth: Int) -> (kept: [Int], dropped: [Int]) {
        (blocks.filter { (1...depth).contains($0) }, blocks.filter { !(1...depth).contains($0) })
    }

    /// `blocks` with every block past `depth` replaced by `depth`, duplicates dropped (order kept);
    /// nil when `blocks` is empty or holds a block < 1. (A shallow smoke ViT has no block 7.)
    public static func capped(blocks: [Int], depth: Int) -> [Int]? {
        guard !blocks.isEmpty, blocks.allSatisfy({ $0 >= 1 }) else { return nil }
        var out: [Int] = []
        for b in blocks.map({ min($0, depth) }) where !out.contains(b) { out.append(b) }
        return out
    }

    /// The head count in a pretrain record (`vit.json`): the first integer `heads` found, preferring
    /// one under a `config` object. Nil when absent or when the data is not JSON.
    public static func heads(inRecord data: Data) -> Int? {
        guard let json = try? JSONSerialization.jsonObject(with: data) else { return nil }
        func find(_ v: Any) -> Int? {
            if let d = v as? [String: Any] {
                if let h = d["heads"] as? Int { return h }
                if let c = d["config"], let h = find(c) { return h }
                for k in d.keys.sorted() where k != "config" { if let h = find(d[k]!) { return h } }
            } else if let a = v as? [Any] {
                for x in a { if let h = find(x) { return h } }
            }
            return nil
        }
        return find(json)
    }
}
