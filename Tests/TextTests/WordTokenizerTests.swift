import Foundation
import Testing
@testable import Text

@Suite struct WordTokenizerTests {
    let tok = WordTokenizer(phrases: ["robot toy", "mug", "city street", "a photo of a", "in the", "on"], maxLength: 8)

    @Test func idsAreSortedAndIndependentOfInputOrder() {
        let other = WordTokenizer(phrases: ["on", "in the", "a photo of a", "city street", "mug", "robot toy"], maxLength: 8)
        #expect(tok == other)
        #expect(Array(tok.words.prefix(4)) == WordTokenizer.specials)
        #expect(Array(tok.words.dropFirst(4)) == tok.words.dropFirst(4).sorted())
    }

    @Test func encodeFramesPadsAndMapsUnknown() {
        let ids = tok.encode("A Robot-toy in the city, street!")
        #expect(ids.count == 8)
        #expect(ids.first == WordTokenizer.begin)
        #expect(tok.decode(ids) == "a robot toy in the city")  // cut to keep <eos>
        #expect(ids[7] == WordTokenizer.end)
        let short = tok.encode("mug on zebra")
        #expect(short[3] == WordTokenizer.unknown)
        #expect(short[4] == WordTokenizer.end && short[5...].allSatisfy { $0 == WordTokenizer.pad })
        #expect(tok.endIndex(short) == 4)
        #expect(tok.unknownWords(in: "mug on zebra") == ["zebra"])
    }

    @Test func readsVocabularyFilesAndNamesBadPaths() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: TokenizerError.emptyVocabulary(path: dir.path)) {
            try WordTokenizer(vocabularyDirectory: dir)
        }
        try "# objects\nmug\nrobot toy\n".write(to: dir.appendingPathComponent("objects.txt"), atomically: true, encoding: .utf8)
        let t = try WordTokenizer(vocabularyDirectory: dir, extra: ["a"])
        #expect(t.words.dropFirst(4) == ["a", "mug", "robot", "toy"])
        #expect(throws: TokenizerError.self) {
            try WordTokenizer(vocabularyDirectory: dir.appendingPathComponent("missing"))
        }
    }
}
