import Autograd
import Checkpoint
import NN
import Random
import TensorCore
import Text

/// Pre-norm text transformer block (CLIP layout, diffusers attention keys):
/// x = x + attn(norm1(x), causal mask); x = x + mlp(norm2(x)), x [B, L, D].
/// Keys: `norm1`, `attn.{to_q,to_k,to_v}.{weight,bias}`, `attn.to_out.0.{weight,bias}`, `norm2`,
/// `mlp.fc1`, `mlp.fc2`. (CLIP uses quick-GELU in the MLP; we use the exact GELU of the ViT.)
public final class TextBlock: Module {
    public let norm1: LayerNorm
    public let attn: Attention
    public let norm2: LayerNorm
    public let mlp: TransformerMLP

    public init(width: Int, heads: Int, mlpDim: Int, eps: Float, key: RNGKey) {
        norm1 = LayerNorm(width, eps: eps)
        attn = Attention(queryDim: width, heads: heads, headDim: width / heads, qkvBias: true, key: key.fold(in: "attn"))
        norm2 = LayerNorm(width, eps: eps)
        mlp = TransformerMLP(width: width, hidden: mlpDim, key: key.fold(in: "mlp"))
    }

    public var children: [(String, any Module)] {
        [("norm1", norm1), ("attn", attn), ("norm2", norm2), ("mlp", mlp)]
    }

    public func callAsFunction(_ x: Variable, mask: Tensor) -> Variable {
        let h = x + attn(norm1(x), mask: mask)
        return h + mlp(norm2(h))
    }
}

/// Text encoder (MODELS.md): ids [B][L] (L <= maxLength, `WordTokenizer.encode` output) ->
/// e = token_embedding(ids) + position_embedding(0..<L), `depth` `TextBlock`s under a causal mask
/// (position i attends to 0...i, as in CLIP), then `final_layer_norm`.
/// Returns `states` [B, L, D] (the U-Net's cross-attention context) and `pooled` [B, D] = the state
/// at each row's first `<eos>` (CLIP's pooling; thanks to the causal mask it ignores the padding).
/// Keys (in order): `token_embedding.weight` [V, D], `position_embedding.weight` [maxLength, D],
/// `blocks.{i}.{norm1, attn.to_q, attn.to_k, attn.to_v, attn.to_out.0, norm2, mlp.fc1, mlp.fc2}`,
/// `final_layer_norm.{weight,bias}`.
/// Init (open_clip `init_parameters`): token N(0, 0.02^2), positions N(0, 0.01^2); q/k/v
/// N(0, D^-1); attn out and fc2 N(0, D^-1 / (2 depth)); fc1 N(0, 1/(2D)); biases 0; LayerNorms 1/0.
public final class TextEncoder: Module {
    public let config: TextEncoderConfig
    public let tokenEmbedding: Embedding
    public let positionEmbedding: Embedding
    public let blocks: ModuleList<TextBlock>
    public let finalLayerNorm: LayerNorm

    public init(config: TextEncoderConfig = TextEncoderConfig(), key: RNGKey) throws(EncoderError) {
        try config.validate()
        self.config = config
        let d = config.width
        tokenEmbedding = Embedding(config.vocabSize, d, key: key.fold(in: "token_embedding"))
        positionEmbedding = Embedding(config.maxLength, d, key: key.fold(in: "position_embedding"))
        blocks = ModuleList((0..<config.depth).map { i in
            TextBlock(width: d, heads: config.heads, mlpDim: config.mlpDim, eps: config.layerNormEps, key: key.fold(in: "blocks.\(i)"))
        })
        finalLayerNorm = LayerNorm(d, eps: config.layerNormEps)
        tokenEmbedding.weight.value = Init.normal(tokenEmbedding.weight.shape, std: 0.02, key: key.fold(in: "token_embedding"))
        positionEmbedding.weight.value = Init.normal(positionEmbedding.weight.shape, std: 0.01, key: key.fold(in: "position_embedding"))
        let attnStd = 1 / Float(d).squareRoot()
        let projStd = attnStd / Float(2 * config.depth).squareRoot()
        let fcStd = 1 / Float(2 * d).squareRoot()
        for (i, block) in blocks.items.enumerated() {
            let k = key.fold(in: "init.blocks.\(i)")
            EncoderInit.normalLinear(block.attn.toQ, std: attnStd, key: k.fold(in: "to_q"))
            EncoderInit.normalLinear(block.attn.toK, std: attnStd, key: k.fold(in: "to_k"))
            EncoderInit.normalLinear(block.attn.toV, std: attnStd, key: k.fold(in: "to_v"))
            EncoderInit.normalLinear(block.attn.toOut, std: projStd, key: k.fold(in: "to_out"))
            EncoderInit.normalLinear(block.mlp.fc1, std: fcStd, key: k.fold(in: "fc1"))
            EncoderInit.normalLinear(block.mlp.fc2, std: projStd, key: k.fold(in: "fc2"))
        }
    }

    public var children: [(String, any Module)] {
        [("token_embedding", tokenEmbedding), ("position_embedding", positionEmbedding),
         ("blocks", blocks), ("final_layer_norm", finalLayerNorm)]
    }

    /// Checks ids before a forward: equal row lengths within `maxLength`, ids in the vocabulary,
    /// an `<eos>` in every row. Throws `EncoderError` naming the row and position.
    public func validate(_ ids: [[Int32]], endId: Int32 = WordTokenizer.end) throws(EncoderError) {
        for (r, row) in ids.enumerated() {
            if row.count > config.maxLength { throw .sequenceTooLong(row: r, length: row.count, maxLength: config.maxLength) }
            if row.count != ids[0].count { throw .raggedBatch(row: r, length: row.count, expected: ids[0].count) }
            if let p = row.firstIndex(where: { $0 < 0 || Int($0) >= config.vocabSize }) {
                throw .tokenOutOfRange(row: r, position: p, id: row[p], vocabularySize: config.vocabSize)
            }
            if !row.contains(endId) { throw .missingEnd(row: r, endId: endId) }
        }
    }

    /// Encodes `ids` (B rows of equal length L <= maxLength, each with an `<eos>`; see `validate`).
    /// Returns `states` [B, L, D] and `pooled` [B, D] (state at the first `endId` of each row).
    public func forward(_ ids: [[Int32]], endId: Int32 = WordTokenizer.end) -> (states: Variable, pooled: Variable) {
        do { try validate(ids, endId: endId) } catch { preconditionFailure("TextEncoder.forward: \(error)") }
        let b = ids.count, l = ids[0].count, d = config.width
        precondition(b > 0, "TextEncoder.forward: empty batch")
        let tokens = tokenEmbedding(ids.flatMap { $0 }, shape: [b, l])                 // [B, L, D]
        let positions = positionEmbedding((0..<Int32(l)).map { $0 }, shape: [1, l])     // [1, L, D]
        var x = tokens + positions
        let mask = TextEncoder.causalMask(l)
        for block in blocks.items { x = block(x, mask: mask) }
        let states = finalLayerNorm(x)
        // Pooling as a matmul with a constant one-hot [B, 1, L] selector, so the gradient flows
        // only into the selected states.
        var onehot = [Float](repeating: 0, count: b * l)
        for (r, row) in ids.enumerated() { onehot[r * l + row.firstIndex(of: endId)!] = 1 }
        let pooled = Variable(Tensor(shape: [b, 1, l], scalars: onehot)).matmul(states).reshaped([b, d])
        return (states, pooled)
    }

    /// Additive causal mask [L, L]: 0 on and below the diagonal, -inf above.
    public static func causalMask(_ l: Int) -> Tensor {
        var m = [Float](repeating: 0, count: l * l)
        for i in 0..<l { for j in (i + 1)..<max(l, i + 1) { m[i * l + j] = -.infinity } }
        return Tensor(shape: [l, l], scalars: m)
    }
}

extension TextEncoder {
    /// The key prefix of a standalone text-tower file (HF `CLIPTextModel`, diffusers' `text_encoder/`).
    public static let standalonePrefix = "text_model."

    /// This tower as a standalone file: its parameters under `text_model.*`.
    public func standaloneFile() -> SafeTensorsFile {
        var f = SafeTensorsFile()
        for (k, v) in stateDict().tensors { f.tensors[Self.standalonePrefix + k] = v }
        return f
    }

    /// Loads a standalone file (`standaloneFile`'s keys) strictly: no key missing, none extra, shapes equal.
    public func loadStrict(standalone file: SafeTensorsFile, path: String) throws(CheckpointError) {
        var expected: [String: [Int]] = [:]
        for (k, s) in parameterShapes() { expected[Self.standalonePrefix + k] = s }
        try file.checkStrict(expected: expected, path: path)
        var own = SafeTensorsFile()
        for (k, v) in file.tensors { own.tensors[String(k.dropFirst(Self.standalonePrefix.count))] = v }
        try loadStrict(own, path: path)
    }
}
