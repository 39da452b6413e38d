import Random
import TensorCore

/// Condition dropout during preference training, as in PatchDPO's training code (and IP-Adapter's):
/// per pair, with probability `text` the prompt is replaced by the empty prompt, with `image` the
/// reference by the zero image, with `both` both; otherwise the pair keeps its conditions. Keeps the
/// adapter usable under classifier-free guidance, whose null branch drops text and image together.
///
/// Draw order: one uniform per pair from the step's stream, after `PairNoise` (so a resumed run draws
/// the same numbers). A pair's two members (and the reference model's rows) see the same conditions.
public struct ConditionDropout: Sendable, Equatable {
    public var text: Float
    public var image: Float
    public var both: Float

    public init(text: Float = 0.05, image: Float = 0.05, both: Float = 0.05) {
        precondition([text, image, both].allSatisfy { $0 >= 0 } && text + image + both <= 1,
                     "ConditionDropout: probabilities \(text), \(image), \(both) must be >= 0 and sum to at most 1")
        self.text = text; self.image = image; self.both = both
    }

    /// No dropout.
    public static let none = ConditionDropout(text: 0, image: 0, both: 0)

    public var isNone: Bool { text == 0 && image == 0 && both == 0 }

    /// Which conditions a pair drops for its draw u ~ U(0, 1): [0, text) text only, [text, text + image)
    /// image only, [text + image, text + image + both) both, else none.
    public func drops(u: Float) -> (text: Bool, image: Bool) {
        if u < text { return (true, false) }
        if u < text + image { return (false, true) }
        if u < text + image + both { return (true, true) }
        return (false, false)
    }

    /// `batch` with each pair's dropped conditions replaced by `nullText` `[1, Lt, D]` / `nullImage`
    /// `[1, N, E]` (and, with references, its reference's keys unread or, for JeDi, the reference unknown and its caption
    /// null), drawing one uniform per pair from `rng` (none when the dropout is off). Returns the
    /// batch and how many pairs dropped something.
    public func apply(_ batch: PreferenceBatch, nullText: Tensor, nullImage: Tensor,
                      rng: inout RandomStream) -> (batch: PreferenceBatch, dropped: Int) {
        guard !isNone else { return (batch, 0) }
        let b = batch.pairs
        let lt = batch.text.count / b, ni = batch.imageFeatures.count / b
        precondition(nullText.count == lt && nullImage.count == ni,
                     "ConditionDropout.apply: null text \(nullText.shape) / image \(nullImage.shape) do not match one row of \(batch.text.shape) / \(batch.imageFeatures.shape)")
        var out = batch
        var dropped = 0
        for i in 0..<b {
            let d = drops(u: rng.nextFloat())
            if d.text {
                out.text.scalars.replaceSubrange((i * lt)..<((i + 1) * lt), with: nullText.scalars)
                out.coupling?.dropText(pair: i, nullText: nullText)
            }
            if d.image {
                out.imageFeatures.scalars.replaceSubrange((i * ni)..<((i + 1) * ni), with: nullImage.scalars)
                out.coupling?.dropReference(pair: i)
            }
            if d.text || d.image { dropped += 1 }
        }
        return (out, dropped)
    }
}
