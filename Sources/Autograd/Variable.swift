import TensorCore

/// A node of the reverse-mode graph: a value, its accumulated gradient, and the operation that made it.
///
/// - `value`: the forward result (any shape).
/// - `grad`: d(loss)/d(value), same shape as `value`. Filled only on LEAVES that require grad
///   (parameters, inputs), and ACCUMULATED across `backward()` calls until `zeroGrad()`.
/// - `requiresGrad`: leaves set it; results of ops inherit it (true if any input requires grad and
///   grad mode is enabled, see `withNoGrad`).
///
/// `Variable` is a reference type (identity matters: the graph is a DAG of these), and is not
/// `Sendable`: a graph belongs to the task that built it.
public final class Variable {
    /// The forward value. Settable on leaves (e.g. optimizer updates); changing it after a graph
    /// used it does not change saved values in that graph.
    public var value: Tensor
    /// Accumulated gradient of the last `backward()` calls, or nil when none reached this leaf.
    public var grad: Tensor?
    /// Whether gradients flow to (leaf) or through (interior) this variable. Settable on leaves
    /// only (freezing/unfreezing a parameter, like `p.requires_grad_(False)`); graphs already
    /// built keep the setting they were built with.
    public var requiresGrad: Bool {
        didSet { precondition(node == nil, "requiresGrad can only be changed on a leaf (variable \(name ?? "?") of shape \(shape))") }
    }
    /// The operation that produced this variable (nil for leaves and for results built without grad).
    /// `var` only so that `deinit` can dismantle long chains iteratively.
    private(set) var node: Node?
    /// Optional label for error messages and debugging (e.g. a parameter key).
    public var name: String?

    /// A leaf variable (a parameter when `requiresGrad`, a constant input otherwise).
    public init(_ value: Tensor, requiresGrad: Bool = false, name: String? = nil) {
        self.value = value
        self.requiresGrad = requiresGrad
        self.node = nil
        self.name = name
    }

    init(value: Tensor, node: Node) {
        self.value = value
        self.requiresGrad = true
        self.node = node
        self.name = nil
    }

    /// Releases the graph behind this variable without recursion: a chain of thousands of ops would
    /// otherwise be freed by nested deinit calls and overflow a (test thread's) small stack.
    deinit {
        guard node != nil else { return }
        var pending = [node!]                      // the array holds the only other reference
        node = nil
        while var n = pending.popLast() {
            guard isKnownUniquelyReferenced(&n) else { continue }
            n.backward = { _ in [] }               // drop captured inputs first
            var inputs = n.inputs
            n.inputs = []
            while var v = inputs.popLast() {
                if isKnownUniquelyReferenced(&v), let vn = v.node {
                    v.node = nil
                    pending.append(vn)
                }
            }
        }
    }

    /// Shape of `value`.
    public var shape: [Int] { value.shape }
    /// The single element of a one-element value (a loss), as Float.
    public var item: Float {
        precondition(value.count == 1, "item: variable has shape \(shape), not one element")
        return value.scalars[0]
    }
    /// True when no operation produced this variable.
    public var isLeaf: Bool { node == nil }

    /// Clears the accumulated gradient.
    public func zeroGrad() { grad = nil }

    /// A leaf holding the same value and no history (like `tensor.detach()`).
    public func detached() -> Variable { Variable(value, requiresGrad: false) }
}

/// The recorded operation: its inputs and the rule mapping the output gradient to input gradients.
///
/// `backward(g)` returns one entry per input (nil when that input needs no gradient), each with the
/// input's shape. Rules only call TensorCore kernels; they never see other nodes.
final class Node {
    let op: String
    var inputs: [Variable]
    var backward: (Tensor) -> [Tensor?]

    init(op: String, inputs: [Variable], backward: @escaping (Tensor) -> [Tensor?]) {
        self.op = op
        self.inputs = inputs
        self.backward = backward
    }
}

extension Variable {
    /// Records the result of an op. When grad mode is off or no input requires grad, the result is
    /// a plain leaf without history and `backward` is never kept.
    static func record(
        _ op: String, _ value: Tensor, inputs: [Variable],
        backward: @escaping (Tensor) -> [Tensor?]
    ) -> Variable {
        if OpProfile.enabled { OpProfile.forward(op, value: value, inputs: inputs) }
        guard GradMode.isEnabled, inputs.contains(where: { $0.requiresGrad }) else {
            return Variable(value, requiresGrad: false)
        }
        return Variable(value: value, node: Node(op: op, inputs: inputs, backward: backward))
    }
}
