import ArgumentParser
import Foundation
import Objectives
import StageKit

/// `dpo-train`: preference training of the image adapter with a choice of loss (METHODS.md 5).
struct DPOTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dpo-train",
        abstract: "Train the image adapter with the losses of METHODS.md 5 ([dpo-train]).",
        discussion: "Outputs adapter-<run>.safetensors (kind checkpoint/adapter) and adapter-<run>.json (kind record) "
            + "per run, <run> = <loss>[-<vit>]-s<seed> (e.g. patchdpo-finetuned-s1, dm-s2); metrics <run>/loss, "
            + "<run>/implicit_acc, <run>/grad_norm per step. Exit codes: 0 ok, "
            + "64 usage, 65 data error, 66 missing input, 70 internal, 74 I/O, 75 busy, 130 interrupted.")

    static let definition = StageDefinition(
        name: "dpo-train", schema: dpoTrainSchema, codeVersion: "dpo-train-3",
        upstream: ["patch-quality", "score-and-pair", "generate-pool", "pretrain-clip", "pretrain-unet", "pretrain-adapter"])

    @OptionGroup var common: CommonOptions
    @Option(help: "Train only this loss: \(LossKind.allCases.map(\.rawValue).joined(separator: "|")) (overrides [dpo-train].losses).")
    var loss: String?

    func validate() throws {
        if let l = loss, LossKind(rawValue: l) == nil {
            throw ValidationError("--loss \(l): use one of \(LossKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        try StageMain.run(stage: Self.definition.name) { runner in
            let r = try StageRunner(Self.definition, options: common, flagOverrides: loss.map { ["losses=[\"\($0)\"]"] } ?? [])
            runner = r
            try runDPOTrain(r)
        }
    }
}

DPOTrain.main()
