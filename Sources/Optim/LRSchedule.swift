import Foundation

/// Learning-rate schedules as pure functions of the step (0 = the first optimizer step).
///
/// ```
/// step < warmup:            lr = base * (step + 1) / warmup           linear warmup
/// progress = clamp((step - warmup) / max(1, total - warmup), 0, 1)
/// constant:                 lr = base
/// linear:                   lr = floor + (base - floor) * (1 - progress)
/// cosine:                   lr = floor + (base - floor) * (1 + cos(pi * progress)) / 2
/// ```
/// Deviation from HuggingFace's `get_cosine_schedule_with_warmup`: warmup uses
/// `(step + 1) / warmup`, so step 0 trains (HF gives lr 0 at step 0); and a floor is added.
public struct LRSchedule: Sendable, Codable, Equatable {
    public enum Decay: String, Sendable, Codable { case constant, linear, cosine }

    public var base: Double
    public var warmupSteps: Int
    public var totalSteps: Int
    public var floor: Double
    public var decay: Decay

    public init(base: Double, warmupSteps: Int = 0, totalSteps: Int = 0, floor: Double = 0,
                decay: Decay = .cosine) {
        precondition(warmupSteps >= 0 && totalSteps >= 0,
                     "LRSchedule: warmupSteps \(warmupSteps) and totalSteps \(totalSteps) must be >= 0")
        self.base = base
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.floor = floor
        self.decay = decay
    }

    public func lr(at step: Int) -> Double {
        if step < warmupSteps {
            return base * Double(step + 1) / Double(warmupSteps)
        }
        let span = Double(max(1, totalSteps - warmupSteps))
        let progress = min(max(Double(step - warmupSteps) / span, 0), 1)
        switch decay {
        case .constant: return base
        case .linear: return floor + (base - floor) * (1 - progress)
        case .cosine: return floor + (base - floor) * (1 + cos(Double.pi * progress)) / 2
        }
    }
}
