/// The DDPM schedule as a U-Net's pretraining record stores it (MODELS.md: 1000 linear betas 1e-4 .. 0.02):
/// the schedule the base model was trained with, so every stage that samples or noises images reads the
/// same one. Decoded from files, so `problem` says what is wrong instead of `NoiseSchedule` trapping.
public struct NoiseConfig: Codable, Sendable, Equatable {
    public var betaSchedule: NoiseSchedule.BetaSchedule
    public var trainSteps: Int
    public var betaStart: Double
    public var betaEnd: Double

    public init(betaSchedule: NoiseSchedule.BetaSchedule = .linear, trainSteps: Int = 1000,
                betaStart: Double = 1e-4, betaEnd: Double = 0.02) {
        self.betaSchedule = betaSchedule; self.trainSteps = trainSteps; self.betaStart = betaStart; self.betaEnd = betaEnd
    }

    /// Why `schedule` would be invalid (nil when it is valid): NoiseSchedule's preconditions as a message.
    public var problem: String? {
        if trainSteps < 2 { return "trainSteps \(trainSteps) < 2" }
        if !(0 < betaStart && betaStart <= betaEnd && betaEnd < 1) {
            return "need 0 < betaStart <= betaEnd < 1, got betaStart \(betaStart), betaEnd \(betaEnd)"
        }
        return nil
    }

    /// The schedule (check `problem` first for values read from a file).
    public var schedule: NoiseSchedule {
        NoiseSchedule(betaSchedule, trainSteps: trainSteps, betaStart: betaStart, betaEnd: betaEnd)
    }
}
