import Autograd
import Foundation
import Generation
import Imaging
import Models
import TensorCore
import World

/// The autoencoder's gate (issue 15, latent diffusion): renders of TEST subjects in textured scenes
/// and random poses (`WorldJudgeGates.sceneRequests`, 4 subjects per category x `views`), encoded to
/// latents (posterior mean) and decoded. Measures
/// - `psnr` (dB, images in [0, 1], mean over images) and `psnr_object` (on object pixels only);
/// - with the judge: the shares of identity, detail and scene (`WorldAttribute.fidelity`) on the real
///   renders and on their reconstructions, and `*_kept` = reconstruction share / real share: what the
///   decoder keeps of what the judge can see. The decoder must keep decals legible (`detail_kept`).
public enum ReconstructionGate {
    /// Targets (metric, minimum): the decoder keeps what the judge reads on real renders.
    public static let targets: [(String, Double)] = [("identity_kept", 0.95), ("detail_kept", 0.9)]

    public struct Result {
        public var metrics: [String: Double] = [:]
        /// Rows of (real, reconstruction) pairs, for a sample sheet.
        public var rows: [[Image]] = []
    }

    public static func measure(_ vae: AutoencoderKL, judge: WorldJudge?, resolution: Int, seed: UInt64, perCategory: Int = 4, views: Int = 4,
                               threads: Int = 2, sheetRows: Int = 8) throws -> Result {
        vae.train(false)
        let subjects = WorldJudgeGates.subjects(perCategory: perCategory)
        let reqs = WorldJudgeGates.sceneRequests(subjects, views: views, resolution: resolution, seed: seed)
        var res = Result()
        var psnr = 0.0, psnrObject = 0.0, objectImages = 0
        var hits = [String: Int]()
        let chunk = 32
        for start in stride(from: 0, to: reqs.count, by: chunk) {
            let part = Array(reqs[start..<min(reqs.count, start + chunk)])
            let renders = try Renderer.renderBatch(part, threads: threads)
            let n = resolution * resolution
            let x = WorldData.images(renders)
            let y = vae.decode(latents: vae.latents(of: x))
            for i in part.indices {
                let mask = renders[i].mask
                var se = 0.0, seObj = 0.0, obj = 0.0
                for c in 0..<3 {
                    for p in 0..<n {
                        let d = Double(max(-1, min(1, y.scalars[(i * 3 + c) * n + p])) - x.scalars[(i * 3 + c) * n + p]) / 2
                        se += d * d
                        seObj += Double(mask[p]) * d * d
                        if c == 0 { obj += Double(mask[p]) }
                    }
                }
                psnr += 10 * log10(1 / max(se / Double(3 * n), 1e-12))
                if obj >= 1 {
                    psnrObject += 10 * log10(1 / max(seObj / (3 * obj), 1e-12))
                    objectImages += 1
                }
            }
            if let judge {
                for (name, images) in [("real", x), ("reconstruction", y)] {
                    for (i, p) in Gates.read(judge, images).enumerated() {
                        let f = WorldAttribute.fidelity(p, subject: part[i].subject!, background: part[i].scene.background)
                        for (k, ok) in [("identity", f.identity), ("detail", f.detail), ("scene", f.scene)] where ok {
                            hits[k + "_" + name, default: 0] += 1
                        }
                    }
                }
            }
            if res.rows.count < sheetRows {
                let a = Sampler.images(x), b = Sampler.images(y)
                res.rows.append(Array(zip(a, b).prefix(6).flatMap { [$0.0, $0.1] }))
            }
        }
        res.metrics["psnr"] = psnr / Double(reqs.count)
        res.metrics["psnr_object"] = psnrObject / Double(max(objectImages, 1))
        if judge != nil {
            for k in ["identity", "detail", "scene"] {
                let real = Double(hits[k + "_real", default: 0]), rec = Double(hits[k + "_reconstruction", default: 0])
                res.metrics[k + "_real"] = real / Double(reqs.count)
                res.metrics[k + "_reconstruction"] = rec / Double(reqs.count)
                res.metrics[k + "_kept"] = real > 0 ? rec / real : 0
            }
        }
        return res
    }
}
