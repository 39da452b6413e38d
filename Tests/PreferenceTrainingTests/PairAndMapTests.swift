import Checkpoint
import Foundation
import PatchQuality
import TensorCore
import Objectives
import Testing
@testable import PreferenceTraining

/// dpo-train's readers of score-and-pair's pairs files (PatchQuality's `PairsFile`) and patch-quality's maps.
@Suite struct PairAndMapTests {
    @Test func poolAndPatchDPOPairsReadThroughTheSharedParser() throws {
        let pool = #"{"minGap":0,"pairs":[{"key":"p00001","winner":"pool/p00001/gen-1.png","loser":"pool/p00001/gen-0.png"}]}"#
        #expect(try TrainingPairs.parse(Data(pool.utf8), path: "pairs.json", pool: true)
                == [PairEntry(key: "p00001", first: "pool/p00001/gen-1.png", second: "pool/p00001/gen-0.png")])
        let patch = #"[{"key":"p00001-gen-0","reference":"pool/p00001/reference.png","generated":"pool/p00001/gen-0.png"}]"#
        #expect(try TrainingPairs.parse(Data(patch.utf8), path: "patchdpo-pairs.json", pool: false)
                == [PairEntry(key: "p00001-gen-0", reference: "pool/p00001/reference.png", generated: "pool/p00001/gen-0.png")])
        // The pool file read as PatchDPO pairs, and an empty list: bad pairs (exit 65) naming the file, dpo-train's message.
        let wrong = DPOTrainError.badPairs(path: "pairs.json", detail: "pairs[0] has no string `reference`")
        #expect(throws: wrong) { try TrainingPairs.parse(Data(pool.utf8), path: "pairs.json", pool: false) }
        #expect("\(wrong)" == "dpo-train: pairs.json: pairs[0] has no string `reference`; hint: rerun score-and-pair")
        #expect(throws: DPOTrainError.badPairs(path: "p.json", detail: "lists no pairs")) {
            try TrainingPairs.parse(Data(#"{"pairs":[]}"#.utf8), path: "p.json", pool: true)
        }
    }

    func file(vit: String = "finetuned", side: Int = 4, qg: [Float]? = nil) -> SafeTensorsFile {
        var f = SafeTensorsFile()
        f.tensors["q_r"] = TensorData(shape: [side, side], values: (0..<side * side).map { Float($0) / Float(side * side - 1) })
        f.tensors["q_g"] = TensorData(shape: [qg.map { $0.count } ?? side * side], values: qg ?? [Float](repeating: 0.5, count: side * side))
        f.metadata = ["vit": vit]
        return f
    }

    /// Maps on another grid are resized bilinearly to the loss side and clamped to [0, 1]; on the same grid kept as they are.
    @Test func qualityMapsAreResizedToTheLossSideAndClamped() throws {
        let (qr, qg) = try QualityMapFile.maps(in: file(), key: "k", vit: "finetuned", side: 8, path: "q.safetensors")
        #expect(qr.shape == [1, 1, 8, 8] && qg.shape == [1, 1, 8, 8])
        let want = Kernels.resizeBilinear(Tensor(shape: [1, 1, 4, 4], scalars: (0..<16).map { Float($0) / 15 }), height: 8, width: 8)
        #expect(qr.scalars == want.scalars.map { min(max($0, 0), 1) })
        #expect(qg.scalars.allSatisfy { $0 == 0.5 })
        let same = try QualityMapFile.maps(in: file(qg: [-1, 2, 0.25, 1]), key: "k", vit: "finetuned", side: 2, path: "q.safetensors")
        #expect(same.1.scalars == [0, 1, 0.25, 1])
    }

    @Test func aMapOfAnotherViTOrShapeIsMissingInputNamingTheFile() throws {
        #expect(throws: DPOTrainError.missingQualityMap(key: "k", hint: "q.safetensors says vit = original, not finetuned; rerun patch-quality")) {
            try QualityMapFile.maps(in: file(vit: "original"), key: "k", vit: "finetuned", side: 4, path: "q.safetensors")
        }
        #expect(throws: DPOTrainError.missingQualityMap(key: "k", hint: "q.safetensors: `q_g` of shape [3] is not square")) {
            try QualityMapFile.maps(in: file(qg: [0, 0, 0]), key: "k", vit: "finetuned", side: 4, path: "q.safetensors")
        }
        var noMap = file()
        noMap.tensors["q_r"] = nil
        #expect(throws: DPOTrainError.missingQualityMap(key: "k", hint: "q.safetensors has no tensor `q_r`")) {
            try QualityMapFile.maps(in: noMap, key: "k", vit: "finetuned", side: 4, path: "q.safetensors")
        }
    }

    /// patchdpo-aligned reads `q_aligned` as the generated image's map; a file written without `aligned = true`
    /// says how to get one.
    @Test func patchdpoAlignedReadsTheAlignedMap() throws {
        #expect(LossKind.patchdpoAligned.generatedQualityMap == "q_aligned" && LossKind.patchdpo.generatedQualityMap == "q_g")
        #expect(LossKind.patchdpoAligned.needsQualityMaps && !LossKind.patchdpoAligned.needsReference)
        var f = file()
        f.tensors["q_aligned"] = TensorData(shape: [2, 2], values: [0.1, 0.2, 0.3, 0.4])
        let (_, qa) = try QualityMapFile.maps(in: f, key: "k", vit: "finetuned", side: 2, generated: "q_aligned", path: "q.safetensors")
        #expect(qa.scalars == [0.1, 0.2, 0.3, 0.4])
        #expect(throws: DPOTrainError.missingQualityMap(key: "k", hint: "q.safetensors has no tensor `q_aligned`; "
                                                        + "set [patch-quality] aligned = true and rerun patch-quality")) {
            try QualityMapFile.maps(in: file(), key: "k", vit: "finetuned", side: 4, generated: "q_aligned", path: "q.safetensors")
        }
    }
}
