import CLua
import CLuaShim
import SSLuaCore

/// Natives of `sslua.data`: file readers, the synthetic generator and row
/// gathering. `lua/sslua/data.lua` builds the dataset objects on top of them through the private
/// table `sslua._data`; errors name the public function (`sslua.data.cifar10: ...`).
enum DataBindings {
    static var libraries: [LuaLibrary] { [LuaLibrary("sslua._data", functions)] }

    static func labels(_ v: [Int]) throws -> Tensor {
        try Tensor.from(v.map { Double($0 + 1) }, shape: [v.count])
    }

    /// Pushes images, 1-based labels and (if any) coarse labels.
    static func push(_ a: LuaArgs, _ d: LabelledImages) throws -> Int32 {
        a.push(d.images)
        a.push(try labels(d.labels))
        if let c = d.coarse { a.push(try labels(c)) } else { a.pushNil() }
        return 3
    }

    static func stringList(_ a: LuaArgs, _ i: Int32) throws -> [String] {
        let t = try a.table(i)
        var out: [String] = []
        for k in 1...max(1, t.length) where t.length > 0 {
            let ty = lua_rawgeti(a.L, t.index, lua_Integer(k)); defer { sslua_pop(a.L, 1) }
            guard ty == LUA_TSTRING else { throw a.bad(i, "list of file names expected") }
            out.append(a.L.string(at: -1))
        }
        return out
    }

    static func idx(_ name: String) -> LuaFunction {
        reportingErrors(as: name) { a in
            try push(a, try IDX.labelledImages(images: a.string(1), labels: a.string(2)))
        }
    }

    static let functions: [(String, LuaFunction)] = [
        ("cifar10", reportingErrors(as: "sslua.data.cifar10") { a in
            try push(a, try CIFAR.read(files: stringList(a, 1), labelBytes: 1, classes: 10))
        }),
        ("cifar100", reportingErrors(as: "sslua.data.cifar100") { a in
            try push(a, try CIFAR.read(files: stringList(a, 1), labelBytes: 2, classes: 100))
        }),
        // cifar_python(files, classes[, meta, names key, coarse names key]) -> images, labels, coarse, names, coarse names
        ("cifar_python", { a in
            let classes = try a.integer(2)
            try require(classes == 10 || classes == 100, "classes must be 10 or 100")
            let name = classes == 10 ? "sslua.data.cifar10" : "sslua.data.cifar100"
            return try reportingErrors(as: name) { a in
                let n = try push(a, try CIFAR.readPython(files: stringList(a, 1), classes: classes))
                let meta = a.isNone(3) ? nil : try a.string(3)
                var extra: Int32 = 0
                for key in [classes == 10 ? "label_names" : "fine_label_names", "coarse_label_names"] {
                    if let m = meta, let names = try CIFAR.pythonNames(m, key: key) {
                        try a.newTable(narr: names.count)
                        for (i, s) in names.enumerated() {
                            lua_pushstring(a.L, s); lua_rawseti(a.L, -2, lua_Integer(i + 1)); try checkLuaMemory()
                        }
                    } else { lua_pushnil(a.L) }
                    extra += 1
                }
                return n + extra
            }(a)
        }),
        ("fashion_mnist", idx("sslua.data.fashion_mnist")),
        ("mnist", idx("sslua.data.mnist")),
        ("synthetic", reportingErrors(as: "sslua.data.synthetic") { a in
            let n = try a.integer(1), seed = try a.integer(2), size = try a.integer(3)
            try require(n >= 0 && size >= 8 && size <= 512, "n must be non-negative and size between 8 and 512")
            try require(n <= (1 << 31) / (3 * size * size), "n = \(n) images of \(size)x\(size) is too large")
            return try push(a, Synthetic.make(n: n, seed: UInt64(bitPattern: Int64(seed)), size: size))
        }),
        ("synthetic_classes", { a in
            lua_createtable(a.L, Int32(Synthetic.classCount), 0)
            for k in 0..<Synthetic.classCount {
                lua_pushstring(a.L, Synthetic.className(k)); lua_rawseti(a.L, -2, lua_Integer(k + 1))
            }
            lua_createtable(a.L, Int32(Synthetic.families.count), 0)
            for (k, f) in Synthetic.families.enumerated() { lua_pushstring(a.L, f); lua_rawseti(a.L, -2, lua_Integer(k + 1)) }
            return 2
        }),
        // data.textures: images, labels, nil, hue bins (1-based); the class names.
        ("textures", reportingErrors(as: "sslua.data.textures") { a in
            let n = try a.integer(1), seed = try a.integer(2), size = try a.integer(3)
            let spread = try a.number(4), lo = try a.number(5), hi = try a.number(6)
            try require(n >= 0 && size >= 8 && size <= 512, "n must be non-negative and size between 8 and 512")
            try require(n <= (1 << 31) / (3 * size * size), "n = \(n) images of \(size)x\(size) is too large")
            let (d, bins) = try Textures.make(n: n, seed: UInt64(bitPattern: Int64(seed)), size: size,
                                              hueSpread: spread, period: (lo, hi))
            _ = try push(a, d)
            a.push(try labels(bins))
            return 4
        }),
        ("texture_classes", { a in
            lua_createtable(a.L, Int32(Textures.classCount), 0)
            for (k, c) in Textures.classes.enumerated() { lua_pushstring(a.L, c); lua_rawseti(a.L, -2, lua_Integer(k + 1)) }
            return 1
        }),
        ("gather", reportingErrors(as: "sslua.data.gather") { a in
            let t = try a.tensor(1)
            let idx: [Int]
            if a.isTable(2) { idx = try a.intList(2) } else {
                let values = try a.tensor(2).toDoubles()
                try Memory.reserve(values.count, of: Int.self, "the indices")
                idx = try values.map { v in
                    guard v.isFinite, Swift.abs(v) < 9e15, v == v.rounded() else { throw SSLuaError("indices must be integers, got \(v)") }
                    return Int(v)
                }
            }
            try Memory.reserve(idx.count, of: Int.self, "the indices")
            return a.push(try t.gatherRows(idx.map { $0 - 1 }))
        }),
    ]
}
