import Foundation

/// A small, realistic, deterministic `BenchResults` for tests and for docs/report.png until the real
/// run exists (`render-report --fixture`). Numbers are made up in the shape of a world run: 8 test
/// subjects, six models in two reference settings, patchdpo (finetuned ViT) with three seeds.
/// Figure paths: docs/adapter-samples.png (present when the run directory is the repo root) and one
/// deliberately missing file, so the page shows both an embedded figure and the missing-figure note.
public enum ReportFixture {
    /// perf-bench lines in the exact format the benches print (Sources/perf-bench/*.swift).
    public static let perfLines = """
    {"bench":"sgemm","m":64,"k":288,"n":1024,"calls":16,"threads":2,"seconds":0.003012,"gflops":25.07}
    {"bench":"sgemm","m":64,"k":288,"n":16384,"calls":1,"threads":2,"seconds":0.002711,"gflops":27.85}
    {"bench":"conv2d","pass":"forward","n":16,"cin":32,"cout":64,"res":32,"kernel":3,"threads":2,"seconds":0.004105,"gflops":18.39,"ratio_to_sgemm":0.7337}
    {"bench":"conv2d","pass":"backward_data","n":16,"cin":32,"cout":64,"res":32,"kernel":3,"threads":2,"seconds":0.00482,"gflops":15.66,"ratio_to_sgemm":0.6249}
    {"bench":"unet_train_step","impl":"swift","width":32,"batch":8,"res":32,"steps":5,"threads":2,"params":2034563,"median_step_s":0.412,"forward_s":0.131,"backward_s":0.262,"adamw_s":0.019,"peak_rss_mb":412.5,"loss":1.02}
    {"bench":"unet_train_step_peer","impl":"jax","jax":"0.4.30","params":2034563,"median_step_s":0.355,"loss":1.01}
    {"bench":"unet_train_step_ratio","ours_over_peer":1.161,"goal":0.5}
    {"bench":"ddim_sample","steps":25,"cfg":true,"batch":8,"res":32,"images_per_s":0.77,"seconds":10.39}
    {"bench":"conv_loop_peak_rss","iterations":5,"seconds":0.91,"peak_rss_mb":301.2}
    """

    public static func make() -> BenchResults {
        let subjects = ["mug-0009", "teapot-0009", "chair-0009", "lamp-0009", "vase-0009", "boot-0009", "clock-0009", "kettle-0009"]
        var rng = SplitMix64(seed: 42)
        func u() -> Double { Double(rng.next() >> 11) / Double(1 << 53) - 0.5 }   // uniform in [-0.5, 0.5)
        let subjectBase = subjects.map { _ in (dino: 0.52 + 0.12 * u(), clipI: 0.70 + 0.08 * u(), clipT: 0.27 + 0.03 * u()) }
        func scores(dino: Double, clipI: Double, clipT: Double, setting: String, images: Int = 10) -> [SubjectScores] {
            let drop = setting == "one-reference" ? 0.96 : 1.0
            return zip(subjects, subjectBase).enumerated().map { i, sb in
                let (s, b) = sb
                let wobble = 0.05 * Double(i % 3) - 0.05
                return SubjectScores(subject: s, dino: (b.dino * (1 + dino) + 0.01 * u()) * drop, clipI: (b.clipI * (1 + clipI) + 0.006 * u()) * drop,
                                     clipT: b.clipT * (1 + clipT) + 0.004 * u(), images: images,
                                     identity: min(1, 0.72 + 1.5 * dino + wobble), detail: min(1, 0.41 + 4 * dino + wobble),
                                     scene: min(1, 0.9 + clipT + wobble / 2))
            }
        }
        // (name, loss, vit, seed, relative DINO, CLIP-I, CLIP-T changes against the original model)
        let specs: [(String, String?, String?, Int?, Double, Double, Double)] = [
            ("original", nil, nil, nil, 0, 0, 0),
            ("real-renders", "real-renders", nil, nil, 0.4, 0.2, 0.1),
            ("dm", "dm", "original", 1, 0.008, 0.004, -0.004),
            ("diffusion-dpo", "diffusion-dpo", "original", 1, 0.021, 0.010, -0.006),
            ("patchdpo (original ViT)", "patchdpo", "original", 1, 0.026, 0.012, -0.005),
            ("patchdpo (finetuned ViT) seed 1", "patchdpo", "finetuned", 1, 0.041, 0.018, -0.006),
            ("patchdpo (finetuned ViT) seed 2", "patchdpo", "finetuned", 2, 0.036, 0.015, -0.008),
            ("patchdpo (finetuned ViT) seed 3", "patchdpo", "finetuned", 3, 0.044, 0.020, -0.004),
            ("hg-dpo", "hg-dpo", "original", 1, 0.015, 0.006, -0.012),
        ]
        var models: [ModelResult] = []
        for setting in ["all-references", "one-reference"] {
            for s in specs {
                models.append(ModelResult(name: s.0, loss: s.1, vit: s.2, trainSeed: s.3, setting: setting,
                                          perSubject: scores(dino: s.4, clipI: s.5, clipT: s.6, setting: setting)))
            }
        }
        var wins: [WinRate] = []
        for (i, s) in specs.dropFirst(2).enumerated() where !s.0.hasSuffix("seed 2") && !s.0.hasSuffix("seed 3") {
            for (j, scorer) in ["dino", "clip-i", "clip-t"].enumerated() {
                let w = 20 + 2 * i + (j == 2 ? -6 : j), t = 4 + j
                wins.append(WinRate(model: s.0, baseline: "original", scorer: scorer, wins: w, ties: t, losses: 40 - w - t))
            }
        }
        let colour = specs.dropFirst(2).enumerated().map { i, s in
            ColourShift(model: s.0, baseline: "original", huePct: 0.4 * Double(i) - 1, saturationPct: 1.5 - 0.3 * Double(i),
                        valuePct: -0.8 + 0.2 * Double(i), images: 80)
        }
        let frontier = (0...5).map { w in
            let x = Double(w)
            return FrontierPoint(model: "patchdpo (finetuned ViT) seed 1", wRG: x,
                                 perSubject: scores(dino: 0.012 * x - 0.001 * x * x, clipI: 0.005 * x, clipT: -0.004 * x - 0.0015 * x * x,
                                                    setting: "all-references", images: 4))
        }
        let blocks = [1, 4, 7, 10, 12], before = [21.4, 33.8, 40.2, 37.5, 29.9], after = [22.9, 39.6, 47.1, 43.0, 32.4]
        let matching = blocks.indices.map { PatchMatchingRow(source: "world", block: blocks[$0], beforePct: before[$0], afterPct: after[$0], cells: 9600) }
        let judges = [
            JudgeInfo(role: "judge (DINO, CLIP and attribute stand-ins)", weights: "artifacts/pretrain-judge/judge.safetensors",
                      sha256: "3f9a0c1b7d2e4f6a8b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a",
                      metrics: ["accuracy_category": 0.97, "dino_top1": 0.91, "clip_t_top1": 0.84]),
        ]
        let stages: [(String, Double)] = [("pretrain-vit", 4.1), ("pretrain-clip", 3.2), ("pretrain-unet", 2.5), ("pretrain-adapter", 2.2),
                                          ("pretrain-judge", 1.9),
                                          ("generate-pool", 262), ("score-and-pair", 41), ("ssl-finetune-vit", 118), ("patch-quality", 37),
                                          ("dpo-train", 404), ("bench", 455)]
        return BenchResults(
            run: "report-fixture", config: ["seed": "7", "subjects": "8", "prompts_per_subject": "5", "images_per_prompt": "2",
                                            "steps": "25", "guidance": "5.0", "frontier_wrg": "[0, 1, 2, 3, 4, 5]"],
            protocolInfo: ProtocolInfo(dataset: "world", subjects: subjects.count, promptsPerSubject: 5, imagesPerPrompt: 2, resolution: 32,
                                       sampler: "DDIM 25 steps, eta 0, CFG 5.0", judges: judges),
            models: models, winRates: wins, colourShift: colour, frontier: frontier, patchMatching: matching,
            auroc: [AUROCRow(vit: "original", block: 7, auroc: 0.861, patches: 51200, images: 800),
                    AUROCRow(vit: "finetuned", block: 7, auroc: 0.923, patches: 51200, images: 800),
                    AUROCRow(vit: "finetuned", block: 7, auroc: 0.781, patches: 12800, images: nil, defect: "shift-decal")],
            figures: [Figure(section: "samples", title: "Adapter samples", path: "docs/adapter-samples.png",
                             caption: "reference | samples per prompt (stand-in until the bench's grids exist)"),
                      Figure(section: "heatmaps", title: "Patch-quality heatmaps", path: "artifacts/patch-quality/heatmaps.png",
                             caption: "deliberately missing in the fixture, to show the note")],
            stageTimes: stages.map { StageTime(stage: $0.0, seconds: $0.1, status: "done") },
            performance: PerfEntry.parse(jsonLines: perfLines))
    }

    /// The fixture's sample records in the bench's layout: per (model, subject) of `make()`, one image per prompt
    /// (k = 0) at `artifacts/bench/samples/<model>/<subject>/pNN-k0.png`, reference 0 at
    /// `artifacts/bench/refs/<subject>/ref-0.png`, every model of a (subject, prompt) on the same seed. The files do
    /// not exist (tests write them; `render-report --fixture` shows grey boxes naming them).
    public static func samples(prompts: Int = 2) -> SampleIndex {
        let r = make()
        var names: [String] = []
        for m in r.models where !names.contains(m.name) { names.append(m.name) }
        let subjects = r.models.first?.perSubject.map(\.subject) ?? []
        return SampleIndex(entries: names.flatMap { name in
            subjects.enumerated().map { si, subject in
                let noun = subject.split(separator: "-").first.map(String.init) ?? subject
                let texts = (0..<prompts).map { "a photo of a \(noun) on a sandy beach at sunset, seen from a low angle (prompt \($0))" }
                let images = (0..<prompts).map { j in
                    SampleIndex.Sample(file: "artifacts/bench/samples/\(name)/\(subject)/p\(String(format: "%02d", j))-k0.png", prompt: j, k: 0,
                                       seed: UInt64(1000 * si + j), dino: [0.5, 0.7], clipT: 0.3)
                }
                return SampleIndex.Entry(model: name, subject: subject, references: ["artifacts/bench/refs/\(subject)/ref-0.png"],
                                         prompts: texts, images: images)
            }
        })
    }
}
