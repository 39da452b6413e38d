/// The package's version, which every executable's `--version` prints beside its code version. It lives here, in the
/// build tool, which writes it into each executable's generated `BuildSources` (Plugins/CodeFingerprint), so the number
/// is kept in one place and no stage links it: bumping it changes no stage's code version (nothing reruns).
/// Bump it by hand at a release (0.x: the formats and the command lines may still change).
let packageVersion = "0.1.0"
