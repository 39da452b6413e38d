import Autograd
import NN
import TensorCore

/// The self-attention keys and values of reference images, made once and read by every denoising step: how
/// ReferenceNet reads its reference (Hu et al. 2023, "Animate Anyone": the reference's features are computed once,
/// at t = 0, and joined to the denoiser's self-attention at every step).
///
/// Why it is exact: in a coupled pass of [reference_1..K, image] sets under a `ReferenceSetMask`, a reference's
/// queries see only that reference's keys, so its features are those of a lone pass and do not depend on the image.
/// When the references are also read at one timestep at every step (a reference timestep below every sampled
/// timestep, e.g. 0: the clean reference), their keys and values at every `attn1` are the same at every step. So:
/// 1. recording (`UNet2DConditionModel.recordReferenceKeys`): one lone pass of the references, B K rows (row i's K
///    references together, as `ReferenceSetMask.sets` orders them), stores each `attn1`'s key and value projections;
/// 2. reading (`forward(..., referenceKeys:)`): a pass of the B images alone; each `attn1` attends over
///    [its set's reference keys; its own keys] under `ReferenceSetMask.keyBias`. Rows past the first B (the null
///    branch of conditional reference attention, batched into the same pass) attend to their own keys only. These are the image rows of the
///    coupled pass (the same sums, in a different grouping of the products), without the references' rows, and
///    with a mask of (K+1) L floats per set instead of ((K+1) L)^2.
/// Sampling only: both passes run under `withNoGrad` (the reading pass joins keys as values, so no gradient could reach
/// them).
public final class ReferenceKeys {
    /// Foreground, bias and K of the references, per set (one set per image row of the reading passes).
    public let mask: ReferenceSetMask
    private var recording = true
    private var entries: [ObjectIdentifier: (keys: Tensor, values: Tensor)] = [:]
    private var biases: [[Int]: Tensor] = [:]

    init(mask: ReferenceSetMask) { self.mask = mask }

    /// The self-attention layers recorded so far.
    public var layers: Int { entries.count }

    func finishRecording() { recording = false }

    /// The mask of a reading pass at a level of h x w tokens ([sets, 1, 1, (K+1) L], made once per level); nil while
    /// recording (the references' lone pass is unmasked).
    func keyMask(height h: Int, width w: Int) -> Tensor? {
        guard !recording else { return nil }
        if let m = biases[[h, w]] { return m }
        let m = mask.keyBias(height: h, width: w)
        biases[[h, w]] = m
        return m
    }

    /// `attention`'s output on x [N, L, C] (already normed): while recording, the lone self-attention of the N
    /// references, keeping its keys and values; while reading, the N images' attention over their sets' keys.
    func attend(_ attention: Attention, _ x: Variable, mask keyMask: Tensor?) -> Variable {
        precondition(!GradMode.isEnabled, "ReferenceKeys: sampling only; run the U-Net under withNoGrad")
        let id = ObjectIdentifier(attention)
        if recording {
            precondition(entries[id] == nil, "ReferenceKeys: a self-attention layer ran twice in the recording pass")
            let k = attention.toK(x), v = attention.toV(x)
            entries[id] = (k.value, v.value)
            return attention(x, keys: k, values: v)
        }
        guard let e = entries[id] else {
            preconditionFailure("ReferenceKeys: no keys recorded for this self-attention layer (recorded with another U-Net?)")
        }
        let n = x.shape[0], l = x.shape[1], kRefs = mask.referencesPerSet, sets = e.keys.shape[0] / kRefs
        precondition(sets <= n && e.keys.shape[1] == l,
                     "ReferenceKeys: \(n) images of \(l) tokens read keys recorded for \(e.keys.shape[0]) references of \(e.keys.shape[1]) tokens (\(kRefs) per image)")
        if sets < n {   // the rows past the sets' images read their own keys only (the plain branch of conditional reference attention)
            return concat([attend(attention, x.slice(axis: 0, start: 0, end: sets), mask: keyMask),
                           attention(x.slice(axis: 0, start: sets, end: n))], axis: 0)
        }
        let inner = e.keys.shape[2], innerV = e.values.shape[2]
        let k = attention.toK(x), v = attention.toV(x)
        let keys = Variable(ReferenceSetMask.sets(references: e.keys, images: k.value).reshaped([n, (kRefs + 1) * l, inner]))
        let values = Variable(ReferenceSetMask.sets(references: e.values, images: v.value).reshaped([n, (kRefs + 1) * l, innerV]))
        return attention(x, keys: keys, values: values, mask: keyMask)
    }
}
