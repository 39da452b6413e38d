/// The sections a pipeline config (`pipelines/*.toml`) may hold: `[run]`, every stage's section and the
/// `fake-stage` test doubles'. Anything else is a typo no stage would read (`[generate-pol]`), so
/// `StageRunner` refuses the file instead of running with defaults.
///
/// Add a new stage's section here (the test `everyPipelineConfigLoads` reads pipelines/*.toml through
/// `check`, so a pipeline naming a section missing here fails it).
public enum PipelineSections {
    public static let known: [String] = [
        "run",
        "fake-stage.produce", "fake-stage.consume", "fake-stage.tally",
        "pretrain-vit", "pretrain-clip", "pretrain-unet", "pretrain-adapter", "pretrain-judge", "pretrain-vae",
        "pretrain-segmenter", "pretrain-jedi", "pretrain-jedi-sets",
        "generate-pool", "score-and-pair", "ssl-finetune-vit", "patch-quality", "dpo-train", "bench",
    ]

    /// Throws `ConfigError.unknownSection` (with the closest known name) for a table outside `known` and
    /// `alsoKnown` (a stage's own section, e.g. a test stage's), and `.keyOutsideSection` for keys written
    /// before the first header. Tables are checked in file order, so the first mistake is reported.
    public static func check(_ document: TOMLDocument, alsoKnown: [String] = []) throws {
        let allowed = known + alsoKnown.filter { !known.contains($0) }
        if let root = document.tables[""], let first = root.entries.min(by: { $0.value.line < $1.value.line }) {
            throw ConfigError.keyOutsideSection(file: document.file, line: first.value.line, key: first.key)
        }
        for (name, table) in document.tables.sorted(by: { $0.value.line < $1.value.line }) where !name.isEmpty {
            if !allowed.contains(name) {
                throw ConfigError.unknownSection(file: document.file, line: table.line, section: name, known: allowed)
            }
        }
    }
}
