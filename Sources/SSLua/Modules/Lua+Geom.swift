import CLua
import CShim
import SSLuaCore

/// `sslua.geom` (SPEC §4.4, §6): spectra, ranks, FVU, nearest negatives, kNN and linear
/// evaluation, alignment/uniformity, histograms, linear regions. Scalars come back as numbers.
enum GeomBindings {
    static var libraries: [LuaLibrary] { [LuaLibrary("sslua.geom", functions)] }

    static let functions: [(String, LuaFunction)] = [
        ("singular_values", { a in a.push(try Spectrum.singularValues(a.tensor(1))) }),
        ("rank", { a in
            let m = try a.tensor(1)
            var crit = Spectrum.Criterion.numpyDefault
            if let o = a.options(at: 2) {
                let given = ["tau", "rtol", "variance"].filter { o.has($0) }
                try require(given.count <= 1, "give only one of tau, rtol, variance (got \(given.joined(separator: ", ")))")
                if let t = try o.number("tau") { crit = .absolute(t) }
                if let r = try o.number("rtol") { crit = .relative(r) }
                if let v = try o.number("variance") { crit = .variance(v) }
            } else if !a.isNone(2) { throw a.bad(2, "options table expected, got \(a.typeName(2))") }
            return a.push(try Spectrum.rank(m, crit))
        }),
        ("effective_rank", { a in a.push(try Spectrum.effectiveRank(a.tensor(1))) }),
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
            a.push(try NearestNegative.labelAgreement(MathArgs.labels(a, 1, "idx"), MathArgs.labels(a, 2, "labels_pool"),
                                                       MathArgs.labels(a, 3)))
        }),
        ("knn_accuracy", { a in
            let o = try a.table(1)
            let acc = try KNN.accuracy(train: MathArgs.field(o, "train"), trainLabels: MathArgs.labels(o, "train_labels"),
                                       test: MathArgs.field(o, "test"), testLabels: MathArgs.labels(o, "test_labels"),
                                       k: o.integer("k") ?? 200, temperature: o.number("temperature") ?? 0.07)
            return a.push(acc)
        }),
        ("linear_probe", { a in
            let o = try a.table(1)
            let r = try LinearProbe.fit(train: MathArgs.field(o, "train"), trainLabels: MathArgs.labels(o, "train_labels"),
                                        test: MathArgs.field(o, "test"), testLabels: MathArgs.labels(o, "test_labels"),
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
            if let r = try a.options(at: 3)?.doubles("range") {
                try require(r.count == 2, "range must be {min, max}")
                range = (r[0], r[1])
            }
            let (counts, edges) = try Histogram.histogram(x, bins: bins, range: range)
            a.push(try Tensor.from(counts, shape: [counts.count], dtype: .float64))
            a.push(try Tensor.from(edges, shape: [edges.count], dtype: .float64))
            return 2
        }),
        ("linear_regions", { a in
            let mlp = try a.table(1)
            var layers: [(Tensor, Tensor?)] = []
            for k in 1...max(mlp.length, 1) where mlp.length > 0 {
                let t = lua_rawgeti(a.L, mlp.index, lua_Integer(k)); defer { sslua_pop(a.L, 1) }
                guard t == LUA_TTABLE else { throw SSLuaError("layer \(k) must be a table {W, b}, got \(String(cString: lua_typename(a.L, t)))") }
                let layer = LuaTable(L: a.L, index: lua_absindex(a.L, -1), owner: a.name)
                let ts = try layer.tensorArray()
                try require(ts.count == 1 || ts.count == 2, "layer \(k) must be {W} or {W, b}, got \(ts.count) entries")
                layers.append((ts[0], ts.count == 2 ? ts[1] : nil))
            }
            let (count, ids) = try LinearRegions.count(layers, a.tensor(2))
            a.push(count)
            a.push(try Tensor.from(ids.map { Double($0 + 1) }, shape: [ids.count]))
            return 2
        }),
    ]
}

/// Argument readers shared by the math bindings (loss, geom, lie).
enum MathArgs {
    /// 1-based integer labels from a tensor or a Lua list, returned 0-based.
    static func labels(_ a: LuaArgs, _ i: Int32, _ what: String = "labels") throws -> [Int] {
        if a.isTensor(i) { return try labels(a.tensor(i), what) }
        guard a.isTable(i) else { throw a.bad(i, "\(what) (tensor or list of integers) expected, got \(a.typeName(i))") }
        return try oneBased(a.intList(i), what)
    }

    static func labels(_ o: LuaTable, _ key: String) throws -> [Int] {
        let t = o.pushField(key); defer { sslua_pop(o.L, 1) }
        if let x = try TensorBox.get(o.L, -1) { return try labels(x, key) }
        guard t == LUA_TTABLE else { throw SSLuaError("field '\(key)' must be a tensor or a list of integer labels") }
        return try oneBased(LuaTable(L: o.L, index: lua_absindex(o.L, -1), owner: o.owner).intArray(), key)
    }

    static func labels(_ t: Tensor, _ what: String) throws -> [Int] {
        try require(t.dim <= 1, "\(what) must be a 1-d tensor, got size \(shapeString(t.shape))")
        return try oneBased(t.toDoubles().map { v in
            guard v == v.rounded(), Swift.abs(v) < 1e15 else { throw SSLuaError("\(what) must hold integers, got \(v)") }
            return Int(v)
        }, what)
    }

    static func oneBased(_ v: [Int], _ what: String) throws -> [Int] {
        try v.enumerated().map { k, x in
            guard x >= 1 else { throw SSLuaError("\(what) are 1-based: got \(x) at position \(k + 1)") }
            return x - 1
        }
    }

    static func field(_ o: LuaTable, _ key: String) throws -> Tensor {
        guard let t = try o.tensor(key) else { throw SSLuaError("missing tensor field '\(key)'") }
        return t
    }

    /// A list of numbers from a number, a Lua list or a tensor.
    static func numbers(_ a: LuaArgs, _ i: Int32, _ what: String) throws -> [Double] {
        if a.isNumber(i) { return [try a.number(i)] }
        if a.isTensor(i) { return try a.tensor(i).toDoubles() }
        if a.isTable(i) { return try a.table(i).doubleArray() }
        throw a.bad(i, "\(what) (number, list or tensor) expected, got \(a.typeName(i))")
    }

    static func dtype(_ o: LuaTable?) throws -> DType {
        guard let s = try o?.string("dtype") else { return .float32 }
        guard let d = DType(rawValue: s) else { throw SSLuaError("unknown dtype '\(s)' (float32 or float64)") }
        return d
    }

    static func rng(_ a: LuaArgs, _ o: LuaTable?) throws -> RNG {
        guard let o = o else { return RNG.global }
        return try TensorBindings.rng(from: o, a) ?? RNG.global
    }
}
