import Objectives
import TensorCore

/// One training pair, decoded and encoded once (the encoders are frozen):
/// `first`/`second` `[1, C, h, w]` ([winner, loser] or [reference, generated]; the images, or their
/// scaled latents for a latent U-Net), `text` `[1, Lt, D]`, `image` `[1, N, E]` (reference-encoder
/// tokens of the pool item's reference; JeDi: a `[1, 1, 1]` zero), quality maps `[1, 1, h, w]` on the same grid; with
/// reference attention the reference itself in the U-Net's input space `[1, C, h, w]` and its foreground `[1, S, S]`
/// (S the image side); for JeDi the reference and its caption's text states `referenceText` `[1, Lt, D]`.
public struct EncodedPair {
    public var key: String
    public var first: Tensor
    public var second: Tensor
    public var text: Tensor
    public var image: Tensor
    public var qr: Tensor?
    public var qg: Tensor?
    public var reference: Tensor?
    public var foreground: Tensor?
    public var referenceText: Tensor?

    public init(key: String, first: Tensor, second: Tensor, text: Tensor, image: Tensor, qr: Tensor? = nil, qg: Tensor? = nil,
                reference: Tensor? = nil, foreground: Tensor? = nil, referenceText: Tensor? = nil) {
        self.key = key; self.first = first; self.second = second; self.text = text; self.image = image; self.qr = qr; self.qg = qg
        self.reference = reference; self.foreground = foreground; self.referenceText = referenceText
    }
}

extension Array where Element == EncodedPair {
    /// The batch of the pairs at `indices`, for `kind` (coupled to the references when the pairs carry them: with their
    /// captions for JeDi, else with their foregrounds for reference attention).
    public func batch(_ indices: [Int], kind: LossKind) -> PreferenceBatch {
        let ps = indices.map { self[$0] }
        func cat(_ f: (EncodedPair) -> Tensor) -> Tensor { Kernels.concat(ps.map(f), axis: 0) }
        let maps = kind.needsQualityMaps
        return PreferenceBatch(first: cat(\.first), second: kind.rowsPerPair == 2 ? cat(\.second) : nil,
                               text: cat(\.text), imageFeatures: cat(\.image),
                               referenceQuality: maps ? cat { $0.qr! } : nil, generatedQuality: maps ? cat { $0.qg! } : nil,
                               coupling: coupling(ps, cat))
    }

    private func coupling(_ ps: [EncodedPair], _ cat: ((EncodedPair) -> Tensor) -> Tensor) -> ReferenceCoupling? {
        guard ps.allSatisfy({ $0.reference != nil }) else { return nil }
        if ps.allSatisfy({ $0.referenceText != nil }) { return ReferenceCoupling(references: cat { $0.reference! }, texts: cat { $0.referenceText! }) }
        if ps.allSatisfy({ $0.foreground != nil }) { return ReferenceCoupling(references: cat { $0.reference! }, foreground: cat { $0.foreground! }) }
        return nil
    }
}
