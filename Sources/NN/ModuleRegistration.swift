import Autograd

// A module declares its parameters twice: as stored properties (what its forward pass uses) and in the
// hand-written `directParameters` / `children` lists (what `namedParameters()` walks: what trains, what
// is saved and loaded). A property left out of the lists is silently never trained and never saved.
// `unregisteredProperties()` finds such properties by reflection (`Mirror`); `describe()` prints the
// registered tree, like mlx-swift's module description.

/// A module type that keeps a parameter or module in a stored property on purpose without registering it
/// (a frozen copy, a cache, a reference to a module that lives in another tree). Each conforming type lists
/// those properties by their Swift names and says why in a comment beside the list;
/// `unregisteredProperties()` skips them.
public protocol DeliberatelyUnregistered: Module {
    /// Names of the stored properties that are not registered on purpose.
    static var unregisteredByDesign: Set<String> { get }
}

extension Module {
    /// The stored properties of this tree that hold a `Parameter` or a `Module` (directly, optionally, or in
    /// an array / set / dictionary / tuple of them) that is not registered: not reachable from this
    /// module (the root) through `directParameters` / `children`. Empty when the lists are complete.
    ///
    /// Each label is the key path of the module holding the property (PyTorch keys, as `namedParameters()`)
    /// followed by the property's Swift name: `extra` on the root, `blocks.0.attn.extra` below it.
    ///
    /// Identity (`===`) against everything reachable from the root decides, so a module shared with
    /// another registered place of the same tree (a reference kept for convenience) is not missing. A module
    /// held in a property whose every parameter is reachable counts as registered too: a wrapper may forward
    /// a child's lists as its own (`ViTReferenceEncoder` forwards its `vit`'s, `IPCrossAttention` its
    /// `base` attention's), and such an inlined module's own properties are checked in turn. An unreachable
    /// module without parameters (a `Dropout` left out) is reported: `train(_:)` would never reach it.
    /// Properties listed by a `DeliberatelyUnregistered` type are skipped. Values are searched through
    /// optionals, collections and tuples only, not through structs or enums.
    public func unregisteredProperties() -> [String] {
        var reach = RegisteredTree()
        reach.add(self, path: "")
        var out: [String] = []
        var checked = Set<ObjectIdentifier>()
        // Registered modules in walk order, then inlined ones as they are found.
        var queue: [(String, any Module)] = reach.modules
        var i = 0
        while i < queue.count {
            let (path, module) = queue[i]
            i += 1
            guard checked.insert(ObjectIdentifier(module)).inserted else { continue }
            let exempt = (module as? any DeliberatelyUnregistered).map { type(of: $0).unregisteredByDesign } ?? []
            for (label, value) in storedProperties(of: module) where !exempt.contains(label) {
                var found = HeldObjects()
                found.collect(value)
                let key = path.isEmpty ? label : "\(path).\(label)"
                var missing = found.parameters.contains { !reach.parameterIDs.contains(ObjectIdentifier($0)) }
                for held in found.modules where !reach.moduleIDs.contains(ObjectIdentifier(held)) {
                    let params = held.parameters
                    if !params.isEmpty && params.allSatisfy({ reach.parameterIDs.contains(ObjectIdentifier($0)) }) {
                        queue.append((key, held))              // inlined: its parameters are registered
                    } else {
                        missing = true
                    }
                }
                if missing { out.append(key) }
            }
        }
        return out
    }

    /// The registered tree, one line per module and per parameter, own parameters before children (the
    /// `namedParameters()` order):
    ///
    ///     ViT: 1234 parameters
    ///       cls_token [1, 1, 16] 16
    ///       patch_embed: PatchEmbed
    ///         patch_embed.proj: Conv2d
    ///           patch_embed.proj.weight [16, 3, 4, 4] 768
    ///
    /// A module line is `<key path>: <type>`, a parameter line `<key> [<shape>] <count>`, followed by
    /// ` frozen` when it does not require grad. The first line names the root's type and its total
    /// parameter count (with the trainable count when some are frozen).
    public func describe() -> String {
        let all = parameters
        let total = all.reduce(0) { $0 + $1.value.count }
        let trainable = all.filter(\.requiresGrad).reduce(0) { $0 + $1.value.count }
        var lines = ["\(type(of: self)): \(total) parameters" + (trainable == total ? "" : " (\(trainable) trainable)")]
        func walk(_ m: any Module, prefix: String, depth: Int) {
            let indent = String(repeating: "  ", count: depth)
            for (name, p) in m.directParameters {
                let shape = p.shape.map(String.init).joined(separator: ", ")
                lines.append("\(indent)\(prefix)\(name) [\(shape)] \(p.value.count)" + (p.requiresGrad ? "" : " frozen"))
            }
            for (name, child) in m.children {
                lines.append("\(indent)\(prefix)\(name): \(type(of: child))")
                walk(child, prefix: "\(prefix)\(name).", depth: depth + 1)
            }
        }
        walk(self, prefix: "", depth: 1)
        return lines.joined(separator: "\n")
    }
}

/// Everything reachable from a root through `directParameters` / `children`. Holds every module it saw:
/// `children` may build a wrapper per call (`ModuleList(resnets)`), and an identifier of a freed object
/// could be reused by a later allocation and make an unregistered object look registered.
private struct RegisteredTree {
    var modules: [(String, any Module)] = []
    var moduleIDs = Set<ObjectIdentifier>()
    var parameterIDs = Set<ObjectIdentifier>()
    var retained: [AnyObject] = []

    mutating func add(_ m: any Module, path: String) {
        retained.append(m)
        guard moduleIDs.insert(ObjectIdentifier(m)).inserted else { return }
        modules.append((path, m))
        for (_, p) in m.directParameters {
            retained.append(p)
            parameterIDs.insert(ObjectIdentifier(p))
        }
        for (name, child) in m.children { add(child, path: path.isEmpty ? name : "\(path).\(name)") }
    }
}

/// The parameters and modules inside one stored property's value.
private struct HeldObjects {
    var parameters: [Parameter] = []
    var modules: [any Module] = []

    mutating func collect(_ value: Any) {
        if let p = value as? Parameter { parameters.append(p); return }
        if let m = value as? any Module { modules.append(m); return }
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .optional?, .tuple?:
            for child in mirror.children { collect(child.value) }
        case .collection?, .set?, .dictionary?:
            // Homogeneous: when the first element holds nothing to look into ([Float], [Int: Float], ...),
            // none does; stops a large numeric array from being walked element by element.
            var first = true
            for child in mirror.children {
                if first, HeldObjects.isLeaf(child.value) { return }
                first = false
                collect(child.value)
            }
        default:
            return
        }
    }

    /// Neither a parameter, a module, nor a container that could hold one (a dictionary's (key, value)
    /// element is judged by its value).
    static func isLeaf(_ value: Any) -> Bool {
        if value is Parameter || value is any Module { return false }
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .optional?, .collection?, .set?, .dictionary?: return false
        case .tuple?:
            let parts = mirror.children.map(\.value)
            if parts.count == 2, mirror.children.first?.label == "key" { return isLeaf(parts[1]) }
            return parts.allSatisfy(isLeaf)
        default: return true
        }
    }
}

/// The stored properties of a module, its superclasses' included, with lazy storage under its plain name.
private func storedProperties(of module: any Module) -> [(String, Any)] {
    var out: [(String, Any)] = []
    var mirror: Mirror? = Mirror(reflecting: module)
    while let m = mirror {
        for child in m.children {
            guard var label = child.label else { continue }
            if label.hasPrefix("$__lazy_storage_$_") { label.removeFirst("$__lazy_storage_$_".count) }
            out.append((label, child.value))
        }
        mirror = m.superclassMirror
    }
    return out
}
