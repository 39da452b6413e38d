import ArgumentParser
import Foundation
import Imaging
import StageKit
import World

struct HPatchesCommand: WorldGenSubcommand {
    static let configuration = CommandConfiguration(commandName: "hpatches",
        abstract: "Write viewpoint (v_*) and illumination (i_*) sequences in the HPatches layout.")
    @Option(help: "Output folder (sequences are written directly under it).") var out: String
    @Option(help: "Number of v_/i_ sequence pairs.") var count: Int = 4
    @Option(help: "Image size (multiple of 16).") var size: Int = 128
    @Option(help: "Seed.") var seed: UInt64 = 0
    func validate() throws {
        guard size > 0, size % 16 == 0 else { throw ValidationError("--size must be a positive multiple of 16") }
        guard count > 0 else { throw ValidationError("--count must be positive") }
    }
    func work() throws {
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let seqs = try HPatches.makeSet(count: count, seed: seed, size: size)
        for s in seqs { try HPatches.write(s, to: out) }
        print("wrote \(seqs.count) sequences to \(out)")
    }
}

struct SplitsCommand: WorldGenSubcommand {
    static let configuration = CommandConfiguration(commandName: "splits",
        abstract: "Write the train/validation/test listing (category,instance,subject_id,split).")
    @Option(help: "Output CSV.") var out: String = "data/vocab/splits.csv"
    @Option(help: "Instances per category.") var instances: Int = 100
    func work() throws {
        try AtomicFile.write(Array(Split.listingCSV(instances: instances).utf8), to: out)
        print("wrote \(out)")
    }
}

struct DreamBenchCommand: WorldGenSubcommand {
    static let configuration = CommandConfiguration(commandName: "dreambench",
        abstract: "Write test-split world subjects in the DreamBench layout (dataset/<subject>/NN.png).")
    @Option(help: "Output folder.") var out: String
    @Option(help: "Subjects per category.") var perCategory: Int = 2
    @Option(help: "Images per subject.") var images: Int = 4
    @Option(help: "Image size (multiple of 16).") var size: Int = 64
    func validate() throws {
        guard size > 0, size % 16 == 0 else { throw ValidationError("--size must be a positive multiple of 16") }
    }
    func work() throws {
        let subjects = ObjectCategory.allCases.flatMap { Split.test.subjects(of: $0, count: perCategory) }
        try DreamBench.write(subjects: subjects, root: out, images: images, size: size)
        print("wrote \(subjects.count) subjects to \(out)/dataset")
    }
}

struct RenderCommand: WorldGenSubcommand {
    static let configuration = CommandConfiguration(commandName: "render",
        abstract: "Render one subject to PNG (image, and optionally its mask and part map).")
    @Option(help: "Category (e.g. mug, \"robot toy\").") var category: String
    @Option(help: "Instance seed.") var instance: UInt64 = 0
    @Option(help: "Background (clean, forest, ...).") var background: String = "clean"
    @Option(help: "Pose seed; omit for the canonical pose.") var poseSeed: UInt64?
    @Option(help: "Size (multiple of 16).") var size: Int = 64
    @Option(help: "Output PNG.") var out: String
    func work() throws {
        guard let c = ObjectCategory(rawValue: category) else {
            throw ValidationError("unknown category '\(category)'; one of: \(ObjectCategory.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let b = Background(rawValue: background) else {
            throw ValidationError("unknown background '\(background)'; one of: \(Background.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let s = Subject(category: c, instance: instance)
        let pose = poseSeed.map { Pose.random(seed: $0) } ?? .canonical
        let r = try Renderer.render(RenderRequest(subject: s, scene: Scene(background: b), pose: pose, size: size))
        try PNG.write(r.image, to: out)
        print("\(out): \(Prompts.comprehensive(s, b))")
    }
}
