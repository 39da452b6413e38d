import Autograd
import Checkpoint
import NN
import Random
import Diffusion
import Foundation
import Generation
import Imaging
import Models
import Pretrained
import StageKit
import TensorCore
import Training
import World

/// The U-Net and adapter quality gates, shared by the stages and by `pretrain gates` (which re-measures
/// them on shipped files). The judge is pretrain-judge's (issue 14); seeds are derived from the stage's
/// seed, so both give the same numbers.
enum GateRuns {
    /// The gate lines of `targets` on `metrics`, each a share of `metrics[trials]` samples (with its interval).
    static func checks(_ targets: [(String, Double)], _ metrics: [String: Double], trials: String) -> [GateCheck] {
        targets.map { GateCheck(metric: $0.0, target: $0.1, value: metrics[$0.0], trials: metrics[trials].map { Int($0) }) }
    }

    /// Issue 15's targets of the generator gates (metric, target).
    static let unetTargets: [(String, Double)] = [("category_accuracy", 0.8), ("scene_accuracy", 0.9)]
    static let adapterTargets: [(String, Double)] = [("adapter_identity", 0.7), ("adapter_scene", 0.8)]

    /// Base U-Net gate (see `Gates.categoryAccuracy`): metrics and the sample sheet
    /// (rows = backgrounds, columns = categories).
    /// The gate itself comes back too (its misreadings).
    static func unet(textEncoder: TextEncoder, unet: UNet2DConditionModel, vae: AutoencoderKL?, schedule: NoiseSchedule, judge: WorldJudge,
                     resolution: Int, steps: Int, guidance: Float, scheduler: SchedulerKind = .ddim,
                     precision: SamplingPrecision = .fp32, stageSeed: UInt64) throws -> (metrics: [String: Double], sheet: Image, gate: CategoryGate) {
        let g = Generator(textEncoder: textEncoder, imageEncoder: nil, resampler: nil, unet: unet, vae: vae, schedule: schedule,
                          resolution: resolution)
        let opts = SamplingOptions(steps: steps, guidanceScale: guidance, scheduler: scheduler, precision: precision)
        let gate = try Gates.categoryAccuracy(g, judge: judge, options: opts, seed: stageSeed &+ 7)
        let m: [String: Double] = ["category_accuracy": gate.accuracy, "category_accuracy_real_renders": gate.realAccuracy,
                                   "scene_accuracy": gate.sceneAccuracy, "scene_accuracy_real_renders": gate.realSceneAccuracy,
                                   "samples": Double(gate.samples.count)]
        let rows = stride(from: 0, to: gate.samples.count, by: 13).map { Array(gate.samples[$0..<min($0 + 13, gate.samples.count)]) }
        let sheet = Gates.grid(rows: rows.map { $0.map(\.image) }, captions: [], scale: 2,
                               title: "base U-Net: rows = backgrounds, columns = categories")
        return (m, sheet, gate)
    }

    /// Adapter gate (see `Gates.adapterSimilarity`) on `subjects` test subjects in 4 backgrounds: the
    /// judge's DINO and CLIP-I cosines to the reference (and to another subject's), identity, detail, scene.
    static func adapter(_ g: Generator, judge: WorldJudge, subjects count: Int, steps: Int, guidance: Float, ipScale: Float = 1,
                        imageGuidance: Float? = nil, scheduler: SchedulerKind = .ddim, referenceAttention: ReferenceAttention? = nil, referenceBias: Float = 0,
                        referenceTimestep: Int? = nil, precision: SamplingPrecision = .fp32, stageSeed: UInt64, title: String = "adapter",
                        sdedit: Float? = nil,
                        sample: ((Subject, Tensor, [String], [UInt64]) throws -> Tensor)? = nil) throws
        -> (metrics: [String: Double], sheet: Image, patternMisreadings: [String: Int], perSample: [AdapterGateSample]) {
        let opts = SamplingOptions(steps: steps, guidanceScale: guidance, ipScale: ipScale, imageGuidanceScale: imageGuidance,
                                   scheduler: scheduler, referenceAttention: referenceAttention,
                                   referenceBias: referenceBias, referenceTimestep: referenceTimestep, precision: precision)
        let cats = ObjectCategory.allCases
        let subjects = (0..<count).map { i in Split.test.subjects(of: cats[(i * 5) % cats.count], count: 1 + i / cats.count).last! }
        let bgs: [Background] = [.beach, .forest, .snow, .cityStreet]
        judge.train(false)
        let judges: [(String, (Tensor) -> Tensor)] = [
            ("adapter_dino", { x in withNoGrad { CLIPModel.normalize(Gates.judged(judge, x).embedding) }.value }),
            ("adapter_clip_i", { x in Gates.judged(judge, x).clipImage.value }),
        ]
        // SDEdit diagnostic: each sample starts from the real render of its subject in its scene (pose and scene from
        // the sample's seed), diffused to strength x the chain, so the judge reads what the model keeps of a right image.
        let fromRealRender = sdedit.map { strength in { (s: Subject, reference: Tensor, prompts: [String], seeds: [UInt64]) throws -> Tensor in
            let real = try zip(bgs, seeds).map { bg, seed in
                try Renderer.render(RenderRequest(subject: s, scene: Scene(background: bg, seed: seed), pose: Pose.random(seed: seed),
                                                  size: g.resolution)).image
            }
            let rb = Tensor(shape: [bgs.count] + Array(reference.shape.dropFirst()),
                            scalars: Array(Array(repeating: reference.scalars, count: bgs.count).joined()))
            return try Sampler.sample(g, prompts: prompts, references: rb, seeds: seeds, options: opts,
                                      start: Sampler.Start(images: try Sampler.tensor(real, size: g.resolution), strength: strength))
        } }
        let gate = try Gates.adapterSimilarity(g, judges: judges, subjects: subjects, backgrounds: bgs, options: opts, seed: stageSeed &+ 11,
                                               judge: judge, sample: sample ?? fromRealRender)
        var m: [String: Double] = [:]
        for (name, v) in gate.scores {
            m[name] = v.cosine
            m[name + "_other_subject"] = v.floor
        }
        for (name, v) in gate.attributes { m["adapter_" + name] = v }
        m["adapter_samples"] = Double(subjects.count * bgs.count)
        let sheet = Gates.grid(rows: gate.rows, captions: ["reference"] + bgs.map(\.rawValue), scale: 3,
                               title: "\(title): reference, then generated in 4 backgrounds")
        return (m, sheet, gate.patternMisreadings, gate.perSample)
    }
}

/// A training stage's gate: measured with the run's pretrain-judge when that stage has finished and
/// `gate_steps` > 0, else a warning and no metrics. Returns the metrics and the sample sheet as PNG
/// bytes (nil when not measured).
func runStageGate(_ r: StageRunner, what: String,
                  measure: (WorldJudge) throws -> (metrics: [String: Double], sheet: Image)) throws -> (metrics: [String: Double], sheetPNG: Data?) {
    guard r.config.int("gate_steps") > 0 else {
        r.log.info("gate_steps = 0: the \(what) gate is not measured")
        return ([:], nil)
    }
    guard let files = optionalUpstream(r, stage: "pretrain-judge", name: "judge.safetensors") else {
        r.log.warn("no finished pretrain-judge in this run: the \(what) gate is not measured (run `pretrain judge` first)")
        return ([:], nil)
    }
    let gate = try measure(try loadJudge(files))
    return (gate.metrics, Data(try PNG.encode(gate.sheet)))
}

/// The learning-curve measurement of a training stage: `measure` with the run's pretrain-judge, the
/// sample sheet written as `curve/<sheet>-step-N.png` (recorded with the stage's outputs), and the metrics
/// for which `keep` holds. nil when `curve_every` is 0 or the run has no finished pretrain-judge.
func curveMeasurement(_ r: StageRunner, sheet: String, keep: @escaping (String) -> Bool,
                      measure: @escaping (WorldJudge) throws -> (metrics: [String: Double], sheet: Image)) throws -> ((Trainer) throws -> [String: Double])? {
    guard r.config.int("curve_every") > 0, let files = optionalUpstream(r, stage: "pretrain-judge", name: "judge.safetensors") else { return nil }
    let judge = try loadJudge(files)
    return { t in
        let m = try measure(judge)
        _ = try r.writeArtifact(Data(try PNG.encode(m.sheet)), name: String(format: "curve/\(sheet)-step-%08d.png", t.step), kind: "grid")
        return m.metrics.filter { keep($0.key) }
    }
}

/// The judge of a pretrain-judge record.
func loadJudge(_ files: (weights: URL, record: PretrainRecord)) throws -> WorldJudge {
    guard let cfg = files.record.judge else {
        throw PretrainedError.badCheckpoint(path: files.weights.path, reason: "record has no `judge` config")
    }
    let judge = try WorldJudge(config: cfg, key: RNGKey(seed: 0))
    try judge.loadStrict(try SafeTensors.read(files.weights), path: files.weights.path)
    judge.train(false)
    return judge
}
