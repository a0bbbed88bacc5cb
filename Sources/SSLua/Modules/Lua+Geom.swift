import CLua
import CLuaShim
import SSLuaCore

/// `sslua.geom`: spectra, ranks, FVU, nearest negatives, kNN and linear
/// evaluation, alignment/uniformity, histograms, linear regions. Scalars come back as numbers.
///
///     geom.singular_values(M)                     descending, M's dtype
///     geom.rank(M[, {tau=} | {rtol=} | {variance=}])  integer; default NumPy's matrix_rank tolerance
///     geom.effective_rank(M)                      RankMe
///     geom.fvu(D, W)                              Eq. 10; D N x d_enc, W d_enc x d_proj
///     geom.nearest_negative(h1, h2[, W])          idx (1-based into [h1; h2]), the h~* rows
///     geom.normalized_distance(a, b)              per-row distance of the normalised rows
///     geom.label_agreement(idx, labels_pool, labels)  fraction in [0, 1]
///     geom.knn_accuracy{train=, train_labels=, test=, test_labels=, k = 200, temperature = 0.07}
///     geom.linear_probe{train=, train_labels=, test=, test_labels=, epochs = 500, lr = 1,
///                       weight_decay = 1e-4, tol = 1e-6} -> test_acc, train_acc, {loss, iterations}
///         (L-BFGS, full batch; epochs = maximum iterations, lr = the first step's scale)
///     geom.alignment(z1, z2), geom.uniformity(z)  Wang & Isola (t = 2)
///     geom.histogram(x[, bins = 10[, {range = {lo, hi}}]]) -> counts, edges (float64)
///     geom.linear_regions(mlp, H) -> count, region id per row (1-based)
///         mlp: { {W1, b1}, {W2, b2}, ... } with W out x in (nn.Linear's layout), ReLU between
///         layers, or an sslua.nn Linear/Sequential (BatchNorm1d counts as its eval-mode map).
enum GeomBindings {
    static var libraries: [LuaLibrary] { [LuaLibrary("sslua.geom", functions)] }

    static let functions: [(String, LuaFunction)] = [
        ("singular_values", { a in a.push(try Rank.singularValues(a.tensor(1))) }),
        ("rank", { a in
            let m = try a.tensor(1)
            var crit = Rank.Criterion.numpyDefault
            if let o = try a.optionsArgument(2, keys: ["tau", "rtol", "variance"]) {
                let given = ["tau", "rtol", "variance"].filter { o.has($0) }
                try require(given.count <= 1, "give only one of tau, rtol, variance (got \(given.joined(separator: ", ")))")
                if let t = try o.number("tau") { crit = .absolute(t) }
                if let r = try o.number("rtol") { crit = .relative(r) }
                if let v = try o.number("variance") { crit = .variance(v) }
            }
            return a.push(try Rank.rank(m, crit))
        }),
        ("effective_rank", { a in a.push(try Rank.effectiveRank(a.tensor(1))) }),
        ("fvu", { a in a.push(try FVU.fvu(a.tensor(1), a.tensor(2))) }),
        ("nearest_negative", { a in
            let w: Tensor? = a.isNone(3) || lua_type(a.L, 3) == LUA_TNIL ? nil : try a.tensor(3)
            let (idx, rows) = try NearestNegative.find(a.tensor(1), a.tensor(2), w)
            a.push(try Tensor.from(idx.map { Double($0 + 1) }, shape: [idx.count]))
            a.push(rows)
            return 2
        }),
        ("normalized_distance", { a in a.push(try NearestNegative.normalizedDistance(a.tensor(1), a.tensor(2))) }),
        ("label_agreement", { a in
            a.push(try NearestNegative.labelAgreement(a.labels(1, "idx"), a.labels(2, "labels_pool"),
                                                       a.labels(3)))
        }),
        ("knn_accuracy", { a in
            let o = try a.table(1).checked(keys: ["train", "train_labels", "test", "test_labels", "k", "temperature"])
            let acc = try KNN.accuracy(train: o.requiredTensor("train"), trainLabels: o.labels("train_labels"),
                                       test: o.requiredTensor("test"), testLabels: o.labels("test_labels"),
                                       k: o.integer("k") ?? 200, temperature: o.number("temperature") ?? 0.07)
            return a.push(acc)
        }),
        ("linear_probe", { a in
            let o = try a.table(1).checked(keys: ["train", "train_labels", "test", "test_labels", "epochs", "lr",
                                                  "weight_decay", "tol"])
            let r = try LinearProbe.fit(train: o.requiredTensor("train"), trainLabels: o.labels("train_labels"),
                                        test: o.requiredTensor("test"), testLabels: o.labels("test_labels"),
                                        maxIterations: o.integer("epochs") ?? 500, step: o.number("lr") ?? 1,
                                        weightDecay: o.number("weight_decay") ?? 1e-4,
                                        tolerance: o.number("tol") ?? 1e-6)
            a.push(r.testAccuracy); a.push(r.trainAccuracy)
            lua_createtable(a.L, 0, 2)
            lua_pushnumber(a.L, r.loss); lua_setfield(a.L, -2, "loss")
            lua_pushinteger(a.L, lua_Integer(r.iterations)); lua_setfield(a.L, -2, "iterations")
            return 3
        }),
        ("alignment", { a in a.push(try Alignment.alignment(a.tensor(1), a.tensor(2))) }),
        ("uniformity", { a in a.push(try Alignment.uniformity(a.tensor(1))) }),
        ("histogram", { a in
            let x = try a.tensor(1)
            let bins = try a.optInteger(2, 10)
            var range: (Double, Double)? = nil
            if let r = try a.options(at: 3, keys: ["range"])?.doubles("range") {
                try require(r.count == 2, "range must be {min, max}")
                range = (r[0], r[1])
            }
            let (counts, edges) = try Histogram.histogram(x, bins: bins, range: range)
            a.push(try Tensor.from(counts, shape: [counts.count], dtype: .float64))
            a.push(try Tensor.from(edges, shape: [edges.count], dtype: .float64))
            return 2
        }),
        ("linear_regions", { a in
            let h = try a.tensor(2)
            let (count, ids) = try LinearRegions.count(ops: try RegionArgs.ops(a, 1), h)
            a.push(count)
            a.push(try Tensor.from(ids.map { Double($0 + 1) }, shape: [ids.count]))
            return 2
        }),
    ]
}

/// The network argument of `linear_regions`: a list `{ {W1, b1}, {W2, b2}, ... }` (nn.Linear
/// convention, ReLU between layers) or an `sslua.nn` module (Linear, Sequential of Linear,
/// BatchNorm1d (its eval-mode affine map, from the running statistics), ReLU, LeakyReLU,
/// Identity): the class from its metatable, children from `named_children()`, and the
/// public fields (weight, bias, running_mean, running_var, eps) with raw accesses.
enum RegionArgs {
    static func ops(_ a: LuaArgs, _ i: Int32) throws -> [LinearRegions.Op] {
        guard a.isTable(i) else { throw a.bad(i, "MLP (list of {W, b} or an nn module) expected, got \(a.typeName(i))") }
        let idx = lua_absindex(a.L, i)
        if let type = moduleType(a.L, idx) { return try module(a.L, idx, type, depth: 0) }
        let mlp = try a.table(i)
        try require(mlp.length > 0, "the MLP has no layers")
        var layers: [(Tensor, Tensor?)] = []
        for k in 1...mlp.length {
            let t = lua_rawgeti(a.L, mlp.index, lua_Integer(k)); defer { sslua_pop(a.L, 1) }
            guard t == LUA_TTABLE else { throw SSLuaError("layer \(k) must be a table {W, b}, got \(String(cString: lua_typename(a.L, t)))") }
            let ts = try LuaTable(L: a.L, index: lua_absindex(a.L, -1), owner: a.name).tensorArray()
            try require(ts.count == 1 || ts.count == 2, "layer \(k) must be {W} or {W, b}, got \(ts.count) entries")
            layers.append((ts[0], ts.count == 2 ? ts[1] : nil))
        }
        return LinearRegions.mlp(layers)
    }

    /// The class of an sslua.nn module ("Linear" for the class `sslua.nn.Linear`: its
    /// metatable's `__name`, the name `util.class` gives every class), or nil for a plain table.
    static func moduleType(_ L: OpaquePointer, _ idx: Int32) -> String? {
        guard lua_getmetatable(L, idx) != 0 else { return nil }
        defer { sslua_pop(L, 1) }
        lua_pushstring(L, "__name")
        defer { sslua_pop(L, 1) }
        guard lua_rawget(L, -2) == LUA_TSTRING, let s = lua_tolstring(L, -1, nil) else { return nil }
        let name = String(cString: s), prefix = "sslua.nn."
        return name.hasPrefix(prefix) ? String(name.dropFirst(prefix.count)) : nil
    }

    /// Pushes the list of the direct children of the module at `idx`, in order, from its
    /// public `named_children()` (called protected: nn.lua's fields stay its own).
    static func pushChildren(_ L: OpaquePointer, _ idx: Int32) throws {
        let chunk = "local m = ... local out = {} for _, c in m:named_children() do out[#out + 1] = c end return out"
        guard sslua_loadstring(L, chunk) == LUA_OK else {
            defer { sslua_pop(L, 1) }
            throw SSLuaError("cannot list the children: \(L.string(at: -1))")
        }
        lua_pushvalue(L, idx)
        guard lua_pcallk(L, 1, 1, 0, 0, nil) == LUA_OK else {
            defer { sslua_pop(L, 1) }
            throw SSLuaError("cannot list the children: \(L.string(at: -1))")
        }
    }

    static func rawTensor(_ L: OpaquePointer, _ idx: Int32, _ key: String) throws -> Tensor? {
        lua_pushstring(L, key)
        _ = lua_rawget(L, idx)
        defer { sslua_pop(L, 1) }
        return try TensorBox.get(L, -1)
    }

    static func rawNumber(_ L: OpaquePointer, _ idx: Int32, _ key: String) -> Double? {
        lua_pushstring(L, key)
        defer { sslua_pop(L, 1) }
        return lua_rawget(L, idx) == LUA_TNUMBER ? lua_tonumberx(L, -1, nil) : nil
    }

    static func module(_ L: OpaquePointer, _ idx: Int32, _ type: String, depth: Int) throws -> [LinearRegions.Op] {
        try require(depth < 64, "modules nested too deeply")
        try reserveLuaStack(L, 8)   // each level of the recursion holds a few values
        switch type {
        case "Linear":
            guard let w = try rawTensor(L, idx, "weight") else { throw SSLuaError("Linear module without a weight") }
            return [.linear(w, try rawTensor(L, idx, "bias"))]
        case "ReLU", "LeakyReLU":
            return [.relu]       // a leaky ReLU is affine on the same two half-spaces
        case "Identity", "Dropout":
            return []
        case "BatchNorm1d":
            guard let rm = try rawTensor(L, idx, "running_mean"), let rv = try rawTensor(L, idx, "running_var") else {
                throw SSLuaError("BatchNorm1d without running statistics has no fixed affine map")
            }
            return [try LinearRegions.batchNorm(mean: rm, variance: rv, weight: rawTensor(L, idx, "weight"),
                                                bias: rawTensor(L, idx, "bias"), eps: rawNumber(L, idx, "eps") ?? 1e-5)]
        case "Sequential":
            try pushChildren(L, idx)
            let children = lua_absindex(L, -1)
            defer { sslua_pop(L, 1) }
            var ops: [LinearRegions.Op] = []
            let count = Int(lua_rawlen(L, children))
            for k in 0..<count {
                _ = lua_rawgeti(L, children, lua_Integer(k + 1))
                defer { sslua_pop(L, 1) }
                let child = lua_absindex(L, -1)
                guard lua_type(L, child) == LUA_TTABLE, let t = moduleType(L, child) else {
                    throw SSLuaError("child \(k + 1) of the Sequential is not a module")
                }
                ops += try module(L, child, t, depth: depth + 1)
            }
            return ops
        default:
            throw SSLuaError("unsupported module \(type) (Linear, BatchNorm1d, ReLU, LeakyReLU, Identity, Sequential)")
        }
    }
}
