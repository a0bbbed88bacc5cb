import CLua
import CShim
import SSLuaCore

/// `sslua.loss` (SPEC §4.4, §6): fused, differentiable losses.
enum LossBindings {
    static var libraries: [LuaLibrary] { [LuaLibrary("sslua.loss", functions)] }

    static func beta(_ o: LuaTable?) throws -> Double { try o?.number("beta") ?? 2 }

    /// t[key] = tensor, for the table on top of the stack.
    static func setField(_ a: LuaArgs, _ key: String, _ t: Tensor) {
        TensorBox.push(a.L, t); lua_setfield(a.L, -2, key)
    }

    static let functions: [(String, LuaFunction)] = [
        ("cross_entropy", { a in
            let logits = try a.tensor(1)
            return a.push(try CrossEntropy.loss(logits, MathArgs.labels(a, 2)))
        }),
        ("mse", { a in a.push(try MSE.loss(a.tensor(1), a.tensor(2))) }),
        ("infonce", { a in
            let o = a.options(at: 3)
            if !a.isNone(3) && o == nil { throw a.bad(3, "options table expected, got \(a.typeName(3))") }
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
            let b = try beta(a.options(at: 4))
            try require(b.isFinite && b > 0, "beta must be a positive number, got \(b)")
            let (inv, rep, pool) = try UpperBound.terms(h1, h2, w)
            let constant = _logD(2 * Double(pool.n - 1))
            let upper = try inv.mul(scalar: b).add(rep.mul(scalar: b)).add(scalar: constant)
            a.push(upper)
            lua_createtable(a.L, 0, 4)
            setField(a, "invariance", inv)
            setField(a, "repulsion", rep)
            lua_pushnumber(a.L, constant); lua_setfield(a.L, -2, "constant")
            setField(a, "nearest", try Tensor.from(pool.nearest.map { Double($0 + 1) }, shape: [pool.n]))
            return 2
        }),
        ("infonce_terms", { a in
            let (inv, rep, ent) = try InfoNCETerms.terms(a.tensor(1), a.tensor(2), beta: beta(a.options(at: 3)))
            let total = try inv.add(rep).add(ent)
            lua_createtable(a.L, 0, 5)
            setField(a, "invariance", inv)
            setField(a, "repulsion", rep)
            setField(a, "entropy", ent)
            setField(a, "loss", total)
            lua_createtable(a.L, 0, 4)
            setField(a, "invariance", try inv.mean())
            setField(a, "repulsion", try rep.mean())
            setField(a, "entropy", try ent.mean())
            setField(a, "loss", try total.mean())
            lua_setfield(a.L, -2, "mean")
            return 1
        }),
    ]
}

#if canImport(Glibc)
import Glibc
@inline(__always) func _logD(_ x: Double) -> Double { Glibc.log(x) }
#endif
