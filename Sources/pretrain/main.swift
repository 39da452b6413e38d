import ArgumentParser
import TensorCore

/// `pretrain vit|clip|unet|adapter|judge|vae|segmenter`: the pretraining stages (`judge` trains
/// the bench's judges), StageKit whole stages with checkpoints every K steps and bit-exact resume.
/// The maths lives in the Training library.
struct Pretrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pretrain",
        abstract: "Pretrain the project's models on the synthetic world (or import shipped checkpoints).",
        discussion: "Exit codes: 0 ok, 64 usage, 65 data error, 66 missing input, 70 internal, 74 I/O, 75 busy, 130 interrupted.",
        subcommands: [ViTCommand.self, CLIPCommand.self, UNetCommand.self, AdapterCommand.self,
                      JudgeCommand.self, VAECommand.self, SegmenterCommand.self, GatesCommand.self])
}

Pretrain.main()
