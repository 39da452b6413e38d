import Testing
import Checkpoint
import Random
import TensorCore
import Autograd
import NN
@testable import Models

/// Golden tests against the independent NumPy implementation of scripts/golden_vit.py (float64).
/// The weights are loaded by name with `loadStrict`, so a wrong key or shape fails first.
/// Tolerances atol 2e-5 + rtol 1e-4. Measured (2026-11-25, exact comparison): max abs error 1.9e-6
/// on the ViT taps, 6.6e-7 on `final`, 1.8e-7 on the logits, 7.5e-7 on the text states (Float32
/// arithmetic). Swapping the exact GELU for the tanh approximation moves them to ~6e-4 and fails.
@Suite struct ViTGoldenTests {
    static let vitConfig = ViTConfig(imageSize: 8, patchSize: 4, width: 16, depth: 2, heads: 2, mlpDim: 64, classes: 3)
    static let textConfig = TextEncoderConfig(vocabSize: 11, maxLength: 6, width: 16, depth: 2, heads: 2, mlpDim: 32)

    @Test func vitTapsFinalAndLogitsMatchNumPy() throws {
        let vit = try ViT(config: Self.vitConfig, key: RNGKey(seed: 3))
        let url = EncoderTestSupport.fixtureURL("golden_vit.weights.safetensors")
        try vit.load(from: url)
        let io = try SafeTensors.read(EncoderTestSupport.fixtureURL("golden_vit.io.safetensors"))
        let x = Variable(try EncoderTestSupport.tensor(io, "x"))
        let out = withNoGrad { vit.forward(x, taps: [1, 2]) }
        EncoderTestSupport.expectMatches("tap.1", try #require(out.taps[1]).value, try EncoderTestSupport.tensor(io, "tap.1"), atol: 2e-5, rtol: 1e-4)
        EncoderTestSupport.expectMatches("tap.2", try #require(out.taps[2]).value, try EncoderTestSupport.tensor(io, "tap.2"), atol: 2e-5, rtol: 1e-4)
        EncoderTestSupport.expectMatches("final", out.final.value, try EncoderTestSupport.tensor(io, "final"), atol: 2e-5, rtol: 1e-4)
        let logits = withNoGrad { vit.logits(x) }
        EncoderTestSupport.expectMatches("logits", logits.value, try EncoderTestSupport.tensor(io, "logits"), atol: 2e-5, rtol: 1e-4)
    }

    @Test func textEncoderStatesAndPooledMatchNumPy() throws {
        let enc = try TextEncoder(config: Self.textConfig, key: RNGKey(seed: 3))
        try enc.load(from: EncoderTestSupport.fixtureURL("golden_text.weights.safetensors"))
        let io = try SafeTensors.read(EncoderTestSupport.fixtureURL("golden_text.io.safetensors"))
        let idsTensor = try EncoderTestSupport.tensor(io, "ids")
        let l = idsTensor.shape[1]
        let ids = (0..<idsTensor.shape[0]).map { r in (0..<l).map { Int32(idsTensor.scalars[r * l + $0]) } }
        let (states, pooled) = withNoGrad { enc.forward(ids) }
        EncoderTestSupport.expectMatches("states", states.value, try EncoderTestSupport.tensor(io, "states"), atol: 2e-5, rtol: 1e-4)
        EncoderTestSupport.expectMatches("pooled", pooled.value, try EncoderTestSupport.tensor(io, "pooled"), atol: 2e-5, rtol: 1e-4)
    }
}
