import Checkpoint
import Foundation
import Generation
import Imaging
import Models
import TensorCore
import World

/// The bench's `jedi` row (issue 17 item 5): JeDi personalization as inpainting (`JeDiSampler`) with pretrain-jedi's
/// joint-image U-Net. Image k of prompt j is the generated member of one joint set [the conditioning references; the
/// prompt], sampled from the plan's seed for (j, k), so its initial noise is keyed like every other row's. The
/// references are captioned as in JeDi's gate and training sets (a clean-background prompt of the subject's noun), and
/// the guidance is the paper's joint image guidance (eq. 3) at the bench's scale. The bench's IP-Adapter options
/// (image scale, reference attention, reward guidance) do not apply: JeDi has no image tokens.
public enum JeDiBench {
    public static let modelName = "jedi"
    public static let model = BenchModel(name: modelName, loss: modelName, vit: nil, trainSeed: nil, adapter: nil)

    /// Whether `m` samples with JeDi: the row `jedi`, or a dpo-train model trained from it (`base = "jedi"`).
    public static func samples(_ m: BenchModel) -> Bool { m == model || m.base == "jedi" }

    /// Loads dpo-train's JeDi weights `file` into `unet`, strictly: its keys must be exactly one `JeDiTrainable`'s set of
    /// the U-Net's weights (as `JeDiPolicy` saved them), each with the weight's shape; the error names `path`.
    public static func apply(_ file: SafeTensorsFile, path: String, to unet: UNet2DConditionModel) throws {
        let keys = Set(file.tensors.keys)
        guard let trainable = JeDiTrainable.allCases.first(where: { Set($0.parameters(of: unet).map(\.0)) == keys }) else {
            throw BenchError.badFile(path: path, reason: "its \(keys.count) tensors are not the weights of one JeDiTrainable set of the JeDi U-Net",
                                     hint: "dpo-train trained another JeDi than pretrain-jedi's; rerun dpo-train")
        }
        let params = trainable.parameters(of: unet)
        try file.checkStrict(expected: Dictionary(uniqueKeysWithValues: params.map { ($0.0, $0.1.shape) }), path: path)
        for (key, p) in params { p.value = Tensor(shape: file.tensors[key]!.shape, scalars: file.tensors[key]!.values) }
    }

    /// What each reference shows: a world subject's clean-background prompt as JeDi's gate writes it, or the
    /// same template with a folder subject's class noun.
    public static func referencePrompt(_ s: BenchSubject) -> String {
        if let w = s.worldSubject { return Prompts.referenceCaption(w.category) }
        return Prompts.fill(Prompts.templates[0], object: s.noun, background: .clean)
    }

    /// JeDi's sampling options from the bench's: its scheduler, steps, spacing, eta, guidance scale and precision only.
    public static func options(_ bench: SamplingOptions) -> SamplingOptions {
        SamplingOptions(steps: bench.steps, guidanceScale: bench.guidanceScale, eta: bench.eta, spacing: bench.spacing, scheduler: bench.scheduler,
                        precision: bench.precision)
    }

    /// Every (prompt, k) of `subject`, each one joint set with `conditioning` (reference 0, or every reference).
    public static func sample(_ g: Generator, subject: BenchSubject, conditioning: [Image], options: SamplingOptions)
        throws(GenerationError) -> [BenchSample] {
        let caption = referencePrompt(subject)
        let o = self.options(options)
        var out: [BenchSample] = []
        for p in subject.prompts {
            for (k, seed) in p.seeds.enumerated() {
                let images = try g.generateJeDi(references: conditioning, referencePrompts: Array(repeating: caption, count: conditioning.count),
                                                prompts: [p.text], seed: seed, options: o)
                out.append(BenchSample(prompt: p.index, k: k, seed: seed, image: images[0]))
            }
        }
        return out
    }
}
