import Foundation
import Testing
@testable import Objectives

@Suite struct DPORunTests {
    @Test func thePlanHasOneRunPerLossViTAndSeedWithTable4Names() {
        let runs = DPORun.plan(losses: [.dm, .patchdpo, .diffusionDPO], vits: ["finetuned", "original"], seeds: [1, 2])
        #expect(runs.map(\.name) == [
            "dm-s1", "patchdpo-finetuned-s1", "patchdpo-original-s1", "diffusion-dpo-s1",
            "dm-s2", "patchdpo-finetuned-s2", "patchdpo-original-s2", "diffusion-dpo-s2",
        ])
        #expect(runs.filter { $0.vit != nil }.allSatisfy { $0.kind.needsQualityMaps })
        // The default bench: 2 seeds x (dm, diffusion-dpo, patchdpo x 2 ViTs, hg-dpo, dco, sft) = 14 runs.
        let table4 = DPORun.plan(losses: [.dm, .patchdpo, .diffusionDPO, .hgDPO, .dco, .sft], vits: ["finetuned", "original"], seeds: [1, 2])
        #expect(table4.count == 14 && Set(table4.map(\.name)).count == 14)
        #expect(DPORun.plan(losses: [.patchdpoPref], vits: ["original"], seeds: [7]).map(\.name) == ["patchdpo-pref-original-s7"])
    }

    @Test func anOldAdapterRecordWithoutVitOrNameStillDecodes() throws {
        let old = #"{"beta":5000,"codeVersion":"dpo-train-1","config":"","loss":"patchdpo","seed":1,"steps":4,"weightsSHA256":"ab"}"#
        let r = try JSONDecoder().decode(AdapterRecord.self, from: Data(old.utf8))
        #expect(r.vit == nil && r.name == nil && r.loss == "patchdpo" && r.finalLoss == nil)
        let new = AdapterRecord(loss: "patchdpo", steps: 4, seed: 2, codeVersion: "x", config: "", beta: 1, finalLoss: 0.5,
                                finalImplicitAccuracy: nil, weightsSHA256: "cd", vit: "original", name: "patchdpo-original-s2")
        #expect(try JSONDecoder().decode(AdapterRecord.self, from: try new.encoded()) == new)
    }
}

/// The `[dpo-train]` lists a plan is made of: refused with the message the config error shows.
@Suite struct DPORunCheckTests {
    @Test func lossesSeedsAndViTs() {
        let all = LossKind.allCases.map(\.rawValue).joined(separator: ", ")
        #expect(DPORun.checkLosses(["dm", "patchdpo"]) == nil)
        #expect(DPORun.checkLosses([]) == "must list at least one loss: \(all)")
        #expect(DPORun.checkLosses(["dm", "dpo"]) == "unknown loss 'dpo'; use one of \(all)")
        #expect(DPORun.checkLosses(["dm", "dm"]) == "lists a loss twice")
        #expect(DPORun.checkSeeds([1, 0, 2]) == nil)
        #expect(DPORun.checkSeeds([]) == "must list at least one seed")
        #expect(DPORun.checkSeeds([1, -1]) == "entries must be integers >= 0")
        #expect(DPORun.checkSeeds([3, 3]) == "lists a seed twice")
        #expect(DPORun.checkViTs(["original", "finetuned"]) == nil)
        #expect(DPORun.checkViTs([]) == "must list at least one of finetuned, original")
        #expect(DPORun.checkViTs(["dino"]) == "entries must be finetuned or original")
        #expect(DPORun.checkViTs(["original", "original"]) == "lists a ViT twice")
    }
}
