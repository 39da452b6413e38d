import Foundation
import Generation
import Imaging

/// One generated image of a bench item, before judging.
public struct BenchSample: Sendable {
    public var prompt: Int
    public var k: Int
    public var seed: UInt64
    public var image: Image
}

/// Sampling of one bench item: every (prompt, k) of a subject, in batches of `batch` rows, each row
/// conditioned on the subject's prompt j and `conditioning` (reference 0, or every reference: their
/// tokens concatenated, `Generator.conditioning`). Row seeds come from
/// the plan, so every model sees the same initial noise (`Generator.initialNoise` is per row, so the
/// batch size does not change an image).
/// `reference` is the second generator the options may need: the base adapter model (the frozen
/// reference of preference training) for DCO reward guidance (w_rg) and for HG-DPO adaptive normalisation.
public enum BenchSampling {
    public static func sample(_ g: Generator, reference: Generator?, subject: BenchSubject, conditioning: [Image],
                              options: SamplingOptions, batch: Int) throws(GenerationError) -> [BenchSample] {
        precondition(batch >= 1, "BenchSampling.sample: batch \(batch)")
        let rows = subject.prompts.flatMap { p in p.seeds.enumerated().map { (p.index, p.text, $0.offset, $0.element) } }
        var out: [BenchSample] = []
        var start = 0
        while start < rows.count {
            let chunk = rows[start..<min(rows.count, start + batch)]
            let images = try g.generate(prompts: chunk.map(\.1), referenceSets: Array(repeating: conditioning, count: chunk.count),
                                        seeds: chunk.map(\.3), options: options, reference: reference)
            for (row, im) in zip(chunk, images) { out.append(BenchSample(prompt: row.0, k: row.2, seed: row.3, image: im)) }
            start += batch
        }
        return out
    }
}
