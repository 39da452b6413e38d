/// The command line that runs a stage, for hints: stages are subcommands of a few executables (`pretrain-unet` is
/// `pretrain unet`, the test doubles `fake-produce` ... are `fake-stage produce` ...), the rest executables of their own.
public enum StageCommand {
    public static func of(_ stage: String) -> String {
        for (prefix, executable) in [("pretrain-", "pretrain"), ("fake-", "fake-stage")] where stage.hasPrefix(prefix) {
            return "\(executable) \(stage.dropFirst(prefix.count))"
        }
        return stage
    }

    /// "`a`, `b` and `c`" for hints.
    public static func list(_ stages: [String]) -> String {
        let quoted = stages.map { "`\(of($0))`" }
        return quoted.count <= 1 ? quoted.joined() : quoted.dropLast().joined(separator: ", ") + " and " + quoted.last!
    }
}
