import Foundation
import Imaging
import Manifest
import TensorCore
import World

/// The pool items generate-pool recorded, read verified through `upstream`: images by path (pairs files give
/// run-relative or pool-relative paths) and each item's `prompt.json`.
public struct PoolReader {
    public let upstream: any UpstreamReading
    /// The side every pool image must have.
    public let resolution: Int

    public init(upstream: any UpstreamReading, resolution: Int) {
        self.upstream = upstream
        self.resolution = resolution
    }

    /// The recorded pool artifact whose path ends with `path`.
    public func artifact(_ path: String) throws -> ArtifactRecord {
        let pool = try upstream.outputs("generate-pool")
        guard let a = pool.first(where: { $0.relativePath == path || $0.relativePath.hasSuffix("/" + path) }) else {
            throw DPOTrainError.badImage(path: path, detail: "not recorded by generate-pool")
        }
        return a
    }

    /// The pool image at `path` as `[1, 3, R, R]` in [-1, 1]; it must be an R x R RGB PNG.
    public func image(_ path: String) throws -> Tensor {
        let a = try artifact(path)
        let data = try upstream.data(a, of: "generate-pool")
        let img: Image
        do { img = try PNG.decode([UInt8](data), name: a.relativePath) } catch {
            throw DPOTrainError.badImage(path: a.relativePath, detail: "\(error)")
        }
        guard img.channels == 3, img.width == resolution, img.height == resolution else {
            throw DPOTrainError.badImage(path: a.relativePath,
                                         detail: "is \(img.width)x\(img.height)x\(img.channels); want \(resolution)x\(resolution) RGB")
        }
        return Tensor(shape: [1, 3, resolution, resolution], scalars: img.toCHW())
    }

    /// The pool item's reference image (`pool/<key>/reference.png`) of the item holding `path`.
    public func referencePath(for path: String) throws -> String {
        ((try artifact(path).relativePath as NSString).deletingLastPathComponent as NSString)
            .appendingPathComponent("reference.png")
    }

    /// The prompt of the pool item holding `path` (`pool/<key>/prompt.json`, field `prompt`).
    public func prompt(for path: String) throws -> String {
        let (a, json) = try promptRecord(for: path)
        guard let o = json as? [String: Any], let p = o["prompt"] as? String else {
            throw DPOTrainError.badImage(path: a.relativePath, detail: "has no string `prompt`")
        }
        return p
    }

    /// The comprehensive caption (DCO 4.3) of the pool item holding `path`: its subject's colour,
    /// pattern and decal on the clean background, which is what the item's reference image shows.
    public func comprehensiveCaption(for path: String) throws -> String {
        Prompts.comprehensive(try subject(for: path), .clean)
    }

    /// The world subject of the pool item holding `path` (its `prompt.json`'s `subject`).
    public func subject(for path: String) throws -> Subject {
        let (a, json) = try promptRecord(for: path)
        guard let o = json as? [String: Any], let s = o["subject"] as? [String: Any], let name = s["category"] as? String,
              let category = ObjectCategory(rawValue: name), let instance = (s["instance"] as? NSNumber)?.uint64Value else {
            throw DPOTrainError.badImage(path: a.relativePath, detail: "has no `subject` with a known `category` and an `instance`")
        }
        return Subject(category: category, instance: instance)
    }

    /// `prompt.json` of the pool item holding `path`, and its JSON.
    func promptRecord(for path: String) throws -> (ArtifactRecord, Any) {
        let dir = (try artifact(path).relativePath as NSString).deletingLastPathComponent
        guard let a = (try upstream.outputs("generate-pool")).first(where: { $0.relativePath == dir + "/prompt.json" }) else {
            throw DPOTrainError.badImage(path: dir + "/prompt.json", detail: "missing")
        }
        return (a, try JSONSerialization.jsonObject(with: try upstream.data(a, of: "generate-pool")))
    }
}
