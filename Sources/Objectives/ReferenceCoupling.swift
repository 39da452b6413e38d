import Diffusion
import Models
import TensorCore

/// The pairs' references as a policy reads them beside its rows. Two policies use it:
///
/// - Reference attention (`AdapterPolicy`): every row is denoised beside its pair's clean reference, diffused to
///   the row's timestep with the pair's own reference noise, reading the reference's foreground keys in every
///   self-attention (`ReferenceSetMask`; bias 0). It is what `pretrain adapter` trains with
///   `reference_attention = true` and what the samplers run in mode `conditional` (`Generation.ReferenceAttention`),
///   so a preference-trained adapter is trained on the forward pass it is sampled with. A pair whose image is
///   dropped (condition dropout) reads no reference key (its foreground is emptied), which is exactly the
///   sampler's unconditional branch.
/// - JeDi (`JeDiPolicy`): every row is the unknown member of the joint set [reference; row], the reference known
///   (mask 0, its clean image in the input) and captioned by `texts`, as `JeDiSampler` samples it. A pair whose image
///   is dropped has its reference unknown (mask 1, no clean image): the sampler's null image.
///
/// `references`: the pairs' clean references in the U-Net's input space, `[B, C, H, W]` (the images, or their
/// scaled latents); `foreground`: each reference's foreground `[B, S, S]` in {0, 1}, S a multiple of every U-Net
/// level's side (reference attention only); `texts`: the references' caption states `[B, Lt, D]` (JeDi only);
/// `dropped[i]`: pair i's image condition is dropped.
public struct ReferenceCoupling: Sendable {
    public var references: Tensor
    public var foreground: Tensor?
    public var texts: Tensor?
    public private(set) var dropped: [Bool]

    /// Reference attention's coupling.
    public init(references: Tensor, foreground: Tensor) {
        self.init(references: references, foreground: foreground, texts: nil)
    }

    /// JeDi's coupling: the known member of each pair's set and its caption states.
    public init(references: Tensor, texts: Tensor) {
        self.init(references: references, foreground: nil, texts: texts)
    }

    private init(references: Tensor, foreground: Tensor?, texts: Tensor?) {
        let b = references.shape.first ?? 0
        precondition(references.rank == 4 && foreground.map { $0.rank == 3 && $0.shape[0] == b } != false
                     && texts.map { $0.rank == 3 && $0.shape[0] == b } != false,
                     "ReferenceCoupling: references \(references.shape) ([B, C, H, W]) with foreground \(foreground?.shape ?? []) ([B, S, S]) "
                         + "or texts \(texts?.shape ?? []) ([B, Lt, D])")
        self.references = references
        self.foreground = foreground
        self.texts = texts
        dropped = Array(repeating: false, count: b)
    }

    /// What the policy reads for a stack of `rows` members per pair noised at `timesteps` (`[rows * B]`) with the
    /// pairs' reference noise `noise` (`[B, C, H, W]`).
    public func diffused(rows: Int, timesteps: [Int], noise: Tensor, schedule: NoiseSchedule) -> DiffusedReferences {
        precondition(noise.shape == references.shape, "ReferenceCoupling.diffused: noise \(noise.shape) vs references \(references.shape)")
        let r0 = PreferenceBatch.repeatRows(references, rows: rows), eps = PreferenceBatch.repeatRows(noise, rows: rows)
        return DiffusedReferences(references: schedule.addNoise(r0, noise: eps, timesteps: timesteps), timesteps: timesteps, clean: r0,
                                  mask: foreground.map { ReferenceSetMask(foreground: PreferenceBatch.repeatRows($0, rows: rows)) },
                                  texts: texts.map { PreferenceBatch.repeatRows($0, rows: rows) },
                                  known: Array(repeating: dropped.map { !$0 }, count: rows).flatMap { $0 })
    }

    /// The coupling with pair `i`'s image condition dropped: it reads no reference key (reference attention), or
    /// its reference is unknown (JeDi).
    public mutating func dropReference(pair i: Int) {
        dropped[i] = true
        guard var f = foreground else { return }
        let per = f.count / f.shape[0]
        f.scalars.replaceSubrange((i * per)..<((i + 1) * per), with: repeatElement(0, count: per))
        foreground = f
    }

    /// The coupling with pair `i`'s reference caption replaced by `nullText` `[1, Lt, D]` (text dropout: JeDi's null
    /// text is every member's).
    public mutating func dropText(pair i: Int, nullText: Tensor) {
        guard var t = texts else { return }
        let per = t.count / t.shape[0]
        precondition(nullText.count == per, "ReferenceCoupling.dropText: null text \(nullText.shape) vs rows of \(t.shape)")
        t.scalars.replaceSubrange((i * per)..<((i + 1) * per), with: nullText.scalars)
        texts = t
    }
}

/// The references of a stack of rows (`[R, ...]`, R = rows per pair x B, row r's reference diffused to row r's
/// reference timestep, `PreferencePolicy.referenceTimestep`): `references` diffused, their `timesteps`, `clean`, reference attention's `mask`, JeDi's caption states `texts`, and
/// `known[r]`: row r's reference is read (its pair's image condition is not dropped).
public struct DiffusedReferences {
    public var references: Tensor
    /// The timestep each reference row was diffused to (and is read at).
    public var timesteps: [Int]
    public var clean: Tensor
    public var mask: ReferenceSetMask?
    public var texts: Tensor?
    public var known: [Bool]
}
