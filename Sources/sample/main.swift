import ArgumentParser
import Foundation
import Generation
import Imaging
import StageKit
import TensorCore

/// `sample`: prompt + optional reference image (PNG or JPEG) + seeds -> PNGs, from a checkpoint directory
/// (data/checkpoints layout: clip, unet, adapter `.safetensors` + `.json`). Thin: the sampler lives in Generation.
struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate images from a prompt (and a reference image) with the pretrained generator.",
        discussion: "Example: sample --prompt \"a mug in the forest\" --reference ref.png --seed 1 --seed 2 --out out/",
        version: BuildSources.version)

    @Option(help: "Directory with clip/unet/adapter checkpoints and their records.") var checkpoints = "data/checkpoints"
    @Option(help: "The text prompt.") var prompt: String
    @Option(help: "Reference image (PNG or JPEG); without it the base text-to-image model samples.") var reference: String?
    @Option(help: "Seeds, one image each (repeatable).") var seed: [UInt64] = [1]
    @Option(help: "Output directory.") var out = "samples"
    @Option(help: "Sampling scheduler (dpmpp-2m: DPM-Solver++ (2M)).") var scheduler: SchedulerKind = .ddim
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
    }

    func run() throws {
        Threads.configure(count: threads)
        // Errors exit with the shared table: a missing reference or checkpoint 66, a corrupt one 65.
        try StageMain.command("sample") {
            let g = try Generator.load(directory: URL(fileURLWithPath: checkpoints), adapter: reference != nil)
            let refs = try reference.map { path in Array(repeating: try ImageFile.read(path), count: seed.count) }
            let opts = SamplingOptions(steps: steps, guidanceScale: guidance, ipScale: ipScale, scheduler: scheduler,
                                       referenceAttention: reference == nil ? nil : ReferenceAttention.resolve(referenceAttention, for: g),
                                       referenceBias: referenceBias)
            let images = try g.generate(prompts: Array(repeating: prompt, count: seed.count), references: refs, seeds: seed, options: opts)
            let urls = try Generator.writePNGs(images, to: URL(fileURLWithPath: out), names: seed.map { "seed-\($0).png" })
            for u in urls { print(u.path) }
        }
    }
}

extension SchedulerKind: ExpressibleByArgument {}

Sample.main()
