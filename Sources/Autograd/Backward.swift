import Dispatch
import TensorCore

extension Variable {
    /// Reverse-mode sweep from this variable.
    ///
    /// `seed` is d(loss)/d(self); it defaults to ones, which for a scalar loss is the usual 1.
    /// Interior gradients live only for the sweep; leaves that require grad ACCUMULATE into `grad`
    /// (call `zeroGrad` between steps). The graph is walked in reverse topological order, built
    /// iteratively so deep graphs do not overflow the stack.
    public func backward(seed: Tensor? = nil) {
        precondition(requiresGrad, "backward: the variable does not require grad (built under withNoGrad or from constants only)")
        let g0 = seed ?? Tensor(repeating: 1, shape: value.shape)
        precondition(g0.shape == value.shape, "backward: seed shape \(g0.shape) != value shape \(value.shape)")

        let order = topologicalOrder()
        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): g0]
        for v in order.reversed() {
            guard let g = grads.removeValue(forKey: ObjectIdentifier(v)) else { continue }
            guard let node = v.node else {
                if v.grad == nil { v.grad = g } else { Kernels.addInPlace(&v.grad!, g) }
                continue
            }
            let t0 = OpProfile.enabled ? DispatchTime.now().uptimeNanoseconds : 0
            let inGrads = node.backward(g)
            if OpProfile.enabled { OpProfile.backward(node.op, seconds: Double(DispatchTime.now().uptimeNanoseconds &- t0) / 1e9) }
            precondition(inGrads.count == node.inputs.count,
                         "backward rule of \(node.op) returned \(inGrads.count) grads for \(node.inputs.count) inputs")
            for (input, ig) in zip(node.inputs, inGrads) where input.requiresGrad {
                guard let ig else { continue }
                precondition(ig.shape == input.value.shape,
                             "backward rule of \(node.op): grad shape \(ig.shape) != input shape \(input.value.shape)")
                let key = ObjectIdentifier(input)
                // In place: the dictionary holds the only reference to a running sum it made
                // (copy-on-write copies a sum that still shares an input's storage).
                if var sum = grads.removeValue(forKey: key) {
                    let t1 = OpProfile.enabled ? DispatchTime.now().uptimeNanoseconds : 0
                    Kernels.addInPlace(&sum, ig)
                    if OpProfile.enabled {
                        OpProfile.backward(OpProfile.accumulation, seconds: Double(DispatchTime.now().uptimeNanoseconds &- t1) / 1e9)
                    }
                    grads[key] = sum
                } else {
                    grads[key] = ig
                }
            }
        }
    }

    /// Variables reachable from self that require grad, inputs before users.
    func topologicalOrder() -> [Variable] {
        var order: [Variable] = []
        var visited = Set<ObjectIdentifier>()
        // Iterative DFS: (variable, next input index to visit).
        var stack: [(Variable, Int)] = [(self, 0)]
        visited.insert(ObjectIdentifier(self))
        while let (v, i) = stack.popLast() {
            let inputs = v.node?.inputs ?? []
            if i < inputs.count {
                stack.append((v, i + 1))
                let child = inputs[i]
                if child.requiresGrad, visited.insert(ObjectIdentifier(child)).inserted {
                    stack.append((child, 0))
                }
            } else {
                order.append(v)
            }
        }
        return order
    }
}

/// Clears the gradients of `variables`.
public func zeroGrad(_ variables: [Variable]) {
    for v in variables { v.grad = nil }
}

/// Evaluates a scalar function and its gradient with respect to `parameters`.
///
/// `f` builds a graph from the parameters and returns a single-element loss. The returned gradients
/// are this call's only: existing `grad`s are saved, cleared for the sweep, and restored summed
/// with the new ones, so accumulation semantics are preserved for callers that rely on them.
/// A parameter the loss does not depend on gets a zero gradient.
public func valueAndGrad(
    of f: () throws -> Variable, at parameters: [Variable]
) rethrows -> (value: Float, grads: [Tensor]) {
    for p in parameters {
        precondition(p.requiresGrad, "valueAndGrad: parameter \(p.name ?? "?") of shape \(p.shape) does not require grad")
    }
    let saved = parameters.map(\.grad)
    zeroGrad(parameters)
    let loss = try GradMode.$enabledValue.withValue(true) { try f() }
    precondition(loss.value.count == 1, "valueAndGrad: loss must have one element, got shape \(loss.shape)")
    if loss.requiresGrad { loss.backward() }
    let grads = parameters.map { $0.grad ?? Tensor(zeros: $0.shape) }
    for (p, (s, g)) in zip(parameters, zip(saved, grads)) {
        p.grad = s.map { Kernels.add($0, g) } ?? (p.grad == nil ? nil : g)
    }
    return (loss.value.scalars[0], grads)
}
