import Autograd
import NN
import TensorCore

/// Reference attention's coupled self-attention over [reference_1..K, image] sets, computed as the mask says rather
/// than by masking: under a `ReferenceSetMask` a reference's queries see only that reference's keys, so its rows are a
/// lone pass, and the image's queries read [the references' keys; its own keys] under one bias per key
/// (`ReferenceSetMask.keyBias`). The same sums as `coupled(_:setSize:mask:)` with `additive`'s mask (a masked key's
/// exp(-1e9) is 0 in Float), grouped differently, and differentiable like it: gradients reach the references' rows
/// through their own pass and through the keys and values the images read. What it saves: a set's scores fall from
/// ((K+1) L)^2 to K L^2 (the references' lone passes) + (K+1) L^2 (the image's), and its mask from ((K+1) L)^2 floats to
/// (K+1) L (at 32x32, L = 1024 and K = 1: 16 MB of mask per set, built per call, no longer exist).
extension Attention {
    /// x [B (K+1), L, C] in sets of K references then the image (`ReferenceSetMask.sets`); `keyBias` [B, 1, 1, (K+1) L]
    /// (`ReferenceSetMask.keyBias` at this level's size).
    public func referenceSets(_ x: Variable, referencesPerSet k: Int, keyBias: Tensor) -> Variable {
        let n = x.shape[0], l = x.shape[1], c = x.shape[2], s = k + 1
        precondition(x.shape.count == 3 && k >= 1 && n % s == 0,
                     "Attention.referenceSets: x \(x.shape) is not [B * \(s), L, C] for \(k) reference(s) per set")
        let b = n / s
        precondition(keyBias.shape == [b, 1, 1, s * l], "Attention.referenceSets: key bias \(keyBias.shape), want [\(b), 1, 1, \(s * l)]")
        let sets = x.reshaped([b, s, l, c])
        let refs = sets.slice(axis: 1, start: 0, end: k).reshaped([b * k, l, c])
        let images = sets.slice(axis: 1, start: k, end: s).reshaped([b, l, c])
        let refKeys = toK(refs), refValues = toV(refs)
        let refOut = self(refs, keys: refKeys, values: refValues)
        let inner = refKeys.shape[2], innerV = refValues.shape[2]
        let keys = concat([refKeys.reshaped([b, k * l, inner]), toK(images)], axis: 1)
        let values = concat([refValues.reshaped([b, k * l, innerV]), toV(images)], axis: 1)
        let imageOut = self(images, keys: keys, values: values, mask: keyBias)
        return concat([refOut.reshaped([b, k, l, c]), imageOut.reshaped([b, 1, l, c])], axis: 1).reshaped([n, l, c])
    }
}
