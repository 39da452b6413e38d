import Autograd
import Generation
import Imaging
import Models
import NN
import TensorCore
import Text
import World

/// The quality gates of the pretrained models (measured into each record and the manifest).
public enum Gates {
    /// ViT top-1 category accuracy on `batches` x `batchSize` renders of VALIDATION subjects
    /// (random backgrounds and poses, data seed `seed`).
    public static func vitTop1(_ vit: ViT, resolution: Int, seed: UInt64, batches: Int = 4, batchSize: Int = 64) throws -> Double {
        vit.train(false)
        var correct = 0, total = 0
        let cfg = WorldDataConfig(resolution: resolution, split: .validation, subjectsPerCategory: 8)
        for s in 0..<batches {
            let b = try WorldData.batch(seed: seed, step: s, size: batchSize, config: cfg)
            let pred = predictions(withNoGrad { vit.logits(Variable(b.images)).value })
            correct += zip(pred, b.labels).filter { $0 == Int($1) }.count
            total += batchSize
        }
        return Double(correct) / Double(max(total, 1))
    }

    /// Row-wise argmax of a [B, K] matrix.
    public static func predictions(_ logits: Tensor) -> [Int] {
        precondition(logits.rank == 2, "predictions: want [B, K], got \(logits.shape)")
        let k = logits.shape[1]
        return (0..<logits.shape[0]).map { r in
            var best = 0
            for j in 1..<k where logits.scalars[r * k + j] > logits.scalars[r * k + best] { best = j }
            return best
        }
    }

    /// Text -> image top-1 retrieval on one validation batch of `batchSize` (render, prompt) pairs:
    /// prompt i retrieves argmax_j cos(text_i, image_j). `exact` counts j == i; `content` counts an image
    /// whose (category, background) equals the prompt's (plain prompts name only those two, so several
    /// images of a batch can match a prompt equally well).
    public static func retrievalTop1(_ clip: CLIPModel, tokenizer: WordTokenizer, resolution: Int, seed: UInt64,
                                     batchSize: Int = 64) throws -> (exact: Double, content: Double) {
        clip.train(false)
        let cfg = WorldDataConfig(resolution: resolution, split: .validation, subjectsPerCategory: 8)
        let b = try WorldData.batch(seed: seed, step: 0, size: batchSize, config: cfg)
        let logits = withNoGrad { clip.logits(images: Variable(b.images), ids: b.prompts.map(tokenizer.encode)).value }
        let perText = predictions(transpose(logits))
        var exact = 0, content = 0
        for (i, j) in perText.enumerated() {
            if i == j { exact += 1 }
            if b.labels[i] == b.labels[j] && b.backgrounds[i] == b.backgrounds[j] { content += 1 }
        }
        return (Double(exact) / Double(batchSize), Double(content) / Double(batchSize))
    }

    static func transpose(_ m: Tensor) -> Tensor {
        let (r, c) = (m.shape[0], m.shape[1])
        var out = [Float](repeating: 0, count: r * c)
        for i in 0..<r { for j in 0..<c { out[j * r + i] = m.scalars[i * c + j] } }
        return Tensor(shape: [c, r], scalars: out)
    }

    /// Base U-Net gate: one text-only sample per (background, category), the prompt
    /// "a {object} {background phrase}"; the fraction the classifier ViT labels as the requested
    /// category (goal >= 0.8). Returns the fraction and the images with their captions.
    public static func categoryAccuracy(_ g: Generator, classifier: ViT, backgrounds: [Background] = Background.textured,
                                        options: SamplingOptions, seed: UInt64, batchSize: Int = 26) throws
        -> (accuracy: Double, samples: [(image: Image, caption: String)]) {
        classifier.train(false)
        var jobs: [(ObjectCategory, Background)] = []
        for bg in backgrounds { for c in ObjectCategory.allCases { jobs.append((c, bg)) } }
        var correct = 0
        var samples: [(image: Image, caption: String)] = []
        for start in stride(from: 0, to: jobs.count, by: batchSize) {
            let part = Array(jobs[start..<min(jobs.count, start + batchSize)])
            let prompts = part.map { "a \($0.0.noun) \($0.1.phrase)" }
            let seeds = part.indices.map { seed &+ UInt64(start + $0) }
            let x = try Sampler.sample(g, prompts: prompts, references: nil, seeds: seeds, options: options)
            let pred = predictions(withNoGrad { classifier.logits(Variable(x)).value })
            let imgs = Sampler.images(x)
            for (k, job) in part.enumerated() {
                if pred[k] == job.0.index { correct += 1 }
                samples.append((imgs[k], "\(job.0.noun)>\(ObjectCategory.allCases[pred[k]].noun)"))
            }
        }
        return (Double(correct) / Double(max(jobs.count, 1)), samples)
    }

    /// Adapter gate: for each TEST subject, its clean canonical render is the reference; generate it
    /// in each of `backgrounds` with "a {object} {phrase}"; score = cos(judge class token of the
    /// generated image, of the reference), averaged. Also the same cosine against a reference of
    /// ANOTHER test subject of another category (a floor). Returns both, and grid rows
    /// (reference | generated ...).
    public static func adapterSimilarity(_ g: Generator, judge: ViT, subjects: [Subject], backgrounds: [Background],
                                         options: SamplingOptions, seed: UInt64) throws
        -> (cosine: Double, floor: Double, rows: [[Image]]) {
        judge.train(false)
        let refs = try WorldData.references(subjects, resolution: g.resolution)
        let per = refs.count / max(subjects.count, 1)
        func embed(_ x: Tensor) -> Tensor { withNoGrad { CLIPModel.normalize(judge.forward(Variable(x)).classToken).value } }
        let refEmb = embed(refs)
        let d = refEmb.shape[1]
        var sum = 0.0, floorSum = 0.0, n = 0
        var rows: [[Image]] = []
        for (i, s) in subjects.enumerated() {
            let one = Array(refs.scalars[(i * per)..<((i + 1) * per)])
            let rb = Tensor(shape: [backgrounds.count, 3, g.resolution, g.resolution],
                            scalars: Array(Array(repeating: one, count: backgrounds.count).joined()))
            let prompts = backgrounds.map { "a \(s.category.noun) \($0.phrase)" }
            let seeds = backgrounds.indices.map { seed &+ UInt64(i * 100 + $0) }
            let x = try Sampler.sample(g, prompts: prompts, references: rb, seeds: seeds, options: options)
            let e = embed(x)
            let other = (i + 1) % subjects.count
            for k in 0..<backgrounds.count {
                var c = 0.0, f = 0.0
                for j in 0..<d {
                    c += Double(e.scalars[k * d + j] * refEmb.scalars[i * d + j])
                    f += Double(e.scalars[k * d + j] * refEmb.scalars[other * d + j])
                }
                sum += c; floorSum += f; n += 1
            }
            rows.append(Sampler.images(Tensor(shape: [1, 3, g.resolution, g.resolution], scalars: one)) + Sampler.images(x))
        }
        return (sum / Double(max(n, 1)), floorSum / Double(max(n, 1)), rows)
    }

    /// A contact sheet of rows of images (e.g. reference | generated in 4 backgrounds), magnified.
    public static func grid(rows: [[Image]], captions: [String], scale: Int = 3, title: String? = nil) -> Image {
        let cols = rows.map(\.count).max() ?? 1
        var items: [(image: Image, caption: String?)] = []
        for r in rows {
            for (k, im) in r.enumerated() { items.append((im, k < captions.count ? captions[k] : nil)) }
            for _ in r.count..<cols { items.append((Image(width: r[0].width, height: r[0].height, fill: [245, 245, 245]), nil)) }
        }
        return ContactSheet(columns: cols, scale: scale).render(items, title: title)
    }
}
