import Foundation
import Testing

/// The commands outside StageKit's stage lifecycle follow the same exit-code table (README): usage 64,
/// missing input 66, bad data 65, I/O 74.
@Suite struct CommandExitTests {
    @Test func toolsExit64OnUsage() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let st = try Tool.run("st-interop", [], in: dir)
        #expect(st.status == 64 && st.output.contains("Usage: st-interop <subcommand>"), "\(st.status): \(st.output)")
        let mw = try Tool.run("manifest-worker", ["only-one-arg"], in: dir)
        #expect(mw.status == 64 && mw.output.contains("Usage: manifest-worker <path> <stage-run>"), "\(mw.status): \(mw.output)")
        let rr = try Tool.run("render-report", [], in: dir)
        #expect(rr.status == 64 && rr.output.contains("give a results.json or --fixture"), "\(rr.status): \(rr.output)")
        let pb = try Tool.run("perf-bench", ["nosuch"], in: dir)
        #expect(pb.status == 64 && !pb.output.contains("{"), "\(pb.status): \(pb.output)")
    }

    @Test func stInteropMissingFileIs66AndMalformedIs65() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = try Tool.run("st-interop", ["check", dir.appendingPathComponent("none.safetensors").path], in: dir)
        #expect(missing.status == 66 && missing.output.contains("none.safetensors"), "\(missing.status): \(missing.output)")
        let junk = dir.appendingPathComponent("junk.safetensors")
        try Data("junk".utf8).write(to: junk)
        let bad = try Tool.run("st-interop", ["check", junk.path], in: dir)
        #expect(bad.status == 65 && bad.output.contains("junk.safetensors"), "\(bad.status): \(bad.output)")
    }

    /// `sample` with a reference that is not there: missing input (66, was 65), naming the file.
    @Test func sampleMissingReferenceIs66() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ref = dir.appendingPathComponent("none.png").path
        let r = try Tool.run("sample", ["--checkpoints", repoRoot.appendingPathComponent("data/checkpoints").path,
                                        "--prompt", "a mug in the forest", "--reference", ref, "--steps", "1",
                                        "--out", dir.appendingPathComponent("out").path], in: dir)
        #expect(r.status == 66 && r.output.contains(ref), "\(r.status): \(r.output)")
        let noCheckpoints = try Tool.run("sample", ["--checkpoints", dir.appendingPathComponent("nothing").path,
                                                    "--prompt", "a mug", "--steps", "1"], in: dir)
        #expect(noCheckpoints.status == 66 && noCheckpoints.output.contains("nothing/clip.json"),
                "\(noCheckpoints.status): \(noCheckpoints.output)")
    }

    /// worldgen: an unwritable output is an I/O error (74, was 1); a bad flag stays usage (64).
    @Test func worldgenUnwritableOutputIs74() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("no-such-dir/mug.png").path
        let r = try Tool.run("worldgen", ["render", "--category", "mug", "--size", "16", "--out", out], in: dir)
        #expect(r.status == 74 && r.output.contains(" worldgen error: ") && r.output.contains(out), "\(r.status): \(r.output)")
        let u = try Tool.run("worldgen", ["render", "--category", "nosuch", "--out", out], in: dir)
        #expect(u.status == 64, "\(u.status): \(u.output)")
    }
}
