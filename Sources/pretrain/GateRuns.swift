import Autograd
import Diffusion
import Foundation
import Generation
import Imaging
import Models
import StageKit
import TensorCore
import Training
import World

/// The U-Net and adapter quality gates, shared by the stages and by `pretrain gates` (which re-measures
/// them on shipped files). Seeds are derived from the stage's seed, so both give the same numbers.
enum GateRuns {
    /// Base U-Net gate (see `Gates.categoryAccuracy`): metrics and the sample sheet
    /// (rows = backgrounds, columns = categories).
    static func unet(clip: CLIPModel, unet: UNet2DConditionModel, schedule: NoiseSchedule, vit: ViT, resolution: Int,
                     steps: Int, guidance: Float, stageSeed: UInt64) throws -> (metrics: [String: Double], sheet: Image) {
        let g = Generator(textEncoder: clip.textModel, imageEncoder: nil, resampler: nil, unet: unet, schedule: schedule, resolution: resolution)
        let opts = SamplingOptions(steps: steps, guidanceScale: guidance)
        let gate = try Gates.categoryAccuracy(g, classifier: vit, clip: clip, options: opts, seed: stageSeed &+ 7)
        var m: [String: Double] = ["category_accuracy": gate.accuracy, "category_accuracy_real_renders": gate.realAccuracy]
        m["clip_category_accuracy"] = gate.clipAccuracy
        m["clip_category_accuracy_real_renders"] = gate.clipRealAccuracy
        let rows = stride(from: 0, to: gate.samples.count, by: 13).map { Array(gate.samples[$0..<min($0 + 13, gate.samples.count)]) }
        let sheet = Gates.grid(rows: rows.map { $0.map(\.image) }, captions: [], scale: 2,
                               title: "base U-Net: rows = backgrounds, columns = categories")
        return (m, sheet)
    }

    /// Adapter gate (see `Gates.adapterSimilarity`) on `subjects` test subjects in 4 backgrounds.
    static func adapter(_ g: Generator, clip: CLIPModel, vit: ViT, subjects count: Int, steps: Int, guidance: Float,
                        stageSeed: UInt64) throws -> (metrics: [String: Double], sheet: Image) {
        let opts = SamplingOptions(steps: steps, guidanceScale: guidance)
        let cats = ObjectCategory.allCases
        let subjects = (0..<count).map { i in Split.test.subjects(of: cats[(i * 5) % cats.count], count: 1 + i / cats.count).last! }
        let bgs: [Background] = [.beach, .forest, .snow, .cityStreet]
        clip.train(false)
        let judges: [(String, (Tensor) -> Tensor)] = [
            ("adapter_vit_cosine", Gates.classTokenEmbedding(vit)),
            ("adapter_clip_image_cosine", { x in withNoGrad { clip.imageEmbeddings(Variable(x)).value } }),
        ]
        let gate = try Gates.adapterSimilarity(g, judges: judges, subjects: subjects, backgrounds: bgs, options: opts, seed: stageSeed &+ 11)
        var m: [String: Double] = [:]
        for (name, v) in gate.scores {
            m[name] = v.cosine
            m[name + "_other_subject"] = v.floor
        }
        let sheet = Gates.grid(rows: gate.rows, captions: ["reference"] + bgs.map(\.rawValue), scale: 3,
                               title: "adapter: reference, then generated in 4 backgrounds")
        return (m, sheet)
    }
}

/// A training stage's gate: measured with the run's pretrain-vit as the classifier when that stage has
/// finished and `gate_steps` > 0, else a warning and no metrics. Returns the metrics and the sample sheet
/// as PNG bytes (nil when not measured).
func runStageGate(_ r: StageRunner, what: String,
                  measure: (ViT) throws -> (metrics: [String: Double], sheet: Image)) throws -> (metrics: [String: Double], sheetPNG: Data?) {
    guard let vitFiles = optionalUpstream(r, stage: "pretrain-vit", name: "vit.safetensors"), r.config.int("gate_steps") > 0 else {
        r.log.warn("no finished pretrain-vit in this run: the \(what) gate is not measured (run `pretrain vit` first)")
        return ([:], nil)
    }
    let gate = try measure(try loadViT(vitFiles))
    return (gate.metrics, Data(try PNG.encode(gate.sheet)))
}
