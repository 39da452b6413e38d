import Models
import NN
import Random
import TensorCore
@testable import Objectives

/// The xs U-Net (channels [32, 64, 64]) with the xs resampler, on 8 x 8 images, for step-level tests.
func tinyPolicy(seed: UInt64 = 5, trainResampler: Bool = false, referenceTimestep: Int? = nil,
                trainable: AdapterTrainable = .image) -> AdapterPolicy {
    let key = RNGKey(seed: seed)
    let unet = try! UNet2DConditionModel(config: .xs, key: key.fold(in: "unet"))
    let resampler = try! Resampler(config: .xs, key: key.fold(in: "resampler"))
    return AdapterPolicy(unet: unet, resampler: resampler, trainResampler: trainResampler, referenceTimestep: referenceTimestep,
                         trainable: trainable)
}

/// B pairs of 8 x 8 images with conditioning; `identicalFirstPair` makes pair 0's members equal.
func tinyBatch(pairs: Int = 2, identicalFirstPair: Bool = false, seed: UInt64 = 40) -> PreferenceBatch {
    let first = normalTensor([pairs, 3, 8, 8], seed: seed)
    var second = normalTensor([pairs, 3, 8, 8], seed: seed + 1)
    if identicalFirstPair {
        for i in 0..<(3 * 64) { second.scalars[i] = first.scalars[i] }
    }
    return PreferenceBatch(first: first, second: second,
                           text: normalTensor([pairs, 3, UNetConfig.xs.crossAttentionDim], seed: seed + 2),
                           imageFeatures: normalTensor([pairs, 5, ResamplerConfig.xs.embeddingDim], seed: seed + 3),
                           referenceQuality: uniformTensor([pairs, 1, 8, 8], seed: seed + 4),
                           generatedQuality: uniformTensor([pairs, 1, 8, 8], seed: seed + 5))
}

/// Moves the policy's adapter away from its frozen reference copy (so eps_theta != eps_ref).
func perturbAdapter(_ policy: AdapterPolicy, scale: Float = 0.05, seed: UInt64 = 77) {
    for (i, (_, p)) in policy.adapter.enumerated() {
        p.value = Kernels.add(p.value, Kernels.scale(normalTensor(p.shape, seed: seed + UInt64(i)), scale))
    }
}

/// Every parameter of the U-Net and the resampler by key, as bit patterns.
func allBits(_ policy: AdapterPolicy) -> [String: [UInt32]] {
    var out: [String: [UInt32]] = [:]
    for (k, p) in policy.unet.namedParameters() { out["unet." + k] = p.value.scalars.map(\.bitPattern) }
    for (k, p) in policy.resampler.namedParameters() { out["image_proj." + k] = p.value.scalars.map(\.bitPattern) }
    return out
}

/// The first key whose bits differ between two `allBits` snapshots (nil when identical), for short failure messages.
func firstDifference(_ a: [String: [UInt32]], _ b: [String: [UInt32]]) -> String? {
    if a.keys.sorted() != b.keys.sorted() { return "key sets differ" }
    for key in a.keys.sorted() where a[key] != b[key] {
        let i = zip(a[key]!, b[key]!).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? -1
        return "\(key) at index \(i)"
    }
    return nil
}
