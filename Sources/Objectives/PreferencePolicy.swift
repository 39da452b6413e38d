import Autograd
import Checkpoint
import NN
import TensorCore

/// The generator being preference-trained: which of its weights train, its prediction eps_theta with the graph
/// recorded, and the reference model eps_ref (the same network with the trained weights switched to a frozen copy
/// taken at the start, METHODS.md 5). `AdapterPolicy` (IP-Adapter: the image branch trains) and `JeDiPolicy` (JeDi:
/// the joint-image U-Net's weights train).
public protocol PreferencePolicy: AnyObject {
    /// The weights that differ from the reference model, trained or not, with their keys (`PolicyWeights`).
    var weights: PolicyWeights { get }
    /// Whether every batch must carry its pairs' references (`PreferenceBatch.coupling`): JeDi reads each row as a
    /// member of the set [reference; row].
    var needsReferences: Bool { get }
    /// Under reference attention, the timestep k the policy's references are diffused to and read at: min(k, t)
    /// (`ReferenceSetMask.readTimestep`; the adapter's `referenceTimestep`); nil = each row's own t (JeDi always).
    var referenceTimestep: Int? { get }
    /// Which weights train, as the config names the choice (`adapter_trainable`, `jedi_trainable`): recorded with the weights.
    var trainableName: String { get }

    /// eps_theta of rows x `[R, C, H, W]` at `timesteps` `[R]` with text `[R, Lt, D]`, image-encoder tokens
    /// `[R, N, E]` and, when the batch carries them, the rows' references.
    func predict(_ x: Tensor, timesteps: [Int], text: Tensor, imageFeatures: Tensor, coupled: DiffusedReferences?) -> Variable
}

extension PreferencePolicy {
    /// The parameters the optimizer updates, with their keys (the optimizer state uses the same keys).
    public var trainable: [(String, Parameter)] { weights.entries.filter { $0.1.requiresGrad } }

    /// eps_ref: the same forward with the weights switched to the frozen copy, without a graph.
    public func predictReference(_ x: Tensor, timesteps: [Int], text: Tensor, imageFeatures: Tensor,
                                 coupled: DiffusedReferences? = nil) -> Tensor {
        weights.withFrozen { withNoGrad { predict(x, timesteps: timesteps, text: text, imageFeatures: imageFeatures, coupled: coupled).value } }
    }
}

/// The weights of a policy that preference training may change, by key, and the reference model's frozen copy of
/// them (a snapshot taken at init, or loaded).
public final class PolicyWeights {
    /// Every such parameter with its key (trainable or not), in a fixed order.
    public let entries: [(String, Parameter)]
    /// The reference model's values, by key.
    public private(set) var frozen: [String: Tensor]

    public init(_ entries: [(String, Parameter)]) {
        self.entries = entries
        frozen = Dictionary(uniqueKeysWithValues: entries.map { ($0.0, $0.1.value) })
    }

    /// `body` run with every entry holding its frozen value, then the current values restored.
    public func withFrozen<T>(_ body: () throws -> T) rethrows -> T {
        let current = entries.map { $0.1.value }
        for (key, p) in entries { p.value = frozen[key]! }
        defer { for ((_, p), v) in zip(entries, current) { p.value = v } }
        return try body()
    }

    /// The current values as a safetensors file.
    public func stateDict() -> SafeTensorsFile {
        var file = SafeTensorsFile()
        for (key, p) in entries { file.tensors[key] = TensorData(shape: p.shape, values: p.value.scalars) }
        return file
    }

    /// The frozen copy as a safetensors file (same keys).
    public func frozenStateDict() -> SafeTensorsFile {
        var file = SafeTensorsFile()
        for (key, p) in entries { file.tensors[key] = TensorData(shape: p.shape, values: frozen[key]!.scalars) }
        return file
    }

    /// Loads every key strictly (names and shapes; `path` names the file in errors); with `asReference` into the
    /// frozen copy instead.
    public func load(_ file: SafeTensorsFile, path: String, asReference: Bool = false) throws(CheckpointError) {
        let shapes = Dictionary(uniqueKeysWithValues: entries.map { ($0.0, $0.1.shape) })
        try file.checkStrict(expected: shapes, path: path)
        for (key, p) in entries {
            let t = file.tensors[key]!
            let v = Tensor(shape: t.shape, scalars: t.values)
            if asReference { frozen[key] = v } else { p.value = v }
        }
    }
}
