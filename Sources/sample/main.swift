import ArgumentParser
import Foundation
import Generation
import Imaging
import StageKit
import TensorCore
import World

/// `sample`: prompt + optional reference images (PNG or JPEG) + seeds -> PNGs, from a checkpoint directory
/// (data/checkpoints layout: clip, unet, adapter or jedi `.safetensors` + `.json`). `--model adapter` (default) is the
/// IP-Adapter generator (the base text-to-image model without a reference; several references concatenate their
/// tokens); `--model jedi` is JeDi personalization as inpainting, one joint set [references; image] per seed.
/// Thin: the samplers live in Generation.
struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate images from a prompt (and a reference image) with the pretrained generator.",
        discussion: "Examples: sample --prompt \"a mug in the forest\" --reference ref.png --seed 1 --seed 2 --out out/\n"
            + "sample --model jedi --prompt \"a mug in the forest\" --reference a.png --reference b.png --reference-prompt \"a photo of a mug\"",
        version: BuildSources.version)

    @Option(help: "Directory with clip/unet/adapter checkpoints and their records.") var checkpoints = "data/checkpoints"
    @Option(help: "The text prompt.") var prompt: String
    @Option(help: "adapter: IP-Adapter (the base model without --reference) | jedi: JeDi joint-image inpainting.") var model: SampleModel = .adapter
    @Option(help: "Reference image, PNG or JPEG (repeatable: all of a subject's references); without one, the base text-to-image model samples.")
    var reference: [String] = []
    @Option(help: "jedi: what each reference shows, one per --reference or one for all (default: the empty prompt).") var referencePrompt: [String] = []
    @Option(help: "jedi: image guidance, joint (the paper's eq. 3) | text-first | image-first.") var jediGuidance: JeDiGuidance.Strategy = .joint
    @Option(help: "jedi: image-to-text guidance ratio of the flexible strategies.") var imageTextRatio: Float = 1
    @Option(help: "Seeds, one image each (repeatable).") var seed: [UInt64] = [1]
    @Option(help: "Output directory.") var out = "samples"
    @Option(help: "Sampling scheduler (dpmpp-2m: DPM-Solver++ (2M)).") var scheduler: SchedulerKind = .ddim
    @Option(help: ArgumentHelp("Arithmetic of the U-Net's matrix products: fp32 | bf16 (bfloat16 operands, FP32 accumulation; CPUs "
                               + "with AVX512-BF16 only).")) var precision: SamplingPrecision = .fp32
    @Option(help: "Sampling steps.") var steps = 25
    @Option(help: "Classifier-free guidance scale.") var guidance: Float = 5
    @Option(help: "Image-branch scale.") var ipScale: Float = 1
    @Option(help: ArgumentHelp("Reference attention: auto (as the adapter was trained, its record's referenceAttention) | off | both | "
                               + "conditional.")) var referenceAttention = "auto"
    @Option(help: "Attention bias of the reference's foreground keys under reference attention.") var referenceBias: Float = 0
    @Option(help: "Worker threads (results do not depend on it).") var threads = 2

    func validate() throws {
        if seed.isEmpty { throw ValidationError("give at least one --seed") }
        if steps < 1 { throw ValidationError("--steps must be >= 1, got \(steps)") }
        if !ReferenceAttention.settings.contains(referenceAttention) {
            throw ValidationError("--reference-attention must be one of \(ReferenceAttention.settings.joined(separator: ", ")), got \(referenceAttention)")
        }
        if threads < 1 { throw ValidationError("--threads must be >= 1, got \(threads)") }
        if model == .jedi && reference.isEmpty { throw ValidationError("--model jedi needs at least one --reference") }
        if model != .jedi && !referencePrompt.isEmpty { throw ValidationError("--reference-prompt is for --model jedi") }
        if !referencePrompt.isEmpty && referencePrompt.count != 1 && referencePrompt.count != reference.count {
            throw ValidationError("give one --reference-prompt, or one per --reference (\(reference.count)); got \(referencePrompt.count)")
        }
    }

    func run() throws {
        Threads.configure(count: threads)
        // Errors exit with the shared table: a missing reference or checkpoint 66, a corrupt one 65.
        try StageMain.command("sample") {
            let dir = URL(fileURLWithPath: checkpoints)
            let refs = try reference.map { try ImageFile.read($0) }
            let images: [Image]
            switch model {
            case .jedi:
                let g = try Generator.loadJeDi(directory: dir)
                let opts = SamplingOptions(steps: steps, guidanceScale: guidance, scheduler: scheduler, precision: precision)
                let texts = referencePrompt.isEmpty ? [WorldText.nullPrompt] : referencePrompt
                let perReference = texts.count == 1 ? Array(repeating: texts[0], count: refs.count) : texts
                let strategy = JeDiGuidance(strategy: jediGuidance, imageToTextRatio: imageTextRatio)
                images = try seed.flatMap { s in
                    try g.generateJeDi(references: refs, referencePrompts: perReference, prompts: [prompt], seed: s, options: opts, guidance: strategy)
                }
            case .adapter:
                let g = try Generator.load(directory: dir, adapter: !refs.isEmpty)
                let opts = SamplingOptions(steps: steps, guidanceScale: guidance, ipScale: ipScale, scheduler: scheduler,
                                           referenceAttention: refs.isEmpty ? nil : ReferenceAttention.resolve(referenceAttention, for: g),
                                           referenceBias: referenceBias, precision: precision)
                images = try g.generate(prompts: Array(repeating: prompt, count: seed.count),
                                        referenceSets: refs.isEmpty ? nil : Array(repeating: refs, count: seed.count), seeds: seed, options: opts)
            }
            let urls = try Generator.writePNGs(images, to: URL(fileURLWithPath: out), names: seed.map { "seed-\($0).png" })
            for u in urls { print(u.path) }
        }
    }
}

/// The generator `sample` runs.
enum SampleModel: String, CaseIterable, ExpressibleByArgument {
    case adapter, jedi
}

extension SchedulerKind: ExpressibleByArgument {}
extension SamplingPrecision: ExpressibleByArgument {}
extension JeDiGuidance.Strategy: ExpressibleByArgument {}

Sample.main()
