import CLua
import CLuaShim
import SSLuaCore

/// `sslua.loss`: fused, differentiable losses.
///
///     loss.cross_entropy(logits N x C, labels)        labels 1-based (tensor or list); mean
///     loss.mse(a, b)                                  mean of (a - b)^2, same sizes
///     loss.infonce(z1, z2, {beta = 2, form = "paper" | "ntxent", symmetric = })
///         paper: Eq. 1, positive not in the denominator, anchors view 1 (symmetric: both views);
///         ntxent: SimCLR's NT-Xent, temperature 1/beta, mean over the 2N anchors
///         (symmetric = false: the N anchors of view 1)
///     loss.upper_bound(h1, h2, W, {beta = 2}) -> L_upper, {invariance, repulsion, constant, nearest}
///         W is d_enc x d_proj (g(h) = W^T h); an nn.Linear(d_enc, d_proj) weight is its
///         transpose: pass `linear.weight:t()`. nearest: 1-based into [h1; h2], never i or N+i.
///     loss.infonce_terms(z1, z2, {beta = 2}) -> {invariance, repulsion, entropy, loss, mean = {...}}
///         Prop. C.1 per sample (N-vectors) and their means; `alignment` aliases `invariance`.
///     loss.vicreg(z1, z2, {sim = 25, var = 25, cov = 1})   VICReg, as facebookresearch/vicreg
///     loss.barlow_twins(z1, z2, {lambda = 0.0051})        Barlow Twins, as facebookresearch/barlowtwins
///     loss.byol(p, z)                                     mean 2 - 2 cos(p, z); z a constant target
///     loss.moco(q, k, queue, {temperature = 0.2})          MoCo v2 InfoNCE, queue K x D; k, queue constant
enum LossBindings {
    static var libraries: [LuaLibrary] { [LuaLibrary("sslua.loss", functions)] }

    static func beta(_ o: LuaTable?) throws -> Double { try o?.number("beta") ?? 2 }

    /// The options table at `i`, nil when absent or nil; anything else is a bad argument.
    static func options(_ a: LuaArgs, _ i: Int32, keys: [String]) throws -> LuaTable? {
        a.isNone(i) || lua_type(a.L, i) == LUA_TNIL ? nil : try a.optionsArgument(i, keys: keys)
    }

    /// t[key] = tensor, for the table on top of the stack.
    static func setField(_ a: LuaArgs, _ key: String, _ t: Tensor) {
        TensorBox.push(a.L, t); lua_setfield(a.L, -2, key)
    }

    static let functions: [(String, LuaFunction)] = [
        ("cross_entropy", { a in
            let logits = try a.tensor(1)
            return a.push(try CrossEntropy.loss(logits, a.labels(2)))
        }),
        ("mse", { a in a.push(try MSE.loss(a.tensor(1), a.tensor(2))) }),
        ("infonce", { a in
            let o = try options(a, 3, keys: ["beta", "form", "symmetric"])
            let formName = try o?.string("form") ?? "paper"
            guard let form = InfoNCE.Form(rawValue: formName) else {
                throw SSLuaError("unknown form '\(formName)' (expected \"paper\" or \"ntxent\")")
            }
            return a.push(try InfoNCE.loss(a.tensor(1), a.tensor(2), beta: beta(o), form: form,
                                           symmetric: o?.bool("symmetric")))
        }),
        ("upper_bound", { a in
            let h1 = try a.tensor(1), h2 = try a.tensor(2)
            guard a.isTensor(3) else { throw a.bad(3, "W (d_enc x d_proj tensor) expected, got \(a.typeName(3))") }
            let w = try a.tensor(3)
            let b = try UpperBound.bound(h1, h2, w, beta: beta(options(a, 4, keys: ["beta"])))
            a.push(b.upper)
            lua_createtable(a.L, 0, 4)
            setField(a, "invariance", b.invariance)
            setField(a, "repulsion", b.repulsion)
            lua_pushnumber(a.L, b.constant); lua_setfield(a.L, -2, "constant")
            setField(a, "nearest", try Tensor.from(b.nearest.map { Double($0 + 1) }, shape: [b.nearest.count]))
            return 2
        }),
        ("vicreg", { a in
            let o = try options(a, 3, keys: ["sim", "var", "cov"])
            return a.push(try VICReg.loss(a.tensor(1), a.tensor(2), sim: o?.number("sim") ?? 25,
                                          variance: o?.number("var") ?? 25, covariance: o?.number("cov") ?? 1))
        }),
        ("barlow_twins", { a in
            let o = try options(a, 3, keys: ["lambda"])
            return a.push(try BarlowTwins.loss(a.tensor(1), a.tensor(2), lambda: o?.number("lambda") ?? 0.0051))
        }),
        ("byol", { a in a.push(try BYOL.loss(a.tensor(1), a.tensor(2))) }),
        ("moco", { a in
            guard a.isTensor(3) else { throw a.bad(3, "queue (K x D tensor) expected, got \(a.typeName(3))") }
            let o = try options(a, 4, keys: ["temperature"])
            return a.push(try MoCo.loss(a.tensor(1), a.tensor(2), queue: a.tensor(3),
                                        temperature: o?.number("temperature") ?? 0.2))
        }),
        ("infonce_terms", { a in
            let t = try InfoNCETerms.terms(a.tensor(1), a.tensor(2), beta: beta(options(a, 3, keys: ["beta"])))
            lua_createtable(a.L, 0, 5)
            setField(a, "invariance", t.invariance)
            setField(a, "alignment", t.invariance)      // the same term under the name the examples use
            setField(a, "repulsion", t.repulsion)
            setField(a, "entropy", t.entropy)
            setField(a, "loss", t.loss)
            lua_createtable(a.L, 0, 4)
            setField(a, "invariance", try t.invariance.mean())
            setField(a, "repulsion", try t.repulsion.mean())
            setField(a, "entropy", try t.entropy.mean())
            setField(a, "loss", try t.loss.mean())
            lua_setfield(a.L, -2, "mean")
            return 1
        }),
    ]
}
