import Models
import Objectives
import StageKit
import TensorCore

/// The `[dpo-train]` section (defaults = the reference code: AdamW lr 3e-5, wd 0.01, no schedule).
let dpoTrainSchema = ConfigSchema(section: "dpo-train", keys: [
    .strings("losses", default: ["patchdpo"], doc: "losses to train, one adapter each: dm|patchdpo|patchdpo-pref|patchdpo-aligned|diffusion-dpo|sft|dco|hg-dpo",
             check: DPORun.checkLosses),
    .integers("seeds", default: [1], doc: "one run per seed (and loss, and ViT for PatchDPO losses): adapter-<loss>[-<vit>]-s<seed>",
              check: DPORun.checkSeeds),
    .strings("patchdpo_vits", default: ["finetuned"],
             doc: "for patchdpo and patchdpo-pref: one run per ViT whose quality maps it reads (finetuned | original; "
                 + "patch-quality's `vits` must make them)",
             check: DPORun.checkViTs),
    .integer("steps", default: 200, doc: "optimizer steps per run", in: 1...10_000_000),
    .integer("batch", default: 4, doc: "pairs per step (drawn with replacement from the seeded stream)", in: 1...4096),
    ConfigKey("lr", .float, default: .float(3e-5), doc: "AdamW learning rate (constant)"),
    ConfigKey("weight_decay", .float, default: .float(0.01), doc: "AdamW decoupled weight decay"),
    ConfigKey("beta", .float, default: .float(0), doc: "preference beta; 0 = each loss's code default (5000 dpo, 2500 hg-dpo, 1000 dco)"),
    ConfigKey("lambda_stat", .float, default: .float(10000), doc: "hg-dpo statistic-matching weight"),
    ConfigKey("stat_step", .string, default: .string("sample"),
              doc: "hg-dpo reverse step: sample (shared z) | mean (posterior mean)",
              check: { v in v == .string("sample") || v == .string("mean") ? nil : "use sample or mean" }),
    .float("drop_text", default: 0.05, doc: "per pair: probability of the empty prompt only (PatchDPO's code: 0.05)", in: 0...1),
    .float("drop_image", default: 0.05, doc: "per pair: probability of the zero reference image only", in: 0...1),
    .float("drop_both", default: 0.05, doc: "per pair: probability of dropping both (the CFG null branch)", in: 0...1),
    ConfigKey("dco_captions", .string, default: .string("comprehensive"),
              doc: "dco's text for its reference rows: comprehensive (DCO 4.3: colour, pattern, decal, the clean background) | prompt (the pool prompt)",
              check: ConfigKey.oneOf(["comprehensive", "prompt"])),
    ConfigKey("train_resampler", .bool, default: .bool(false), doc: "also train the resampler (image_proj.*; base = adapter)"),
    ConfigKey("max_grad_norm", .float, default: .float(1.0), doc: "gradient 2-norm clip; 0 = none"),
    ConfigKey("ip_scale", .float, default: .float(1.0), doc: "image cross-attention scale (base = adapter)"),
    ConfigKey("reference_attention", .string, default: .string("auto"),
              doc: "train each row beside its pair's clean reference, reading its foreground keys (docs/REFERENCE_ATTENTION.md), as "
                  + "the samplers run the adapter: auto (when the adapter was trained with it: its record's referenceAttention) | off | conditional",
              optIn: true, check: ConfigKey.oneOf(["auto", "off", "conditional"])),
    ConfigKey("base", .string, default: .string("adapter"),
              doc: "the generator preference training changes: adapter (the IP-Adapter model's image branch; outputs adapter-<run>.*) | "
                  + "jedi (pretrain-jedi's joint-image U-Net, each row the unknown member of the set [reference; row]; outputs jedi-<run>.*)",
              optIn: true, check: ConfigKey.oneOf(GeneratorBase.allCases.map(\.rawValue))),
    ConfigKey("adapter_trainable", .string, default: .string("image"),
              doc: "base = adapter: the weights that train: image (IP-Adapter's image branch, every to_k_ip/to_v_ip: PatchDPO's \"parameters for "
                  + "projecting image features\") | image+attention (also every self-attention, attn1.*, through which reference attention "
                  + "reads the reference; the adapter files then carry them)",
              optIn: true, check: ConfigKey.oneOf(AdapterTrainable.allCases.map(\.rawValue))),
    ConfigKey("jedi_trainable", .string, default: .string("attention"),
              doc: "base = jedi: the U-Net weights that train: attention (the coupled self-attention, attn1.*) | all",
              optIn: true, check: ConfigKey.oneOf(JeDiTrainable.allCases.map(\.rawValue))),
    ConfigKey("from", .string, default: .string(""),
              doc: "a folder of shipped runs (<base>-<run>.shipped.safetensors + <base>-<run>.json, as each run writes them; "
                  + "data/checkpoints/reproduction): a run found there is imported (rebuilt on the base, checked against its record's "
                  + "SHA-256, its inputs' digest and its config) instead of trained; the others train. \"\" = train every run",
              affectsOutput: false),
    ConfigKey("precision", .string, default: .string("fp32"),
              doc: "arithmetic of each step's matrix products: fp32 | bf16 (mixed precision: bfloat16 operands, FP32 accumulation, "
                  + "weights, gradients and optimizer; CPUs with AVX512-BF16 only)", optIn: true,
              check: ConfigKey.oneOf(GEMMPrecision.allCases.map(\.rawValue), refusing: GEMMPrecision.unavailableHere)),
    .integer("checkpoint_every", default: 50, doc: "checkpoint every K steps", in: 0...10_000_000, affectsOutput: false),
    .integer("log_every", default: 10, doc: "log a line every K steps", in: 1...1_000_000, affectsOutput: false),
])
