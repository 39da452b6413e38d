import Checkpoint
import Diffusion
import Models
import TensorCore

/// What every run of a multi-run preference training starts from: the frozen U-Net and resampler its policy
/// wraps, the adapter it loads as both the trained and the reference weights, the noise schedule, and the null
/// conditions condition dropout substitutes (the empty prompt's text states `[1, Lt, D]`, the zero image's
/// encoder tokens `[1, N, E]`).
public struct PreferenceBase {
    public let unet: UNet2DConditionModel
    public let resampler: Resampler
    public let adapter: SafeTensorsFile
    /// The adapter's file, as errors name it.
    public let adapterPath: String
    public let schedule: NoiseSchedule
    public let nullText: Tensor
    public let nullImage: Tensor

    public init(unet: UNet2DConditionModel, resampler: Resampler, adapter: SafeTensorsFile, adapterPath: String,
                schedule: NoiseSchedule, nullText: Tensor, nullImage: Tensor) {
        self.unet = unet; self.resampler = resampler; self.adapter = adapter; self.adapterPath = adapterPath
        self.schedule = schedule; self.nullText = nullText; self.nullImage = nullImage
    }

    /// The base of `models`: pretrain-adapter's adapter on the pretrained U-Net, the null conditions of its encoders.
    public init(_ models: PreferenceModels) {
        self.init(unet: models.unet, resampler: models.resampler, adapter: models.adapter, adapterPath: models.adapterPath,
                  schedule: models.schedule, nullText: models.nullText, nullImage: models.nullImage)
    }
}
