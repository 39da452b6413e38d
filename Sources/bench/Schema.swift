import Generation
import StageKit

/// The `[bench]` section (docs/BENCH.md). Defaults = issue 7's protocol (30 subjects x 25 prompts x 2).
let benchSchema = ConfigSchema(section: "bench", keys: [
    .integer("subjects", default: 30, doc: "world test subjects (categories cycle); a dreambench_dir uses its own, up to this many", in: 1...10_000),
    ConfigKey("split", .string, default: .string("test"),
              doc: "world split of the subjects: test (final numbers) | validation (tuning: choose settings here, report test)",
              check: { v in v == .string("test") || v == .string("validation") ? nil : "use test or validation" }),
    .integer("subject_offset", default: 0,
             doc: "first subject number of each category in the split (the judge trains on validation subjects from 1000 on)",
             in: 0...100_000),
    .integer("prompts", default: 25, doc: "prompts per subject (first P of the 25: 20 scenes, 5 attribute changes)", in: 1...25),
    .integer("images_per_prompt", default: 2, doc: "K images per prompt (one seed each, the same for every model)", in: 1...64),
    .integer("references", default: 4, doc: "world reference renders per subject (0: canonical clean; others: random poses)", in: 1...16),
    .integer("steps", default: 25, doc: "sampling steps (of the scheduler)", in: 1...1000),
    ConfigKey("guidance", .float, default: .float(5), doc: "classifier-free guidance scale w"),
    ConfigKey("eta", .float, default: .float(0), doc: "DDIM eta (0 = deterministic)"),
    ConfigKey("reference_attention", .string, default: .string("auto"),
              doc: "reference attention of the one-reference rows (each image's self-attention reads its reference's foreground): auto "
                  + "(as the base adapter was trained, its record's referenceAttention) | off | both | conditional; the all-references rows "
                  + "sample without it", optIn: true, check: ConfigKey.oneOf(ReferenceAttention.settings)),
    ConfigKey("reference_bias", .float, default: .float(0),
              doc: "attention bias of the reference's foreground keys under reference attention (0 = as the image's own keys)", optIn: true),
    ConfigKey("scheduler", .string, default: .string("ddim"),
              doc: "sampling scheduler: ddim | dpmpp-2m (DPM-Solver++ (2M), deterministic: eta must be 0)", optIn: true,
              check: ConfigKey.oneOf(SchedulerKind.allCases.map(\.rawValue))),
    ConfigKey("jedi_scheduler", .string, default: .string(""),
              doc: "scheduler of the JeDi rows (`jedi` and JeDi-based models): \"\" = `scheduler` | ddim | dpmpp-2m (JeDi reads 0.087 DINO lower at "
                  + "DPM-Solver++ 8 than at DDIM 25, where the adapter reads 0.019 higher: docs/PERF.md)", optIn: true,
              check: ConfigKey.oneOf([""] + SchedulerKind.allCases.map(\.rawValue))),
    .integer("jedi_steps", default: 0, doc: "sampling steps of the JeDi rows (0 = `steps`)", in: 0...1000, optIn: true),
    ConfigKey("precision", .string, default: .string("fp32"),
              doc: "arithmetic of the network's matrix products while sampling: fp32 | bf16 (bfloat16 operands, FP32 accumulation; "
                  + "CPUs with AVX512-BF16 only)", optIn: true, check: ConfigKey.oneOf(SamplingPrecision.allCases.map(\.rawValue))),
    ConfigKey("ip_scale", .float, default: .float(1), doc: "image cross-attention scale lambda"),
    ConfigKey("adaptive_norm", .bool, default: .bool(false),
              doc: "HG-DPO latent adaptive normalisation of trained models against the base adapter's chain"),
    ConfigKey("frontier_wrg", .array(.float), default: .array([0, 1, 2, 3, 4, 5].map { .float($0) }),
              doc: "DCO reward-guidance weights w_rg of the frontier ([] = no frontier)"),
    ConfigKey("frontier_model", .string, default: .string("base"), doc: "model of the frontier: base or a dpo-train model name"),
    ConfigKey("models", .array(.string), default: .array([]),
              doc: "dpo-train models to evaluate (names, slugs or losses); [] = all; the base model always runs"),
    ConfigKey("dreambench_dir", .string, default: .string(""), doc: "a real DreamBench-layout folder instead of the world (\"\" = world)"),
    ConfigKey("perf_json", .string, default: .string(""), doc: "perf-bench JSON-lines file for the report (\"\" = none)"),
    ConfigKey("condition_on_all", .bool, default: .bool(false),
              doc: "also generate every model's DreamBench images conditioned on ALL of a subject's references (PatchDPO's inference; "
                  + "tokens concatenated): the all-references rows then use those, the one-reference rows reference 0's. Doubles sampling",
              optIn: true),
    ConfigKey("jedi", .bool, default: .bool(false),
              doc: "also evaluate JeDi (pretrain-jedi's joint-image U-Net, which must have run) as the model `jedi`: personalization as "
                  + "inpainting, one joint set [references; image] per image, joint image guidance at `guidance`", optIn: true),
    ConfigKey("real_renders", .bool, default: .bool(true),
              doc: "score the world's real renders of every prompt as the model `real-renders` (the upper bound; world subjects only)"),
    ConfigKey("tie_tolerance", .float, default: .float(0.001), doc: "win rates: |model - base| <= this is a tie"),
    .integer("grid_subjects", default: 2, doc: "subjects drawn in each model's sample grid", in: 0...1000),
    .integer("grid_prompts", default: 4, doc: "prompts per subject in the sample grids", in: 1...25),
    .integer("batch", default: 8, doc: "sampling batch (does not change images)", in: 1...256, affectsOutput: false),
    ConfigKey("report", .bool, default: .bool(true), doc: "write the report (run-dir/report) after results.json", affectsOutput: false),
])
