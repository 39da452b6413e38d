import Random
import Testing
import TensorCore
@testable import Objectives

/// Condition dropout in preference training (PatchDPO's code: text, image, both at 0.05 each).
@Suite struct ConditionDropoutTests {
    @Test func drawsSplitIntoTextImageBothAndNone() {
        let d = ConditionDropout()
        let cases: [(Float, Bool, Bool)] = [(0.01, true, false), (0.049, true, false), (0.05, false, true), (0.099, false, true),
                                            (0.10, true, true), (0.149, true, true), (0.15, false, false), (0.99, false, false)]
        for (u, text, image) in cases {
            let got = d.drops(u: u)
            #expect(got.text == text && got.image == image, "u = \(u)")
        }
    }

    @Test func dropsReplaceWholeRowsWithTheNullConditionsAndConsumeOneDrawPerPair() {
        let pairs = 400
        let batch = tinyBatch(pairs: pairs)
        let nullText = Tensor(shape: [1, 3, batch.text.shape[2]], scalars: Array(repeating: 7, count: 3 * batch.text.shape[2]))
        let ni = batch.imageFeatures.count / pairs
        let nullImage = Tensor(shape: [1] + Array(batch.imageFeatures.shape.dropFirst()), scalars: Array(repeating: -7, count: ni))
        var rng = RandomStream(seed: 4)
        let (out, dropped) = ConditionDropout().apply(batch, nullText: nullText, nullImage: nullImage, rng: &rng)
        var again = RandomStream(seed: 4)
        for _ in 0..<pairs { _ = again.nextFloat() }
        #expect(rng == again, "one uniform per pair")
        let lt = batch.text.count / pairs
        var textOnly = 0, imageOnly = 0, both = 0
        for i in 0..<pairs {
            let t = Array(out.text.scalars[(i * lt)..<((i + 1) * lt)]), im = Array(out.imageFeatures.scalars[(i * ni)..<((i + 1) * ni)])
            let tDropped = t == nullText.scalars, iDropped = im == nullImage.scalars
            #expect(tDropped || t == Array(batch.text.scalars[(i * lt)..<((i + 1) * lt)]))
            #expect(iDropped || im == Array(batch.imageFeatures.scalars[(i * ni)..<((i + 1) * ni)]))
            if tDropped && iDropped { both += 1 } else if tDropped { textOnly += 1 } else if iDropped { imageOnly += 1 }
        }
        #expect(dropped == textOnly + imageOnly + both)
        // 400 pairs at 5% each: 20 expected per kind; 3 sigma is about 13.
        for n in [textOnly, imageOnly, both] { #expect((7...33).contains(n), "\(textOnly) \(imageOnly) \(both)") }
        #expect(out.first == batch.first && out.second == batch.second, "images untouched")
        // Off: nothing drawn, nothing changed.
        var off = RandomStream(seed: 4)
        let (same, none) = ConditionDropout.none.apply(batch, nullText: nullText, nullImage: nullImage, rng: &off)
        #expect(none == 0 && same.text == batch.text && off == RandomStream(seed: 4))
    }
}
