/// The fingerprint of a stage run: SHA-256 (hex) over an unambiguous encoding of
/// (stage name, stage code version, canonical config section, input artifact hashes).
/// Each field is written as `<utf8 byte count>:<bytes>\n` after the tag `patchdpo-fingerprint-v1\n`,
/// so no two different tuples encode alike. Input hashes are sorted first: the fingerprint does not
/// depend on the order in which inputs were listed. A finished stage run whose fingerprint equals
/// the new one (and whose outputs verify) can be skipped.
public enum Fingerprint {
    public static func compute(stage: String, codeVersion: String, canonicalConfig: String,
                               inputHashes: [String]) -> String {
        var h = SHA256()
        func field(_ s: String) {
            h.update("\(s.utf8.count):".utf8)
            h.update(s.utf8)
            h.update("\n".utf8)
        }
        h.update("patchdpo-fingerprint-v1\n".utf8)
        field(stage)
        field(codeVersion)
        field(canonicalConfig)
        field(String(inputHashes.count))
        for x in inputHashes.sorted() { field(x) }
        return h.finalizeHex()
    }
}
