import ArgumentParser
import BenchKit
import Generation
import StageKit
import Upstream
import World

/// `bench`: DreamBench protocol (issue 7) on the world's test subjects (or a real DreamBench folder)
/// for the base adapter and every dpo-train adapter, the DCO reward-guidance frontier, then
/// `results.json` (Report.BenchResults), sample grids and the report. See docs/BENCH.md. The items are
/// BenchKit's `BenchWork`; this binds them to the stage.
struct BenchStage: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Evaluate the base and trained adapters ([bench]); write results.json and the report.",
        discussion: definition.help("Items: refs/<subject>, <model>/<subject>, frontier-w<w>/<subject>, then _results.", shardable: true),
        version: BuildSources.version)

    static let definition = StageDefinition(
        name: "bench", schema: benchSchema, sourceFingerprint: BuildSources.fingerprint,
        upstream: ["pretrain-clip", "pretrain-unet", "pretrain-adapter", "dpo-train", "ssl-finetune-vit", "patch-quality",
                   "pretrain-judge"])

    @OptionGroup var common: CommonOptions

    func run() throws {
        try StageMain.run(Self.definition, options: common) { r in
            let settings = Self.settings(r.config)
            let inputs = try UpstreamArtifacts(runner: r).inputs(BenchInputs.stages + (settings.jedi ? ["pretrain-jedi"] : []))
            let up = UpstreamModels(runner: r)
            let loaded = try BenchInputs(base: try up.generator(), copy: try up.generator(), jedi: settings.jedi ? try up.jedi() : nil,
                                         jediCopy: { try up.jedi() },
                                         upstream: up.artifacts, settings: settings)
            let run = BenchRun(name: r.run.name, seed: r.run.seed, stage: r.stage, root: r.layout.root,
                               artifacts: r.layout.relative(r.layout.artifacts(r.stage)), db: r.db, config: r.config.texts,
                               info: { r.log.info($0) }, warn: { r.log.warn($0) })
            let work = try BenchWork(settings: settings, inputs: loaded, run: run)
            // The results item reads every other item's scores: it is the reduce step, run by whichever shard finishes last.
            let keys = work.keys
            try r.runItems(keys: keys, inputs: inputs, reduce: Set(keys.filter(BenchWork.isResults))) { item in
                try work.run(item.key, stageRun: item.stageRun, write: item.write, metric: { try item.metric($0, step: $1, $2) })
            }
        }
    }

    static func settings(_ c: ConfigSection) -> BenchSettings {
        var s = BenchSettings(
            subjects: c.int("subjects"), split: Split(rawValue: c.string("split"))!, subjectOffset: c.int("subject_offset"),
            prompts: c.int("prompts"), imagesPerPrompt: c.int("images_per_prompt"), references: c.int("references"),
            sampling: SamplingOptions(steps: c.int("steps"), guidanceScale: Float(c.double("guidance")), ipScale: Float(c.double("ip_scale")),
                                      eta: Float(c.double("eta")), scheduler: SchedulerKind(rawValue: c.string("scheduler"))!,
                                      precision: SamplingPrecision(rawValue: c.string("precision"))!),
            adaptiveNorm: c.bool("adaptive_norm"), frontier: c.doubles("frontier_wrg"), frontierModel: c.string("frontier_model"),
            models: c.strings("models"), dreambenchDir: c.string("dreambench_dir"), perfJSON: c.string("perf_json"),
            conditionOnAll: c.bool("condition_on_all"), realRenders: c.bool("real_renders"), tieTolerance: c.double("tie_tolerance"),
            gridSubjects: c.int("grid_subjects"), gridPrompts: c.int("grid_prompts"), batch: c.int("batch"), report: c.bool("report"))
        s.referenceAttention = c.string("reference_attention")
        s.referenceBias = Float(c.double("reference_bias"))
        s.jedi = c.bool("jedi")
        s.jediScheduler = SchedulerKind(rawValue: c.string("jedi_scheduler"))
        s.jediSteps = c.int("jedi_steps") == 0 ? nil : c.int("jedi_steps")
        return s
    }
}

BenchStage.main()
