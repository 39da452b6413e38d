import ArgumentParser
import Foundation
import StageKit
import Upstream

/// `bench`: DreamBench protocol (issue 7) on the world's test subjects (or a real DreamBench folder)
/// for the base adapter and every dpo-train adapter, the DCO reward-guidance frontier, then
/// `results.json` (Report.BenchResults), sample grids and the report. See docs/BENCH.md.
struct BenchStage: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Evaluate the base and trained adapters ([bench]); write results.json and the report.",
        discussion: "Items: refs/<subject>, <model>/<subject>, frontier-w<w>/<subject>, then _results. "
            + "Exit codes: 0 ok, 1 items failed, 64 usage, 65 data error, 66 missing input, 70 internal, 74 I/O, 75 busy, 130 interrupted.")

    static let definition = StageDefinition(
        name: "bench", schema: benchSchema, codeVersion: "bench-2",
        upstream: ["pretrain-clip", "pretrain-unet", "pretrain-adapter", "dpo-train", "ssl-finetune-vit", "patch-quality",
                   "pretrain-judge"])

    @OptionGroup var common: CommonOptions

    func run() throws {
        try StageMain.run(stage: Self.definition.name) { runner in
            let r = try StageRunner(Self.definition, options: common)
            runner = r
            let inputs = try UpstreamArtifacts(runner: r).inputs(BenchInputs.stages)
            let work = try BenchWork(runner: r)
            try r.runItems(keys: work.keys, inputs: inputs) { item in try work.run(item) }
        }
    }
}

BenchStage.main()
