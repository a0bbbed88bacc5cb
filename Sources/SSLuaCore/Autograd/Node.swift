/// One recorded operation of the autograd tape: its differentiable inputs and the function
/// mapping the output's gradient to theirs (nil where an input gets no gradient).
public final class Node {
    public let name: String
    public let inputs: [Tensor]
    public let backward: (Tensor) throws -> [Tensor?]

    public init(_ name: String, _ inputs: [Tensor], _ backward: @escaping (Tensor) throws -> [Tensor?]) {
        self.name = name
        self.inputs = inputs
        self.backward = backward
    }
}

/// Global autograd switch (`sslua.no_grad`), as PyTorch's grad mode.
public enum GradMode {
    public static var enabled = true

    /// Runs `body` with recording off, restoring the previous mode even when it throws.
    public static func withoutGrad<R>(_ body: () throws -> R) rethrows -> R {
        let saved = enabled
        enabled = false
        defer { enabled = saved }
        return try body()
    }
}

extension Tensor {
    /// Whether an op on `inputs` must be recorded.
    @inlinable public static func needsGrad(_ inputs: [Tensor]) -> Bool {
        GradMode.enabled && inputs.contains { $0.requiresGrad }
    }

    /// Attaches `node` to this freshly computed result when any input requires grad.
    @discardableResult
    public func recorded(_ name: String, _ inputs: [Tensor],
                         _ backward: @escaping (Tensor) throws -> [Tensor?]) -> Tensor {
        if Tensor.needsGrad(inputs) {
            node = Node(name, inputs, backward)
            requiresGrad = true
        }
        return self
    }

    /// `recorded` for backward functions that need the op's output (exp, sqrt, sigmoid, ...).
    /// The closure receives a detached alias of the output (same storage): capturing `out`
    /// itself would make a retain cycle out -> node -> closure -> out, and every such result
    /// would leak its storage.
    @discardableResult
    public func recordedUsingOutput(_ name: String, _ inputs: [Tensor],
                                    _ backward: @escaping (Tensor, Tensor) throws -> [Tensor?]) -> Tensor {
        guard Tensor.needsGrad(inputs) else { return self }
        let value = detach()
        return recorded(name, inputs) { g in try backward(g, value) }
    }

    /// Reverse-mode differentiation from this tensor. `gradient` defaults to 1 for a scalar.
    public func backward(_ gradient: Tensor? = nil) throws {
        guard requiresGrad else {
            throw SSLuaError("element 0 of tensors does not require grad and does not have a grad_fn")
        }
        let seed: Tensor
        if let g = gradient {
            try require(g.shape == shape, "gradient of size \(shapeString(g.shape)) for a tensor of size \(shapeString(shape))")
            seed = g
        } else {
            try require(numel == 1, "grad can be implicitly created only for scalar outputs (size \(shapeString(shape)))")
            seed = try Tensor.full(shape, 1, dtype: dtype)
        }
        // Topological order (iterative DFS: deep graphs must not overflow the stack).
        var order: [Tensor] = []
        var seen = Set<ObjectIdentifier>()
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (t, done) = stack.popLast() {
            if done { order.append(t); continue }
            let id = ObjectIdentifier(t)
            if seen.contains(id) { continue }
            seen.insert(id)
            stack.append((t, true))
            if let n = t.node { for i in n.inputs where i.requiresGrad { stack.append((i, false)) } }
        }
        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): seed]
        try GradMode.withoutGrad {
            for t in order.reversed() {
                let id = ObjectIdentifier(t)
                guard let g = grads.removeValue(forKey: id) else { continue }
                if let n = t.node {
                    let gs = try n.backward(g)
                    for (inp, gi) in zip(n.inputs, gs) {
                        guard let gi = gi, inp.requiresGrad else { continue }
                        let gi2 = gi.shape == inp.shape ? gi : try gi.sumTo(inp.shape)
                        let k = ObjectIdentifier(inp)
                        grads[k] = try grads[k].map { try $0.add(gi2) } ?? gi2
                    }
                } else if t.requiresGrad {
                    let gc = try g.to(t.dtype).contiguous()
                    if let old = t.grad { t.grad = try old.add(gc) } else {
                        t.grad = gc === g ? try gc.clone() : gc
                    }
                }
                try Parallel.checkInterrupt()
            }
        }
    }

    /// A tensor sharing this one's values, cut from the graph.
    public func detach() -> Tensor {
        Tensor(storage: storage, shape: shape, strides: strides, offset: offset)
    }

    /// In-place ops are refused on tensors that take part in a graph while grad is enabled.
    public func checkInPlace(_ op: String) throws {
        if GradMode.enabled && requiresGrad {
            throw SSLuaError("a tensor that requires grad is used in an in-place operation; use sslua.no_grad or the out-of-place '\(op)'")
        }
        // An expanded view writes several elements to one memory location: the result would
        // depend on the order of the writes (PyTorch refuses it too).
        for d in 0..<dim where strides[d] == 0 && shape[d] > 1 {
            throw SSLuaError("unsupported in-place '\(op)': more than one element of the written-to tensor refers to a single memory location (an expanded view); use :contiguous() first")
        }
    }
}
