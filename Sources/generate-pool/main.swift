import ArgumentParser
import Foundation
import Generation
import Imaging
import Manifest
import PoolStages
import StageKit
import Upstream
import World

/// `generate-pool`: one item per prompt (`p00000`, ...). Each item renders the reference (its training
/// subject on the clean background) and samples N images from the personalized generator (prompt +
/// reference, one recorded seed per image): the IP-Adapter model, or with `base = "jedi"` JeDi (each image the
/// generated member of the joint set [reference; prompt]). Raising `prompts` appends items; finished items stay.
struct GeneratePool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate-pool", abstract: "Generate the preference pool ([generate-pool]).",
        discussion: definition.help(shardable: true),
        version: BuildSources.version)

    static let definition = StageDefinition(
        name: "generate-pool",
        schema: ConfigSchema(section: "generate-pool", keys: [
            .integer("prompts", default: 16, doc: "number of prompts (append-only: raising it adds items)", in: 0...1_000_000,
                     affectsOutput: false),
            .integer("images_per_prompt", default: 4, doc: "generated images per prompt (HG-DPO uses up to 20)", in: 1...64),
            .integer("subjects_per_category", default: 16, doc: "training subjects per category the pool draws from", in: 1...10_000),
            .integer("steps", default: 25, doc: "sampling steps (of the scheduler)", in: 1...1000),
            ConfigKey("guidance", .float, default: .float(5), doc: "classifier-free guidance scale w"),
            ConfigKey("ip_scale", .float, default: .float(1), doc: "image cross-attention scale lambda"),
            ConfigKey("eta", .float, default: .float(0), doc: "DDIM eta (0 = deterministic)"),
            ConfigKey("reference_attention", .string, default: .string("auto"),
                      doc: "reference attention (the generated image's self-attention reads its reference's foreground): auto (as the "
                          + "adapter was trained, its record's referenceAttention) | off | both | conditional", optIn: true,
                      check: ConfigKey.oneOf(ReferenceAttention.settings)),
            ConfigKey("reference_bias", .float, default: .float(0),
                      doc: "attention bias of the reference's foreground keys under reference attention (0 = as the image's own keys)",
                      optIn: true),
            ConfigKey("base", .string, default: .string("adapter"),
                      doc: "the generator that samples the pool: adapter (the IP-Adapter model) | jedi (pretrain-jedi: each image the generated "
                          + "member of one joint set [reference; prompt], JeDi's joint image guidance at `guidance`; ip_scale and "
                          + "reference_attention do not apply)",
                      optIn: true, check: ConfigKey.oneOf(["adapter", "jedi"])),
            ConfigKey("scheduler", .string, default: .string("ddim"),
                      doc: "sampling scheduler: ddim | dpmpp-2m (DPM-Solver++ (2M), deterministic: eta must be 0)", optIn: true,
                      check: ConfigKey.oneOf(SchedulerKind.allCases.map(\.rawValue))),
            ConfigKey("precision", .string, default: .string("fp32"),
                      doc: "arithmetic of the network's matrix products while sampling: fp32 | bf16 (bfloat16 operands, FP32 "
                          + "accumulation; CPUs with AVX512-BF16 only)", optIn: true,
                      check: ConfigKey.oneOf(SamplingPrecision.allCases.map(\.rawValue))),
        ]),
        sourceFingerprint: BuildSources.fingerprint,
        upstream: ["pretrain-unet", "pretrain-adapter", "pretrain-clip"])

    @OptionGroup var common: CommonOptions

    func run() throws {
        try StageMain.run(Self.definition, options: common) { r in
            let c = r.config
            let up = UpstreamModels(runner: r)
            let jedi = c.string("base") == "jedi"
            // JeDi's weights enter the fingerprint only when it samples, so adapter pools keep theirs.
            let inputs = try up.artifacts.inputs(Self.definition.upstream + (jedi ? ["pretrain-jedi"] : []))
            let plans = PoolPlanner.plan(count: c.int("prompts"), seed: UInt64(bitPattern: Int64(r.run.seed)),
                                         imagesPerPrompt: c.int("images_per_prompt"),
                                         subjectsPerCategory: c.int("subjects_per_category"))
            var byKey: [String: PoolItemPlan] = [:]
            for p in plans { byKey[p.key] = p }
            // Loaded before the item loop so a missing or bad upstream artifact stops the stage (exit 66/65)
            // instead of failing every item.
            let g = jedi ? try up.jedi() : try up.generator()
            let scheduler = SchedulerKind(rawValue: c.string("scheduler"))!
            let precision = SamplingPrecision(rawValue: c.string("precision"))!
            var options = jedi
                ? SamplingOptions(steps: c.int("steps"), guidanceScale: Float(c.double("guidance")), eta: Float(c.double("eta")), scheduler: scheduler)
                : SamplingOptions(steps: c.int("steps"), guidanceScale: Float(c.double("guidance")),
                                  ipScale: Float(c.double("ip_scale")), eta: Float(c.double("eta")), scheduler: scheduler,
                                  referenceAttention: ReferenceAttention.resolve(c.string("reference_attention"), for: g),
                                  referenceBias: Float(c.double("reference_bias")))
            options.precision = precision
            try options.validate(trainSteps: g.schedule.trainSteps, hasReference: false)   // e.g. eta > 0 with dpmpp-2m: exit 65 naming it
            try r.runItems(keys: plans.map(\.key), inputs: inputs) { item in
                guard let plan = byKey[item.key] else {
                    throw PoolError.badConfig(key: "generate-pool.prompts",
                                              reason: "item \(item.key) of this stage run lies beyond prompts = \(c.int("prompts")); "
                                                  + "prompts is append-only, so lowering it cannot drop planned items (raise it back, or --force)")
                }
                let subject = try plan.worldSubject()
                let reference = try Renderer.render(RenderRequest(subject: subject, scene: .clean, size: g.resolution)).image
                let n = plan.seeds.count
                let images = jedi
                    ? try plan.seeds.flatMap { seed in
                        try g.generateJeDi(references: [reference], referencePrompts: [Prompts.referenceCaption(subject.category)],
                                           prompts: [plan.prompt], seed: seed, options: options)
                    }
                    : try g.generate(prompts: Array(repeating: plan.prompt, count: n),
                                     references: Array(repeating: reference, count: n), seeds: plan.seeds, options: options)
                let dir = "pool/\(item.key)/"
                var out = [try item.write(Data(try PNG.encode(reference)), name: dir + "reference.png", kind: "reference")]
                var files: [String] = []
                for (k, im) in images.enumerated() {
                    files.append("gen-\(k).png")
                    out.append(try item.write(Data(try PNG.encode(im)), name: dir + files[k], kind: "generated"))
                }
                let record = PoolPromptRecord(plan: plan, reference: "reference.png", files: files, generator: jedi ? "jedi" : nil)
                out.append(try item.write(try record.encoded(), name: dir + "prompt.json", kind: "prompt"))
                return out
            }
        }
    }
}

GeneratePool.main()
