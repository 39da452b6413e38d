import Foundation
import Testing
@testable import Manifest

@Suite struct SHA256Tests {
    // NIST FIPS 180-4 examples (CSRC "SHA256.pdf", "SHA2_Additional.pdf").
    @Test func emptyString() {
        #expect(SHA256.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func abc() {
        #expect(SHA256.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func message448Bits() {
        #expect(SHA256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func oneMillionA() {
        // Fed in uneven chunks to exercise the streaming buffer as well.
        var h = SHA256()
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 9_999)
        var fed = 0
        while fed < 1_000_000 {
            let n = min(chunk.count, 1_000_000 - fed)
            h.update(chunk[0..<n])
            fed += n
        }
        #expect(h.finalizeHex() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func chunkingDoesNotChangeDigest() {
        let bytes = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 37) }
        let whole = SHA256.hex(bytes)
        for split in [0, 1, 55, 56, 63, 64, 65, 128, 299] {
            var h = SHA256()
            h.update(bytes[0..<split])
            h.update(bytes[split...])
            #expect(h.finalizeHex() == whole, "split at \(split)")
        }
    }

    @Test func fileHashMatchesInMemoryHash() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let data = Data((0..<(3 << 20) + 17).map { UInt8(truncatingIfNeeded: $0 ^ ($0 >> 8)) })
        let url = dir.url.appendingPathComponent("blob.bin")
        try AtomicWrite.write(data, to: url)
        #expect(try SHA256.hexOfFile(url) == SHA256.hex(data))
        #expect(throws: ManifestError.self) { try SHA256.hexOfFile(dir.url.appendingPathComponent("absent")) }
    }
}

@Suite struct FingerprintTests {
    let base = Fingerprint.compute(stage: "patch-quality", codeVersion: "v1", canonicalConfig: "k=1",
                                   inputHashes: ["aa", "bb"])

    @Test func deterministicAndHex() {
        #expect(base == Fingerprint.compute(stage: "patch-quality", codeVersion: "v1", canonicalConfig: "k=1",
                                            inputHashes: ["bb", "aa"]))
        #expect(base.count == 64 && base.allSatisfy { "0123456789abcdef".contains($0) })
    }

    @Test func everyFieldMatters() {
        let variants = [
            Fingerprint.compute(stage: "patch-qualit", codeVersion: "v1", canonicalConfig: "k=1", inputHashes: ["aa", "bb"]),
            Fingerprint.compute(stage: "patch-quality", codeVersion: "v2", canonicalConfig: "k=1", inputHashes: ["aa", "bb"]),
            Fingerprint.compute(stage: "patch-quality", codeVersion: "v1", canonicalConfig: "k=2", inputHashes: ["aa", "bb"]),
            Fingerprint.compute(stage: "patch-quality", codeVersion: "v1", canonicalConfig: "k=1", inputHashes: ["aa", "bc"]),
            Fingerprint.compute(stage: "patch-quality", codeVersion: "v1", canonicalConfig: "k=1", inputHashes: ["aa"]),
            // Moving bytes between fields must not collide.
            Fingerprint.compute(stage: "patch-qualityv", codeVersion: "1", canonicalConfig: "k=1", inputHashes: ["aa", "bb"]),
        ]
        #expect(Set(variants + [base]).count == variants.count + 1)
    }

    @Test func multiLineFieldsCannotImpersonateOtherFields() {
        // Config sections are multi-line: a newline inside a field must not shift the field boundaries.
        let a = Fingerprint.compute(stage: "s", codeVersion: "v1", canonicalConfig: "k=1\n1", inputHashes: ["aa"])
        let b = Fingerprint.compute(stage: "s", codeVersion: "v1", canonicalConfig: "k=1", inputHashes: ["aa", "1"])
        let c = Fingerprint.compute(stage: "s\nv1", codeVersion: "k=1", canonicalConfig: "", inputHashes: [])
        let d = Fingerprint.compute(stage: "s", codeVersion: "v1\nk=1", canonicalConfig: "", inputHashes: [])
        #expect(a != b)
        #expect(c != d)
    }
}

/// `SourceFingerprint` (the build plugin's code version): independent of the order files are listed in, changed by a
/// byte of content, a renamed file, an added file, and unambiguous about where one file ends.
@Test func sourceFingerprintSeesContentPathsAndFilesNotOrder() {
    func f(_ p: String, _ s: String) -> SourceFingerprint.File { .init(relativePath: p, contents: Array(s.utf8)) }
    let base = SourceFingerprint.compute([f("Sources/A/a.swift", "let a = 1\n"), f("Sources/B/b.swift", "let b = 2\n")])
    #expect(base.count == 64)
    #expect(base == SourceFingerprint.compute([f("Sources/B/b.swift", "let b = 2\n"), f("Sources/A/a.swift", "let a = 1\n")]))
    let variants = [
        SourceFingerprint.compute([f("Sources/A/a.swift", "let a = 1 \n"), f("Sources/B/b.swift", "let b = 2\n")]),
        SourceFingerprint.compute([f("Sources/A/c.swift", "let a = 1\n"), f("Sources/B/b.swift", "let b = 2\n")]),
        SourceFingerprint.compute([f("Sources/A/a.swift", "let a = 1\n"), f("Sources/B/b.swift", "let b = 2\n"), f("x", "")]),
        SourceFingerprint.compute([f("Sources/A/a.swift", "let a = 1\n")]),
        // Bytes moved across the file boundary.
        SourceFingerprint.compute([f("Sources/A/a.swift", "let a = 1\nlet b"), f("Sources/B/b.swift", " = 2\n")]),
    ]
    #expect(Set(variants + [base]).count == variants.count + 1)
    #expect(SourceFingerprint.relative("/w/p/Sources/A/a.swift", to: "/w/p") == "Sources/A/a.swift")
    #expect(SourceFingerprint.relative("/w/p/Sources/A/a.swift", to: "/w/p/") == "Sources/A/a.swift")
    #expect(SourceFingerprint.relative("/w/pq/a.swift", to: "/w/p") == nil)
}
