import Checkpoint
import Foundation
import Optim
import Random

/// Resumable state of preference training, on top of `Optim.TrainingCheckpoint`:
/// `model.safetensors` = the trained adapter (adapter keys), `reference.safetensors` = the frozen
/// reference adapter, `optimizer.safetensors`, `rng.json` = the `RandomStream` of the (t, eps) draws and
/// the pair order, `index.json` with the step. Restoring all of it and continuing ends bit-for-bit
/// where an uninterrupted run ends.
public enum AdapterCheckpoint {
    /// Writes the state after `step` optimizer steps into `TrainingCheckpoint.directory(root:step:)`.
    @discardableResult
    public static func save<O: Optimizer>(policy: AdapterPolicy, optimizer: O, rng: RandomStream, step: Int,
                                          root: URL, metadata: [String: String] = [:]) throws(OptimError) -> URL {
        let state = TrainingState(step: step, model: policy.adapterStateDict(), optimizer: optimizer.stateFile(),
                                  rng: rng, extraFiles: ["reference": policy.frozenStateDict()], metadata: metadata)
        return try TrainingCheckpoint.save(state, root: root)
    }

    /// Loads the checkpoint in `directory` into `policy`, `optimizer` and `rng`; returns its step.
    public static func restore<O: Optimizer>(from directory: URL, policy: AdapterPolicy, optimizer: inout O,
                                             rng: inout RandomStream) throws(OptimError) -> Int {
        try restoreWithMetadata(from: directory, policy: policy, optimizer: &optimizer, rng: &rng).step
    }

    /// `restore`, also returning the metadata saved with the checkpoint (e.g. the last step's metrics,
    /// which a run resumed at its final step needs for its record).
    public static func restoreWithMetadata<O: Optimizer>(from directory: URL, policy: AdapterPolicy, optimizer: inout O,
                                                         rng: inout RandomStream) throws(OptimError) -> (step: Int, metadata: [String: String]) {
        let state = try TrainingCheckpoint.load(directory, rng: RandomStream.self)
        guard let reference = state.extraFiles["reference"] else {
            throw .incompleteCheckpoint(directory: directory.path, missing: "reference.safetensors")
        }
        let dir = directory.path
        do {
            try policy.loadAdapter(state.model, path: dir + "/model.safetensors")
            try policy.loadAdapter(reference, path: dir + "/reference.safetensors", asReference: true)
        } catch { throw .checkpoint(error) }
        try optimizer.loadState(state.optimizer, path: dir + "/optimizer.safetensors")
        rng = state.rng
        return (state.step, state.metadata)
    }
}
