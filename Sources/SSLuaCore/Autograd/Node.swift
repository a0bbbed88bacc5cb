/// One recorded operation of the autograd tape: its differentiable inputs and the function
/// mapping the output's gradient to theirs (nil where an input gets no gradient).
public final class Node {
    public let name: String
    public let inputs: [Tensor]
    public let backward: (Tensor) throws -> [Tensor?]
    /// The values the backward reads, with their storages' versions when the op was recorded
    /// (PyTorch's saved variables): `backward` refuses to run the node if one has changed.
    public private(set) var saved: [SavedValue] = []

    public init(_ name: String, _ inputs: [Tensor], _ backward: @escaping (Tensor) throws -> [Tensor?]) {
        self.name = name
        self.inputs = inputs
        self.backward = backward
    }

    /// Records `t`'s current version; `role` says which value it is in the error message.
    public func save(_ t: Tensor, _ role: SavedValue.Role) {
        saved.append(SavedValue(storage: t.storage, version: t.storage.version, shape: t.shape, role: role))
    }

    /// Throws PyTorch's error when a saved value was modified in place after recording.
    /// O(saved values): one integer comparison each, no per-element work.
    public func checkSavedVersions() throws {
        for v in saved where v.storage.version != v.version {
            throw SSLuaError("one of the variables needed for gradient computation has been modified by an inplace operation: "
                + "the \(shapeString(v.shape)) \(v.storage.dtype.rawValue) tensor saved by '\(name)' (\(v.role.text)) "
                + "is at version \(v.storage.version); expected version \(v.version) (it, a view of it or its detach() "
                + "was changed in place, e.g. under sslua.no_grad, after '\(name)' used it; use an out-of-place op or clone() it first)")
        }
    }

    /// Which inputs (0-based) each op's backward reads; an op not listed reads all of them
    /// (the safe default for new ops). Views, sums and ops whose backward uses only shapes,
    /// indices computed at record time, or the output, read none.
    static let savedInputs: [String: [Int]] = [
        "add": [], "sub": [], "neg": [], "sum": [], "mean": [], "floor": [], "sign": [],
        "reshape": [], "transpose": [], "permute": [], "narrow": [], "select": [], "unsqueeze": [],
        "squeeze": [], "expand": [], "contiguous": [], "to": [], "clone": [], "cat": [],
        "max": [], "min": [], "sort": [], "topk": [], "gather": [], "index": [],
        "scatter": [], "scatter_add": [], "where": [],
        "exp": [], "sqrt": [], "sigmoid": [], "tanh": [], "reciprocal": [], "expm1": [],
        "softmax": [], "log_softmax": [], "div": [1],
        "linear": [0, 1], "conv2d": [0, 1], "batch_norm": [0, 1], "add_relu": [],
    ]
    /// Ops recorded with `recorded` whose backward reads their own output (through a detached
    /// alias captured by the closure); `recordedUsingOutput` saves the output itself.
    static let readsOutput: Set<String> = ["batch_norm", "add_relu"]
}

/// One saved value of a node: the storage and its version at record time.
public struct SavedValue {
    public let storage: Storage
    public let version: Int
    public let shape: [Int]
    public let role: Role

    /// Which value of the op it is (text built only for an error).
    public enum Role {
        case input(Int), output, captured
        var text: String {
            switch self {
            case .input(let i): return "its input \(i + 1)"
            case .output: return "its output"
            case .captured: return "a tensor it captured"
            }
        }
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

    /// Attaches `node` to this freshly computed result when any input requires grad, with the
    /// versions of the inputs its backward reads (`Node.savedInputs`) and of `saving`, other
    /// tensors the closure captures (a condition, a mask).
    @discardableResult
    public func recorded(_ name: String, _ inputs: [Tensor], saving extra: [Tensor] = [],
                         _ backward: @escaping (Tensor) throws -> [Tensor?]) -> Tensor {
        if Tensor.needsGrad(inputs) {
            let n = Node(name, inputs, backward)
            let reads = Node.savedInputs[name]
            for (i, t) in inputs.enumerated() where reads?.contains(i) ?? true { n.save(t, .input(i)) }
            for t in extra { n.save(t, .captured) }
            if Node.readsOutput.contains(name) { n.save(self, .output) }
            node = n
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
        recorded(name, inputs) { g in try backward(g, value) }
        node?.save(value, .output)
        return self
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
                    try n.checkSavedVersions()
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
        // Every in-place write from Lua passes here: one version bump for the op (autograd's
        // saved values compare against it).
        storage.bumpVersion()
    }

    /// Assigns `.grad` as PyTorch's setter: same size and dtype as the tensor, never the tensor
    /// itself; the value is stored detached, so an assigned expression (`w.grad = w.grad + w*k`
    /// under grad mode) never keeps its graph alive through the leaf (a reference cycle
    /// w -> grad -> node -> w would leak every step's graph).
    public func setGrad(_ g: Tensor?) throws {
        guard let g = g else { grad = nil; return }
        try require(g !== self, "can't assign a tensor as its own grad")
        try require(g.shape == shape, "assigned grad has size \(shapeString(g.shape)), expected \(shapeString(shape))")
        try require(g.dtype == dtype, "assigned grad has dtype \(g.dtype.rawValue), expected \(dtype.rawValue)")
        grad = g.node == nil && !g.requiresGrad ? g : g.detach()
    }
}
