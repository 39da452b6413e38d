import Foundation
import Testing

/// No two paths of the repository may differ only by case: on macOS's default file system (APFS,
/// case-insensitive) they are one directory or file, and the checkout or the build breaks. It happened:
/// the library `Sources/Bench` and the stage executable `Sources/bench` (now `Sources/BenchKit`).
@Suite struct PathCaseTests {
    @Test func noTwoPathsOfTheRepositoryDifferOnlyByCase() throws {
        let paths = try PathCase.relativePaths(under: repoRoot)
        #expect(paths.contains("Package.swift"), "walked \(repoRoot.path) but found no Package.swift")
        let clashes = PathCase.collisions(paths)
        #expect(clashes.isEmpty, """
            paths that differ only by case (one path on a case-insensitive file system such as macOS's); rename one of each:
            \(clashes.map { "  " + $0.joined(separator: " ~ ") }.joined(separator: "\n"))
            """)
    }

    /// The check finds the clash this test was written for, in a fixture tree (Linux file systems hold both).
    @Test func theCheckNamesBothPathsOfAClash() throws {
        let root = try tempDir()
        defer { try? FileManager.default.removeItem(at: root) }
        for file in ["Sources/Bench/Plan.swift", "Sources/bench/main.swift", "Sources/Report/Table.swift", ".build/x/Y"] {
            let url = root.appendingPathComponent(file)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data().write(to: url)
        }
        guard !FileManager.default.fileExists(atPath: root.appendingPathComponent("Sources/bench/Plan.swift").path) else {
            return    // a case-insensitive file system merged the two folders: nothing to detect
        }
        let clashes = PathCase.collisions(try PathCase.relativePaths(under: root))
        #expect(clashes == [["Sources/Bench", "Sources/bench"]])
    }
}

/// Paths under a root and the groups of them that are equal ignoring case.
enum PathCase {
    /// Directories never walked: Git's store and what the build and the tools make (ignored by .gitignore).
    static func skipped(_ name: String) -> Bool {
        name == ".git" || name == "runs" || name == "__pycache__" || name.hasPrefix(".build") || name.hasPrefix(".venv")
    }

    /// Every file and directory under `root`, relative to it, `/`-separated; skipped directories left out.
    static func relativePaths(under root: URL) throws -> [String] {
        var out: [String] = []
        var pending = [""]
        while let dir = pending.popLast() {
            let names = try FileManager.default.contentsOfDirectory(atPath: root.path + (dir.isEmpty ? "" : "/" + dir))
            for name in names where !skipped(name) {
                let rel = dir.isEmpty ? name : dir + "/" + name
                out.append(rel)
                let type = try FileManager.default.attributesOfItem(atPath: root.path + "/" + rel)[.type] as? FileAttributeType
                if type == .typeDirectory { pending.append(rel) }    // a symbolic link is listed, not followed
            }
        }
        return out
    }

    /// Groups (sorted, each of two or more paths) that are the same path ignoring case. Inside a clashing
    /// directory only the directory is named, since its files clash as a consequence.
    static func collisions(_ paths: [String]) -> [[String]] {
        let groups = Dictionary(grouping: paths) { $0.lowercased() }.values.filter { $0.count > 1 }.map { $0.sorted() }
        let named = Set(groups.map { $0[0].lowercased() })
        return groups.filter { g in
            let parts = g[0].lowercased().split(separator: "/")
            return !(1..<max(1, parts.count)).contains { named.contains(parts[0..<$0].joined(separator: "/")) }
        }.sorted { $0[0] < $1[0] }
    }
}
