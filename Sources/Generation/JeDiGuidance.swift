import Diffusion
import TensorCore

/// JeDi's image guidance (Zeng et al. 2024, eq. 3, and the appendix's flexible form, eq. 4), with guidance scale s
/// (`SamplingOptions.guidanceScale`) and the ratio rho = s_I / s_T of image to text guidance (s_T = s, s_I = rho s):
///   joint:        eps = eps_null + s (eps(T, I) - eps_null)                                    (eq. 3; the paper's default)
///   text first:   eps = eps_null + s_T (eps(T, null I) - eps_null) + s_I (eps(T, I) - eps(T, null I))
///   image first:  eps = eps_null + s_I (eps(null T, I) - eps_null) + s_T (eps(T, I) - eps(null T, I))
/// eps_null is the JOINT null: every member's text null AND every reference null (the inpainting input of an
/// all-unknown set: mask 1, clean images zero). "null I" keeps the texts and nulls the references; "null T" keeps the
/// references and nulls every text. The appendix's naming: the partial score keeps the text in "text first"
/// (higher DINO, the image direction comes last) and the references in "image first" (higher CLIP-T), as in
/// the project's decoupled IP-Adapter guidance (`Guidance.decoupled`, text first). With rho = 1 both flexible
/// forms equal the joint one; "Text only" of the appendix's Fig. 11 (no image guidance) is image first with
/// s_I = 1 (rho = 1 / s).
public struct JeDiGuidance: Sendable, Codable, Equatable {
    public enum Strategy: String, Sendable, Codable, CaseIterable {
        case joint
        case textFirst = "text-first"
        case imageFirst = "image-first"
    }

    public var strategy: Strategy
    /// rho = s_I / s_T (flexible strategies only; joint ignores it and must keep 1).
    public var imageToTextRatio: Float

    public init(strategy: Strategy = .joint, imageToTextRatio: Float = 1) {
        self.strategy = strategy
        self.imageToTextRatio = imageToTextRatio
    }

    /// The U-Net branches a step evaluates, in this order: full, [partial], null.
    public var branches: Int { strategy == .joint ? 2 : 3 }

    /// Checks the ratio; names the field.
    public func validate() throws(GenerationError) {
        guard imageToTextRatio.isFinite else {
            throw .invalidOption(field: "imageToTextRatio", reason: "\(imageToTextRatio) is not finite")
        }
        if strategy == .joint && imageToTextRatio != 1 {
            throw .invalidOption(field: "imageToTextRatio", reason: "\(imageToTextRatio) needs a flexible strategy (text-first or "
                                 + "image-first); joint guidance has one scale")
        }
    }

    /// The guided epsilon from the branch predictions (`partial` nil for joint), scale s = s_T.
    public func combine(full: Tensor, partial: Tensor?, null: Tensor, scale s: Float) -> Tensor {
        switch strategy {
        case .joint:
            return Guidance.classifierFree(conditional: full, unconditional: null, scale: s)
        case .textFirst:
            guard let partial else { preconditionFailure("JeDiGuidance.combine: text-first needs eps(T, null I)") }
            return Guidance.decoupled(conditional: full, textOnly: partial, unconditional: null,
                                      textScale: s, imageScale: imageToTextRatio * s)
        case .imageFirst:
            guard let partial else { preconditionFailure("JeDiGuidance.combine: image-first needs eps(null T, I)") }
            // The same two-scale form with the roles of text and references exchanged.
            return Guidance.decoupled(conditional: full, textOnly: partial, unconditional: null,
                                      textScale: imageToTextRatio * s, imageScale: s)
        }
    }
}
