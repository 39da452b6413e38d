import Diffusion
import Models
import TensorCore

/// Reference attention in preference training: every row is denoised beside its pair's clean reference,
/// diffused to the row's timestep with the pair's own reference noise, reading the reference's foreground keys
/// in every self-attention (`ReferenceSetMask`; bias 0). It is what `pretrain adapter` trains with
/// `reference_attention = true` and what the samplers run in mode `conditional`
/// (`Generation.ReferenceAttention`), so a preference-trained adapter is trained on the forward pass it is
/// sampled with. A pair whose image is dropped (condition dropout) reads no reference key (its foreground is
/// emptied), which is exactly the sampler's unconditional branch.
///
/// `references`: the pairs' clean references in the U-Net's input space, `[B, C, H, W]` (the images, or
/// their scaled latents); `foreground`: each reference's foreground `[B, S, S]` in {0, 1}, S a multiple of
/// every U-Net level's side (the image's side).
public struct ReferenceCoupling: Sendable {
    public var references: Tensor
    public var foreground: Tensor

    public init(references: Tensor, foreground: Tensor) {
        precondition(references.rank == 4 && foreground.rank == 3 && foreground.shape[0] == references.shape[0],
                     "ReferenceCoupling: references \(references.shape) ([B, C, H, W]) and foreground \(foreground.shape) ([B, S, S])")
        self.references = references
        self.foreground = foreground
    }

    /// What the policy reads for a stack of `rows` members per pair noised at `timesteps` (`[rows * B]`) with the
    /// pairs' reference noise `noise` (`[B, C, H, W]`): the diffused references `[rows * B, C, H, W]` and their mask.
    public func diffused(rows: Int, timesteps: [Int], noise: Tensor, schedule: NoiseSchedule) -> (references: Tensor, mask: ReferenceSetMask) {
        precondition(noise.shape == references.shape, "ReferenceCoupling.diffused: noise \(noise.shape) vs references \(references.shape)")
        let r0 = PreferenceBatch.repeatRows(references, rows: rows), eps = PreferenceBatch.repeatRows(noise, rows: rows)
        return (schedule.addNoise(r0, noise: eps, timesteps: timesteps),
                ReferenceSetMask(foreground: PreferenceBatch.repeatRows(foreground, rows: rows)))
    }

    /// The coupling with pair `i`'s foreground emptied: that pair reads no reference key.
    public mutating func dropReference(pair i: Int) {
        let per = foreground.count / foreground.shape[0]
        foreground.scalars.replaceSubrange((i * per)..<((i + 1) * per), with: repeatElement(0, count: per))
    }
}
