import Autograd
import TensorCore

/// A learnable tensor: a leaf `Variable` that requires grad (set `requiresGrad = false` to freeze).
/// Its PyTorch key is given by the module walk, not stored here.
public typealias Parameter = Variable

/// A layer or model: an ordered tree of named parameters and child modules.
///
/// Names follow PyTorch exactly: a module lists its own parameters (`weight`, `bias`) and its
/// children (`to_q`, `blocks.0`, `to_out.0`, ...) in registration order, and `namedParameters()`
/// joins them with dots (`blocks.0.attn.qkv.weight`), own parameters first then each child, like
/// `torch.nn.Module.named_parameters()`. Modules are classes (their parameters are shared state).
public protocol Module: AnyObject {
    /// This module's own parameters, in order, with local names.
    var directParameters: [(String, Parameter)] { get }
    /// Child modules, in order, with local names (which may contain dots, e.g. `to_out.0`).
    var children: [(String, any Module)] { get }
    /// Switches this module's own train/eval behaviour (Dropout); `train(_:)` walks the tree.
    func setTrainingSelf(_ training: Bool)
}

extension Module {
    public var directParameters: [(String, Parameter)] { [] }
    public var children: [(String, any Module)] { [] }
    public func setTrainingSelf(_ training: Bool) {}

    /// Every parameter with its full dotted key, in the deterministic PyTorch order.
    public func namedParameters() -> [(String, Parameter)] {
        var out = directParameters
        for (name, child) in children {
            out += child.namedParameters().map { ("\(name).\($0.0)", $0.1) }
        }
        return out
    }

    /// All parameters in walk order.
    public var parameters: [Parameter] { namedParameters().map(\.1) }

    /// Parameters that currently require grad, with their keys.
    public func trainableParameters() -> [(String, Parameter)] { namedParameters().filter { $0.1.requiresGrad } }

    /// Clears the gradients of every parameter.
    public func zeroGrad() { for p in parameters { p.grad = nil } }

    /// Freezes (`false`) or unfreezes every parameter of this subtree.
    public func setRequiresGrad(_ on: Bool) { for p in parameters { p.requiresGrad = on } }

    /// Train (true) or eval (false) mode for the whole subtree.
    public func train(_ training: Bool = true) {
        setTrainingSelf(training)
        for (_, c) in children { c.train(training) }
    }

    /// Total number of scalars in all parameters.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }
}

/// An ordered list of modules named `0`, `1`, ... (PyTorch `ModuleList`/`Sequential` keys).
public final class ModuleList<Element: Module>: Module {
    public var items: [Element]
    public init(_ items: [Element]) { self.items = items }
    public var children: [(String, any Module)] { items.enumerated().map { ("\($0.offset)", $0.element) } }
    public subscript(i: Int) -> Element { items[i] }
    public var count: Int { items.count }
}
