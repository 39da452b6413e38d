import ArgumentParser
import Foundation
import Manifest
import StageKit

/// `ssl-finetune-vit`: self-supervised finetuning of the pretrained ViT on the pool images
/// (PatchDPO 4.2.2, METHODS 3) with the patch-matching table before and after (METHODS 4).
struct SSLFinetuneViT: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ssl-finetune-vit",
        abstract: "Finetune the pretrained ViT with rotation/flip equivariance + a regulariser; score patch matching.",
        discussion: definition.help("Reads pretrain-vit (vit.safetensors, vit.json) and generate-pool (pool/*/*.png). Writes "
            + "vit-ssl.safetensors (checkpoint/vit-ssl), patch-matching.csv/.json (table) and the world HPatches "
            + "sequences it evaluated on (hpatches/). Interrupted (130), it resumes with the same command.", items: false),
        version: BuildSources.version)

    static let definition = StageDefinition(
        name: "ssl-finetune-vit",
        schema: ConfigSchema(section: "ssl-finetune-vit", keys: [
            .integer("epochs", default: 10, doc: "passes over the pool images (paper: 10)", in: 0...10_000),
            .integer("batch_size", default: 16, doc: "images per SGD step", in: 1...4096),
            ConfigKey("lr", .float, default: .float(0.1), doc: "SGD learning rate (paper: 0.1)"),
            ConfigKey("momentum", .float, default: .float(0), doc: "SGD momentum"),
            ConfigKey("lambda_reg", .float, default: .float(1), doc: "weight of ||phi - phi_0||^2"),
            .float("photometric", default: 0, doc: "strength 0...1 of a random re-lighting of the transformed view (0: the paper's loss)",
                   in: 0...1),
            ConfigKey("loss_blocks", .array(.integer), default: .array([.integer(7)]), doc: "blocks the SSL loss is taken at"),
            ConfigKey("eval_blocks", .array(.integer), default: .array([1, 4, 7, 10, 12].map { .integer($0) }),
                      doc: "blocks of the patch-matching table (blocks beyond the ViT's depth are skipped with a warning)"),
            .integer("max_images", default: 0, doc: "use at most this many pool images (0: all)", in: 0...10_000_000),
            .integer("checkpoint_every", default: 50, doc: "save model + optimizer every K steps (0: never)", in: 0...1_000_000),
            .integer("hpatches_count", default: 4, doc: "world sequences of each kind (v_ and i_)", in: 1...1000),
            .integer("hpatches_seed", default: 7, doc: "seed of the world sequences", in: 0...Int64(UInt32.max)),
            ConfigKey("hpatches_dir", .string, default: .string(""),
                      doc: "a real HPatches folder to score too (empty: none; also --hpatches)"),
            .integer("heads", default: 0, doc: "ViT heads when the pretrain record does not say (0: 3, MODELS.md)", in: 0...64),
        ]),
        sourceFingerprint: BuildSources.fingerprint,
        upstream: ["generate-pool", "pretrain-vit"])

    @OptionGroup var common: CommonOptions
    @Option(help: "A real HPatches folder (hpatches-sequences-release or its parent) to score before and after.")
    var hpatches: String?

    func validate() throws {
        if let h = hpatches, !FileManager.default.fileExists(atPath: h) {
            throw ValidationError("--hpatches \(h) does not exist; pass the folder holding the v_*/i_* sequences")
        }
    }

    func run() throws {
        try StageMain.run(Self.definition, options: common, flagOverrides: hpatches.map { ["hpatches_dir=\($0)"] } ?? []) { r in
            let inputs = try r.allUpstreamOutputs()
            try r.runWhole(inputs: inputs) { ctx in try SSLStageBody(context: ctx, inputs: inputs).run() }
        }
    }
}

SSLFinetuneViT.main()
