import ArgumentParser
import TensorCore
import StageKit

/// `pretrain vit|clip|unet|adapter|jedi|judge|vae|segmenter`: the pretraining stages (`judge` trains
/// the bench's judges), StageKit whole stages with checkpoints every K steps and bit-exact resume.
/// The maths lives in the Training library.
struct Pretrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pretrain",
        abstract: "Pretrain the project's models on the synthetic world (or import shipped checkpoints).",
        discussion: StageExitCode.help(items: false),
        version: BuildSources.version,
        subcommands: [ViTCommand.self, CLIPCommand.self, UNetCommand.self, AdapterCommand.self, JeDiCommand.self, JeDiSetsCommand.self,
                      JudgeCommand.self, VAECommand.self, SegmenterCommand.self, GatesCommand.self])
}

Pretrain.main()
