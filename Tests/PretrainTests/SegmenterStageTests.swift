import Checkpoint
import Foundation
import Models
import Pretrained
import Testing
import TestSupport

/// `pretrain segmenter` through the real executable: tiny training, the record patch-quality reads, the gate
/// metrics, and `from` import with its SHA-256 check.
@Suite(.serialized) struct SegmenterStageTests {
    static let toml = """
    [run]
    name = "t"
    seed = 5
    threads = 1

    [pretrain-segmenter]
    steps = 2
    batch = 4
    warmup = 1
    checkpoint_every = 0
    resolution = 16
    subjects_per_category = 2
    channels = [8, 16]
    gate_images = 6
    curve_every = 1
    """

    let box: PretrainTestDirectory

    init() throws { box = try PretrainTestDirectory(prefix: "segmenter", toml: Self.toml) }

    func pretrain(run: String, _ extra: [String] = []) throws -> (status: Int32, stderr: String) {
        try box.pretrain("segmenter", run: run, extra)
    }

    func output(_ run: String, _ name: String) -> URL { box.output(run, "pretrain-segmenter", name) }

    @Test func segmenterTrainsGatesAndImportsWithItsRecordChecked() throws {
        defer { box.remove() }
        let trained = try pretrain(run: "a")
        #expect(trained.status == 0, "\(trained.stderr)")
        #expect(trained.stderr.contains("curve at step 1") && trained.stderr.contains("gate iou "), "\(trained.stderr)")
        let rec = try PretrainRecord.read(output("a", "segmenter.json"))
        #expect(rec.stage == "pretrain-segmenter" && rec.weightsFile == "segmenter.safetensors" && rec.resolution == 16 && rec.steps == 2)
        #expect(rec.segmenter == SegmenterConfig(channels: [8, 16]))
        // (`iou_clean` only when a gate render has the clean background: none of these 6.)
        for k in ["iou", "iou_textured", "iou_image_mean", "cell_accuracy", "iou_augmented", "cell_accuracy_augmented",
                  "border_iou", "border_cell_accuracy", "parameters"] {
            #expect(rec.metrics[k] != nil, "\(k)")
        }
        #expect((0...1).contains(rec.metrics["iou"] ?? -1) && (0...1).contains(rec.metrics["cell_accuracy"] ?? -1))
        #expect(rec.training["augment"] == "1.0" && rec.training["dice_weight"] == "0.5", "\(rec.training)")
        // The record alone builds the model (the loader patch-quality uses through Upstream).
        let seg = try PretrainedModels.loadSegmenter(weights: output("a", "segmenter.safetensors"), record: rec)
        #expect(seg.parameterCount == Int(rec.metrics["parameters"] ?? 0))
        #expect(FileManager.default.fileExists(atPath: output("a", "segmenter-samples.png").path))

        // Ship the two files, import them into a fresh run: same bytes; an edited weights file is refused.
        try box.expectImportRoundTrip("segmenter", stage: "pretrain-segmenter", base: "segmenter", trained: "a", imported: "b", refused: "c")
        // Widths whose GroupNorms do not fit are a config error naming the key.
        let bad = try pretrain(run: "d", ["--set", "channels=[32, 48]"])
        #expect(bad.status == 65 && bad.stderr.contains("channels"), "\(bad.status): \(bad.stderr)")
    }
}
