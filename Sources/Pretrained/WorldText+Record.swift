import Foundation
import Text
import World

/// The tokenizer policy for pretrained models: `WorldText` (World) checked against a `PretrainRecord`.
extension WorldText {
    /// The project tokenizer for a model of `record` (at `path`, for errors): the record's `tokenizerWords`
    /// (the vocabulary its text tower was trained with) must equal this code's, else ids would silently mean
    /// other words.
    public static func tokenizer(for record: PretrainRecord, path: URL, maxLength: Int = 12) throws(PretrainedError) -> WordTokenizer {
        let tok = tokenizer(maxLength: maxLength)
        guard let words = record.tokenizerWords else {
            throw .badCheckpoint(path: path.path, reason: "record key `tokenizerWords` is missing (the vocabulary its text tower was trained with)")
        }
        guard words == tok.words else {
            throw .badCheckpoint(path: path.path, reason: "record key `tokenizerWords` (\(words.count) words) differs from this code's vocabulary "
                                     + "(\(tok.words.count) words, WorldText): it was trained with another tokenizer")
        }
        return tok
    }
}
