import Bench
import Foundation
import Generation
import Imaging
import Manifest
import Report
import StageKit
import World

/// The bench's items. `refs/<subject>` writes the subject's references; `<model slug>/<subject>`
/// samples and judges every (prompt, k) of the subject with one model; `frontier-w<w>/<subject>`
/// does the same with DCO reward guidance at w_rg = w; `_results` (last) assembles everything.
final class BenchWork {
    static let resultsKey = "_results"
    let r: StageRunner
    let inputs: BenchInputs
    let subjects: [BenchSubject]
    /// DreamBench folder subjects by id (nil: the world).
    let folder: DreamBenchFolder?
    let frontierModel: BenchModel?
    let frontier: [Double]
    let options: SamplingOptions

    init(runner: StageRunner) throws {
        r = runner
        let c = runner.config
        inputs = try BenchInputs(runner: runner)
        let seed = UInt64(bitPattern: Int64(runner.run.seed))
        let dir = c.string("dreambench_dir")
        if dir.isEmpty {
            folder = nil
            subjects = BenchPlanner.world(subjects: c.int("subjects"), prompts: c.int("prompts"),
                                          imagesPerPrompt: c.int("images_per_prompt"), seed: seed,
                                          split: Split(rawValue: c.string("split"))!, firstSubject: c.int("subject_offset"))
        } else {
            let f = try DreamBenchFolder.read(root: dir, size: inputs.base.resolution)
            for s in f.skipped { runner.log.warn("dreambench subject \(s.subject) skipped: \(s.path): \(s.reason)") }
            guard !f.subjects.isEmpty else {
                throw BenchError.badDataset(path: dir, reason: "no usable subject (\(f.skipped.count) skipped)",
                                            hint: "give PNG or JPEG references under dataset/<subject>/")
            }
            folder = f
            subjects = BenchPlanner.folder(f.subjects.prefix(c.int("subjects")).map { ($0.id, $0.noun, $0.prompts) },
                                           prompts: c.int("prompts"), imagesPerPrompt: c.int("images_per_prompt"), seed: seed)
        }
        options = SamplingOptions(steps: c.int("steps"), guidanceScale: Float(c.double("guidance")),
                                  ipScale: Float(c.double("ip_scale")), eta: Float(c.double("eta")))
        frontier = c.doubles("frontier_wrg")
        let fm = c.string("frontier_model")
        if frontier.isEmpty {
            frontierModel = nil
        } else if fm == "base" || fm == BenchModel.baseName {
            frontierModel = .base
        } else {
            guard let m = inputs.models.first(where: { BenchInputs.matches($0, fm) }) else {
                throw BenchError.badConfig(key: "bench.frontier_model", reason: "`\(fm)` is not an evaluated model",
                                           hint: "use base or one of \(inputs.models.map(\.name).joined(separator: ", "))")
            }
            frontierModel = m
        }
    }

    /// Frontier item prefix of w_rg `w` ("frontier-w2", "frontier-w0.5").
    static func frontierSlug(_ w: Double) -> String {
        "frontier-w" + (w == w.rounded() ? String(Int(w)) : String(w))
    }

    /// Item prefix of a model's images conditioned on all references (`condition_on_all`).
    static let allReferencesSuffix = "+all-refs"

    /// The models whose DreamBench images are also generated on all references (every generator model).
    var allReferenceModels: [BenchModel] {
        r.config.bool("condition_on_all") ? inputs.models.filter { $0 != RealRenders.model } : []
    }

    var keys: [String] {
        subjects.map { "refs/\($0.id)" }
            + inputs.models.flatMap { m in subjects.map { "\(m.slug)/\($0.id)" } }
            + allReferenceModels.flatMap { m in subjects.map { "\(m.slug)\(BenchWork.allReferencesSuffix)/\($0.id)" } }
            + frontier.flatMap { w in subjects.map { "\(BenchWork.frontierSlug(w))/\($0.id)" } }
            + [BenchWork.resultsKey]
    }

    /// References of a subject (reference 0 first), at the generator's resolution.
    func references(_ s: BenchSubject) throws -> [Image] {
        if let f = folder, let e = f.subjects.first(where: { $0.id == s.id }) { return e.references }
        guard let w = s.worldSubject else { preconditionFailure("BenchWork: subject \(s.id) is neither a world nor a folder subject") }
        return try BenchReferences.world(w, count: r.config.int("references"), size: inputs.base.resolution)
    }

    func referencePaths(_ s: BenchSubject, count: Int) -> [String] {
        (0..<count).map { r.layout.relative(r.layout.artifacts(r.stage).appendingPathComponent("refs/\(s.id)/ref-\($0).png")) }
    }

    /// What the attribute judges should read for each prompt of `s`: the world subject's labels (a folder
    /// subject: the judge's reading of reference 0) on scene prompts, none on attribute prompts (they ask
    /// for another colour or pattern); the prompted background (a folder prompt: the first world
    /// background phrase in its text, if any).
    func expectations(_ s: BenchSubject, references: [Image]) throws -> [AttributeExpectation] {
        let truth: [String: Int]
        let ambiguous = s.worldSubject.map { WorldAttribute.mainColorIsAmbiguous($0) } ?? false
        if let w = s.worldSubject {
            truth = Dictionary(uniqueKeysWithValues: WorldAttribute.subject.map { ($0.rawValue, $0.label(w, background: .clean)) })
        } else {
            truth = try inputs.judges.read([references[0]])[0].attributes.filter { $0.key != WorldAttribute.background.rawValue }
        }
        return s.prompts.map { p in
            let bg = p.worldBackground ?? Background.textured.first { p.text.contains($0.phrase) }
            return AttributeExpectation(subject: p.kind == "scene" ? truth : nil,
                                        background: bg.map(WorldAttribute.backgroundLabel), mainColorAmbiguous: ambiguous)
        }
    }

    func run(_ item: ItemContext) throws -> [NewArtifact] {
        if item.key == BenchWork.resultsKey { return try BenchResultsBuilder(work: self).build(item) }
        let parts = item.key.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2, let s = subjects.first(where: { $0.id == parts[1] }) else {
            preconditionFailure("BenchWork: unknown item key \(item.key)")
        }
        let refs = try references(s)
        if parts[0] == "refs" {
            return try refs.enumerated().map { j, im in
                try item.write(Data(try PNG.encode(im)), name: "refs/\(s.id)/ref-\(j).png", kind: "reference")
            }
        }
        let model: BenchModel, reference: Generator?, wRG: Double?, opts: SamplingOptions
        let onAll = parts[0].hasSuffix(BenchWork.allReferencesSuffix)
        let prefix = onAll ? String(parts[0].dropLast(BenchWork.allReferencesSuffix.count)) : parts[0]
        if let w = frontier.first(where: { BenchWork.frontierSlug($0) == parts[0] }), let fm = frontierModel {
            (model, wRG) = (fm, w)
            // eps_ref is the model DCO trained against, the frozen base adapter (not the text-only model):
            // then w_rg scales the DCO delta eps_theta(c) - eps_ref(c), not the whole adapter.
            reference = inputs.base
            var o = options
            o.rewardScale = Float(w)
            opts = o
        } else {
            guard let m = inputs.models.first(where: { $0.slug == prefix }) else {
                preconditionFailure("BenchWork: no model for item \(item.key)")
            }
            (model, wRG) = (m, nil)
            var o = options
            o.adaptiveNormalization = r.config.bool("adaptive_norm") && m.adapter != nil
            reference = o.adaptiveNormalization ? inputs.base : nil
            opts = o
        }
        let samples: [BenchSample]
        if model == RealRenders.model, let w = s.worldSubject {
            samples = try RealRenders.images(w, prompts: s.prompts, size: inputs.base.resolution)
        } else {
            samples = try BenchSampling.sample(try inputs.generator(for: model), reference: reference, subject: s,
                                               conditioning: onAll ? refs : [refs[0]],
                                               options: opts, batch: r.config.int("batch"))
        }
        let texts = s.prompts.map(\.text)
        let expected = try expectations(s, references: refs)
        let scores = try inputs.judges.score(images: samples.map(\.image), prompts: samples.map { texts[$0.prompt] },
                                             expected: samples.map { expected[$0.prompt] }, references: refs)
        var out: [NewArtifact] = []
        var images: [ImageScores] = []
        for (smp, sc) in zip(samples, scores) {
            let name = "samples/\(parts[0])/\(s.id)/p\(String(format: "%02d", smp.prompt))-k\(smp.k).png"
            let a = try item.write(Data(try PNG.encode(smp.image)), name: name, kind: "generated")
            out.append(a)
            images.append(ImageScores(file: a.relativePath, prompt: smp.prompt, k: smp.k, seed: smp.seed, dino: sc.dino,
                                      clipI: sc.clipI, clipT: sc.clipT, hsv: HSV.mean(smp.image), identity: sc.identity,
                                      detail: sc.detail, scene: sc.scene, attributes: sc.attributes))
        }
        let record = BenchItemRecord(key: item.key, model: model.name, wRG: wRG, subject: s.id,
                                     references: referencePaths(s, count: refs.count), prompts: texts, images: images,
                                     conditionedOn: onAll ? refs.count : nil)
        out.append(try item.write(try record.encoded(), name: "items/\(parts[0])/\(s.id).json", kind: "scores"))
        return out
    }
}
