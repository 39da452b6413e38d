import Foundation

/// A word-level tokenizer over a closed vocabulary (MODELS.md, text encoder): the world's prompts are
/// built from `data/vocab/*.txt` and a few template words, so every word a prompt can hold has an id.
///
/// Ids: 0 `<pad>`, 1 `<unk>`, 2 `<bos>`, 3 `<eos>`, then the words in sorted order (so the ids do not
/// depend on the order files were read). A sequence is `<bos> w1 ... wn <eos>` padded with `<pad>` to
/// `maxLength`; longer prompts are cut to keep `<eos>` last. Text is lower-cased and split on anything that
/// is not a letter, digit or apostrophe.
public struct WordTokenizer: Sendable, Equatable {
    public static let pad: Int32 = 0, unknown: Int32 = 1, begin: Int32 = 2, end: Int32 = 3
    public static let specials = ["<pad>", "<unk>", "<bos>", "<eos>"]

    public let maxLength: Int
    /// Id to word; the first four are the special tokens.
    public let words: [String]
    let ids: [String: Int32]

    /// A tokenizer whose vocabulary is every word occurring in `phrases` (each may hold several words).
    public init<S: Sequence>(phrases: S, maxLength: Int = 12) where S.Element == String {
        precondition(maxLength >= 3, "WordTokenizer: maxLength \(maxLength) leaves no room for a word")
        let vocab = Set(phrases.flatMap(WordTokenizer.split)).subtracting(WordTokenizer.specials)
        words = WordTokenizer.specials + vocab.sorted()
        ids = Dictionary(uniqueKeysWithValues: words.enumerated().map { ($0.element, Int32($0.offset)) })
        self.maxLength = maxLength
    }

    /// Reads every `*.txt` under `directory` (one phrase per line, `#` comments) plus `extra` phrases.
    public init(vocabularyDirectory directory: URL, extra: [String] = [], maxLength: Int = 12) throws {
        let files: [URL]
        do {
            files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
                .filter { $0.pathExtension == "txt" }.sorted { $0.path < $1.path }
        } catch {
            throw TokenizerError.unreadableVocabulary(path: directory.path, reason: "\(error)")
        }
        guard !files.isEmpty else { throw TokenizerError.emptyVocabulary(path: directory.path) }
        var phrases = extra
        for f in files {
            guard let text = try? String(contentsOf: f, encoding: .utf8) else {
                throw TokenizerError.unreadableVocabulary(path: f.path, reason: "not UTF-8 text")
            }
            phrases += text.split(whereSeparator: \.isNewline).map(String.init)
                .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("#") }
        }
        self.init(phrases: phrases, maxLength: maxLength)
    }

    public var vocabularySize: Int { words.count }

    /// Lower-cased words of `text`.
    public static func split(_ text: String) -> [String] {
        text.lowercased().split { !($0.isLetter || $0.isNumber || $0 == "'") }.map(String.init)
    }

    /// `<bos> words <eos> <pad>...`, exactly `maxLength` ids; unknown words map to `<unk>`.
    public func encode(_ text: String) -> [Int32] {
        let body = WordTokenizer.split(text).prefix(maxLength - 2).map { ids[$0] ?? WordTokenizer.unknown }
        let seq = [WordTokenizer.begin] + body + [WordTokenizer.end]
        return seq + [Int32](repeating: WordTokenizer.pad, count: maxLength - seq.count)
    }

    /// Index of `<eos>` in an encoded sequence (the pooled position of the text encoder).
    public func endIndex(_ ids: [Int32]) -> Int { ids.firstIndex(of: WordTokenizer.end) ?? ids.count - 1 }

    /// Words of an encoded sequence, specials dropped (for logs and captions).
    public func decode(_ seq: [Int32]) -> String {
        seq.filter { $0 > WordTokenizer.end }.map { words[Int($0)] }.joined(separator: " ")
    }

    /// Words of `text` that are not in the vocabulary (a prompt list can be checked before training).
    public func unknownWords(in text: String) -> [String] {
        WordTokenizer.split(text).filter { ids[$0] == nil }
    }
}

/// Why a vocabulary could not be read.
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    case unreadableVocabulary(path: String, reason: String)
    case emptyVocabulary(path: String)

    public var description: String {
        switch self {
        case let .unreadableVocabulary(path, reason):
            "cannot read vocabulary \(path): \(reason); check the path (default data/vocab)"
        case let .emptyVocabulary(path):
            "no *.txt vocabulary files in \(path); expected data/vocab/objects.txt and backgrounds.txt"
        }
    }
}
