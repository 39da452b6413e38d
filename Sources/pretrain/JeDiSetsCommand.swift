import ArgumentParser
import Foundation
import Imaging
import Manifest
import StageKit
import Training
import World

/// `pretrain jedi-sets` (issue 17 item 1): JeDi's same-subject sets (the S3 analogue) written and claimed through the
/// manifest like the pool: one item per set (`set-00000`, ...), each writing `sets/<key>/member-<k>.png` (kind
/// `set-member`) and `sets/<key>.json` (kind `jedi-set`: subject, size, seed, clean member 0, the members' prompts and
/// files). Set i is a pure function of (run seed, i) (`JeDiSets.spec(index:)`), so raising `count` appends sets and a
/// sharded run writes the same bytes. `pretrain jedi` with `sets = "stage"` trains on them.
struct JeDiSetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "jedi-sets",
                                                    abstract: "Write JeDi's same-subject training sets ([pretrain-jedi-sets]).",
                                                    discussion: definition.help(shardable: true))

    static let definition = StageDefinition(
        name: "pretrain-jedi-sets",
        schema: ConfigSchema(section: "pretrain-jedi-sets", keys: [
            .integer("count", default: 256, doc: "number of sets (append-only: raising it adds items)", in: 0...10_000_000,
                     affectsOutput: false),
            ConfigKey("set_sizes", .array(.integer), default: .array([2, 3, 4, 5].map(TOMLValue.integer)),
                      doc: "set sizes, one drawn per set (JeDi's appendix: 2-4; 5 is the all-references setting's set, 4 references "
                          + "and the generated image)",
                      check: setSizesCheck),
            .float("clean_member", default: 0.5,
                   doc: "probability that member 0 of a set is the subject's clean canonical render (the test-time reference) instead of a scene",
                   in: 0...1),
            .integer("resolution", default: 32, doc: "world image side (multiple of 16)", in: 16...512),
            .integer("subjects_per_category", default: 16, doc: "training subjects per category the sets draw from", in: 1...10_000),
        ]),
        sourceFingerprint: BuildSources.fingerprint,
        upstream: [])

    @OptionGroup var common: CommonOptions

    func run() throws {
        try StageMain.run(Self.definition, options: common) { r in
            let c = r.config
            let data = WorldDataConfig(resolution: c.int("resolution"), split: .train, subjectsPerCategory: c.int("subjects_per_category"))
            let count = c.int("count")
            let keys = (0..<count).map(Self.key)
            try r.runItems(keys: keys, inputs: []) { item in
                guard let index = Self.index(item.key), index < count else {
                    throw TrainingError.invalidSetting(field: "pretrain-jedi-sets.count",
                                                       reason: "item \(item.key) of this stage run lies beyond count = \(count); count is "
                                                           + "append-only, so lowering it cannot drop planned sets (raise it back, or --force)")
                }
                let spec = JeDiSets.spec(index: index, seed: UInt64(bitPattern: Int64(r.run.seed)), sizes: c.ints("set_sizes"), data: data,
                                         cleanMemberFraction: Float(c.double("clean_member")))
                let members = try JeDiSets.members(spec, resolution: data.resolution, supersample: data.supersample)
                var out: [NewArtifact] = [], files: [String] = []
                for (k, m) in members.enumerated() {
                    files.append("member-\(k).png")
                    out.append(try item.write(Data(try PNG.encode(m.image)), name: "sets/\(item.key)/member-\(k).png", kind: "set-member"))
                }
                let record = JeDiSetRecord(key: item.key, spec: spec, prompts: members.map(\.prompt), files: files)
                out.append(try item.write(try record.encoded(), name: "sets/\(item.key).json", kind: "jedi-set"))
                return out
            }
        }
    }

    static func key(_ i: Int) -> String { "set-" + String(format: "%05d", i) }
    static func index(_ key: String) -> Int? { key.hasPrefix("set-") ? Int(key.dropFirst(4)) : nil }

    /// Reads the sets of the newest finished `pretrain-jedi-sets` run: every `jedi-set` record with its member PNGs,
    /// each verified against the manifest; the error names the file.
    static func load(_ r: StageRunner, resolution: Int) throws -> (inputs: [ArtifactRecord], sets: StoredJeDiSets) {
        let stage = definition.name
        let arts = try r.upstreamOutputs(stage)
        var byPath: [String: ArtifactRecord] = [:]
        for a in arts { byPath[a.relativePath] = a }
        var sets = StoredJeDiSets(resolution: resolution)
        for a in arts.filter({ $0.kind == "jedi-set" }).sorted(by: { $0.relativePath < $1.relativePath }) {
            let record = try JeDiSetRecord.decode(try r.readVerified(a, upstream: stage), path: a.relativePath)
            let folder = (a.relativePath as NSString).deletingPathExtension
            let images = try record.files.map { name -> Image in
                let path = folder + "/" + name
                guard let m = byPath[path] else {
                    throw TrainingError.badSet(path: a.relativePath, reason: "member \(name) is not among \(stage)'s recorded outputs")
                }
                return try PNG.decode([UInt8](try r.readVerified(m, upstream: stage)), name: path)
            }
            try sets.add(record, images: images, path: a.relativePath)
        }
        return (arts, sets)
    }
}

/// The `set_sizes` check of pretrain-jedi and pretrain-jedi-sets: a non-empty list of sizes SameSubjectSet draws.
let setSizesCheck: @Sendable (TOMLValue) -> String? = { v in
    guard case let .array(a) = v, !a.isEmpty,
          a.allSatisfy({ if case let .integer(n) = $0 { return SameSubjectSet.sizes.contains(Int(n)) }; return false })
    else { return "give a non-empty list of sizes in \(SameSubjectSet.sizes.lowerBound)...\(SameSubjectSet.sizes.upperBound)" }
    return nil
}
