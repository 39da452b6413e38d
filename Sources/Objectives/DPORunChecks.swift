/// The lists a `DPORun.plan` is made of, as `[dpo-train]` gives them: each check returns nil for a usable list,
/// else the refusal (the config names the key and its file line).
extension DPORun {
    /// `losses`: at least one, each a `LossKind` name, none twice.
    public static func checkLosses(_ names: [String]) -> String? {
        let all = LossKind.allCases.map(\.rawValue).joined(separator: ", ")
        guard !names.isEmpty else { return "must list at least one loss: \(all)" }
        if let unknown = names.first(where: { LossKind(rawValue: $0) == nil }) { return "unknown loss '\(unknown)'; use one of \(all)" }
        return Set(names).count == names.count ? nil : "lists a loss twice"
    }

    /// `seeds`: at least one, each >= 0, none twice.
    public static func checkSeeds(_ seeds: [Int]) -> String? {
        guard !seeds.isEmpty else { return "must list at least one seed" }
        if seeds.contains(where: { $0 < 0 }) { return "entries must be integers >= 0" }
        return Set(seeds).count == seeds.count ? nil : "lists a seed twice"
    }

    /// `patchdpo_vits`: at least one of `finetuned`, `original`, none twice.
    public static func checkViTs(_ names: [String]) -> String? {
        guard !names.isEmpty else { return "must list at least one of finetuned, original" }
        if !names.allSatisfy(["finetuned", "original"].contains) { return "entries must be finetuned or original" }
        return Set(names).count == names.count ? nil : "lists a ViT twice"
    }
}
