import BenchKit
import Foundation
import Imaging
import Testing
import TestSupport
import World

@Suite struct FolderAndTablesTests {
    func tempDir() throws -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }

    @Test func readsAFolderAndSkipsASubjectWithABadImage() throws {
        let root = try tempDir()
        defer { try? FileManager.default.removeItem(at: root) }
        let subjects = [Subject(category: .mug, instance: 9), Subject(category: .vase, instance: 19)]
        try DreamBench.write(subjects: subjects, root: root.path, images: 2, size: 32)
        // The vase's second reference is not an image.
        let bad = root.appendingPathComponent("dataset/\(subjects[1].id)/01.png")
        try Data("not a png".utf8).write(to: bad)
        let f = try DreamBenchFolder.read(root: root.path, size: 16)
        #expect(f.subjects.map(\.id) == [subjects[0].id])
        #expect(f.subjects[0].references.count == 2 && f.subjects[0].references[0].width == 16)
        #expect(f.subjects[0].prompts.count == Background.textured.count)
        #expect(f.subjects[0].prompts[0].hasPrefix("a mug "), "\(f.subjects[0].prompts[0])")
        #expect(f.skipped.count == 1 && f.skipped[0].subject == subjects[1].id && f.skipped[0].path == bad.path)
        let plan = BenchPlanner.folder(f.subjects.map { ($0.id, $0.noun, $0.prompts) }, prompts: 3, imagesPerPrompt: 2, seed: 1)
        #expect(plan.count == 1 && plan[0].prompts.count == 3 && plan[0].prompts[0].seeds.count == 2)
    }

    /// The real release's layout: JPEG references (`dataset/<subject>/NN.jpg`), written here by cjpeg from
    /// world renders; one named `.JPEG` (extension case does not matter), and a subject whose file is a
    /// truncated JPEG is skipped naming it. References match the PNG originals within JPEG tolerance (quality 95
    /// without chroma subsampling: with 4:2:0 the renders' hard coloured edges give mean 4.2, max 43).
    @Test func readsAFolderOfJPEGsAndSkipsATruncatedOne() throws {
        let root = try tempDir()
        defer { try? FileManager.default.removeItem(at: root) }
        let subjects = [Subject(category: .mug, instance: 9), Subject(category: .vase, instance: 19)]
        try DreamBench.write(subjects: subjects, root: root.path, images: 2, size: 64)
        let png = try DreamBenchFolder.read(root: root.path, size: 32)
        for s in subjects {
            let dir = root.appendingPathComponent("dataset/\(s.id)")
            for (k, name) in ["00", "01"].enumerated() {
                let source = dir.appendingPathComponent(name + ".png")
                let jpeg = try CJPEG.encode(PPM.encode(try PNG.read(source.path).converted(toChannels: 3)), ["-quality", "95", "-sample", "1x1"])
                try FileManager.default.removeItem(at: source)
                let ext = k == 1 && s.category == .mug ? ".JPEG" : ".jpg"
                try Data(s.category == .vase && k == 1 ? jpeg.prefix(jpeg.count * 2 / 3) : jpeg[...])
                    .write(to: dir.appendingPathComponent(name + ext))
            }
        }
        let f = try DreamBenchFolder.read(root: root.path, size: 32)
        #expect(f.subjects.map(\.id) == [subjects[0].id])
        let bad = root.appendingPathComponent("dataset/\(subjects[1].id)/01.jpg").path
        #expect(f.skipped.count == 1 && f.skipped[0].path == bad && f.skipped[0].reason.contains("JPEG"), "\(f.skipped)")
        #expect(f.subjects[0].referencePaths.map { ($0 as NSString).lastPathComponent } == ["00.jpg", "01.JPEG"])
        for (a, b) in zip(f.subjects[0].references, png.subjects[0].references) {
            #expect(a.width == 32 && a.height == 32 && a.channels == 3)
            let d = zip(a.pixels, b.pixels).map { abs(Int($0) - Int($1)) }
            let mean = Double(d.reduce(0, +)) / Double(d.count)
            #expect(mean < 3 && d.max()! < 40, "JPEG vs PNG reference: mean abs \(mean), max \(d.max()!)")
        }
        let plan = BenchPlanner.folder(f.subjects.map { ($0.id, $0.noun, $0.prompts) }, prompts: 3, imagesPerPrompt: 2, seed: 1)
        #expect(plan.count == 1 && plan[0].prompts.count == 3)
        // World's strict reader takes the same folder once the truncated file is gone.
        try FileManager.default.removeItem(atPath: bad)
        let db = try DreamBench.load(root: root.path, resolution: 16)
        #expect(db.subjects.map { $0.images.count } == [2, 1])
    }

    @Test func missingPromptsFileNamesThePath() throws {
        let root = try tempDir()
        defer { try? FileManager.default.removeItem(at: root) }
        let e = #expect(throws: BenchError.self) { _ = try DreamBenchFolder.read(root: root.path, size: 16) }
        let text = e.map { "\($0)" } ?? ""
        #expect(text.contains(root.path + "/prompts_and_classes.txt") && text.contains("hint"))
    }

    @Test func patchMatchingAndAUROCTables() throws {
        let pm = """
        {"images": 4, "steps": 2, "training": {}, "rows": [
          {"source": "world", "model": "before", "block": 7, "exact": {"correct": 25, "total": 100},
           "within1": {"correct": 0, "total": 0}, "viewpointExact": {"correct": 0, "total": 0}, "illuminationExact": {"correct": 0, "total": 0}},
          {"source": "world", "model": "after", "block": 7, "exact": {"correct": 40, "total": 100},
           "within1": {"correct": 0, "total": 0}, "viewpointExact": {"correct": 0, "total": 0}, "illuminationExact": {"correct": 0, "total": 0}}]}
        """
        let rows = try UpstreamTables.patchMatching(Data(pm.utf8), path: "pm.json")
        #expect(rows.count == 1 && rows[0].beforePct == 25 && rows[0].afterPct == 40 && rows[0].cells == 100 && rows[0].block == 7)
        let au = """
        {"block": 7, "normalization": "cosine", "samples": 24, "defectThreshold": 0.1,
         "models": {"original": {"auroc": 0.6, "positives": 10, "negatives": 30}, "finetuned": {"auroc": 0.7, "positives": 10, "negatives": 30}}}
        """
        let a = try UpstreamTables.auroc(Data(au.utf8), path: "auroc.json")
        #expect(a.map(\.vit) == ["finetuned", "original"] && a[0].auroc == 0.7 && a[0].patches == 40 && a[0].images == 24)
        #expect(throws: BenchError.self) { try UpstreamTables.auroc(Data("{}".utf8), path: "auroc.json") }
        // Per-model blocks (the original ViT at its last block, issue 16) override the table's `block`.
        let perModel = """
        {"block": 7, "blocks": {"original": 12, "finetuned": 7}, "samples": 24,
         "models": {"original": {"auroc": 0.6, "positives": 10, "negatives": 30}, "finetuned": {"auroc": 0.7, "positives": 10, "negatives": 30}}}
        """
        #expect(try UpstreamTables.auroc(Data(perModel.utf8), path: "auroc.json").map(\.block) == [7, 12])
        #expect(a.map(\.block) == [7, 7])
        let kinds = """
        {"block": 7, "samples": 24, "models": {"original": {"auroc": 0.6, "positives": 10, "negatives": 30}},
         "byDefect": {"original": {"shift-decal": {"auroc": 0.5, "positives": 6, "negatives": 9},
                                   "recolor-decal": {"auroc": 0.8, "positives": 4, "negatives": 21},
                                   "drop-stripe": {"positives": 0, "negatives": 3}}}}
        """
        let k = try UpstreamTables.auroc(Data(kinds.utf8), path: "auroc.json")
        #expect(k.map(\.defect) == [nil, "recolor-decal", "shift-decal"])              // all first, kinds sorted, no-AUROC kind dropped
        #expect(k[1].auroc == 0.8 && k[1].patches == 25 && k[1].images == nil && k[0].images == 24)
        #expect(k.map(\.positives) == [10, 4, 6])
        #expect(k.map(\.keepsReferenceContent) == [nil, false, true])   // the all row has no kind
    }

    @Test func adapterRecordsWithAndWithoutOptionalFields() throws {
        let old = try AdapterRecordInfo.decode(Data(#"{"loss":"patchdpo","seed":1,"steps":4,"beta":0}"#.utf8), path: "a.json")
        #expect(old.model(adapter: "x").name == "patchdpo" && old.vit == nil)
        let new = try AdapterRecordInfo.decode(Data(#"{"loss":"patchdpo","seed":2,"vit":"original"}"#.utf8), path: "b.json")
        #expect(new.model(adapter: "y").name == "patchdpo (original ViT)" && new.model(adapter: "y").trainSeed == 2)
        let named = try AdapterRecordInfo.decode(Data(#"{"loss":"dm","name":"dm s2"}"#.utf8), path: "c.json")
        #expect(named.model(adapter: "z").slug == "dm-s2")
        #expect(throws: BenchError.self) { try AdapterRecordInfo.decode(Data("[]".utf8), path: "d.json") }
    }

    /// A model dpo-train trained from JeDi is the row `<loss>-jedi` (issue 17's patchdpo-jedi), sampled with JeDi.
    @Test func jediTrainedRecordsBecomeTheirOwnRows() throws {
        let r = try AdapterRecordInfo.decode(Data(#"{"loss":"patchdpo","seed":1,"vit":"finetuned","name":"patchdpo-finetuned-s1","base":"jedi"}"#.utf8),
                                             path: "jedi-patchdpo-finetuned-s1.json")
        let m = r.model(adapter: "artifacts/dpo-train/jedi-patchdpo-finetuned-s1.safetensors")
        #expect(m.name == "patchdpo-jedi-finetuned-s1" && m.loss == "patchdpo-jedi" && m.base == "jedi" && m.trainSeed == 1)
        #expect(JeDiBench.samples(m) && JeDiBench.samples(JeDiBench.model) && !JeDiBench.samples(BenchModel.base))
        let adapter = try AdapterRecordInfo.decode(Data(#"{"loss":"patchdpo","name":"patchdpo-finetuned-s1","base":"adapter"}"#.utf8), path: "a.json")
        #expect(adapter.model(adapter: "x").name == "patchdpo-finetuned-s1" && adapter.model(adapter: "x").base == nil)
    }
}
