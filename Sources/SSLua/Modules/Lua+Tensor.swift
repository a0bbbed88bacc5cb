import CLua
import CLuaShim
import CRuntime
import SSLuaCore
import Foundation

/// `sslua` top level (constructors, RNG, utilities) and the tensor methods.
/// Indices and dimensions are 1-based here and converted to the core's 0-based ones.
enum TensorBindings {
    static let generatorMeta = "sslua.Generator"

    static var libraries: [LuaLibrary] {
        [LuaLibrary("sslua", constructors + joins), LuaLibrary("Tensor", methods + opMethods),
         LuaLibrary("sslua.Generator", generatorMethods)]
    }

    // MARK: helpers

    /// The generator from the `{rng = g}` options, else the global one.
    static func rng(_ a: LuaArgs, _ o: LuaTable?) throws -> RNG {
        guard let o = o else { return RNG.global }
        return try rng(from: o, a) ?? RNG.global
    }

    /// The options of a constructor (a trailing table): `dtype` and `requires_grad`, plus `extra`.
    static func ctorOptions(_ a: LuaArgs, _ extra: [String] = [], grad: Bool = true) throws -> LuaTable? {
        try a.options(keys: ["dtype"] + (grad ? ["requires_grad"] : []) + extra)
    }

    /// `t`, made a leaf that requires grad when the options say `requires_grad = true` (torch's
    /// `torch.randn(3, requires_grad=True)`).
    static func made(_ t: Tensor, _ o: LuaTable?) throws -> Tensor {
        if try o?.bool("requires_grad") == true { t.requiresGrad = true }
        return t
    }

    static func rng(from o: LuaTable, _ a: LuaArgs) throws -> RNG? {
        _ = o.pushField("rng"); defer { sslua_pop(a.L, 1) }
        if lua_type(a.L, -1) <= 0 { return nil }
        guard let g = try UserdataBox.get(a.L, -1, metatable: generatorMeta, as: RNG.self) else {
            throw SSLuaError("option 'rng' must be a generator from sslua.rng(seed)")
        }
        return g
    }

    /// Methods of a generator from `sslua.rng(seed)` (its metatable's `__index`, set by the prelude).
    static func generator(_ a: LuaArgs, _ where_: String) throws -> RNG {
        guard let g = try UserdataBox.get(a.L, 1, metatable: generatorMeta, as: RNG.self) else {
            throw a.bad(1, "generator expected (call it as g:\(where_)(...)), got \(a.typeName(1))")
        }
        return g
    }

    static let generatorMethods: [(String, LuaFunction)] = [
        /// g:state() -> the generator's exact state as a string (see RNG.state).
        ("state", { a in a.push(try generator(a, "state").state) }),
        /// g:set_state(s): continues from a state that g:state() (or sslua.get_rng_state()) returned.
        ("set_state", { a in
            let g = try generator(a, "set_state")
            try g.setState(try a.string(2))
            return 0
        }),
        /// g:seed() -> the seed the generator was created (or last reseeded) with.
        ("seed", { a in a.push(Int(Int64(bitPattern: try generator(a, "seed").seed))) }),
    ]

    static func dtype(_ o: LuaTable?) throws -> DType {
        guard let s = try o?.string("dtype") else { return .float32 }
        guard let d = DType(rawValue: s) else { throw SSLuaError("unknown dtype '\(s)' (float32 or float64)") }
        return d
    }

    /// Reads a nested Lua table of numbers into (values, shape).
    static func nested(_ L: OpaquePointer, _ idx: Int32, depth: Int = 0) throws -> ([Double], [Int]) {
        guard depth < 32 else { throw SSLuaError("table nested too deeply") }
        try reserveLuaStack(L, 2)   // one value per level of the recursion
        let n = Int(lua_rawlen(L, idx))
        if n == 0 { return ([], [0]) }
        var values: [Double] = []
        var inner: [Int]? = nil
        for k in 1...n {
            let t = lua_rawgeti(L, idx, lua_Integer(k))
            defer { sslua_pop(L, 1) }
            if t == LUA_TNUMBER {
                guard inner == nil || inner! == [] else { throw SSLuaError("inconsistent nesting at position \(k)") }
                inner = []
                values.append(lua_tonumberx(L, -1, nil))
            } else if t == LUA_TTABLE {
                let (v, s) = try nested(L, lua_absindex(L, -1), depth: depth + 1)
                guard inner == nil || inner! == s else {
                    throw SSLuaError("inconsistent sizes: expected \(shapeString(inner ?? [])) at position \(k), got \(shapeString(s))")
                }
                inner = s
                values += v
            } else {
                throw SSLuaError("expected a number or a table at position \(k), got \(String(cString: lua_typename(L, t)))")
            }
        }
        return (values, [n] + (inner ?? []))
    }

    /// Pushes `v` (row-major values of `shape` from `off`) as nested tables: one level of the
    /// recursion per dimension, each reserving its stack slots first.
    static func totable(_ L: OpaquePointer, _ v: [Double], _ shape: [Int], _ off: Int) throws -> Int {
        try reserveLuaStack(L, 3)
        if shape.isEmpty { lua_pushnumber(L, v[off]); return off + 1 }
        // the array part's size comes from the tensor: a protected creation, so that Lua's
        // memory error is an "out of memory" error here instead of a longjmp through Swift
        guard shape[0] <= Int(Int32.max), sslua_createtable(L, Int32(shape[0]), 0) == LUA_OK else {
            throw SSLuaError("out of memory: cannot make a table of \(shape[0]) entries")
        }
        var o = off
        for k in 0..<shape[0] {
            if shape.count == 1 { lua_pushnumber(L, v[o]); o += 1 } else { o = try totable(L, v, Array(shape.dropFirst()), o) }
            lua_rawseti(L, -2, lua_Integer(k + 1))
        }
        return o
    }

    /// 1-based multi-index arguments starting at `i` (count = t.dim), to 0-based.
    static func index(_ a: LuaArgs, _ t: Tensor, from i: Int32) throws -> [Int] {
        try (0..<t.dim).map { d in
            let v = try a.integer(i + Int32(d))
            let n = t.shape[d]
            let z = v < 0 ? v + n : v - 1
            guard v != 0, z >= 0, z < n else { throw a.bad(i + Int32(d), "index \(v) out of range for dimension \(d + 1) of size \(n)") }
            return z
        }
    }

    /// `arange` when every bound is a Lua integer: the count and the values in exact integer
    /// arithmetic, so `arange(maxint - 2, maxint)` has 3 elements (doubles cannot tell the
    /// bounds apart) and `arange(minint, maxint)` is "too large" rather than an overflow.
    static func integerRange(_ a: LuaArgs) throws -> Tensor? {
        let o = try ctorOptions(a)
        let n = o == nil ? a.count : a.count - 1
        guard n >= 1 && n <= 3, (1...n).allSatisfy({ lua_isinteger(a.L, $0) != 0 }) else { return nil }
        let lo = n == 1 ? 1 : try a.integer(1)
        let hi = n == 1 ? try a.integer(1) : try a.integer(2)
        let step = n == 3 ? try a.integer(3) : 1
        try require(step != 0, "step must be finite and nonzero")
        var count = 0
        if (step > 0 && hi >= lo) || (step < 0 && hi <= lo) {
            // |hi - lo| < 2^64 always fits a UInt; the quotient by |step| is the count - 1
            let span = step > 0 ? UInt(bitPattern: hi &- lo) : UInt(bitPattern: lo &- hi)
            let q = span / step.magnitude
            try require(q < UInt(1 << 40), "range too large (or not finite)")
            count = Int(q) + 1
        }
        var k = 0
        // lo + k * step lies between lo and hi for k < count: no overflow
        return try made(fill([count], dtype(o)) { defer { k += 1 }; return Double(lo &+ k &* step) }, o)
    }

    static func fill(_ shape: [Int], _ dt: DType, _ f: () -> Double) throws -> Tensor {
        let t = try Tensor(shape: shape, dtype: dt, zeroed: false)
        switch dt {
        case .float32: let p = t.base(Float.self); for i in 0..<t.numel { p[i] = Float(f()) }
        case .float64: let p = t.base(Double.self); for i in 0..<t.numel { p[i] = f() }
        }
        return t
    }

    static func binary(_ op: BinaryOp) -> LuaFunction {
        { a in
            // a number on either side; the tensor decides the dtype
            let dt = (try? TensorBox.get(a.L, 1))??.dtype ?? (try? TensorBox.get(a.L, 2))??.dtype ?? .float32
            let x = try a.tensorOrNumber(1, dtype: dt), y = try a.tensorOrNumber(2, dtype: dt)
            // torch.add/sub(input, other, *, alpha=1): input + alpha * other
            if a.count >= 3 && lua_type(a.L, 3) != LUA_TNIL {
                guard op == .add || op == .sub, a.isOptionsTable(3), let o = try a.options(at: 3, keys: ["alpha"]) else {
                    throw a.bad(3, "unexpected argument (\(a.typeName(3)))")
                }
                if let alpha = try o.number("alpha") { return a.push(try x.binary(op, y.mul(scalar: alpha))) }
            }
            return a.push(try x.binary(op, y))
        }
    }

    static func unary(_ op: UnaryOp) -> LuaFunction { { a in a.push(try a.tensor(1).unary(op)) } }

    /// `x:sum()`, `x:sum(dim[, keepdim])` and friends.
    static func reduction(_ all: @escaping (Tensor) throws -> Tensor,
                          _ byDim: @escaping (Tensor, Int, Bool) throws -> Tensor) -> LuaFunction {
        { a in
            let t = try a.tensor(1)
            if a.isNone(2) { return a.push(try all(t)) }
            let keep = a.optBool(3, false)
            guard a.isTable(2) else { return a.push(try byDim(t, try a.dim(2, of: t), keep)) }
            // a list of dimensions (torch's dim=(0, 1)): reduced from the last, so the earlier
            // axes keep their numbers
            let ds = try a.intList(2).map { d -> Int in
                try require(d != 0, "dimension 0 is invalid: dimensions are 1-based")
                return try t.axis(d > 0 ? d - 1 : d)
            }
            try require(!ds.isEmpty && Set(ds).count == ds.count, "expected a non-empty list of distinct dimensions")
            var r = t
            for d in ds.sorted(by: >) { r = try byDim(r, d, keep) }
            return a.push(r)
        }
    }

    static func extremum(_ isMax: Bool) -> LuaFunction {
        { a in
            let t = try a.tensor(1)
            // torch.max(input, other): the elementwise maximum
            if let o = try TensorBox.get(a.L, 2) { return a.push(try t.binary(isMax ? .maximum : .minimum, o)) }
            if a.isNone(2) {
                try require(t.numel > 0, "\(isMax ? "max" : "min") of an empty tensor")
                let (v, _) = try t.reshape([-1]).extremum(max: isMax, dim: 0)
                return a.push(v)
            }
            let (v, i) = try t.extremum(max: isMax, dim: try a.dim(2, of: t), keepdim: a.optBool(3, false))
            a.push(v); a.push(try i.add(scalar: 1))
            return 2
        }
    }

    static func argExtremum(_ isMax: Bool) -> LuaFunction {
        { a in
            let t = try a.tensor(1)
            if a.isNone(2) {
                try require(t.numel > 0, "argmax of an empty tensor")
                let (_, i) = try t.reshape([-1]).extremum(max: isMax, dim: 0)
                return a.push(Int(try i.toDoubles()[0]) + 1)
            }
            let (_, i) = try t.extremum(max: isMax, dim: try a.dim(2, of: t), keepdim: a.optBool(3, false))
            return a.push(try i.add(scalar: 1))
        }
    }

    // MARK: sslua.*

    static let constructors: [(String, LuaFunction)] = [
        ("tensor", { a in
            let o = a.count >= 2 ? try ctorOptions(a) : nil
            let dt = try dtype(o)
            if a.isNumber(1) { return a.push(try made(Tensor.scalar(a.number(1), dtype: dt), o)) }
            if let t = try TensorBox.get(a.L, 1) { return a.push(try made(t.detach().clone().to(dt), o)) }
            guard a.isTable(1) else { throw a.bad(1, "table expected, got \(a.typeName(1))") }
            let (v, s) = try nested(a.L, 1)
            return a.push(try made(Tensor.from(v, shape: s, dtype: dt), o))
        }),
        ("zeros", { a in let o = try ctorOptions(a); return a.push(try made(Tensor(shape: a.sizes(from: 1), dtype: dtype(o)), o)) }),
        ("ones", { a in let o = try ctorOptions(a); return a.push(try made(Tensor.full(a.sizes(from: 1), 1, dtype: dtype(o)), o)) }),
        ("full", { a in
            let s = a.isNumber(1) ? [try a.integer(1)] : try a.intList(1)
            let o = a.count >= 3 ? try ctorOptions(a) : nil
            return a.push(try made(Tensor.full(s, a.number(2), dtype: dtype(o)), o))
        }),
        ("eye", { a in
            let n = try a.integer(1)
            let m = a.isNumber(2) ? try a.integer(2) : n
            try require(n >= 0 && m >= 0, "size must be non-negative")
            let o = try ctorOptions(a)
            return a.push(try made(Tensor.eye(n, m, dtype: dtype(o)), o))
        }),
        ("arange", { a in
            // Lua's numeric for: arange(n) = 1..n, arange(a, b[, step]) inclusive
            if let r = try integerRange(a) { return a.push(r) }
            var lo = 1.0, hi: Double, step = 1.0
            if a.isNumber(2) { lo = try a.number(1); hi = try a.number(2); step = try a.isNumber(3) ? a.number(3) : 1 }
            else { hi = try a.number(1) }
            try require(step != 0 && step.isFinite, "step must be finite and nonzero")
            let span = Foundation.floor((hi - lo) / step + 1e-9)
            try require(span.isFinite && span < Double(1 << 40), "range too large (or not finite)")
            let n = span < 0 ? 0 : Int(span) + 1
            var k = 0
            let o = try ctorOptions(a)
            return a.push(try made(fill([n], dtype(o)) { defer { k += 1 }; return lo + Double(k) * step }, o))
        }),
        ("linspace", { a in
            let lo = try a.number(1), hi = try a.number(2), n = try a.integer(3)
            try require(n >= 0, "number of points must be non-negative")
            var k = 0
            let o = try ctorOptions(a)
            return a.push(try made(fill([n], dtype(o)) {
                defer { k += 1 }
                return n == 1 ? lo : lo + (hi - lo) * Double(k) / Double(n - 1)
            }, o))
        }),
        ("rand", { a in
            let o = try ctorOptions(a, ["rng"])
            let g = try rng(a, o), dt = try dtype(o)
            return a.push(try made(fill(a.sizes(from: 1), dt) { dt == .float32 ? Double(g.uniformFloat()) : g.uniform() }, o))
        }),
        ("randn", { a in
            let o = try ctorOptions(a, ["rng"])
            let g = try rng(a, o)
            return a.push(try made(fill(a.sizes(from: 1), dtype(o)) { g.normal() }, o))
        }),
        ("randperm", { a in
            let n = try a.integer(1)
            try require(n >= 0, "n must be non-negative")
            let o = try ctorOptions(a, ["rng"], grad: false)
            let p = try rng(a, o).permutation(count: n)
            var k = 0
            return a.push(try fill([n], dtype(o)) { defer { k += 1 }; return Double(p[k] + 1) })
        }),
        ("randint", { a in
            let lo = try a.integer(1), hi = try a.integer(2)
            try require(lo <= hi, "randint: empty range \(lo)..\(hi)")
            let s = a.isNumber(3) ? [try a.integer(3)] : try a.intList(3)
            let o = try ctorOptions(a, ["rng"], grad: false)
            let g = try rng(a, o)
            return a.push(try fill(s, dtype(o)) { Double(g.integer(lo, hi)) })
        }),
        ("manual_seed", { a in
            RNG.global.reseed(UInt64(bitPattern: Int64(try a.integer(1))))
            return 0
        }),
        ("get_rng_state", { a in a.push(RNG.global.state) }),
        ("set_rng_state", { a in
            try RNG.global.setState(try a.string(1))
            return 0
        }),
        ("rng", { a in
            let seed = a.isNone(1) ? UInt64(Date().timeIntervalSince1970 * 1e6) : UInt64(bitPattern: Int64(try a.integer(1)))
            UserdataBox.push(a.L, RNG(seed: seed), metatable: generatorMeta)
            return 1
        }),
        ("memory", { a in a.push(Int(sslua_live_bytes())) }),
        ("threads", { a in
            if !a.isNone(1) {
                let n = try a.integer(1)
                try require(n >= 1, "thread count must be at least 1, got \(n)")
                Parallel.setThreads(n)
            }
            return a.push(Parallel.threads)
        }),
        ("clock", { a in
            var ts = timespec()
            clock_gettime(CLOCK_MONOTONIC, &ts)
            return a.push(Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9)
        }),
    ]

    // MARK: tensor methods

    static let totableFn: LuaFunction = { a in
        let t = try a.tensor(1)
        // Lua values to create: 1 + s0 + s0 s1 + ... (the tables, then the numbers). A
        // shape like (2^40, 0) has no elements but would still need 2^40 empty tables.
        var values = 1, level = 1
        for s in t.shape {
            level = try checkedProduct(level, s, "tensor")
            values = try checkedSum(values, level, "tensor")
        }
        try require(values <= 1 << 28, "a tensor of size \(shapeString(t.shape)) is too large to convert to a table")
        _ = try totable(a.L, try t.toDoubles(), t.shape, 0)
        return 1
    }

    static let methods: [(String, LuaFunction)] = [
        ("shape", { a in try a.push(size: try a.tensor(1).shape) }),
        ("size", { a in
            let t = try a.tensor(1)
            if a.isNone(2) { return try a.push(size: t.shape) }
            try require(t.dim > 0, "a 0-d tensor has no dimensions")   // axis() accepts dim 1 of a scalar
            return a.push(t.shape[try a.dim(2, of: t)])
        }),
        ("dim", { a in a.push(try a.tensor(1).dim) }),
        ("numel", { a in a.push(try a.tensor(1).numel) }),
        ("dtype", { a in a.push(try a.tensor(1).dtype.rawValue) }),
        ("double", { a in a.push(try a.tensor(1).differentiableTo(.float64)) }),
        ("float", { a in a.push(try a.tensor(1).differentiableTo(.float32)) }),
        ("is_contiguous", { a in a.push(try a.tensor(1).isContiguous) }),
        ("reshape", { a in let t = try a.tensor(1); return a.push(try t.reshape(signedSizes(a, 2))) }),
        ("view", { a in let t = try a.tensor(1); return a.push(try t.reshape(signedSizes(a, 2))) }),
        ("t", { a in a.push(try a.tensor(1).t()) }),
        ("transpose", { a in let t = try a.tensor(1); return a.push(try t.transpose(a.dim(2, of: t), a.dim(3, of: t))) }),
        ("permute", { a in
            let t = try a.tensor(1)
            let p = a.isTable(2) ? try a.intList(2) : try (2...max(2, a.count)).map { try a.integer(Int32($0)) }
            return a.push(try t.permute(p.map { $0 > 0 ? $0 - 1 : $0 }))
        }),
        ("narrow", { a in
            let t = try a.tensor(1)
            try require(t.dim > 0, "cannot narrow a 0-d tensor")   // axis() accepts dim 1 of a scalar
            let d = try a.dim(2, of: t)
            let s = try a.integer(3)
            let start = s < 0 ? s + t.shape[d] : s - 1
            try require(s != 0, "narrow: start is 1-based, got 0")
            return a.push(try t.narrow(d, start, a.integer(4)))
        }),
        ("select", { a in
            let t = try a.tensor(1)
            try require(t.dim > 0, "select on a 0-d tensor")
            let d = try a.dim(2, of: t)
            let i = try a.integer(3)
            try require(i != 0, "index 0 is invalid: indices are 1-based")
            return a.push(try t.select(d, i > 0 ? i - 1 : i))
        }),
        ("unsqueeze", { a in
            let t = try a.tensor(1)
            let d = try a.integer(2)
            try require(d != 0, "dimension 0 is invalid: dimensions are 1-based")
            return a.push(try t.unsqueeze(d > 0 ? d - 1 : d))
        }),
        ("squeeze", { a in
            let t = try a.tensor(1)
            return a.push(try t.squeeze(a.isNone(2) ? nil : try a.dim(2, of: t)))
        }),
        ("expand", { a in
            let t = try a.tensor(1)
            let sizes = try signedSizes(a, 2)
            let lead = sizes.count - t.dim   // new leading dimensions; -1 keeps an existing one
            return a.push(try t.expand(sizes.enumerated().map { i, s in
                guard s == -1 else { return s }
                guard i - lead >= 0, i - lead < t.dim else {
                    throw SSLuaError("size -1 at position \(i + 1) does not match an existing dimension")
                }
                return t.shape[i - lead]
            }))
        }),
        ("contiguous", { a in a.push(try a.tensor(1).differentiableContiguous()) }),
        ("clone", { a in a.push(try a.tensor(1).clone()) }),
        ("totable", totableFn),
        ("tolist", totableFn),   // torch's name
        ("item", { a in
            let t = try a.tensor(1)
            try require(t.numel == 1, "a Tensor with \(t.numel) elements cannot be converted to a number")
            return a.push(t.value(at: 0))
        }),
        ("get", { a in
            let t = try a.tensor(1)
            return a.push(t.storageValue(try t.storageOffset(index(a, t, from: 2))))
        }),
        ("set", { a in
            let t = try a.tensor(1)
            try t.checkInPlace("set")
            let off = try t.storageOffset(index(a, t, from: 2))
            t.setStorageValue(off, try a.number(Int32(t.dim) + 2))
            a.L.pushValue(1)
            return 1
        }),
        ("_setindex", { a in
            let t = try a.tensor(1)
            try t.checkInPlace("x[i] = v")
            let i = try a.integer(2)
            try require(t.dim > 0, "cannot index a 0-d tensor")
            let row = try GradMode.withoutGrad { try t.select(0, i > 0 ? i - 1 : i) }
            if a.isNumber(3) { try row.copyIn(Tensor.scalar(a.number(3), dtype: t.dtype)) }
            else { try row.copyIn(a.tensor(3)) }
            return 0
        }),
        ("_getgrad", { a in
            let t = try a.tensor(1)
            if let g = t.grad { return a.push(g) }
            return a.pushNil()
        }),
        ("_setgrad", { a in
            let t = try a.tensor(1)
            if a.isNone(2) || lua_type(a.L, 2) == LUA_TNIL { t.grad = nil; return 0 }
            try t.setGrad(a.tensor(2))
            return 0
        }),
        ("_tostring", { a in a.push(try a.tensor(1).formatted()) }),
        ("add", binary(.add)), ("sub", binary(.sub)), ("mul", binary(.mul)), ("div", binary(.div)),
        ("pow", binary(.pow)), ("maximum", binary(.maximum)), ("minimum", binary(.minimum)),
        ("eq", binary(.eq)), ("ne", binary(.ne)), ("lt", binary(.lt)), ("le", binary(.le)),
        ("gt", binary(.gt)), ("ge", binary(.ge)),
        ("neg", unary(.neg)), ("exp", unary(.exp)), ("log", unary(.log)), ("sqrt", unary(.sqrt)),
        ("abs", unary(.abs)), ("relu", unary(.relu)), ("sigmoid", unary(.sigmoid)),
        ("tanh", unary(.tanh)), ("floor", unary(.floor)), ("sign", unary(.sign)),
        ("square", unary(.square)), ("sin", unary(.sin)), ("cos", unary(.cos)),
        ("clamp", { a in
            let t = try a.tensor(1)
            let lo: Double? = a.isNumber(2) ? try a.number(2) : nil
            let hi: Double? = a.isNumber(3) ? try a.number(3) : nil
            for i: Int32 in [2, 3] where !a.isNone(i) && !a.isNumber(i) && lua_type(a.L, i) != LUA_TNIL {
                throw a.bad(i, "number expected, got \(a.typeName(i))")
            }
            return a.push(try t.clamp(lo, hi))
        }),
        ("leaky_relu", { a in a.push(try a.tensor(1).leakyRelu(a.optNumber(2, 0.01))) }),
        ("sum", reduction({ try $0.sum() }, { try $0.sum(dim: $1, keepdim: $2) })),
        ("mean", reduction({ try $0.mean() }, { try $0.mean(dim: $1, keepdim: $2) })),
        ("max", extremum(true)), ("min", extremum(false)),
        ("argmax", argExtremum(true)), ("argmin", argExtremum(false)),
        ("mm", { a in a.push(try a.tensor(1).mm(a.tensor(2))) }),
        // in-place (the `_` rule): mutate and return self
        ("fill_", { a in
            let t = try a.tensor(1); try t.checkInPlace("fill")
            try t.copyIn(Tensor.scalar(a.number(2), dtype: t.dtype)); a.L.pushValue(1); return 1
        }),
        ("zero_", { a in
            let t = try a.tensor(1); try t.checkInPlace("zero")
            try t.copyIn(Tensor.scalar(0, dtype: t.dtype)); a.L.pushValue(1); return 1
        }),
        ("copy_", { a in
            let t = try a.tensor(1); try t.checkInPlace("copy")
            try t.copyIn(a.tensor(2)); a.L.pushValue(1); return 1   // copyIn copies an overlapping source aside first
        }),
    ] + inPlace([("add_", .add), ("sub_", .sub), ("mul_", .mul), ("div_", .div), ("pow_", .pow)])

    static func inPlace(_ ops: [(String, BinaryOp)]) -> [(String, LuaFunction)] {
        ops.map { name, op in
            (name, { a in
                let t = try a.tensor(1)
                try t.checkInPlace(String(name.dropLast()))
                let other = try a.tensorOrNumber(2, dtype: t.dtype)
                // Straight into t unless `other`'s memory overlaps t's without being t itself
                // (then an element could be read after it was written: `x:narrow(1, 2, 4):add_(
                // x:narrow(1, 1, 4))`), or `other` promotes the dtype.
                if (!t.mayOverlap(other) || t.isSameView(other)) && DType.promote(t.dtype, other.dtype) == t.dtype {
                    _ = try Tensor.binaryKernel(op, t, other, into: t)
                } else {
                    let r = try Tensor.binaryKernel(op, t, other)
                    try require(r.shape == t.shape, "output of size \(shapeString(r.shape)) doesn't match the in-place target \(shapeString(t.shape))")
                    try t.copyIn(r)
                }
                a.L.pushValue(1)
                return 1
            })
        }
    }

    /// Sizes that may contain -1 (reshape/view).
    static func signedSizes(_ a: LuaArgs, _ i: Int32) throws -> [Int] {
        if a.isTable(i) { return try a.intList(i) }
        return try (i...max(i, a.count)).filter { !a.isNone(Int32($0)) }.map { try a.integer(Int32($0)) }
    }
}

// MARK: - the rest of §4.1: statistics, softmax family, products, sorting, indexing, joins

extension TensorBindings {
    /// Options table or an explicit boolean at `i` (e.g. `sort(dim, true)` / `{descending=true}`).
    static func flag(_ a: LuaArgs, _ i: Int32, _ key: String, _ def: Bool) throws -> Bool {
        if lua_type(a.L, i) == LUA_TBOOLEAN { return a.boolean(i) }
        if let o = try a.options(keys: [key]), let v = try o.bool(key) { return v }
        if !a.isNone(i) && lua_type(a.L, i) != LUA_TNIL && !a.isOptionsTable(i) {
            throw a.bad(i, "boolean expected, got \(a.typeName(i))")
        }
        return def
    }

    /// A boolean argument (nil is not accepted where a flag is expected).
    static func bool(_ a: LuaArgs, _ i: Int32, _ what: String) throws -> Bool {
        guard lua_type(a.L, i) == LUA_TBOOLEAN else { throw a.bad(i, "\(what) must be a boolean, got \(a.typeName(i))") }
        return a.boolean(i)
    }

    /// `var`/`std` as torch: `(dim, unbiased, keepdim)` positionally (dim nil or absent: all
    /// elements; unbiased defaults to true), with `{correction = c, keepdim = k, unbiased = u}`
    /// as a trailing table (torch's keyword arguments).
    static func spread(_ f: @escaping (Tensor, Int?, Bool, Double) throws -> Tensor) -> LuaFunction {
        { a in
            let t = try a.tensor(1)
            let o = try a.options(keys: ["correction", "unbiased", "keepdim"])
            let last = o == nil ? a.count : a.count - 1
            var d: Int? = nil, keep = false, correction = 1.0
            if last >= 2 && lua_type(a.L, 2) != LUA_TNIL {
                if lua_type(a.L, 2) == LUA_TBOOLEAN {   // torch.var(unbiased): all elements
                    correction = a.boolean(2) ? 1 : 0
                    if last >= 3 { throw a.bad(3, "unexpected argument (\(a.typeName(3)))") }
                } else { d = try a.dim(2, of: t) }
            }
            if last >= 3 && lua_type(a.L, 3) != LUA_TNIL { correction = try bool(a, 3, "unbiased") ? 1 : 0 }
            if last >= 4 && lua_type(a.L, 4) != LUA_TNIL { keep = try bool(a, 4, "keepdim") }
            if last >= 5 { throw a.bad(5, "unexpected argument (\(a.typeName(5)))") }
            if let o = o {
                if let u = try o.bool("unbiased") {
                    try require(last < 3, "unbiased given twice (argument 3 and option)")
                    correction = u ? 1 : 0
                }
                if let c = try o.number("correction") {
                    try require(last < 3 && !o.has("unbiased"), "give either unbiased or correction")
                    correction = c
                }
                if let k = try o.bool("keepdim") {
                    try require(last < 4, "keepdim given twice (argument 4 and option)")
                    keep = k
                }
            }
            return a.push(try f(t, d, keep, correction))
        }
    }

    /// An index argument: a tensor of 1-based values, or a Lua list of them.
    static func indexTensor(_ a: LuaArgs, _ i: Int32) throws -> Tensor {
        if let t = try TensorBox.get(a.L, i) { return t }
        if a.isTable(i) {
            let (v, s) = try nested(a.L, lua_absindex(a.L, i))
            return try Tensor.from(v, shape: s, dtype: .float64)
        }
        throw a.bad(i, "index tensor or table expected, got \(a.typeName(i))")
    }

    /// A 1-based dimension argument that defaults to `def` (0-based) when absent.
    static func optDim(_ a: LuaArgs, _ i: Int32, of t: Tensor, _ def: Int) throws -> Int {
        if a.isNone(i) || lua_type(a.L, i) == LUA_TNIL || a.isOptionsTable(i) { return def }
        return try a.dim(i, of: t)
    }

    static func push(_ a: LuaArgs, values v: Tensor, indices i: Tensor) throws -> Int32 {
        a.push(v)
        a.push(try i.add(scalar: 1))
        return 2
    }

    static let indexSelect: LuaFunction = { a in
        let t = try a.tensor(1)
        return a.push(try t.indexSelect(dim: a.dim(2, of: t), index: indexTensor(a, 3), base: 1))
    }

    static let opMethods: [(String, LuaFunction)] = [
        ("var", spread { t, d, k, c in try t.variance(dim: d, keepdim: k, correction: c) }),
        ("std", spread { t, d, k, c in try t.std(dim: d, keepdim: k, correction: c) }),
        ("norm", { a in
            // torch.Tensor.norm(p='fro', dim=None, keepdim=False): p a number (inf, -inf, 0
            // included) or "fro"; dim an integer or a list of them; the keywords as a trailing
            // table {p =, dim =, keepdim =}
            let t = try a.tensor(1)
            let o = try a.options(keys: ["p", "dim", "keepdim"])
            let last = o == nil ? a.count : a.count - 1
            if last > 4 { throw a.bad(5, "unexpected argument (\(a.typeName(5)))") }
            // each argument from its position, else from the options (not both)
            func slot(_ i: Int32, _ key: String, _ read: (Int32) throws -> Void) throws {
                let positional = i <= last && lua_type(a.L, i) != LUA_TNIL
                let t = o.map { $0.pushField(key) } ?? LUA_TNIL
                defer { if o != nil { sslua_pop(a.L, 1) } }
                if positional && t > LUA_TNIL { throw SSLuaError("\(key) given twice (argument \(i) and option)") }
                if positional { try read(i) } else if t > LUA_TNIL { try read(lua_gettop(a.L)) }
            }
            var p = 2.0, dims: [Int]? = nil, keep = false
            try slot(2, "p") { i in
                switch lua_type(a.L, i) {
                case LUA_TNUMBER: p = try a.number(i)
                case LUA_TSTRING:
                    switch try a.string(i) {
                    case "fro": p = 2
                    case "inf": p = .infinity
                    case "-inf": p = -.infinity
                    case "nuc": throw SSLuaError("the nuclear norm is sslua.linalg.svdvals(A):sum()")
                    case let s: throw SSLuaError("p must be a number, \"fro\", \"inf\" or \"-inf\", got \"\(s)\"")
                    }
                default: throw SSLuaError("p must be a number or \"fro\", got \(a.typeName(i))")
                }
            }
            try slot(3, "dim") { i in
                if a.isTable(i) {
                    dims = try a.intList(i).map { d -> Int in
                        try require(d != 0, "dimension 0 is invalid: dimensions are 1-based")
                        return d > 0 ? d - 1 : d
                    }
                } else { dims = [try a.dim(i, of: t)] }
            }
            try slot(4, "keepdim") { i in keep = try bool(a, i, "keepdim") }
            guard let ds = dims else { return a.push(try t.norm(p: p, dim: nil, keepdim: keep)) }
            if ds.count == 1 { return a.push(try t.norm(p: p, dim: ds[0], keepdim: keep)) }
            return a.push(try t.norm(p: p, dims: ds, keepdim: keep))
        }),
        ("softmax", { a in
            let t = try a.tensor(1); _ = try a.options(keys: [])
            return a.push(try t.softmax(dim: optDim(a, 2, of: t, -1)))
        }),
        ("log_softmax", { a in
            let t = try a.tensor(1); _ = try a.options(keys: [])
            return a.push(try t.logSoftmax(dim: optDim(a, 2, of: t, -1)))
        }),
        ("logsumexp", { a in
            let t = try a.tensor(1); _ = try a.options(keys: [])
            return a.push(try t.logsumexp(dim: optDim(a, 2, of: t, -1), keepdim: a.optBool(3, false)))
        }),
        ("normalize", { a in
            let t = try a.tensor(1)
            let eps = try a.options(keys: ["eps"])?.number("eps") ?? 1e-12
            return a.push(try t.normalize(dim: optDim(a, 2, of: t, t.dim >= 2 ? 1 : 0), eps: eps))
        }),
        ("matmul", { a in a.push(try a.tensor(1).matmul(a.tensor(2))) }),
        ("bmm", { a in a.push(try a.tensor(1).bmm(a.tensor(2))) }),
        ("outer", { a in a.push(try a.tensor(1).outer(a.tensor(2))) }),
        ("dot", { a in a.push(try a.tensor(1).dot(a.tensor(2))) }),
        ("sort", { a in
            let t = try a.tensor(1)
            let d = try optDim(a, 2, of: t, -1)
            let (v, i) = try t.sort(dim: d, descending: flag(a, 3, "descending", false))
            return try push(a, values: v, indices: i)
        }),
        ("topk", { a in
            let t = try a.tensor(1)
            let k = try a.integer(2)
            let d = try optDim(a, 3, of: t, -1)
            // sorted (argument 5, torch's default true): the values always come sorted, which
            // torch allows for sorted=false too
            if !a.isNone(5) && lua_type(a.L, 5) != LUA_TBOOLEAN && !a.isOptionsTable(5) {
                throw a.bad(5, "sorted must be a boolean, got \(a.typeName(5))")
            }
            let (v, i) = try t.topk(k, dim: d, largest: flag(a, 4, "largest", true))
            return try push(a, values: v, indices: i)
        }),
        ("gather", { a in
            let t = try a.tensor(1)
            return a.push(try t.gather(dim: a.dim(2, of: t), index: indexTensor(a, 3), base: 1))
        }),
        ("scatter", { a in
            let t = try a.tensor(1)
            return a.push(try t.scatter(dim: a.dim(2, of: t), index: indexTensor(a, 3),
                                        source: a.tensorOrNumber(4, dtype: t.dtype), base: 1))
        }),
        ("scatter_add", { a in
            let t = try a.tensor(1)
            return a.push(try t.scatter(dim: a.dim(2, of: t), index: indexTensor(a, 3),
                                        source: a.tensor(4), accumulate: true, base: 1))
        }),
        ("index", indexSelect),
        ("index_select", indexSelect),   // torch's name
        ("masked_fill", { a in a.push(try a.tensor(1).maskedFill(a.tensor(2), a.number(3))) }),
        ("masked_fill_", { a in
            let t = try a.tensor(1); try t.checkInPlace("masked_fill")
            let r = try GradMode.withoutGrad { try t.maskedFill(a.tensor(2), a.number(3)) }
            try t.copyIn(r); a.L.pushValue(1); return 1
        }),
        ("scatter_", { a in
            let t = try a.tensor(1); try t.checkInPlace("scatter")
            let r = try GradMode.withoutGrad {
                try t.scatter(dim: a.dim(2, of: t), index: indexTensor(a, 3), source: a.tensorOrNumber(4, dtype: t.dtype), base: 1)
            }
            try t.copyIn(r); a.L.pushValue(1); return 1
        }),
        ("scatter_add_", { a in
            let t = try a.tensor(1); try t.checkInPlace("scatter_add")
            let r = try GradMode.withoutGrad {
                try t.scatter(dim: a.dim(2, of: t), index: indexTensor(a, 3), source: a.tensor(4), accumulate: true, base: 1)
            }
            try t.copyIn(r); a.L.pushValue(1); return 1
        }),
    ]

    /// `sslua.cat(list, d)` and `sslua.stack(list, d)` (d defaults to 1).
    static let joins: [(String, LuaFunction)] = [
        ("cat", join { try Tensor.cat($0, dim: $1) }),
        ("stack", join { try Tensor.stack($0, dim: $1) }),
        // torch.where(condition, input, other); a function only: torch's method form
        // x.where(condition, y) takes the condition second, so `x:where` would silently swap
        ("where", { a in
            let dt = (try? TensorBox.get(a.L, 2))??.dtype ?? (try? TensorBox.get(a.L, 3))??.dtype ?? .float32
            return a.push(try Tensor.where(a.tensor(1), a.tensorOrNumber(2, dtype: dt), a.tensorOrNumber(3, dtype: dt)))
        }),
    ]

    static func join(_ f: @escaping ([Tensor], Int) throws -> Tensor) -> LuaFunction {
        { a in
            let list = try a.table(1).tensorArray()
            try require(!list.isEmpty, "expected a non-empty list of tensors")
            let d = try a.optInteger(2, 1)
            try require(d != 0, "dimension 0 is invalid: dimensions are 1-based")
            return a.push(try f(list, d > 0 ? d - 1 : d))
        }
    }
}

extension OpaquePointer {
    /// `lua_pushvalue` on this state.
    func pushValue(_ i: Int32) { lua_pushvalue(self, i) }
}

extension Tensor {
    func storageValue(_ off: Int) -> Double {
        dtype == .float32 ? Double(storage.pointer(Float.self)[off]) : storage.pointer(Double.self)[off]
    }
    func setStorageValue(_ off: Int, _ v: Double) {
        if dtype == .float32 { storage.pointer(Float.self)[off] = Float(v) } else { storage.pointer(Double.self)[off] = v }
    }
}
