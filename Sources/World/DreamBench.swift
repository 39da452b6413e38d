import Foundation
import Imaging

/// One DreamBench subject: its folder name, class noun and images at model resolution.
public struct DreamBenchSubject: Sendable {
    public var name: String
    public var classNoun: String
    public var imagePaths: [String]
    public var images: [Image]
    /// Live subjects (dogs, cats) use the live prompt list.
    public var isLive: Bool
}

/// The DreamBench layout: `<root>/dataset/<subject>/*.jpg|*.png` (or `<root>/<subject>/...` when
/// `root` already is the dataset folder) plus `prompts_and_classes.txt` as in the release:
///
///     Classes
///     subject_name,class
///     backpack,backpack
///     ...
///     Object Prompts
///     prompt_list = [
///     'a {0} {1} in the jungle'.format(unique_token, class_token),
///     ...
///     Live Subject Prompts
///     prompt_list = [ ... ]
///
/// `{0}` is the unique token, `{1}` the class noun. Images are `.png`, `.jpg` or `.jpeg` (any case), decoded by
/// content (`ImageFile`): the release's JPEGs read as they are; an undecodable one is an error naming the file.
public struct DreamBench: Sendable {
    public var subjects: [DreamBenchSubject]
    public var objectPrompts: [String]
    public var livePrompts: [String]

    /// Live classes (the release's dogs and cats).
    public static let liveClasses: Set<String> = ["dog", "cat"]

    /// The prompts for `subject`, with `{0}` -> `uniqueToken` and `{1}` -> class noun.
    public func prompts(for subject: DreamBenchSubject, uniqueToken: String = "sks") -> [String] {
        (subject.isLive ? livePrompts : objectPrompts).map {
            $0.replacingOccurrences(of: "{0}", with: uniqueToken).replacingOccurrences(of: "{1}", with: subject.classNoun)
        }
    }

    /// Loads the folder, resizing every image to `resolution` (centre square crop + area resize).
    public static func load(root: String, resolution: Int) throws -> DreamBench {
        let fm = FileManager.default
        let datasetDir = fm.fileExists(atPath: root + "/dataset/prompts_and_classes.txt") ? root + "/dataset" : root
        let listPath = datasetDir + "/prompts_and_classes.txt"
        guard let data = fm.contents(atPath: listPath) else {
            throw WorldError.missingFile(path: listPath, hint: "DreamBench needs prompts_and_classes.txt next to the subject folders (see `worldgen dreambench`).")
        }
        let (classes, objectPrompts, livePrompts) = try parseList(String(decoding: data, as: UTF8.self), path: listPath)
        var subjects: [DreamBenchSubject] = []
        for (name, noun) in classes {
            let dir = datasetDir + "/" + name
            guard let files = try? fm.contentsOfDirectory(atPath: dir) else {
                throw WorldError.missingFile(path: dir, hint: "prompts_and_classes.txt lists subject '\(name)' but its folder is missing.")
            }
            let imgs = files.filter { f in [".png", ".jpg", ".jpeg"].contains { f.lowercased().hasSuffix($0) } }.sorted()
            guard !imgs.isEmpty else {
                throw WorldError.badDataset(path: dir, reason: "no .png or .jpg images", hint: "Put the subject's reference images here as PNG or JPEG.")
            }
            let paths = imgs.map { dir + "/" + $0 }
            let images = try paths.map { try ImageFile.read($0).converted(toChannels: 3).squareResized(to: resolution) }
            subjects.append(DreamBenchSubject(name: name, classNoun: noun, imagePaths: paths, images: images,
                                              isLive: liveClasses.contains(noun)))
        }
        return DreamBench(subjects: subjects, objectPrompts: objectPrompts, livePrompts: livePrompts)
    }

    /// Parses prompts_and_classes.txt: (subject, class) pairs and the two prompt lists.
    public static func parseList(_ text: String, path: String) throws -> ([(String, String)], [String], [String]) {
        var classes: [(String, String)] = []
        var object: [String] = [], live: [String] = []
        enum Section { case none, classes, object, live }
        var section = Section.none
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            let lower = line.lowercased()
            if lower == "classes" { section = .classes; continue }
            if lower == "prompts" { section = .none; continue }
            if lower.hasPrefix("object prompts") { section = .object; continue }
            if lower.hasPrefix("live subject prompts") { section = .live; continue }
            if line.isEmpty || lower.hasPrefix("subject_name") || lower.hasPrefix("prompt_list") || line == "]" { continue }
            switch section {
            case .classes:
                let parts = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw WorldError.badDataset(path: path, reason: "class line '\(line)' is not 'subject_name,class'",
                                                hint: "Each line of the Classes section is subject_name,class.")
                }
                classes.append((parts[0], parts[1]))
            case .object, .live:
                guard let q = line.firstIndex(where: { $0 == "'" || $0 == "\"" }),
                      let e = line[line.index(after: q)...].firstIndex(of: line[q]) else { continue }
                let prompt = String(line[line.index(after: q)..<e])
                if section == .object { object.append(prompt) } else { live.append(prompt) }
            case .none:
                continue
            }
        }
        guard !classes.isEmpty else {
            throw WorldError.badDataset(path: path, reason: "no Classes section", hint: "Start the file with 'Classes' then 'subject_name,class' lines.")
        }
        guard !object.isEmpty else {
            throw WorldError.badDataset(path: path, reason: "no Object Prompts list", hint: "Add an 'Object Prompts' section with a prompt_list.")
        }
        return (classes, object, live)
    }

    /// Writes world subjects in this layout (`<root>/dataset/<subject id>/NN.png` plus
    /// prompts_and_classes.txt), `images` clean-background renders each at `size`.
    public static func write(subjects: [Subject], root: String, images: Int, size: Int) throws {
        let ds = root + "/dataset"
        var text = "Classes\nsubject_name,class\n"
        for s in subjects {
            let dir = ds + "/" + s.id
            do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                throw ImagingError.unwritable(path: dir, reason: "\(error)")
            }
            for k in 0..<images {
                let pose = k == 0 ? Pose.canonical : Pose.random(seed: s.instance, index: UInt64(k))
                let r = try Renderer.render(RenderRequest(subject: s, scene: .clean, pose: pose, size: size))
                try PNG.write(r.image, to: dir + "/" + zeroPadded4(UInt64(k)).suffix(2) + ".png")
            }
            text += "\(s.id),\(s.category.noun)\n"
        }
        text += "\nPrompts\nObject Prompts\nprompt_list = [\n"
        for b in Background.textured { text += "'a {0} {1} \(b.phrase)'.format(unique_token, class_token),\n" }
        text += "]\n"
        try AtomicFile.write(Array(text.utf8), to: ds + "/prompts_and_classes.txt")
    }
}
