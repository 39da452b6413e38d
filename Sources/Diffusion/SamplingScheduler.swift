import TensorCore

/// What a guided sampling loop needs of a scheduler: the inference timesteps, then one update per model
/// evaluation (diffusers' `set_timesteps` / `step` split; the scheduler never sees the network).
///
/// `step` is `mutating` because a multistep solver keeps the previous data prediction between calls
/// (`DPMSolverMultistepScheduler`); DDIM keeps nothing. A scheduler value belongs to one chain: a second
/// chain (e.g. the reference chain of adaptive normalisation) takes its own copy before the first step.
public protocol SamplingScheduler: Sendable {
    /// The `steps` inference timesteps, in the order the sampler visits them (descending).
    func timesteps(steps: Int) -> [Int]
    /// x_t -> x at the next timestep of `timesteps(steps:)` (after the last one: the end of the chain).
    /// `eta` and `noise` are DDIM's stochastic part; deterministic schedulers take eta 0 only.
    mutating func step(epsilon: Tensor, timestep: Int, sample: Tensor, steps: Int, eta: Float, noise: Tensor?) -> Tensor
}

extension DDIMScheduler: SamplingScheduler {}
