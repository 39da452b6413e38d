import ErrorKinds
import Foundation
import Imaging
import World

/// Reference images of a bench subject. Reference 0 is the fixed single reference of the
/// one-reference (Kosmos-G) setting and the image the generator is conditioned on.
public enum BenchReferences {
    /// World references: reference 0 = the subject on the clean background in the canonical pose,
    /// references 1..<count = clean background, `Pose.random(seed: instance, index: k)` (DreamBench's
    /// several photos of one object; the same poses `DreamBench.write` uses).
    public static func world(_ s: Subject, count: Int, size: Int) throws -> [Image] {
        precondition(count >= 1, "BenchReferences.world: count \(count)")
        return try (0..<count).map { k in
            let pose = k == 0 ? Pose.canonical : Pose.random(seed: s.instance, index: UInt64(k))
            return try Renderer.render(RenderRequest(subject: s, scene: .clean, pose: pose, size: size)).image
        }
    }
}

/// The `real-renders` model (issue 14): the world's ground truth for a prompt, what a perfect
/// generator would draw. Image k of prompt j is the subject rendered with the prompt's requested change
/// (`BenchPrompt.edited`) on its background, in a random pose and scene keyed by the image's bench seed.
public enum RealRenders {
    public static func images(_ s: Subject, prompts: [BenchPrompt], size: Int) throws -> [BenchSample] {
        var out: [BenchSample] = []
        for p in prompts {
            guard let bg = p.worldBackground else {
                throw BenchError.badConfig(key: "bench.real_renders", reason: "prompt `\(p.text)` of \(s.id) names no world background",
                                           hint: "real renders exist for world subjects only; set real_renders = false")
            }
            for (k, seed) in p.seeds.enumerated() {
                var req = RenderRequest(subject: s, scene: Scene(background: bg, seed: seed), pose: Pose.random(seed: seed), size: size)
                req.appearance = p.edited(s.appearance)
                out.append(BenchSample(prompt: p.index, k: k, seed: seed, image: try Renderer.render(req).image))
            }
        }
        return out
    }

    /// The bench's name for the row.
    public static let modelName = "real-renders"
    public static let model = BenchModel(name: modelName, loss: modelName, vit: nil, trainSeed: nil, adapter: nil)
}

/// A subject of a DreamBench-layout folder that could not be used, and why.
public struct SkippedSubject: Codable, Sendable, Equatable {
    public var subject: String
    public var path: String
    public var reason: String
}

/// A real DreamBench-layout folder (`<root>/dataset/<subject>/*.png|jpg` + `prompts_and_classes.txt`,
/// see `World.DreamBench`), read leniently: a subject whose reference files are not decodable images
/// (PNG or JPEG, recognised by content: `ImageFile`)
/// (or a folder with no image) is skipped and recorded with the offending path; the rest continue.
public struct DreamBenchFolder: Sendable {
    public struct Entry: Sendable {
        public var id: String
        public var noun: String
        /// Prompts with `{0}` -> unique token and `{1}` -> class noun.
        public var prompts: [String]
        public var referencePaths: [String]
        /// RGB references, centre-square-cropped and resized to the requested size.
        public var references: [Image]
    }
    public var root: String
    public var subjects: [Entry]
    public var skipped: [SkippedSubject]

    /// Reads `root`. A missing folder or prompts file is `BenchError.missingInput`, a malformed prompts file
    /// `BenchError.badDataset`, each naming the path.
    /// `uniqueToken` replaces `{0}`: the world tokenizer has no rare token, so the default is empty
    /// ("a  mug in the forest" collapses to "a mug ...").
    public static func read(root: String, size: Int, uniqueToken: String = "") throws(BenchError) -> DreamBenchFolder {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: root, isDirectory: &isDir), isDir.boolValue else {
            throw .missingInput(path: root, hint: "set [bench].dreambench_dir to a DreamBench-layout folder (prompts_and_classes.txt "
                                + "and one folder of PNG or JPEG references per subject), or to \"\" to bench on the world")
        }
        let dir = fm.fileExists(atPath: root + "/dataset/prompts_and_classes.txt") ? root + "/dataset" : root
        let list = dir + "/prompts_and_classes.txt"
        guard let data = fm.contents(atPath: list) else {
            throw .missingInput(path: list, hint: "a DreamBench folder holds prompts_and_classes.txt next to the subject folders")
        }
        let classes: [(String, String)], object: [String], live: [String]
        do { (classes, object, live) = try DreamBench.parseList(String(decoding: data, as: UTF8.self), path: list) } catch {
            throw .badDataset(path: list, reason: "\(error)", hint: "see World/DreamBench.swift for the format")
        }
        var out = DreamBenchFolder(root: root, subjects: [], skipped: [])
        for (name, noun) in classes {
            let sdir = dir + "/" + name
            guard let files = try? fm.contentsOfDirectory(atPath: sdir) else {
                out.skipped.append(SkippedSubject(subject: name, path: sdir, reason: "folder missing"))
                continue
            }
            let paths = files.filter { !$0.hasPrefix(".") }.sorted().map { sdir + "/" + $0 }
            guard !paths.isEmpty else {
                out.skipped.append(SkippedSubject(subject: name, path: sdir, reason: "no reference images"))
                continue
            }
            var refs: [Image] = []
            var failure: SkippedSubject?
            for p in paths {
                do { refs.append(try ImageFile.read(p).converted(toChannels: 3).squareResized(to: size)) } catch {
                    failure = SkippedSubject(subject: name, path: p, reason: "not a readable PNG or JPEG image: \(error)")
                    break
                }
            }
            if let f = failure { out.skipped.append(f); continue }
            let prompts = (DreamBench.liveClasses.contains(noun) && !live.isEmpty ? live : object).map {
                $0.replacingOccurrences(of: "{0}", with: uniqueToken).replacingOccurrences(of: "{1}", with: noun)
                    .split(separator: " ").joined(separator: " ")
            }
            out.subjects.append(Entry(id: name, noun: noun, prompts: prompts, referencePaths: paths, references: refs))
        }
        return out
    }
}

/// Bad bench input; each case names the file or key and ends with a hint.
public enum BenchError: Error, CustomStringConvertible, Equatable {
    case badDataset(path: String, reason: String, hint: String)
    case badFile(path: String, reason: String, hint: String)
    case badConfig(key: String, reason: String, hint: String)
    /// A folder or file the bench reads is not there.
    case missingInput(path: String, hint: String)

    public var description: String {
        switch self {
        case let .missingInput(p, h): return "\(p): missing; hint: \(h)"
        case let .badDataset(p, r, h): return "\(p): \(r); hint: \(h)"
        case let .badFile(p, r, h): return "\(p): \(r); hint: \(h)"
        case let .badConfig(k, r, h): return "config key `\(k)`: \(r); hint: \(h)"
        }
    }
}

extension BenchError: ClassifiedError {
    /// A missing folder or file is missing input; a malformed one or a config value that names nothing
    /// (e.g. an unknown model) is bad data.
    public var errorKind: ErrorKind {
        switch self {
        case .missingInput: return .missingInput
        case .badDataset, .badFile, .badConfig: return .badData
        }
    }
}
