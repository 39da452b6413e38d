import ErrorKinds

/// Bad input to the encoders (ViT, text encoder, CLIP pair): an invalid config (e.g. from a
/// pipeline TOML) or token ids that do not fit the model. Each case names the field and the fix.
public enum EncoderError: Error, CustomStringConvertible, Equatable, Sendable {
    /// `field` of config `model` has `value`, which breaks `rule`.
    case invalidConfig(model: String, field: String, value: String, rule: String)
    /// Row `row`, position `position` holds token id `id` outside `0..<vocabularySize`.
    case tokenOutOfRange(row: Int, position: Int, id: Int32, vocabularySize: Int)
    /// Row `row` has `length` ids; the encoder has `maxLength` positions.
    case sequenceTooLong(row: Int, length: Int, maxLength: Int)
    /// Row `row` has `length` ids while row 0 has `expected`: a batch must be padded to one length.
    case raggedBatch(row: Int, length: Int, expected: Int)
    /// Row `row` has no `<eos>` id (the pooled position).
    case missingEnd(row: Int, endId: Int32)

    public var description: String {
        switch self {
        case let .invalidConfig(model, field, value, rule):
            "\(model) config: `\(field)` = \(value) is invalid (\(rule)); fix it in the pipeline config"
        case let .tokenOutOfRange(row, position, id, vocabularySize):
            "text encoder: token id \(id) at row \(row), position \(position) is outside 0..<\(vocabularySize); "
                + "the tokenizer's vocabulary is larger than the config's `vocabSize`: raise `vocabSize` and retrain"
        case let .sequenceTooLong(row, length, maxLength):
            "text encoder: row \(row) has \(length) ids but `maxLength` is \(maxLength); "
                + "build the tokenizer with maxLength \(maxLength)"
        case let .raggedBatch(row, length, expected):
            "text encoder: row \(row) has \(length) ids but row 0 has \(expected); pad every prompt with WordTokenizer.encode"
        case let .missingEnd(row, endId):
            "text encoder: row \(row) has no <eos> (id \(endId)) to pool at; encode prompts with WordTokenizer.encode"
        }
    }
}

extension EncoderError: ClassifiedError {
    /// A config (from a pipeline TOML or a record) or token ids that do not fit the model's vocabulary or
    /// length are bad data (65); a batch not padded to one length or without <eos> is the caller's bug
    /// (WordTokenizer.encode guarantees both).
    public var errorKind: ErrorKind {
        switch self {
        case .invalidConfig, .tokenOutOfRange, .sequenceTooLong: return .badData
        case .raggedBatch, .missingEnd: return .internalError
        }
    }
}

/// Throws `invalidConfig` unless `ok`.
func require(_ ok: Bool, _ model: String, _ field: String, _ value: Any, _ rule: String) throws(EncoderError) {
    if !ok { throw EncoderError.invalidConfig(model: model, field: field, value: "\(value)", rule: rule) }
}
