import Foundation

/// Which image files the bench wrote for every (model, subject): read from its item records
/// (`artifacts/bench/items/<model slug>/<subject>.json`, BenchKit's `BenchItemRecord`), decoded leniently
/// here (only the fields the report shows), since Report cannot import BenchKit. The drill-down table and
/// the side-by-side samples embed these files; `BenchResults` stays the numbers only.
public struct SampleIndex: Sendable, Equatable {
    /// One (model, subject) item: its references, full prompts and images (paths relative to the run directory).
    public struct Entry: Codable, Sendable, Equatable {
        public var model: String
        public var subject: String
        /// DCO reward-guidance weight of a frontier item (nil for the DreamBench items, the only ones shown).
        public var wRG: Double?
        /// References the generator saw: nil or 1 = reference 0 only (both settings share the item); more = the
        /// `all-references` setting's own item.
        public var conditionedOn: Int?
        public var references: [String]
        public var prompts: [String]
        public var images: [Sample]
        public init(model: String, subject: String, wRG: Double? = nil, conditionedOn: Int? = nil, references: [String],
                    prompts: [String], images: [Sample]) {
            self.model = model; self.subject = subject; self.wRG = wRG; self.conditionedOn = conditionedOn
            self.references = references; self.prompts = prompts; self.images = images
        }
    }

    /// One generated image: prompt index, sample index k, its seed and its judge scores (DINO and CLIP-I per
    /// reference, CLIP-T for its prompt).
    public struct Sample: Codable, Sendable, Equatable {
        public var file: String
        public var prompt: Int
        public var k: Int
        public var seed: UInt64?
        public var dino: [Double]?
        public var clipT: Double?
        public init(file: String, prompt: Int, k: Int, seed: UInt64? = nil, dino: [Double]? = nil, clipT: Double? = nil) {
            self.file = file; self.prompt = prompt; self.k = k; self.seed = seed; self.dino = dino; self.clipT = clipT
        }
        /// Mean DINO over the references (nil when not recorded).
        public var meanDINO: Double? { dino.flatMap { $0.isEmpty ? nil : $0.reduce(0, +) / Double($0.count) } }
    }

    public var entries: [Entry]
    public init(entries: [Entry] = []) { self.entries = entries.filter { $0.wRG == nil } }

    /// Reads every `<dir>/*/*.json` item record (sorted by path); a file that is not an item record is skipped,
    /// so a missing or partial bench leaves the drill-down with fewer samples, never without the report.
    public static func load(itemsDirectory dir: URL) -> SampleIndex {
        let fm = FileManager.default
        guard let models = try? fm.contentsOfDirectory(atPath: dir.path) else { return SampleIndex() }
        var entries: [Entry] = []
        for m in models.sorted() {
            let sub = dir.appendingPathComponent(m)
            guard let files = try? fm.contentsOfDirectory(atPath: sub.path) else { continue }
            for f in files.sorted() where f.hasSuffix(".json") {
                guard let data = fm.contents(atPath: sub.appendingPathComponent(f).path),
                      let e = try? JSONDecoder().decode(Entry.self, from: data) else { continue }
                entries.append(e)
            }
        }
        return SampleIndex(entries: entries)
    }

    public var isEmpty: Bool { entries.isEmpty }

    /// The item of `model` and `subject` for a reference setting: the `all-references` setting prefers an item
    /// conditioned on every reference, the other one conditioned on reference 0; either falls back to the other.
    public func entry(model: String, subject: String, setting: String) -> Entry? {
        let both = entries.filter { $0.model == model && $0.subject == subject }
        let wantsAll = setting == "all-references"
        return both.first { (($0.conditionedOn ?? 1) > 1) == wantsAll } ?? both.first
    }
}
