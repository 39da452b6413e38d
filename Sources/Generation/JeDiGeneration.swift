import Imaging
import TensorCore

extension Generator {
    /// JeDi personalization on 8-bit images: one joint set [references; prompts] per call (`JeDiSampler.sample`),
    /// the references resized to the model size. Returns the generated members only, in `prompts`' order.
    public func generateJeDi(references: [Image], referencePrompts: [String], prompts: [String], seed: UInt64,
                             options: SamplingOptions = SamplingOptions(), guidance: JeDiGuidance = JeDiGuidance())
        throws(GenerationError) -> [Image] {
        let refs = try jediReferences(references, referencePrompts: referencePrompts)
        let set = JeDiSet(references: refs, referencePrompts: referencePrompts, prompts: prompts)
        return Array(Sampler.images(try JeDiSampler.sample(self, set: set, seed: seed, options: options, guidance: guidance))
            .dropFirst(references.count))
    }

    /// JeDi personalization of many rows at once: row i is the joint set [references; prompts[i]] sampled from
    /// `seeds[i]`, every row in one `JeDiSampler.sample(_:sets:seeds:)` (one U-Net pass per step for all of them).
    /// Row i's image is the one `generateJeDi(..., prompts: [prompts[i]], seed: seeds[i])` gives (up to float32
    /// summation order). Returns one image per row, in order.
    public func generateJeDi(references: [Image], referencePrompts: [String], prompts: [String], seeds: [UInt64],
                             options: SamplingOptions = SamplingOptions(), guidance: JeDiGuidance = JeDiGuidance())
        throws(GenerationError) -> [Image] {
        guard seeds.count == prompts.count else {
            throw .mismatch(field: "seeds", reason: "\(seeds.count) seeds for \(prompts.count) prompts; give one each")
        }
        let refs = try jediReferences(references, referencePrompts: referencePrompts)
        let sets = prompts.map { JeDiSet(references: refs, referencePrompts: referencePrompts, prompts: [$0]) }
        return try JeDiSampler.sample(self, sets: sets, seeds: seeds, options: options, guidance: guidance).map { Sampler.images($0)[references.count] }
    }

    /// The references as a [K, 3, S, S] tensor at the model size, one prompt each.
    private func jediReferences(_ references: [Image], referencePrompts: [String]) throws(GenerationError) -> Tensor {
        guard references.count == referencePrompts.count else {
            throw .mismatch(field: "referencePrompts", reason: "\(referencePrompts.count) prompts for \(references.count) references; give one each")
        }
        return try Sampler.tensor(references, size: resolution)
    }
}
