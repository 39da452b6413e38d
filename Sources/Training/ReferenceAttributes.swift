import Autograd
import NN
import Random
import TensorCore
import World

/// An auxiliary loss for the adapter's own reference encoder, from the world's ground truth: one
/// Linear(C, classes) head per subject attribute (`WorldAttribute.subject`: category, both colours,
/// both patterns, decal and its colour) on the mean of the encoder's tokens predicts the reference
/// subject's attribute; L_attr = mean over heads of the cross-entropy. The diffusion loss alone asks
/// the encoder for a subject's pattern only once the U-Net can draw it (the shipped adapter reads the
/// body pattern at chance, data/checkpoints/README.md); this states it from the first step, as CLIP's
/// supervision puts it in the real image tower. The heads are a training aid, not saved with the adapter
/// (keys `attribute_heads.<attribute>.*` in training checkpoints only).
public final class ReferenceAttributeHeads: Module {
    public let heads: [(WorldAttribute, Linear)]

    public init(width: Int, key: RNGKey) {
        heads = WorldAttribute.subject.map { ($0, Linear(width, $0.classNames.count, key: key.fold(in: $0.rawValue))) }
    }

    public static let prefix = "attribute_heads."
    public var children: [(String, any Module)] { heads.map { ($0.0.rawValue, $0.1) } }
    public var directParameters: [(String, Parameter)] { [] }

    /// L_attr of tokens [B, N, C] (the encoder's output for the subjects' references) against `subjects`.
    public func loss(tokens: Variable, subjects: [Subject]) -> Variable {
        precondition(tokens.shape.count == 3 && tokens.shape[0] == subjects.count,
                     "ReferenceAttributeHeads: tokens \(tokens.shape) for \(subjects.count) subjects")
        let pooled = tokens.mean(axes: [1])                                       // [B, C]
        var total: Variable?
        for (attribute, head) in heads {
            // The clean reference has no scene: the background argument does not enter subject attributes.
            let labels = subjects.map { Int32(attribute.label($0, background: .beach)) }
            let l = crossEntropyLoss(head(pooled), targets: labels)
            total = total.map { $0 + l } ?? l
        }
        return total! * (1 / Float(heads.count))
    }
}
