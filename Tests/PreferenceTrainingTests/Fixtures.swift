import Checkpoint
import Diffusion
import Foundation
import Manifest
import Models
import Objectives
import Random
import TensorCore
@testable import PreferenceTraining

/// Tiny models and data for multi-run training: a U-Net of widths [8, 16] with a one-layer resampler on
/// 8 x 8 images, random pairs, and an in-memory ledger.
enum Tiny {
    static let unet = UNetConfig(blockOutChannels: [8, 16], layersPerBlock: 1, crossAttentionDim: 16, heads: 2)
    static let resampler = ResamplerConfig(embeddingDim: 16, dim: 16, depth: 1, heads: 2, dimHead: 8, numQueries: 4, outputDim: 16)

    /// A fresh process's models: the same pretrained weights every time (seeded), the adapter they carry.
    /// `trainable`: the U-Net weights that train beside the image branch (their pretrained values join the adapter).
    static func base(trainable: AdapterTrainable = .image) throws -> PreferenceBase {
        let key = RNGKey(seed: 5)
        let u = try UNet2DConditionModel(config: unet, key: key.fold(in: "unet"))
        let r = try Resampler(config: resampler, key: key.fold(in: "resampler"))
        let adapter = AdapterPolicy(unet: u, resampler: r, trainResampler: false, trainable: trainable).adapterStateDict()
        return PreferenceBase(unet: u, resampler: r, adapter: adapter, adapterPath: "adapter.safetensors",
                              schedule: NoiseSchedule(trainSteps: 100, betaStart: 1e-3, betaEnd: 0.05),
                              nullText: tensor([1, 3, 16], seed: 1), nullImage: tensor([1, 5, 16], seed: 2), trainable: trainable)
    }

    /// A fresh process's JeDi base: the tiny U-Net widened to JeDi's input (seeded), its coupled self-attention trained.
    static func jediBase() throws -> PreferenceBase {
        let u = try JeDiUNet.fromBase(try UNet2DConditionModel(config: unet, key: RNGKey(seed: 5).fold(in: "unet")))
        return PreferenceBase(jedi: u, trainable: .attention, path: "jedi.safetensors",
                              schedule: NoiseSchedule(trainSteps: 100, betaStart: 1e-3, betaEnd: 0.05),
                              nullText: tensor([1, 3, 16], seed: 1), nullImage: Tensor(zeros: [1, 1, 1]))
    }

    /// `n` JeDi pairs: as `pairs`, each with its reference and the reference's caption states, no image tokens.
    static func jediPairs(_ n: Int = 3) -> [EncodedPair] {
        pairs(n).enumerated().map { i, p in
            var q = p
            q.image = Tensor(zeros: [1, 1, 1])
            q.reference = tensor([1, 3, 8, 8], seed: 200 + UInt64(i))
            q.referenceText = tensor([1, 3, 16], seed: 300 + UInt64(i))
            return q
        }
    }

    /// `n` pairs of 8 x 8 images with text, reference tokens and quality maps in [0, 1); `coupled`: each with its
    /// reference image and a foreground (its left half) for reference attention.
    static func pairs(_ n: Int = 3, coupled: Bool = false) -> [EncodedPair] {
        (0..<n).map { i in
            let s = UInt64(100 + 10 * i)
            return EncodedPair(key: "p\(i)", first: tensor([1, 3, 8, 8], seed: s), second: tensor([1, 3, 8, 8], seed: s + 1),
                               text: tensor([1, 3, 16], seed: s + 2), image: tensor([1, 5, 16], seed: s + 3),
                               qr: tensor([1, 1, 8, 8], seed: s + 4, uniform: true), qg: tensor([1, 1, 8, 8], seed: s + 5, uniform: true),
                               reference: coupled ? tensor([1, 3, 8, 8], seed: s + 6) : nil,
                               foreground: coupled ? Tensor(shape: [1, 8, 8], scalars: (0..<64).map { $0 % 8 < 4 ? 1 : 0 }) : nil)
        }
    }

    /// The frozen models a run reads, as dpo-train names them for the inputs digest.
    static let models: [(name: String, sha256: String)] = [("artifacts/pretrain-unet/unet.safetensors", String(repeating: "a", count: 64))]

    static func tensor(_ shape: [Int], seed: UInt64, uniform: Bool = false) -> Tensor {
        var rng = RandomStream(seed: seed)
        return Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in uniform ? rng.nextFloat() : rng.nextNormal() })
    }

    static func settings(steps: Int = 3, checkpointEvery: Int = 2) -> PreferenceSettings {
        PreferenceSettings(steps: steps, batch: 2, learningRate: 1e-3, weightDecay: 0.01, beta: nil, lambdaStat: 10000,
                           sampledStatStep: true, conditionDropout: ConditionDropout(text: 0.2, image: 0.2, both: 0.2),
                           trainResampler: false, maxGradNorm: 1, ipScale: 1, checkpointEvery: checkpointEvery, logEvery: 1, seed: 7,
                           codeVersion: "test-1", config: "steps = \(steps)\n")
    }
}

/// What a run's item keeps across processes: recorded checkpoints and metrics (each (name, step) once).
final class LedgerStore {
    var checkpoints: [Int: [String]] = [:]
    var metrics: [String: Double] = [:]
    var recordedTwice: [String] = []
}

/// The steps one process has taken, over all the runs it trains; it stops (throws `MemoryLedger.Stop`) after `stopAfter`.
final class StepCounter {
    let stopAfter: Int?
    var steps = 0
    init(stopAfter: Int?) { self.stopAfter = stopAfter }
}

/// One process's ledger of one run over a `LedgerStore`. `journal`: metrics stay with the process until the run finishes
/// (as in a journal shard, which journals them with the item), so a stopped process loses them and the resumed run must
/// restore them from its checkpoint; otherwise each is stored at once (as in the manifest).
final class MemoryLedger: PreferenceLedger {
    struct Stop: Error {}
    struct Diverged: Error { let step: Int; let what: String }
    let store: LedgerStore
    let counter: StepCounter
    let journal: Bool
    var pending: [MetricHistory.Point] = []
    var written: [String: Data] = [:]
    var lines: [String] = []

    init(_ store: LedgerStore, counter: StepCounter, journal: Bool = false) {
        self.store = store; self.counter = counter; self.journal = journal
    }

    func latestCheckpoint() throws -> Int? { store.checkpoints.keys.max() }
    func recordCheckpoint(step: Int, files: [URL]) throws { store.checkpoints[step] = files.map(\.lastPathComponent) }
    func metric(_ name: String, step: Int, _ value: Double) throws {
        if journal { pending.append((name, step, value)) } else { store(name, step, value) }
    }
    func restoreMetrics(_ metrics: [MetricHistory.Point]) { if journal { pending += metrics } }
    func checkInterrupt() throws {
        counter.steps += 1
        if counter.steps == counter.stopAfter { throw Stop() }
    }
    func info(_ line: String) { lines.append(line) }
    func diverged(step: Int, what: String) -> any Error { Diverged(step: step, what: what) }
    func write(_ data: Data, name: String, kind: String) throws -> NewArtifact {
        // The outputs are written when the run finishes: a journal commits its metrics with them.
        for p in pending { store(p.name, p.step, p.value) }
        pending = []
        written[name] = data
        return NewArtifact(kind: kind, relativePath: "artifacts/dpo-train/" + name, sha256: SHA256.hex(data), bytes: Int64(data.count))
    }

    private func store(_ name: String, _ step: Int, _ value: Double) {
        let key = "\(name)@\(step)"
        if store.metrics[key] != nil { store.recordedTwice.append(key) }
        store.metrics[key] = value
    }
}
