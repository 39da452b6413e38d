import Foundation
import Text

/// The tokenizer every model of this project is trained with: a closed word-level vocabulary built
/// from the world's own enums and prompt templates (object nouns, background phrases, colours, pattern
/// adjectives, decal names, template words), so it is a pure function of the code, needs no file, and
/// every prompt `World.Prompts` can produce encodes without `<unk>`.
///
/// Ids are `WordTokenizer`'s: 4 specials, then the sorted words (about 75 here, so a text encoder with
/// `vocabSize >= 128` fits). The word list is also written into each pretraining record, so a consumer
/// can check its tokenizer matches the one a checkpoint was trained with (`WorldText.tokenizer(for:path:maxLength:)`,
/// in Pretrained beside `PretrainRecord`).
public enum WorldText {
    /// Every phrase the world's prompts are made of.
    public static var phrases: [String] {
        let templates = Prompts.templates.map {
            $0.replacingOccurrences(of: "{object}", with: " ").replacingOccurrences(of: "{where}", with: " ")
        }
        return templates + Background.allCases.map(\.phrase) + ObjectCategory.allCases.map(\.noun)
            + ColorName.allCases.map(\.rawValue) + PatternKind.allCases.map(\.adjective)
            + DecalKind.allCases.map(\.rawValue) + ["a with logo"]
    }

    /// The project tokenizer at `maxLength` ids per prompt (MODELS.md: 12).
    public static func tokenizer(maxLength: Int = 12) -> WordTokenizer {
        WordTokenizer(phrases: phrases, maxLength: maxLength)
    }

    /// The unconditional ("null") prompt of classifier-free guidance: the empty string,
    /// encoded `<bos> <eos> <pad>...`.
    public static let nullPrompt = ""
}
