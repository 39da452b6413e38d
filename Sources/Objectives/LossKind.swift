/// The losses `dpo-train --loss` offers (METHODS.md 5), by their command-line names.
public enum LossKind: String, CaseIterable, Sendable, Codable {
    case dm
    case patchdpo
    case patchdpoPref = "patchdpo-pref"
    /// patchdpo with the aligned quality (patch-quality's `q_aligned`, beyond the paper) as the generated image's map.
    case patchdpoAligned = "patchdpo-aligned"
    case diffusionDPO = "diffusion-dpo"
    case sft
    case dco
    case hgDPO = "hg-dpo"

    /// Parses a command-line/config name; the error lists the valid names.
    public init(name: String) throws(ObjectivesError) {
        guard let k = LossKind(rawValue: name) else {
            throw .unknownLoss(name: name, known: LossKind.allCases.map(\.rawValue))
        }
        self = k
    }

    /// Whether the loss needs the frozen reference model's prediction.
    public var needsReference: Bool {
        switch self {
        case .dm, .patchdpo, .patchdpoAligned, .sft: return false
        case .patchdpoPref, .diffusionDPO, .dco, .hgDPO: return true
        }
    }

    /// Whether the loss reads the patch-quality maps.
    public var needsQualityMaps: Bool { self == .patchdpo || self == .patchdpoPref || self == .patchdpoAligned }

    /// The tensor of a patch-quality map file that is the generated image's quality: `q_aligned` (written
    /// with `[patch-quality] aligned = true`) for patchdpo-aligned, `q_g` for the paper's losses.
    public var generatedQualityMap: String { self == .patchdpoAligned ? "q_aligned" : "q_g" }

    /// Which pairs it trains on: PatchDPO's reference/generated pairs (`patchdpo-pairs.json`) or
    /// HG-DPO's pool winner/loser pairs (`pairs.json`).
    public var usesPoolPairs: Bool { self == .diffusionDPO || self == .hgDPO || self == .sft }

    /// Which members of each pair enter the model: both (stacked [winner; loser]) or the winner only.
    public var rowsPerPair: Int {
        switch self {
        case .sft, .dco: return 1
        default: return 2
        }
    }

    /// The factor between the configured beta and the one that multiplies the loss's logit: 1/2 where
    /// the loss follows Wallace et al.'s Diffusion-DPO code (`-0.5 * beta_dpo`: diffusion-dpo, and
    /// patchdpo-pref, written in that form in METHODS.md 5), 1 for HG-DPO (its Eq. 3, beta = 2500 as
    /// written) and DCO; 0 for losses without a beta. `effectiveBeta` = beta * betaScale is recorded.
    public var betaScale: Double {
        switch self {
        case .diffusionDPO, .patchdpoPref: return 0.5
        case .hgDPO, .dco: return 1
        case .dm, .patchdpo, .patchdpoAligned, .sft: return 0
        }
    }

    /// The code-default beta of each preference loss (METHODS.md 5); 0 where there is none.
    public var defaultBeta: Double {
        switch self {
        case .diffusionDPO, .patchdpoPref: return 5000
        case .hgDPO: return 2500
        case .dco: return 1000
        case .dm, .patchdpo, .patchdpoAligned, .sft: return 0
        }
    }
}

/// Bad input to the objectives (names, data shapes read from files); each names the field and a fix.
public enum ObjectivesError: Error, CustomStringConvertible, Equatable {
    case unknownLoss(name: String, known: [String])
    case badBatch(field: String, reason: String)

    public var description: String {
        switch self {
        case let .unknownLoss(name, known):
            return "unknown loss '\(name)'; use one of: \(known.joined(separator: ", "))"
        case let .badBatch(field, reason):
            return "training batch: \(field) \(reason)"
        }
    }
}
