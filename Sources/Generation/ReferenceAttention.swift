import Autograd
import Foundation
import Pretrained
import Imaging
import Models
import Random
import TensorCore

/// Reference attention: training-free transfer of a reference's appearance through the U-Net's own
/// self-attention ("reference-only" control of the ControlNet WebUI extension; the same coupling as
/// JeDi's joint-image attention, `Attention.coupled`, with the reference as the one known member).
/// Every row i of a batch becomes the set [reference_i at t, x_i]: at each step the reference is
/// forward-diffused to the step's timestep (q(x_t | x0), fresh noise from the row's seed), and in every
/// self-attention the generated image's tokens attend to its own and the reference's tokens. The
/// reference's own prediction is discarded.
public enum ReferenceAttention: String, Sendable, Codable, CaseIterable {
    /// Both CFG branches are coupled to the reference (the guidance direction does not amplify it).
    case both
    /// Only the conditional branch is coupled; the null branch is plain, so CFG amplifies the reference.
    case conditional
}

extension ReferenceAttention {
    /// The mode an adapter record says its adapter was trained with (`referenceAttention`); nil = none.
    public static func trained(_ record: PretrainRecord, path: URL) throws(PretrainedError) -> ReferenceAttention? {
        guard let name = record.referenceAttention else { return nil }
        guard let mode = ReferenceAttention(rawValue: name) else {
            throw .badCheckpoint(path: path.deletingPathExtension().appendingPathExtension("json").path,
                                 reason: "referenceAttention \"\(name)\" is not one of \(allCases.map(\.rawValue))")
        }
        return mode
    }

    /// A config's `reference_attention` value: "auto" (what the generator's adapter was trained with), "off", or a mode.
    public static func resolve(_ setting: String, for g: Generator) -> ReferenceAttention? {
        setting == "auto" ? g.trainedReferenceAttention : ReferenceAttention(rawValue: setting)
    }

    /// The values a config's `reference_attention` takes.
    public static let settings = ["auto", "off"] + allCases.map(\.rawValue)

    /// The default foreground of references [B, 3, S, S] in [-1, 1]: each 8-bit image's border-colour foreground
    /// (`Image.borderForeground`; references are clean renders on plain backdrops), [B, S, S] in {0, 1}.
    public static func foreground(of references: Tensor) -> Tensor {
        let b = references.shape[0], h = references.shape[2], w = references.shape[3]
        return Tensor(shape: [b, h, w], scalars: Sampler.images(references).flatMap { $0.borderForeground() })
    }
}

extension Generator {
    /// (eps(x, c) coupled to `reference`, eps(x, null) coupled or not by `mode`), x [B] + sampleShape and its
    /// references [B * K] + sampleShape (row-major: row i's K references together), already diffused to `referenceTimestep`
    /// (nil: t), which their rows of the sets read.
    /// `foreground` [B * K, S, S] of each reference masks its background keys (`ReferenceSetMask`, with `bias`); nil = all keys.
    func referenceCoupledPair(_ x: Tensor, reference r: Tensor, timestep t: Int, referenceTimestep: Int? = nil, _ c: Conditioning, ipScale: Float,
                              mode: ReferenceAttention, foreground: Tensor?, bias: Float) -> (cond: Tensor, uncond: Tensor) {
        let b = x.shape[0]
        precondition(b > 0 && r.shape[0] % b == 0 && Array(x.shape.dropFirst()) == Array(r.shape.dropFirst()),
                     "Generator.referenceCoupledPair: x \(x.shape) vs references \(r.shape)")
        let k = r.shape[0] / b, size = k + 1
        let mask = { (copies: Int) -> ReferenceSetMask? in
            foreground.map { ReferenceSetMask(foreground: stack(Array(repeating: $0, count: copies)), bias: bias, referencesPerSet: k) }
        }
        let sets = ReferenceSetMask.sets(references: r, images: x)
        let each = { (a: Tensor) in ReferenceSetMask.repeated(a, copies: size) }
        let steps = ReferenceSetMask.setTimesteps(references: Array(repeating: referenceTimestep ?? t, count: k * b),
                                                  images: Array(repeating: t, count: b))
        switch mode {
        case .both:
            let eps = withNoGrad {
                unet.forward(Variable(stack([sets, sets])), timesteps: steps + steps,
                             text: Variable(stack([each(c.text), each(c.nullText)])),
                             imageTokens: c.image.map { Variable(stack([each($0), each(c.nullImage!)])) }, ipScale: ipScale, setSize: size,
                             setMask: mask(2))
            }.value
            let n = sets.count
            let cond = Tensor(shape: sets.shape, scalars: Array(eps.scalars[0..<n]))
            let uncond = Tensor(shape: sets.shape, scalars: Array(eps.scalars[n..<(2 * n)]))
            return (ReferenceSetMask.imageRows(cond, setSize: size), ReferenceSetMask.imageRows(uncond, setSize: size))
        case .conditional:
            let eps = withNoGrad {
                unet.forward(Variable(sets), timesteps: steps, text: Variable(each(c.text)),
                             imageTokens: c.image.map { Variable(each($0)) }, ipScale: ipScale, setSize: size, setMask: mask(1))
            }.value
            let uncond = predictNoise(x, timestep: t, text: c.nullText, imageTokens: c.nullImage, ipScale: ipScale)
            return (ReferenceSetMask.imageRows(eps, setSize: size), uncond)
        }
    }

    /// The keys `references` [B * K] + sampleShape (row i's K together), diffused to `referenceTimestep`, give every
    /// self-attention of the pair `mode` couples (both: the conditional and the null branch, [c; null]; conditional:
    /// the conditional one), from one lone pass (`ReferenceKeys`): what `referenceCoupledPair` computes at every step
    /// for the references' rows, once, for `guidedPair(referenceKeys:)`. `foreground` [B * K, S, S] masks their background
    /// keys (with `bias`).
    func referenceKeys(_ r: Tensor, referenceTimestep: Int, _ c: Conditioning, ipScale: Float, mode: ReferenceAttention,
                       foreground: Tensor, bias: Float) -> ReferenceKeys {
        let b = c.text.shape[0]
        precondition(b > 0 && r.shape[0] % b == 0 && foreground.shape[0] == r.shape[0],
                     "Generator.referenceKeys: references \(r.shape), foreground \(foreground.shape) for \(b) rows")
        let k = r.shape[0] / b
        let each = { (a: Tensor) in ReferenceSetMask.repeated(a, copies: k) }
        let branches = mode == .both ? 2 : 1
        let texts = mode == .both ? [c.text, c.nullText] : [c.text]
        let images = c.image.map { mode == .both ? [$0, c.nullImage!] : [$0] }
        return unet.recordReferenceKeys(stack(Array(repeating: r, count: branches)),
                                        timesteps: Array(repeating: referenceTimestep, count: branches * r.shape[0]),
                                        text: stack(texts.map(each)), imageTokens: images.map { stack($0.map(each)) }, ipScale: ipScale,
                                        mask: ReferenceSetMask(foreground: stack(Array(repeating: foreground, count: branches)), bias: bias,
                                                               referencesPerSet: k))
    }
}
