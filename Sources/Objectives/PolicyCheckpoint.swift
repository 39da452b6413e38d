import Checkpoint
import Foundation
import Optim
import Random

/// Resumable state of preference training, on top of `Optim.TrainingCheckpoint`:
/// `model.safetensors` = the policy's weights (`PolicyWeights`: the adapter, or JeDi's trained weights),
/// `reference.safetensors` = their frozen reference copy, `optimizer.safetensors`, `rng.json` = the
/// `RandomStream` of the (t, eps) draws and the pair order, `index.json` with the step. Restoring all of it and
/// continuing ends bit-for-bit where an uninterrupted run ends.
public enum PolicyCheckpoint {
    /// Writes the state after `step` optimizer steps into `TrainingCheckpoint.directory(root:step:)`.
    @discardableResult
    public static func save<O: Optimizer>(policy: any PreferencePolicy, optimizer: O, rng: RandomStream, step: Int,
                                          root: URL, metadata: [String: String] = [:]) throws(OptimError) -> URL {
        let state = TrainingState(step: step, model: policy.weights.stateDict(), optimizer: optimizer.stateFile(),
                                  rng: rng, extraFiles: ["reference": policy.weights.frozenStateDict()], metadata: metadata)
        return try TrainingCheckpoint.save(state, root: root)
    }

    /// Loads the checkpoint in `directory` into `policy`, `optimizer` and `rng`; returns its step.
    public static func restore<O: Optimizer>(from directory: URL, policy: any PreferencePolicy, optimizer: inout O,
                                             rng: inout RandomStream) throws(OptimError) -> Int {
        try restoreWithMetadata(from: directory, policy: policy, optimizer: &optimizer, rng: &rng).step
    }

    /// `restore`, also returning the metadata saved with the checkpoint (e.g. the last step's metrics,
    /// which a run resumed at its final step needs for its record).
    public static func restoreWithMetadata<O: Optimizer>(from directory: URL, policy: any PreferencePolicy, optimizer: inout O,
                                                         rng: inout RandomStream) throws(OptimError) -> (step: Int, metadata: [String: String]) {
        let state = try TrainingCheckpoint.load(directory, rng: RandomStream.self)
        guard let reference = state.extraFiles["reference"] else {
            throw .incompleteCheckpoint(directory: directory.path, missing: "reference.safetensors")
        }
        let dir = directory.path
        do {
            try policy.weights.load(state.model, path: dir + "/model.safetensors")
            try policy.weights.load(reference, path: dir + "/reference.safetensors", asReference: true)
        } catch { throw .checkpoint(error) }
        try optimizer.loadState(state.optimizer, path: dir + "/optimizer.safetensors")
        rng = state.rng
        return (state.step, state.metadata)
    }
}
