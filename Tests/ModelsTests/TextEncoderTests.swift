import Foundation
import Testing
import Random
import TensorCore
import Autograd
import NN
import Text
@testable import Models

@Suite struct TextEncoderTests {
    static let ids: [[Int32]] = [[2, 7, 9, 3, 0, 0, 0, 0], [2, 30, 4, 5, 6, 11, 12, 3]]

    @Test func pooledIsTheStateAtEndOfSequence() throws {
        let enc = try TextEncoder(config: .xs, key: RNGKey(seed: 1))
        let (states, pooled) = withNoGrad { enc.forward(Self.ids) }
        #expect(states.shape == [2, 8, 16] && pooled.shape == [2, 16])
        EncoderTestSupport.expectMatches("row 0", Kernels.slice(pooled.value, axis: 0, start: 0, length: 1).reshaped([16]),
                                         Kernels.slice(states.value.reshaped([16, 16]), axis: 0, start: 3, length: 1).reshaped([16]), atol: 0, rtol: 0)
        EncoderTestSupport.expectMatches("row 1", Kernels.slice(pooled.value, axis: 0, start: 1, length: 1).reshaped([16]),
                                         Kernels.slice(states.value.reshaped([16, 16]), axis: 0, start: 15, length: 1).reshaped([16]), atol: 0, rtol: 0)
    }

    @Test func causalMaskMakesPoolingIgnoreWhatFollowsEnd() throws {
        let enc = try TextEncoder(config: .xs, key: RNGKey(seed: 2))
        let a = withNoGrad { enc.forward([[2, 7, 9, 3, 0, 0, 0, 0]]) }
        let b = withNoGrad { enc.forward([[2, 7, 9, 3, 20, 21, 22, 23]]) }
        let c = withNoGrad { enc.forward([[2, 8, 9, 3, 0, 0, 0, 0]]) }
        EncoderTestSupport.expectMatches("pooled, other padding", b.pooled.value, a.pooled.value, atol: 0, rtol: 0)
        #expect(c.pooled.value != a.pooled.value, "a word before <eos> must change the pooled vector")
        #expect(b.states.value != a.states.value, "states after <eos> see the tokens there")
    }

    @Test func encodesTokenizerOutput() throws {
        let tok = WordTokenizer(phrases: ["red robot toy", "blue mug", "a photo of a", "on the beach"], maxLength: 8)
        let enc = try TextEncoder(config: .xs, key: RNGKey(seed: 3))
        #expect(tok.vocabularySize <= enc.config.vocabSize)
        let ids = ["a photo of a red mug", "blue robot toy on the beach"].map(tok.encode)
        try enc.validate(ids)
        let (states, pooled) = withNoGrad { enc.forward(ids) }
        #expect(states.shape == [2, 8, 16] && pooled.value.scalars.allSatisfy(\.isFinite))
    }

    @Test func badIdsGiveTypedErrors() throws {
        let enc = try TextEncoder(config: .xs, key: RNGKey(seed: 4))
        #expect(throws: EncoderError.tokenOutOfRange(row: 1, position: 2, id: 40, vocabularySize: 32)) {
            try enc.validate([[2, 5, 3, 0], [2, 5, 40, 3]])
        }
        #expect(throws: EncoderError.sequenceTooLong(row: 0, length: 9, maxLength: 8)) {
            try enc.validate([[2, 5, 5, 5, 5, 5, 5, 5, 3]])
        }
        #expect(throws: EncoderError.raggedBatch(row: 1, length: 3, expected: 4)) { try enc.validate([[2, 5, 3, 0], [2, 5, 3]]) }
        #expect(throws: EncoderError.missingEnd(row: 0, endId: 3)) { try enc.validate([[2, 5, 6, 0]]) }
        let message = EncoderError.tokenOutOfRange(row: 1, position: 2, id: 40, vocabularySize: 32).description
        #expect(message.contains("vocabSize") && message.contains("row 1"))
    }

    @Test func configValidationAndDecoding() throws {
        #expect(throws: EncoderError.invalidConfig(model: "text encoder", field: "width", value: "130",
                                                   rule: "must be a positive multiple of heads 4")) {
            try TextEncoder(config: TextEncoderConfig(width: 130), key: RNGKey(seed: 0))
        }
        let c = try JSONDecoder().decode(TextEncoderConfig.self, from: Data(#"{"vocabSize": 300}"#.utf8))
        #expect(c == TextEncoderConfig(vocabSize: 300))
    }
}
