import BenchKit
import Checkpoint
import ErrorKinds
import Foundation
import Generation
import Imaging
import Manifest
import Models
import Optim
import PatchQuality
import PoolStages
import PreferenceTraining
import Pretrained
import Random
import Report
import StageKit
import Training
import Testing
import World

/// `StageExitCode.of` on the errors the libraries really throw: each kind of failure lands on its row of
/// the README's table (65 bad data, 66 missing input, 74 I/O), never on 70, which is for bugs.
@Suite struct ExitCodeMappingTests {
    private func code(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> StageExitCode? {
        do { try body() } catch { return StageExitCode.of(error) }
        Issue.record("no error thrown", sourceLocation: sourceLocation)
        return nil
    }

    @Test func kindsMapToTheirRows() {
        #expect(StageExitCode(.badData) == .dataError && StageExitCode(.missingInput) == .noInput)
        #expect(StageExitCode(.io) == .ioError && StageExitCode(.busy) == .busy && StageExitCode(.internalError) == .internalError)
        #expect(Set(ErrorKind.allCases.map { StageExitCode($0) }).count == ErrorKind.allCases.count)
    }

    /// HPatches: a short or non-numeric H_1_k or a bad PPM is bad data (65); a missing image or folder missing input (66).
    @Test func hpatchesDataErrorsAre65And66() throws {
        let root = try tempDir()
        defer { try? FileManager.default.removeItem(at: root) }
        try HPatches.write(try HPatches.makeIllumination(name: "i_t", seed: 1, size: 16), to: root.path)
        try Data("1 0 0\n0 1 0\n0 0\n".utf8).write(to: root.appendingPathComponent("i_t/H_1_3"))
        #expect(code { _ = try HPatches.readAll(root: root.path) } == .dataError)
        try Data("1 0 0\n0 x 0\n0 0 1\n".utf8).write(to: root.appendingPathComponent("i_t/H_1_3"))
        #expect(code { _ = try HPatches.readAll(root: root.path) } == .dataError)
        try FileManager.default.removeItem(at: root.appendingPathComponent("i_t/4.ppm"))
        #expect(code { _ = try HPatches.readAll(root: root.path) } == .noInput)
        try Data("P6\n2 2\n255\n".utf8).write(to: root.appendingPathComponent("i_t/4.ppm"))
        #expect(code { _ = try HPatches.readAll(root: root.path) } == .dataError)
        #expect(code { _ = try HPatches.readAll(root: root.appendingPathComponent("absent").path) } == .noInput)
    }

    /// A checkpoint directory that cannot be created (here: a file stands where it should go; a read-only
    /// folder fails the same way) is an I/O error, as dpo-train meets it when artifacts/ is not writable.
    @Test func unwritableCheckpointIs74() throws {
        let root = try tempDir()
        defer { try? FileManager.default.removeItem(at: root) }
        let blocker = root.appendingPathComponent("artifacts")
        try Data("not a directory".utf8).write(to: blocker)
        let empty = SafeTensorsFile(tensors: [:], metadata: [:])
        let state = TrainingState(step: 1, model: empty, optimizer: empty, rng: RandomStream(key: RNGKey(seed: 1)))
        #expect(code { _ = try TrainingCheckpoint.save(state, root: blocker.appendingPathComponent("checkpoints")) } == .ioError)
        #expect(code { try SafeTensors.write(empty, to: blocker.appendingPathComponent("a.safetensors")) } == .ioError)
        #expect(code { try PNG.write(Image(width: 1, height: 1, fill: [0, 0, 0]), to: blocker.path + "/a.png") } == .ioError)
        #expect(code { try AtomicWrite.write(Data(), to: blocker.appendingPathComponent("x")) } == .ioError)
    }

    /// bench: a missing dreambench_dir (or its prompts file) is missing input; an unknown model a config error.
    @Test func benchMissingFolderIs66AndBadConfigIs65() throws {
        let root = try tempDir()
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(code { _ = try DreamBenchFolder.read(root: root.appendingPathComponent("absent").path, size: 16) } == .noInput)
        #expect(code { _ = try DreamBenchFolder.read(root: root.path, size: 16) } == .noInput)
        try Data("not the format\n".utf8).write(to: root.appendingPathComponent("prompts_and_classes.txt"))
        #expect(code { _ = try DreamBenchFolder.read(root: root.path, size: 16) } == .dataError)
        #expect(StageExitCode.of(BenchError.badConfig(key: "bench.models", reason: "no dpo-train model matches `x`", hint: "h"))
                == .dataError)
    }

    /// Files: missing -> 66, malformed -> 65, for images, checkpoints, records.
    @Test func missingAndMalformedFilesAre66And65() throws {
        let root = try tempDir()
        defer { try? FileManager.default.removeItem(at: root) }
        let absent = root.appendingPathComponent("absent")
        #expect(code { _ = try PNG.read(absent.path + ".png") } == .noInput)
        #expect(code { _ = try PPM.read(absent.path + ".ppm") } == .noInput)
        #expect(code { _ = try SafeTensors.read(absent) } == .noInput)
        #expect(code { _ = try PretrainRecord.read(absent) } == .noInput)
        #expect(code { _ = try Generator.load(directory: absent) } == .noInput)
        let junk = root.appendingPathComponent("junk")
        try Data("junk".utf8).write(to: junk)
        #expect(code { _ = try PNG.read(junk.path) } == .dataError)
        #expect(code { _ = try PPM.read(junk.path) } == .dataError)
        #expect(code { _ = try SafeTensors.read(junk) } == .dataError)
        #expect(code { _ = try PretrainRecord.read(junk) } == .dataError)
        #expect(code { _ = try PoolPromptRecord.decode(Data("junk".utf8), path: junk.path) } == .dataError)
    }

    /// One case of each remaining library error type, so a type that loses its classification shows here.
    @Test func everyLibraryErrorTypeIsClassified() {
        #expect(StageExitCode.of(PatchQualityError.badPairs(path: "p", detail: "d")) == .dataError)
        #expect(StageExitCode.of(PatchQualityError.noData(what: "pool images", hint: "h")) == .noInput)
        #expect(StageExitCode.of(OptimError.sizeMismatch(path: "p", file: "f", expected: 1, found: 2)) == .dataError)
        #expect(StageExitCode.of(ReportError.cannotWrite(path: "p", reason: "r")) == .ioError)
        #expect(StageExitCode.of(GenerationError.mismatch(field: "references[0]", reason: "r")) == .dataError)
        #expect(StageExitCode.of(PretrainedError.badCheckpoint(path: "p", reason: "r")) == .dataError)
        #expect(StageExitCode.of(PretrainedError.missingCheckpoint(path: "p")) == .noInput)
        #expect(StageExitCode.of(ImagingError.shapeMismatch(what: "w", expected: 1, got: 2)) == .internalError)
        #expect(StageExitCode.of(ManifestError.sqlite(path: "p", sql: "s", code: 5, message: "busy")) == .busy)
        #expect(StageExitCode.of(ManifestError.sqlite(path: "p", sql: "s", code: 8, message: "readonly")) == .ioError)
        #expect(StageExitCode.of(ManifestError.sqlite(path: "p", sql: "s", code: 21, message: "misuse")) == .internalError)
        #expect(StageExitCode.of(ConfigError.missingSection(file: "f", section: "s")) == .dataError)
        // Model and training errors were unclassified (exit 70 for a bad config); now 65, a caller bug 70.
        #expect(StageExitCode.of(EncoderError.invalidConfig(model: "ViT", field: "width", value: "0", rule: "r")) == .dataError)
        #expect(StageExitCode.of(EncoderError.tokenOutOfRange(row: 0, position: 1, id: 900, vocabularySize: 128)) == .dataError)
        #expect(StageExitCode.of(EncoderError.raggedBatch(row: 1, length: 3, expected: 4)) == .internalError)
        #expect(StageExitCode.of(UNetError.invalidConfig(field: "blockOutChannels", reason: "r")) == .dataError)
        #expect(StageExitCode.of(TrainingError.resumeMismatch(path: "p", reason: "r")) == .dataError)
        #expect(StageExitCode.of(TrainingError.badSet(path: "p", reason: "r")) == .dataError)
        #expect(StageExitCode.of(DPOTrainError.badPairs(path: "p", detail: "d")) == .dataError)
        #expect(StageExitCode.of(DPOTrainError.missingQualityMap(key: "k", hint: "h")) == .noInput)
    }
}
