import Checkpoint
import Diffusion
import Models
import Objectives
import TensorCore

/// What every run of a multi-run preference training starts from: the frozen network its policy wraps, the weights
/// it loads as both the trained and the reference weights, the noise schedule, and the null conditions condition
/// dropout substitutes (the empty prompt's text states `[1, Lt, D]`, the null image's encoder tokens `[1, N, E]`).
public struct PreferenceBase {
    /// The network a run's policy wraps (shared by the runs, which train one after another).
    public enum Network {
        /// `referenceTimestep`: the timestep the adapter reads its references at under reference attention (nil: the row's);
        /// `trainable`: the U-Net weights that train beside the image branch.
        case adapter(unet: UNet2DConditionModel, resampler: Resampler, referenceTimestep: Int? = nil, trainable: AdapterTrainable = .image)
        case jedi(unet: UNet2DConditionModel, trainable: JeDiTrainable)
    }

    public let network: Network
    /// The policy's starting weights (`PolicyWeights` keys: the adapter, or JeDi's trained weights).
    public let initial: SafeTensorsFile
    /// Their file, as errors name it.
    public let initialPath: String
    public let schedule: NoiseSchedule
    public let nullText: Tensor
    public let nullImage: Tensor

    public init(network: Network, initial: SafeTensorsFile, initialPath: String, schedule: NoiseSchedule, nullText: Tensor, nullImage: Tensor) {
        self.network = network; self.initial = initial; self.initialPath = initialPath
        self.schedule = schedule; self.nullText = nullText; self.nullImage = nullImage
    }

    /// An IP-Adapter base: `adapter` on `unet` and `resampler` (`adapter` holds `trainable`'s U-Net weights too).
    public init(unet: UNet2DConditionModel, resampler: Resampler, adapter: SafeTensorsFile, adapterPath: String,
                schedule: NoiseSchedule, nullText: Tensor, nullImage: Tensor, referenceTimestep: Int? = nil, trainable: AdapterTrainable = .image) {
        self.init(network: .adapter(unet: unet, resampler: resampler, referenceTimestep: referenceTimestep, trainable: trainable),
                  initial: adapter, initialPath: adapterPath,
                  schedule: schedule, nullText: nullText, nullImage: nullImage)
    }

    /// The base of `models`: pretrain-adapter's adapter on the pretrained U-Net, or JeDi's U-Net as loaded; the null
    /// conditions of their encoders.
    public init(_ models: PreferenceModels) {
        switch models.conditioning {
        case .adapter(let resampler, let adapter, _, let trainable):
            self.init(unet: models.unet, resampler: resampler, adapter: adapter, adapterPath: models.weightsPath,
                      schedule: models.schedule, nullText: models.nullText, nullImage: models.nullImage,
                      referenceTimestep: models.referenceTimestep, trainable: trainable)
        case .jedi(let trainable):
            self.init(jedi: models.unet, trainable: trainable, path: models.weightsPath, schedule: models.schedule,
                      nullText: models.nullText, nullImage: models.nullImage)
        }
    }

    /// A JeDi base: the `trainable` weights of `unet` as they are now.
    public init(jedi unet: UNet2DConditionModel, trainable: JeDiTrainable, path: String, schedule: NoiseSchedule,
                nullText: Tensor, nullImage: Tensor) {
        self.init(network: .jedi(unet: unet, trainable: trainable), initial: JeDiPolicy(unet: unet, trainable: trainable).weights.stateDict(),
                  initialPath: path, schedule: schedule, nullText: nullText, nullImage: nullImage)
    }

    public var base: GeneratorBase {
        if case .jedi = network { return .jedi }
        return .adapter
    }

    /// A fresh policy over the network (its weights as the previous run left them: load `initial` next).
    func makePolicy(_ s: PreferenceSettings) -> any PreferencePolicy {
        switch network {
        case .adapter(let unet, let resampler, let referenceTimestep, let trainable):
            return AdapterPolicy(unet: unet, resampler: resampler, trainResampler: s.trainResampler, ipScale: s.ipScale,
                                 referenceTimestep: referenceTimestep, trainable: trainable)
        case .jedi(let unet, let trainable):
            return JeDiPolicy(unet: unet, trainable: trainable)
        }
    }
}
