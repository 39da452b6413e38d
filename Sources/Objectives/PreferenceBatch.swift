import TensorCore

/// One training batch of B pairs, with the frozen encoders already applied (they never change, so the
/// stage encodes each pair once).
///
/// - `first`: x0 of the first members, `[B, C, H, W]` in [-1, 1]: the winners (pool pairs) or the
///   reference images (PatchDPO pairs).
/// - `second`: x0 of the second members, `[B, C, H, W]`: the losers or the generated images; nil for
///   losses that use one row per pair (`sft`, `dco`).
/// - `text`: the text encoder's token states of each pair's prompt, `[B, Lt, D]`.
/// - `imageFeatures`: the image encoder's tokens of each pair's reference image, `[B, N, E]` (the
///   resampler input; both members are conditioned on the same reference).
/// - `referenceQuality`, `generatedQuality`: q_r, q_g upsampled to H x W, `[B, 1, H, W]` in [0, 1]
///   (PatchDPO losses only).
/// - `coupling`: each pair's clean reference with its foreground (reference attention) or its caption (JeDi);
///   nil = none.
public struct PreferenceBatch: Sendable {
    public var first: Tensor
    public var second: Tensor?
    public var text: Tensor
    public var imageFeatures: Tensor
    public var referenceQuality: Tensor?
    public var generatedQuality: Tensor?
    public var coupling: ReferenceCoupling?

    public init(first: Tensor, second: Tensor?, text: Tensor, imageFeatures: Tensor,
                referenceQuality: Tensor? = nil, generatedQuality: Tensor? = nil, coupling: ReferenceCoupling? = nil) {
        self.first = first
        self.second = second
        self.text = text
        self.imageFeatures = imageFeatures
        self.referenceQuality = referenceQuality
        self.generatedQuality = generatedQuality
        self.coupling = coupling
    }

    /// Number of pairs B.
    public var pairs: Int { first.shape.first ?? 0 }
    /// [C, H, W] of one image.
    public var imageShape: [Int] { Array(first.shape.dropFirst()) }

    /// Checks that the batch holds what `kind` needs, with consistent shapes.
    public func validate(for kind: LossKind) throws(ObjectivesError) {
        let s = first.shape
        guard s.count == 4, s[0] > 0 else { throw .badBatch(field: "first", reason: "has shape \(s); want [B, C, H, W]") }
        let b = s[0]
        if kind.rowsPerPair == 2 {
            guard let l = second else {
                throw .badBatch(field: "second", reason: "is missing; loss '\(kind.rawValue)' needs both members of each pair")
            }
            guard l.shape == s else { throw .badBatch(field: "second", reason: "has shape \(l.shape); want \(s) like first") }
        }
        guard text.rank == 3, text.shape[0] == b else {
            throw .badBatch(field: "text", reason: "has shape \(text.shape); want [\(b), Lt, D]")
        }
        guard imageFeatures.rank == 3, imageFeatures.shape[0] == b else {
            throw .badBatch(field: "imageFeatures", reason: "has shape \(imageFeatures.shape); want [\(b), N, E]")
        }
        if let coupling {
            guard coupling.references.shape == s else {
                throw .badBatch(field: "coupling.references", reason: "has shape \(coupling.references.shape); want \(s) like first")
            }
            if let side = coupling.foreground?.shape {
                guard side[0] == b, side[1] == side[2], side[1] % s[2] == 0, side[1] / s[2] * s[3] == side[2] else {
                    throw .badBatch(field: "coupling.foreground", reason: "has shape \(side); want [\(b), S, S] with S a multiple of \(s[2])")
                }
            }
            if let t = coupling.texts, t.shape != text.shape {
                throw .badBatch(field: "coupling.texts", reason: "has shape \(t.shape); want \(text.shape) like text")
            }
        }
        if kind.needsQualityMaps {
            let want = [b, 1, s[2], s[3]]
            for (name, q) in [("referenceQuality", referenceQuality), ("generatedQuality", generatedQuality)] {
                guard let q else {
                    throw .badBatch(field: name, reason: "is missing; loss '\(kind.rawValue)' needs the patch-quality maps (run patch-quality)")
                }
                guard q.shape == want else { throw .badBatch(field: name, reason: "has shape \(q.shape); want \(want)") }
                guard q.scalars.allSatisfy({ $0 >= 0 && $0 <= 1 }) else {
                    throw .badBatch(field: name, reason: "has values outside [0, 1]; quality maps are normalised to [0, 1]")
                }
            }
        }
    }

    /// The model rows: [first; second] for two-row losses, first alone otherwise, `[rows * B, C, H, W]`.
    public func stackedImages(rows: Int) -> Tensor {
        rows == 1 ? first : Kernels.concat([first, second!], axis: 0)
    }

    /// A per-pair conditioning tensor repeated for each member: `[rows * B, ...]`.
    public static func repeatRows(_ x: Tensor, rows: Int) -> Tensor {
        rows == 1 ? x : Kernels.concat([x, x], axis: 0)
    }
}
