import Foundation

/// The generate-pool layout of the stage contract, read from recorded paths (relative to the run
/// directory): `.../pool/<key>/reference.png`, `.../pool/<key>/gen-<k>.png`, `.../pool/<key>/prompt.json`.
public struct PoolItem: Sendable, Equatable {
    public var key: String
    public var reference: String?
    public var generated: [String]

    /// Items by key (sorted), from any list of paths; paths outside the layout are ignored.
    public static func items(paths: [String]) -> [PoolItem] {
        var byKey: [String: PoolItem] = [:]
        for path in paths {
            let parts = path.split(separator: "/").map(String.init)
            guard parts.count >= 3, parts[parts.count - 3] == "pool" else { continue }
            let key = parts[parts.count - 2], name = parts[parts.count - 1]
            var item = byKey[key] ?? PoolItem(key: key, reference: nil, generated: [])
            if name == "reference.png" { item.reference = path }
            else if name.hasPrefix("gen-") && name.hasSuffix(".png") { item.generated.append(path) }
            else { continue }
            byKey[key] = item
        }
        return byKey.keys.sorted().map { k in
            var item = byKey[k]!
            item.generated.sort()
            return item
        }
    }
}

/// One pair of a pairs file, its members in file order: (reference, generated) of `patchdpo-pairs.json`
/// (kind `patchdpo-pairs`), or (winner, loser) of `pairs.json` (kind `pairs`, HG-DPO's pool pairs).
public struct PairEntry: Sendable, Equatable {
    /// Stable item key (file-name safe).
    public var key: String
    /// Paths as written by score-and-pair (relative to the run directory, or to the pool stage's
    /// artifact folder; the stage resolves them against the manifest).
    public var first: String
    public var second: String

    public init(key: String, first: String, second: String) { self.key = key; self.first = first; self.second = second }
    /// A `patchdpo-pairs.json` pair.
    public init(key: String, reference: String, generated: String) { self.init(key: key, first: reference, second: generated) }

    /// The reference image of a `patchdpo-pairs.json` pair.
    public var reference: String { first }
    /// The generated image of a `patchdpo-pairs.json` pair.
    public var generated: String { second }
}

/// Reads the pairs files of score-and-pair (the one reader; patch-quality and dpo-train use it). Accepted shapes
/// (score-and-pair decides; this reader is tolerant): a top-level array or an object with `pairs`; each entry an
/// object with the first member (a string) and the second (a string, or an array of strings: one pair each),
/// optionally `key` / `id`. Keys default to `<pool key>-<second file stem>` (e.g. `p00003-gen-1`) and are made
/// file-name safe and unique: the names patch-quality gives the quality maps `q/<vit>/<key>.safetensors`.
public enum PairsFile {
    /// The member fields of a file's entries.
    public enum Members: Sendable {
        /// `patchdpo-pairs.json`: `reference`, `generated`.
        case referenceGenerated
        /// `pairs.json`: `winner`, `loser`.
        case winnerLoser

        var names: (first: String, second: String) {
            self == .referenceGenerated ? ("reference", "generated") : ("winner", "loser")
        }
    }

    public static func parse(_ data: Data, path: String, members: Members = .referenceGenerated) throws -> [PairEntry] {
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: data) } catch {
            throw PatchQualityError.badPairs(path: path, detail: "not JSON: \(error.localizedDescription)")
        }
        let list: [Any]
        if let a = json as? [Any] { list = a }
        else if let o = json as? [String: Any], let a = o["pairs"] as? [Any] { list = a }
        else { throw PatchQualityError.badPairs(path: path, detail: "expected an array or an object with `pairs`") }
        let (a, b) = members.names
        var out: [PairEntry] = []
        var used: Set<String> = []
        for (i, element) in list.enumerated() {
            guard let o = element as? [String: Any] else {
                throw PatchQualityError.badPairs(path: path, detail: "pairs[\(i)] is not an object")
            }
            guard let first = o[a] as? String else {
                throw PatchQualityError.badPairs(path: path, detail: "pairs[\(i)] has no string `\(a)`")
            }
            let seconds: [String]
            if let g = o[b] as? String { seconds = [g] }
            else if let g = o[b] as? [String], !g.isEmpty { seconds = g }
            else { throw PatchQualityError.badPairs(path: path, detail: "pairs[\(i)] has no `\(b)` path(s)") }
            let given = (o["key"] as? String) ?? (o["id"] as? String)
            for g in seconds {
                var key = given.map { seconds.count > 1 ? "\($0)-\(stem(g))" : $0 } ?? defaultKey(g)
                key = sanitize(key)
                var unique = key, n = 1
                while used.contains(unique) { n += 1; unique = "\(key)-\(n)" }
                used.insert(unique)
                out.append(PairEntry(key: unique, first: first, second: g))
            }
        }
        return out
    }

    static func stem(_ path: String) -> String {
        let name = (path as NSString).lastPathComponent
        return (name as NSString).deletingPathExtension
    }

    static func defaultKey(_ generated: String) -> String {
        let parts = generated.split(separator: "/")
        let dir = parts.count >= 2 ? String(parts[parts.count - 2]) : "pair"
        return "\(dir)-\(stem(generated))"
    }

    static func sanitize(_ s: String) -> String {
        String(s.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
    }
}
