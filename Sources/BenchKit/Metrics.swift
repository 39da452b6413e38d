import Foundation
import Report
import World

/// The judge scores of one generated image: cosines to every reference of its subject under the
/// DINO judge (class token after the final norm) and the CLIP judge (image embeddings), the cosine
/// of its CLIP image embedding to its prompt's CLIP text embedding, and its mean HSV.
public struct ImageScores: Codable, Sendable, Equatable {
    /// PNG path relative to the run directory.
    public var file: String
    public var prompt: Int
    public var k: Int
    public var seed: UInt64
    /// cos(DINO(g), DINO(r_j)) for each reference j (reference 0 first).
    public var dino: [Double]
    /// cos(CLIP_img(g), CLIP_img(r_j)) for each reference j.
    public var clipI: [Double]
    /// cos(CLIP_img(g), CLIP_txt(prompt)).
    public var clipT: Double
    /// Mean hue (degrees, 0..<360), saturation and value (0...1) over the whole image.
    public var hsv: [Double]
    /// 1 when the judge reads the expected category, main colour and body pattern, else 0; nil when not
    /// judged (an attribute prompt asks for another colour or pattern; no truth known).
    public var identity: Double?
    /// 1 when the judge reads the expected decal glyph and decal colour, else 0; nil when not judged.
    public var detail: Double?
    /// 1 when the judge reads the prompted background, else 0; nil when the prompt names none it knows.
    public var scene: Double?
    /// The judge's predicted class index per attribute head (`WorldAttribute` raw values).
    public var attributes: [String: Int]?
    public init(file: String, prompt: Int, k: Int, seed: UInt64, dino: [Double], clipI: [Double], clipT: Double, hsv: [Double],
                identity: Double? = nil, detail: Double? = nil, scene: Double? = nil, attributes: [String: Int]? = nil) {
        self.file = file; self.prompt = prompt; self.k = k; self.seed = seed; self.dino = dino; self.clipI = clipI
        self.clipT = clipT; self.hsv = hsv; self.identity = identity; self.detail = detail; self.scene = scene
        self.attributes = attributes
    }
}

/// What the attribute judges should read from one image: the subject's labels (`WorldAttribute` raw
/// value -> class index; nil = identity and detail not judged for this image) and the prompted
/// background's label (nil = scene not judged).
public struct AttributeExpectation: Sendable, Equatable {
    public var subject: [String: Int]?
    public var background: Int?
    /// The world cannot tell this subject's main colour from its secondary one
    /// (`WorldAttribute.mainColorIsAmbiguous`): a swapped reading of the two keeps the identity.
    public var mainColorAmbiguous: Bool
    public init(subject: [String: Int]?, background: Int?, mainColorAmbiguous: Bool = false) {
        self.subject = subject; self.background = background; self.mainColorAmbiguous = mainColorAmbiguous
    }
}

/// The two reference settings of issue 7.
public enum ReferenceSetting: String, CaseIterable, Sendable {
    /// Every reference image of the subject.
    case all = "all-references"
    /// Reference 0 only (Kosmos-G's single fixed reference).
    case one = "one-reference"

    /// The references of `scores` this setting averages over.
    func pick(_ scores: [Double]) -> ArraySlice<Double> {
        precondition(!scores.isEmpty, "ReferenceSetting.pick: an image with no reference scores")
        return self == .all ? scores[...] : scores[0..<1]
    }
}

/// DreamBench metrics (issue 7):
/// - DINO_s  = mean over (g, r) of cos(DINO(g), DINO(r)), g over subject s's images, r over its references
///   in the setting;  CLIP-I_s likewise with the CLIP judge's image embeddings;
/// - CLIP-T_s = mean over g of cos(CLIP_img(g), CLIP_txt(prompt(g)));
/// - the bench figure = unweighted mean of the per-subject values over subjects (not over images).
public enum BenchMetrics {
    /// Cosine similarity (0 when either vector is zero).
    public static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        precondition(a.count == b.count, "cosine: lengths \(a.count) and \(b.count)")
        var ab = 0.0, aa = 0.0, bb = 0.0
        for i in a.indices { ab += Double(a[i]) * Double(b[i]); aa += Double(a[i]) * Double(a[i]); bb += Double(b[i]) * Double(b[i]) }
        return aa > 0 && bb > 0 ? ab / (aa * bb).squareRoot() : 0
    }

    /// Scores of one image from embeddings: `dino` / `clip` = [image, reference 0, reference 1, ...]
    /// rows, `text` = the prompt's CLIP text embedding.
    public static func imageScores(dino: [[Float]], clip: [[Float]], text: [Float]) -> (dino: [Double], clipI: [Double], clipT: Double) {
        precondition(dino.count >= 2 && clip.count == dino.count, "imageScores: \(dino.count) DINO rows, \(clip.count) CLIP rows")
        return (dino.dropFirst().map { cosine(dino[0], $0) }, clip.dropFirst().map { cosine(clip[0], $0) }, cosine(clip[0], text))
    }

    /// Identity (category, main colour and body pattern all as expected; the main colour as far as the world
    /// determines it, `WorldAttribute.keepsMainColor`), detail (decal glyph and decal colour as expected) and scene (background as prompted) of one image, each 1 or 0, nil when the
    /// expectation lacks it.
    public static func attributeScores(predicted: [String: Int], expected: AttributeExpectation)
        -> (identity: Double?, detail: Double?, scene: Double?) {
        func all(_ attrs: [WorldAttribute]) -> Double? {
            guard let truth = expected.subject else { return nil }
            for a in attrs {
                guard let t = truth[a.rawValue], predicted[a.rawValue] != nil else { return nil }
                if a == .mainColor, let sec = truth[WorldAttribute.secondaryColor.rawValue] {
                    if !WorldAttribute.keepsMainColor(predicted, main: t, secondary: sec, ambiguous: expected.mainColorAmbiguous) { return 0 }
                } else if predicted[a.rawValue] != t { return 0 }
            }
            return 1
        }
        let scene = expected.background.flatMap { b in predicted[WorldAttribute.background.rawValue].map { $0 == b ? 1.0 : 0.0 } }
        return (all(WorldAttribute.identity), all(WorldAttribute.detail), scene)
    }

    /// Mean of the non-nil values (nil when there is none).
    static func meanPresent(_ v: [Double?]) -> Double? {
        let xs = v.compactMap { $0 }
        return xs.isEmpty ? nil : xs.reduce(0, +) / Double(xs.count)
    }

    /// Per-subject scores of one subject's images in `setting`.
    public static func subjectScores(_ subject: String, _ images: [ImageScores], setting: ReferenceSetting) -> SubjectScores {
        precondition(!images.isEmpty, "subjectScores: subject \(subject) has no images")
        var dino = 0.0, clipI = 0.0, pairs = 0.0, clipT = 0.0
        for im in images {
            let d = setting.pick(im.dino), c = setting.pick(im.clipI)
            precondition(d.count == c.count, "subjectScores: \(im.file) has \(d.count) DINO and \(c.count) CLIP-I cosines")
            dino += d.reduce(0, +); clipI += c.reduce(0, +); pairs += Double(d.count)
            clipT += im.clipT
        }
        let n = Double(images.count)
        return SubjectScores(subject: subject, dino: dino / pairs, clipI: clipI / pairs, clipT: clipT / n, images: images.count,
                             identity: meanPresent(images.map(\.identity)), detail: meanPresent(images.map(\.detail)),
                             scene: meanPresent(images.map(\.scene)))
    }

    /// Unweighted mean over subjects of (DINO, CLIP-I, CLIP-T).
    public static func mean(_ subjects: [SubjectScores]) -> (dino: Double, clipI: Double, clipT: Double) {
        guard !subjects.isEmpty else { return (0, 0, 0) }
        let n = Double(subjects.count)
        return (subjects.map(\.dino).reduce(0, +) / n, subjects.map(\.clipI).reduce(0, +) / n, subjects.map(\.clipT).reduce(0, +) / n)
    }

    /// The per-prompt value of a scorer ("dino", "clip-i": mean over all references; "clip-t"):
    /// mean over the prompt's images. Keys are "<subject>/<prompt index>".
    public static func perPrompt(_ bySubject: [String: [ImageScores]], scorer: String) -> [String: Double] {
        var sums: [String: (Double, Int)] = [:]
        for (s, images) in bySubject {
            for im in images {
                let v: Double
                switch scorer {
                case "dino": v = im.dino.reduce(0, +) / Double(max(1, im.dino.count))
                case "clip-i": v = im.clipI.reduce(0, +) / Double(max(1, im.clipI.count))
                case "clip-t": v = im.clipT
                default: preconditionFailure("perPrompt: unknown scorer \(scorer); use dino, clip-i or clip-t")
                }
                let key = "\(s)/\(im.prompt)"
                let old = sums[key] ?? (0, 0)
                sums[key] = (old.0 + v, old.1 + 1)
            }
        }
        return sums.mapValues { $0.0 / Double($0.1) }
    }

    /// Win rate of `model` over `baseline` per prompt: prompts both have; a higher value wins, a
    /// difference of at most `tieTolerance` is a tie.
    public static func winRate(model: String, modelScores: [String: Double], baseline: String,
                               baselineScores: [String: Double], scorer: String, tieTolerance: Double) -> WinRate {
        var w = 0, t = 0, l = 0
        for (key, m) in modelScores {
            guard let b = baselineScores[key] else { continue }
            if abs(m - b) <= tieTolerance { t += 1 } else if m > b { w += 1 } else { l += 1 }
        }
        return WinRate(model: model, baseline: baseline, scorer: scorer, wins: w, ties: t, losses: l)
    }

    /// Scorer names of the win rates.
    public static let scorers = ["dino", "clip-i", "clip-t"]
}
