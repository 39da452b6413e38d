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
