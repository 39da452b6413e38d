import Foundation
import Generation
import Imaging
import Manifest
import World

/// The bench's items. `refs/<subject>` writes the subject's references; `<model slug>/<subject>`
/// samples and judges every (prompt, k) of the subject with one model; `frontier-w<w>/<subject>`
/// does the same with DCO reward guidance at w_rg = w; `_results-<digest>` (last) assembles everything.
/// A DreamBench subject the folder reader skipped (a broken image) keeps its `refs/<subject>` item, which
/// fails naming the file, so the stage exits 1 instead of scoring fewer subjects in silence; once the file
/// is fixed, the rerun retries it, appends the subject's model items, and (the item set having changed, so
/// the digest) a new results item that rebuilds results.json.
public final class BenchWork {
    /// Prefix of the results item's key; the rest is a digest of every other key (`resultsKey(for:)`).
    public static let resultsKey = "_results"
    /// Item prefix of a model's images conditioned on all references (`condition_on_all`).
    public static let allReferencesSuffix = "+all-refs"

    public let settings: BenchSettings
    public let inputs: BenchInputs
    public let run: BenchRun
    public let subjects: [BenchSubject]
    /// The DreamBench folder (nil: the world).
    public let folder: DreamBenchFolder?
    /// The frontier's model (nil: no frontier).
    public let frontierModel: BenchModel?

    /// Plans the subjects (the world's, or those of `settings.dreambenchDir`, logging the ones it skips) and
    /// finds the frontier's model among the inputs'.
    public init(settings: BenchSettings, inputs: BenchInputs, run: BenchRun) throws {
        self.settings = settings
        self.inputs = inputs
        self.run = run
        // A bad sampling setting (e.g. eta > 0 with dpmpp-2m) stops the stage naming it, before any item.
        try settings.sampling.validate(trainSteps: inputs.base.schedule.trainSteps, hasReference: false)
        try settings.jediSampling.validate(trainSteps: inputs.base.schedule.trainSteps, hasReference: false)
        let seed = UInt64(bitPattern: Int64(run.seed))
        let dir = settings.dreambenchDir
        if dir.isEmpty {
            folder = nil
            subjects = BenchPlanner.world(subjects: settings.subjects, prompts: settings.prompts, imagesPerPrompt: settings.imagesPerPrompt,
                                          seed: seed, split: settings.split, firstSubject: settings.subjectOffset)
        } else {
            let f = try DreamBenchFolder.read(root: dir, size: inputs.base.resolution)
            for s in f.skipped { run.warn("dreambench subject \(s.subject) skipped: \(s.path): \(s.reason)") }
            guard !f.subjects.isEmpty else {
                throw BenchError.badDataset(path: dir, reason: "no usable subject (\(f.skipped.count) skipped)",
                                            hint: "give PNG or JPEG references under dataset/<subject>/")
            }
            folder = f
            subjects = BenchPlanner.folder(f.subjects.prefix(settings.subjects).map { ($0.id, $0.noun, $0.prompts) },
                                           prompts: settings.prompts, imagesPerPrompt: settings.imagesPerPrompt, seed: seed)
        }
        frontierModel = try BenchWork.frontierModel(settings, models: inputs.models)
    }

    /// `settings.frontierModel` among `models` (`base` is the base model); nil without a frontier.
    static func frontierModel(_ settings: BenchSettings, models: [BenchModel]) throws -> BenchModel? {
        let fm = settings.frontierModel
        if settings.frontier.isEmpty { return nil }
        if fm == "base" || fm == BenchModel.baseName { return .base }
        guard let m = models.first(where: { BenchInputs.matches($0, fm) && !JeDiBench.samples($0) && $0 != RealRenders.model }) else {
            throw BenchError.badConfig(key: "bench.frontier_model", reason: "`\(fm)` is not an evaluated model",
                                       hint: "use base or one of \(models.filter { $0.adapter != nil && !JeDiBench.samples($0) }.map(\.name).joined(separator: ", ")) (reward guidance needs an adapter)")
        }
        return m
    }

    /// Frontier item prefix of w_rg `w` ("frontier-w2", "frontier-w0.5").
    public static func frontierSlug(_ w: Double) -> String {
        "frontier-w" + (w == w.rounded() ? String(Int(w)) : String(w))
    }

    /// The models whose DreamBench images are also generated on all references (every generator model).
    var allReferenceModels: [BenchModel] {
        settings.conditionOnAll ? inputs.models.filter { $0 != RealRenders.model } : []
    }

    /// Every item key, in order.
    public var keys: [String] {
        BenchWork.keys(subjects: subjects, models: inputs.models, allReferences: allReferenceModels, frontier: settings.frontier,
                       skipped: (folder?.skipped ?? []).map(\.subject).filter { id in !subjects.contains { $0.id == id } })
    }

    /// The items of `subjects`, in order: their references, each model's, each of `allReferences` on all references,
    /// each frontier point's, then the results. `skipped`: subjects whose references could not be read; each gets
    /// only its `refs/` item (which fails).
    public static func keys(subjects: [BenchSubject], models: [BenchModel], allReferences: [BenchModel], frontier: [Double],
                            skipped: [String] = []) -> [String] {
        let items = subjects.map { "refs/\($0.id)" } + skipped.map { "refs/\($0)" }
            + models.flatMap { m in subjects.map { "\(m.slug)/\($0.id)" } }
            + allReferences.flatMap { m in subjects.map { "\(m.slug)\(allReferencesSuffix)/\($0.id)" } }
            + frontier.flatMap { w in subjects.map { "\(frontierSlug(w))/\($0.id)" } }
        return items + [resultsKey(for: items)]
    }

    /// `_results-<12 hex digits of the SHA-256 of the other keys>`: a different set of scored items is a different
    /// results item, so appending subjects or models to a finished bench rebuilds results.json.
    public static func resultsKey(for items: [String]) -> String {
        resultsKey + "-" + SHA256.hex(items.joined(separator: "\n")).prefix(12)
    }

    /// Whether `key` is a results item's.
    public static func isResults(_ key: String) -> Bool { key == resultsKey || key.hasPrefix(resultsKey + "-") }

    /// The error of the `refs/` item of a subject the folder reader skipped; nil for any other key.
    public static func skippedSubjectError(_ key: String, folder: DreamBenchFolder?) -> BenchError? {
        guard key.hasPrefix("refs/"), let s = folder?.skipped.first(where: { "refs/\($0.subject)" == key }) else { return nil }
        return .badDataset(path: s.path, reason: "subject \(s.subject) skipped: \(s.reason)",
                           hint: "fix or remove the file, then rerun bench: the subject's items are added and the results rebuilt")
    }

    /// References of a subject (reference 0 first), at the generator's resolution.
    func references(_ s: BenchSubject) throws -> [Image] {
        if let f = folder, let e = f.subjects.first(where: { $0.id == s.id }) { return e.references }
        guard let w = s.worldSubject else { preconditionFailure("BenchWork: subject \(s.id) is neither a world nor a folder subject") }
        return try BenchReferences.world(w, count: settings.references, size: inputs.base.resolution)
    }

    /// Run-relative paths of the references the `refs/<subject>` item writes.
    func referencePaths(_ s: BenchSubject, count: Int) -> [String] {
        (0..<count).map { "\(run.artifacts)/refs/\(s.id)/ref-\($0).png" }
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

    /// Runs item `key` of stage run `stageRun`, writing its outputs with `write` and its time split with `metric`
    /// (name, step, value: `CostSplit`).
    public func run(_ key: String, stageRun: Int64, write: ArtifactWrite,
                    metric: (String, Int, Double) throws -> Void = { _, _, _ in }) throws -> [NewArtifact] {
        if BenchWork.isResults(key) { return try BenchResultsBuilder(work: self).build(stageRun: stageRun, write: write) }
        let started = Date().timeIntervalSince1970
        if let error = BenchWork.skippedSubjectError(key, folder: folder) { throw error }
        let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2, let s = subjects.first(where: { $0.id == parts[1] }) else {
            preconditionFailure("BenchWork: unknown item key \(key)")
        }
        let subjectIndex = subjects.firstIndex { $0.id == s.id }!
        let refs = try references(s)
        if parts[0] == "refs" {
            let out = try refs.enumerated().map { j, im in try write(Data(try PNG.encode(im)), "refs/\(s.id)/ref-\(j).png", "reference") }
            try CostSplit.record(row: "refs", subject: subjectIndex, sampling: 0, judging: 0, item: seconds(since: started), metric: metric)
            return out
        }
        let onAll = parts[0].hasSuffix(BenchWork.allReferencesSuffix)
        let (model, reference, wRG, opts) = sampling(parts[0], onAll: onAll, key: key)
        let samples: [BenchSample]
        let samplingStarted = Date().timeIntervalSince1970
        if model == RealRenders.model, let w = s.worldSubject {
            samples = try RealRenders.images(w, prompts: s.prompts, size: inputs.base.resolution)
        } else if JeDiBench.samples(model) {
            samples = try JeDiBench.sample(try inputs.generator(for: model), subject: s, conditioning: onAll ? refs : [refs[0]], options: opts)
        } else {
            samples = try BenchSampling.sample(try inputs.generator(for: model), reference: reference, subject: s,
                                               conditioning: onAll ? refs : [refs[0]], options: opts, batch: settings.batch)
        }
        let sampling = seconds(since: samplingStarted)
        let texts = s.prompts.map(\.text)
        let expected = try expectations(s, references: refs)
        let judgingStarted = Date().timeIntervalSince1970
        let scores = try inputs.judges.score(images: samples.map(\.image), prompts: samples.map { texts[$0.prompt] },
                                             expected: samples.map { expected[$0.prompt] }, references: refs)
        let judging = seconds(since: judgingStarted)
        var out: [NewArtifact] = []
        var images: [ImageScores] = []
        for (smp, sc) in zip(samples, scores) {
            let name = "samples/\(parts[0])/\(s.id)/p\(String(format: "%02d", smp.prompt))-k\(smp.k).png"
            let a = try write(Data(try PNG.encode(smp.image)), name, "generated")
            out.append(a)
            images.append(ImageScores(file: a.relativePath, prompt: smp.prompt, k: smp.k, seed: smp.seed, dino: sc.dino,
                                      clipI: sc.clipI, clipT: sc.clipT, hsv: HSV.mean(smp.image), identity: sc.identity,
                                      detail: sc.detail, scene: sc.scene, attributes: sc.attributes))
        }
        let record = BenchItemRecord(key: key, model: model.name, wRG: wRG, subject: s.id,
                                     references: referencePaths(s, count: refs.count), prompts: texts, images: images,
                                     conditionedOn: onAll ? refs.count : nil)
        out.append(try write(try record.encoded(), "items/\(parts[0])/\(s.id).json", "scores"))
        try CostSplit.record(row: parts[0], subject: subjectIndex, sampling: sampling, judging: judging, item: seconds(since: started),
                             metric: metric)
        return out
    }

    /// The model of item prefix `prefix`, the reference chain it samples against (nil: none), its w_rg and options:
    /// a frontier point samples the frontier model with reward guidance against the base adapter; a model item
    /// samples the model, against the base chain when adaptive normalisation applies.
    func sampling(_ prefix: String, onAll: Bool, key: String) -> (BenchModel, Generator?, Double?, SamplingOptions) {
        var o = settings.sampling
        o.referenceAttention = settings.referenceAttention(for: inputs.base)   // all-references rows read every reference
        o.referenceBias = settings.referenceBias
        if let w = settings.frontier.first(where: { BenchWork.frontierSlug($0) == prefix }), let fm = frontierModel {
            // eps_ref is the model DCO trained against, the frozen base adapter (not the text-only model):
            // then w_rg scales the DCO delta eps_theta(c) - eps_ref(c), not the whole adapter.
            o.rewardScale = Float(w)
            return (fm, inputs.base, w, o)
        }
        let slug = onAll ? String(prefix.dropLast(BenchWork.allReferencesSuffix.count)) : prefix
        guard let m = inputs.models.first(where: { $0.slug == slug }) else { preconditionFailure("BenchWork: no model for item \(key)") }
        if JeDiBench.samples(m) { o.scheduler = settings.jediSampling.scheduler; o.steps = settings.jediSampling.steps }
        o.adaptiveNormalization = settings.adaptiveNorm && m.adapter != nil
        return (m, o.adaptiveNormalization ? inputs.base : nil, nil, o)
    }
}
