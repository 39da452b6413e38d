import Autograd
import Models
import NN
import Random
import TensorCore

/// Instance-discrimination InfoNCE (SimCLR / MoCo-v3 form, cross-view only):
/// za = normalize(a), zb = normalize(b) (rows of [N, D]); logits = za zb^T / tau, [N, N];
/// L = (CE(logits, diag) + CE(logits^T, diag)) / 2: view A of subject i must pick view B of subject i
/// among the batch's N subjects, and vice versa.
public enum InstanceDiscrimination {
    public static func infoNCE(_ a: Variable, _ b: Variable, temperature: Float) -> Variable {
        precondition(a.shape == b.shape && a.shape.count == 2, "infoNCE: views \(a.shape) vs \(b.shape), want two [N, D]")
        precondition(temperature > 0, "infoNCE: temperature \(temperature) must be positive")
        let za = CLIPModel.normalize(a), zb = CLIPModel.normalize(b)
        return CLIPModel.symmetricInfoNCE(za.matmul(zb.transposed(0, 1)) * (1 / temperature))
    }
}

/// SimCLR-style projection head used only while training (never saved with the judge):
/// z = fc2(GELU(fc1(x))), fc1 [D -> D], fc2 [D -> P].
public final class ProjectionHead: Module {
    public let fc1: Linear
    public let fc2: Linear

    public init(width: Int, output: Int, key: RNGKey) {
        fc1 = Linear(width, width, key: key.fold(in: "fc1"))
        fc2 = Linear(width, output, key: key.fold(in: "fc2"))
    }

    public var children: [(String, any Module)] { [("fc1", fc1), ("fc2", fc2)] }

    public func callAsFunction(_ x: Variable) -> Variable { fc2(fc1(x).gelu()) }
}

/// (e) dino-judge: a ViT without head trained by instance discrimination on `InstanceData` batches
/// (N subjects x 2 views): embedding = the class token after the final norm, optionally through a
/// `ProjectionHead` (trainable keys `projection.*`, not part of the judge), L = `InstanceDiscrimination.infoNCE`.
public final class InstanceDiscriminationTask: PretrainTask {
    public let vit: ViT
    public let projection: ProjectionHead?
    public let data: WorldDataConfig
    public let seed: UInt64
    public let subjects: Int
    public let perCategory: Int
    public let temperature: Float

    public init(vit: ViT, projection: ProjectionHead?, data: WorldDataConfig, seed: UInt64, subjects: Int, perCategory: Int,
                temperature: Float) {
        precondition(subjects >= 2, "InstanceDiscriminationTask: \(subjects) subjects per batch; InfoNCE needs >= 2")
        self.vit = vit; self.projection = projection; self.data = data; self.seed = seed
        self.subjects = subjects; self.perCategory = perCategory; self.temperature = temperature
    }

    public var trainable: [(String, Parameter)] {
        vit.namedParameters() + (projection?.namedParameters().map { ("projection." + $0.0, $0.1) } ?? [])
    }

    public func loss(step: Int) throws -> Variable {
        vit.train(true)
        let b = try InstanceData.batch(seed: seed, step: step, subjects: subjects, perCategory: perCategory, config: data)
        var z = vit.forward(Variable(b.images)).classToken                     // [2N, D]
        if let projection { z = projection(z) }
        let n = subjects
        return InstanceDiscrimination.infoNCE(z.slice(axis: 0, start: 0, end: n), z.slice(axis: 0, start: n, end: 2 * n),
                                              temperature: temperature)
    }
}
