import Testing
import Random
@testable import Models

@Suite struct TextEncoderKeyListTests {
    @Test func defaultTextEncoderKeysAndShapes() throws {
        let enc = try TextEncoder(config: TextEncoderConfig(), key: RNGKey(seed: 1))
        EncoderTestSupport.expectKeys(enc, defaultTextEncoderKeys)
    }
}

/// Every parameter of `TextEncoder(config: TextEncoderConfig())` in walk order with its shape.
/// Written out in full on purpose: a renamed or reordered key must fail this test.
let defaultTextEncoderKeys: [(String, [Int])] = [
    ("token_embedding.weight", [256, 128]),
    ("position_embedding.weight", [12, 128]),
    ("blocks.0.norm1.weight", [128]),
    ("blocks.0.norm1.bias", [128]),
    ("blocks.0.attn.to_q.weight", [128, 128]),
    ("blocks.0.attn.to_q.bias", [128]),
    ("blocks.0.attn.to_k.weight", [128, 128]),
    ("blocks.0.attn.to_k.bias", [128]),
    ("blocks.0.attn.to_v.weight", [128, 128]),
    ("blocks.0.attn.to_v.bias", [128]),
    ("blocks.0.attn.to_out.0.weight", [128, 128]),
    ("blocks.0.attn.to_out.0.bias", [128]),
    ("blocks.0.norm2.weight", [128]),
    ("blocks.0.norm2.bias", [128]),
    ("blocks.0.mlp.fc1.weight", [512, 128]),
    ("blocks.0.mlp.fc1.bias", [512]),
    ("blocks.0.mlp.fc2.weight", [128, 512]),
    ("blocks.0.mlp.fc2.bias", [128]),
    ("blocks.1.norm1.weight", [128]),
    ("blocks.1.norm1.bias", [128]),
    ("blocks.1.attn.to_q.weight", [128, 128]),
    ("blocks.1.attn.to_q.bias", [128]),
    ("blocks.1.attn.to_k.weight", [128, 128]),
    ("blocks.1.attn.to_k.bias", [128]),
    ("blocks.1.attn.to_v.weight", [128, 128]),
    ("blocks.1.attn.to_v.bias", [128]),
    ("blocks.1.attn.to_out.0.weight", [128, 128]),
    ("blocks.1.attn.to_out.0.bias", [128]),
    ("blocks.1.norm2.weight", [128]),
    ("blocks.1.norm2.bias", [128]),
    ("blocks.1.mlp.fc1.weight", [512, 128]),
    ("blocks.1.mlp.fc1.bias", [512]),
    ("blocks.1.mlp.fc2.weight", [128, 512]),
    ("blocks.1.mlp.fc2.bias", [128]),
    ("final_layer_norm.weight", [128]),
    ("final_layer_norm.bias", [128]),
]
