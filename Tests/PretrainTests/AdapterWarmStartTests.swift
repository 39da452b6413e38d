import Checkpoint
import Foundation
import Pretrained
import Testing

/// `pretrain adapter --set unet_lr_scale=...` (the U-Net trained with its adapter, carried in the adapter
/// file) and `--set init_from=...` (a finished adapter or a training checkpoint as the start), through the
/// real executable on the smoke pipeline's tiny sizes.
@Suite(.serialized) struct AdapterWarmStartTests {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("adapter-warm-\(UUID().uuidString)")
    static let config = UNetWarmStartTests.config

    func pretrain(_ what: String, run: String, _ extra: [String] = []) throws -> (status: Int32, stderr: String) {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let noGate = what == "clip" ? [] : ["--set", "gate_steps=0"]
        return try JudgeStageTests.pretrain([what, "--config", Self.config.path, "--run-dir", dir.appendingPathComponent(run).path]
                                            + noGate + extra, in: dir)
    }

    let resnet = ["--set", "image_encoder=\"resnet\"", "--set", "encoder_widths=[8, 16]"]
    func adapter(_ run: String) -> URL { dir.appendingPathComponent("\(run)/artifacts/pretrain-adapter/adapter.safetensors") }
    func record(_ run: String) throws -> PretrainRecord { try PretrainRecord.read(adapter(run).deletingPathExtension().appendingPathExtension("json")) }
    func keys(_ run: String) throws -> Set<String> { Set(try SafeTensors.parse(Data(contentsOf: adapter(run)), path: adapter(run).path).tensors.keys) }

    @Test func theTunedUNetTravelsInTheAdapterFileAndAWarmStartKeepsIt() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        for run in ["a", "b", "c", "d", "e", "f"] {
            #expect(try pretrain("clip", run: run, ["--set", "steps=1"]).status == 0)
            #expect(try pretrain("unet", run: run, ["--set", "steps=1"]).status == 0)
        }
        // Frozen U-Net (IP-Adapter): only the image branch's projections of the U-Net are in the file.
        #expect(try pretrain("adapter", run: "a", ["--set", "steps=1"]).status == 0)
        #expect(try record("a").adapterTunesUNet == nil)
        #expect(try !keys("a").contains("conv_in.weight") && keys("a").contains { $0.hasSuffix("to_k_ip.weight") })

        // The attribute loss needs the adapter's own encoder.
        let refused = try pretrain("adapter", run: "b", ["--set", "steps=1", "--set", "attribute_weight=0.1"])
        #expect(refused.status == 65 && refused.stderr.contains("override 'attribute_weight=0.1'") && refused.stderr.contains("resnet"),
                "\(refused.status): \(refused.stderr)")
        let tuned = try pretrain("adapter", run: "b", ["--set", "steps=2", "--set", "checkpoint_every=1", "--set", "unet_lr_scale=0.5"] + resnet
                                 + ["--set", "attribute_weight=0.1"])
        #expect(tuned.status == 0, "\(tuned.stderr)")
        #expect(try record("b").adapterTunesUNet == true)
        #expect(try keys("b").contains("conv_in.weight") && !keys("b").contains { $0.hasPrefix("attribute_heads.") })
        // ... and the tuned U-Net differs from the base one it started from.
        let base = try SafeTensors.parse(Data(contentsOf: dir.appendingPathComponent("b/artifacts/pretrain-unet/unet.safetensors")), path: "unet")
        let b = try SafeTensors.parse(Data(contentsOf: adapter("b")), path: "adapter")
        #expect(b.tensors["conv_in.weight"] != base.tensors["conv_in.weight"])

        // A warm start from the tuned adapter keeps its U-Net in the output even with the U-Net frozen now.
        let warm = try pretrain("adapter", run: "c", ["--set", "steps=1", "--set", "init_from=\"\(adapter("b").path)\""] + resnet)
        #expect(warm.status == 0, "\(warm.stderr)")
        #expect(try record("c").training["init_from_sha256"] == record("b").weightsSHA256)
        #expect(try record("c").adapterTunesUNet == true && keys("c").contains("conv_in.weight"))

        // The warm start's weights enter the fingerprint: the same init_from path holding other weights is another
        // training (input changed), not an up-to-date one.
        let start = dir.appendingPathComponent("start", isDirectory: true)
        func place(_ run: String) throws {
            try? FileManager.default.removeItem(at: start)
            try FileManager.default.createDirectory(at: start, withIntermediateDirectories: true)
            for ext in ["safetensors", "json"] {
                try FileManager.default.copyItem(at: adapter(run).deletingPathExtension().appendingPathExtension(ext),
                                                 to: start.appendingPathComponent("adapter.\(ext)"))
            }
        }
        let fromStart = ["--set", "steps=1", "--set", "init_from=\"\(start.appendingPathComponent("adapter.safetensors").path)\""] + resnet
        try place("b")
        #expect(try pretrain("adapter", run: "f", fromStart).status == 0)
        #expect(try pretrain("adapter", run: "f", fromStart).stderr.contains("up to date"))
        try place("c")
        let changed = try pretrain("adapter", run: "f", fromStart)
        #expect(changed.status == 0 && changed.stderr.contains("input changed"), "\(changed.stderr)")

        let checkpoint = adapter("b").deletingLastPathComponent().appendingPathComponent("checkpoints/step-00000001")
        // (its training checkpoint also holds the attribute heads, which are not part of an adapter)
        let fromCheckpoint = try pretrain("adapter", run: "d", ["--set", "steps=1", "--set", "init_from=\"\(checkpoint.path)\""] + resnet)
        #expect(fromCheckpoint.status == 0, "\(fromCheckpoint.stderr)")
        #expect(try record("d").adapterTunesUNet == true)

        let other = try pretrain("adapter", run: "e", ["--set", "steps=1", "--set", "queries=2", "--set", "init_from=\"\(adapter("b").path)\""] + resnet)
        #expect(other.status == 65 && other.stderr.contains("adapter.json") && other.stderr.contains("resampler"), "\(other.status): \(other.stderr)")
    }
    /// `full_resolution_cross_attention`: the grown U-Net travels in the adapter file (its record says so), its new
    /// blocks train at the adapter's rate, and a warm start from a plain tuned adapter starts them as growing does.
    @Test func aGrownUNetTravelsInTheAdapterFile() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        for run in ["g", "h"] {
            #expect(try pretrain("clip", run: run, ["--set", "steps=1"]).status == 0)
            #expect(try pretrain("unet", run: run, ["--set", "steps=1"]).status == 0)
        }
        let grow = ["--set", "full_resolution_cross_attention=true"]
        let frozen = try pretrain("adapter", run: "g", ["--set", "steps=1"] + grow)
        #expect(frozen.status == 65 && frozen.stderr.contains("unet_lr_scale"), "\(frozen.status): \(frozen.stderr)")
        #expect(try pretrain("adapter", run: "g", ["--set", "steps=1", "--set", "unet_lr_scale=0.5"] + resnet).status == 0)
        let grown = try pretrain("adapter", run: "h", ["--set", "steps=2", "--set", "unet_lr_scale=0.5",
                                                       "--set", "init_from=\"\(adapter("g").path)\""] + resnet + grow)
        #expect(grown.status == 0, "\(grown.stderr)")
        #expect(try record("h").unet?.fullResolutionCrossAttention == true && record("h").adapterTunesUNet == true)
        #expect(try keys("h").contains("down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k_ip.weight"))
        #expect(try !keys("g").contains { $0.hasPrefix("down_blocks.0.attentions.") })
        // Two steps moved the new blocks' zero proj_out.
        let h = try SafeTensors.parse(Data(contentsOf: adapter("h")), path: "adapter")
        #expect(try #require(h.tensors["down_blocks.0.attentions.0.proj_out.weight"]).values.contains { $0 != 0 })
    }

    /// `layers_per_block`: the deeper U-Net travels in the adapter file, a warm start from a plain tuned adapter
    /// shifts its up resnets into the deeper layout, and its new blocks train.
    @Test func aDeeperUNetTravelsInTheAdapterFile() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        for run in ["i", "j"] {
            #expect(try pretrain("clip", run: run, ["--set", "steps=1"]).status == 0)
            #expect(try pretrain("unet", run: run, ["--set", "steps=1"]).status == 0)
        }
        let deeper = ["--set", "layers_per_block=2"]
        let frozen = try pretrain("adapter", run: "i", ["--set", "steps=1"] + deeper)
        #expect(frozen.status == 65 && frozen.stderr.contains("layers_per_block") && frozen.stderr.contains("unet_lr_scale"),
                "\(frozen.status): \(frozen.stderr)")
        #expect(try pretrain("adapter", run: "i", ["--set", "steps=1", "--set", "unet_lr_scale=0.5"] + resnet).status == 0)
        let grown = try pretrain("adapter", run: "j", ["--set", "steps=2", "--set", "unet_lr_scale=0.5",
                                                       "--set", "init_from=\"\(adapter("i").path)\""] + resnet + deeper)
        #expect(grown.status == 0, "\(grown.stderr)")
        #expect(try record("j").unet?.layersPerBlock == 2 && record("j").adapterTunesUNet == true)
        #expect(try keys("j").contains("up_blocks.0.resnets.2.conv1.weight") && !keys("i").contains("up_blocks.0.resnets.2.conv1.weight"))
        // The plain adapter's last up resnet of each level moved to index 2, unchanged by loading; two steps moved the new
        // blocks' zero conv2.
        let i = try SafeTensors.parse(Data(contentsOf: adapter("i")), path: "i"), j = try SafeTensors.parse(Data(contentsOf: adapter("j")), path: "j")
        #expect(try #require(j.tensors["up_blocks.1.resnets.2.conv1.weight"]).shape == #require(i.tensors["up_blocks.1.resnets.1.conv1.weight"]).shape)
        #expect(try #require(j.tensors["down_blocks.0.resnets.1.conv2.weight"]).values.contains { $0 != 0 })
    }
}
