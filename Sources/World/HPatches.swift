import Foundation
import Imaging

/// An HPatches sequence: six images of one scene and the homographies H_1_k (k = 2...6)
/// mapping image-1 pixel coordinates (x right, y down, pixel centres at integers) to image k.
/// Names start with `v_` (viewpoint: known homographies) or `i_` (illumination: H = identity).
public struct HPatchesSequence: Sendable {
    public var name: String
    public var images: [Image]
    /// H_1_2 ... H_1_6.
    public var homographies: [Homography]
}

/// Reading and writing the HPatches layout (`<root>/<seq>/{1..6}.ppm`, `H_1_2 .. H_1_6`),
/// also the real release (`hpatches-sequences-release/<seq>/...`), and making sequences from
/// world scenes.
public enum HPatches {
    /// Writes `<root>/<name>/1.ppm .. 6.ppm` and `H_1_2 .. H_1_6` (3 rows of 3, %.17g).
    public static func write(_ seq: HPatchesSequence, to root: String) throws {
        precondition(seq.images.count == 6 && seq.homographies.count == 5,
                     "HPatches sequence needs 6 images and 5 homographies, got \(seq.images.count), \(seq.homographies.count)")
        let dir = root + "/" + seq.name
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw ImagingError.unwritable(path: dir, reason: "\(error)")
        }
        for (i, img) in seq.images.enumerated() { try PPM.write(img, to: "\(dir)/\(i + 1).ppm") }
        for (k, h) in seq.homographies.enumerated() {
            let text = (0..<3).map { r in (0..<3).map { String(format: "%.17g", h.m[r * 3 + $0]) }.joined(separator: " ") }
                .joined(separator: "\n") + "\n"
            try AtomicFile.write(Array(text.utf8), to: "\(dir)/H_1_\(k + 2)")
        }
    }

    /// Reads one sequence directory. Each H_1_k must hold 9 finite numbers forming an invertible matrix
    /// (`Homography.isInvertible`); a zero or singular one is `WorldError.badHomography` naming the file.
    public static func readSequence(at dir: String) throws -> HPatchesSequence {
        var images: [Image] = []
        for i in 1...6 {
            let p = "\(dir)/\(i).ppm"
            guard FileManager.default.fileExists(atPath: p) else {
                throw WorldError.missingFile(path: p, hint: "An HPatches sequence holds 1.ppm ... 6.ppm; re-extract the release or rerun `worldgen hpatches`.")
            }
            images.append(try PPM.read(p))
        }
        var hs: [Homography] = []
        for k in 2...6 {
            let p = "\(dir)/H_1_\(k)"
            guard let data = FileManager.default.contents(atPath: p) else {
                throw WorldError.missingFile(path: p, hint: "An HPatches sequence holds H_1_2 ... H_1_6 (3x3 text).")
            }
            hs.append(try parseHomography(Array(data), path: p))
        }
        return HPatchesSequence(name: (dir as NSString).lastPathComponent, images: images, homographies: hs)
    }

    /// Parses the text of one `H_1_k` file: 9 finite numbers separated by spaces, tabs or line breaks, forming an
    /// invertible matrix (`Homography.isInvertible`); anything else is `WorldError.badHomography` naming `path`.
    public static func parseHomography(_ bytes: [UInt8], path p: String) throws -> Homography {
        let fields = String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" })
        guard fields.count == 9 else { throw WorldError.badHomography(path: p, reason: "\(fields.count) numbers") }
        var m: [Double] = []
        for f in fields {
            guard let v = Double(f), v.isFinite else { throw WorldError.badHomography(path: p, reason: "'\(f)' is not a number") }
            m.append(v)
        }
        let h = Homography(m)
        guard h.isInvertible else {
            throw WorldError.badHomography(path: p, reason: "the matrix is singular (determinant \(h.determinant), conditioning "
                                           + "\(h.conditioning)): it maps image 1 onto a line or a point, so it has no inverse")
        }
        return h
    }

    /// Reads every `v_*` / `i_*` sequence under `root`, or under `root/hpatches-sequences-release`
    /// when that folder exists (the real release layout). Sorted by name.
    public static func readAll(root: String) throws -> [HPatchesSequence] {
        let release = root + "/hpatches-sequences-release"
        var isDir: ObjCBool = false
        let base = FileManager.default.fileExists(atPath: release, isDirectory: &isDir) && isDir.boolValue ? release : root
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: base) else {
            throw WorldError.missingFile(path: base, hint: "Pass the folder that holds the v_*/i_* sequences (or hpatches-sequences-release/).")
        }
        let seqs = names.filter { $0.hasPrefix("v_") || $0.hasPrefix("i_") }.sorted()
        guard !seqs.isEmpty else {
            throw WorldError.badDataset(path: base, reason: "no v_* or i_* sequence folders",
                                        hint: "Run `worldgen hpatches --out \(base)` or extract hpatches-sequences-release here.")
        }
        return try seqs.map { try readSequence(at: base + "/" + $0) }
    }

    /// A viewpoint sequence: image 1 is a world scene; image k is the same scene seen through
    /// H_1_k (rotation +-12 deg, scale 0.85...1.15, shift +-8%, perspective), rendered exactly
    /// (each pixel of image k samples the scene at H_1_k^-1 of its coordinates).
    public static func makeViewpoint(name: String, seed: UInt64, size: Int) throws -> HPatchesSequence {
        let (base, _, _, _) = baseRequest(seed: seed, size: size)
        var images = [try Renderer.render(base).image]
        var hs: [Homography] = []
        let st = Stream.hpatches.rawValue
        let c = Double(size - 1) / 2
        for k in 2...6 {
            func u(_ j: UInt64) -> Double { Double(WorldRandom.unit(seed: seed, stream: st, index: UInt64(k) * 16 + j)) * 2 - 1 }
            let h = Homography.translation(c + u(0) * 0.08 * Double(size), c + u(1) * 0.08 * Double(size))
                .composed(after: .rotation(u(2) * 12 * .pi / 180))
                .composed(after: .scale(1 + 0.15 * u(3), 1 + 0.15 * u(4)))
                .composed(after: .perspective(u(5) * 0.25 / Double(size), u(6) * 0.25 / Double(size)))
                .composed(after: .translation(-c, -c))
            var req = base
            req.viewToBase = h.inverse
            images.append(try Renderer.render(req).image)
            hs.append(h)
        }
        return HPatchesSequence(name: name, images: images, homographies: hs)
    }

    /// An illumination sequence: fixed geometry (H = identity), images 2...6 re-lit
    /// (per-channel gain 0.55...1.35, bias +-0.06, linear light gradient +-0.7).
    public static func makeIllumination(name: String, seed: UInt64, size: Int) throws -> HPatchesSequence {
        let (base, _, _, _) = baseRequest(seed: seed, size: size)
        var images = [try Renderer.render(base).image]
        let st = Stream.hpatches.rawValue &+ 1
        for k in 2...6 {
            func u(_ j: UInt64) -> Float { WorldRandom.unit(seed: seed, stream: st, index: UInt64(k) * 16 + j) }
            var req = base
            let g = 0.55 + 0.8 * u(0)
            req.lighting = Lighting(gain: SIMD3(g * (0.9 + 0.2 * u(1)), g * (0.9 + 0.2 * u(2)), g * (0.9 + 0.2 * u(3))),
                                    bias: -0.06 + 0.12 * u(4), gradX: -0.7 + 1.4 * u(5), gradY: -0.7 + 1.4 * u(6))
            images.append(try Renderer.render(req).image)
        }
        return HPatchesSequence(name: name, images: images, homographies: Array(repeating: .identity, count: 5))
    }

    /// `count` viewpoint and `count` illumination sequences named v_world_0000, i_world_0000, ...
    public static func makeSet(count: Int, seed: UInt64, size: Int) throws -> [HPatchesSequence] {
        var out: [HPatchesSequence] = []
        for i in 0..<count {
            let s = seed &+ UInt64(i) &* 1_000_003
            out.append(try makeViewpoint(name: "v_world_" + zeroPadded4(UInt64(i)), seed: s, size: size))
            out.append(try makeIllumination(name: "i_world_" + zeroPadded4(UInt64(i)), seed: s, size: size))
        }
        return out
    }

    /// Image 1 of a sequence: a test-split subject on a textured background, upright-ish.
    static func baseRequest(seed: UInt64, size: Int) -> (RenderRequest, Subject, Scene, Pose) {
        let st = Stream.hpatches.rawValue &+ 2
        let cats = ObjectCategory.allCases, bgs = Background.textured
        let subject = Subject(category: cats[WorldRandom.below(cats.count, seed: seed, stream: st, index: 0)],
                              instance: UInt64(WorldRandom.below(1000, seed: seed, stream: st, index: 1)) * 10 + 9)
        let scene = Scene(background: bgs[WorldRandom.below(bgs.count, seed: seed, stream: st, index: 2)], seed: seed)
        var pose = Pose.random(seed: seed, index: 99)
        pose.scale = 0.3; pose.perspectiveX = 0; pose.perspectiveY = 0
        return (RenderRequest(subject: subject, scene: scene, pose: pose, size: size, supersample: 2), subject, scene, pose)
    }
}
