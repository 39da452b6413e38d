import Checkpoint
import Models
import NN
import Pretrained
import Random
import Testing
@testable import BenchKit

/// The bench's slot for dpo-train adapters: an adapter trained with its self-attention (`adapter_trainable =
/// "image+attention"`) replaces those weights, and the next adapter, trained on the image branch only, finds the
/// pretrained self-attention again rather than the previous model's.
@Suite struct AdapterSlotTests {
    /// `file` with every tensor scaled by `s`: a stand-in for a trained adapter that differs from the pretrained one.
    static func scaled(_ file: SafeTensorsFile, _ s: Float) -> SafeTensorsFile {
        var out = file
        for (k, t) in file.tensors { out.tensors[k] = TensorData(shape: t.shape, values: t.values.map { $0 * s }) }
        return out
    }

    static func values(_ params: [(String, Parameter)]) -> [String: [Float]] {
        Dictionary(uniqueKeysWithValues: params.map { ($0.0, $0.1.value.scalars) })
    }

    @Test func anImageBranchAdapterAfterAnAttentionAdapterReadsThePretrainedAttention() throws {
        let g = try SamplingTests.generator()
        let slot = AdapterSlot(unet: g.unet, resampler: g.resampler!)
        let attention = { Self.values(AdapterTrainable.imageAndAttention.extraParameters(of: g.unet)) }
        let imageBranch = { Self.values(g.unet.imageProjectionParameters()) }
        let pretrained = attention()
        #expect(!pretrained.isEmpty)

        let withAttention = Self.scaled(PretrainedModels.adapterFile(unet: g.unet, resampler: g.resampler!, trainable: .imageAndAttention), 1.5)
        let imageOnly = Self.scaled(PretrainedModels.adapterFile(unet: g.unet, resampler: g.resampler!), 0.5)

        try slot.load(withAttention, path: "a.safetensors")
        #expect(attention() != pretrained, "the attention adapter's self-attention is loaded")
        for (k, v) in attention() { #expect(v == withAttention.tensors[k]!.values, "\(k)") }

        try slot.load(imageOnly, path: "b.safetensors")
        #expect(attention() == pretrained, "an image-branch adapter runs on the pretrained self-attention")
        for (k, v) in imageBranch() { #expect(v == imageOnly.tensors[k]!.values, "\(k)") }
    }
}
