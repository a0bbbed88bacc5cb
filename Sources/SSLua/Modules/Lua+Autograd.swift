import CLua
import CLuaShim
import SSLuaCore
import Foundation

/// Autograd from Lua: `requires_grad_`, the `requires_grad`/`is_leaf`/`grad_fn` fields, `backward`,
/// `.grad`, `no_grad`, `grad_check`.
enum AutogradBindings {
    static var libraries: [LuaLibrary] { [LuaLibrary("sslua", functions), LuaLibrary("Tensor", methods)] }

    static let methods: [(String, LuaFunction)] = [
        // `t:requires_grad_([flag])` (torch.Tensor.requires_grad_): sets the flag, returns t
        ("requires_grad_", { a in
            let t = try a.tensor(1)
            try setRequiresGrad(t, lua_type(a.L, 2) <= LUA_TNIL ? true : try flag(a, 2))
            a.L.pushValue(1)
            return 1
        }),
        // the fields `t.requires_grad`, `t.is_leaf`, `t.grad_fn` (read by the metatable)
        ("_requires_grad", { a in a.push(try a.tensor(1).requiresGrad) }),
        ("_set_requires_grad", { a in
            try setRequiresGrad(a.tensor(1), try flag(a, 2))
            return 0
        }),
        ("_is_leaf", { a in a.push(try a.tensor(1).isLeaf) }),
        ("_grad_fn", { a in
            if let n = try a.tensor(1).node { return a.push(n.name) }
            return a.pushNil()
        }),
        ("backward", { a in
            let t = try a.tensor(1)
            try t.backward(a.optTensor(2))
            return 0
        }),
        ("zero_grad", { a in try a.tensor(1).grad = nil; return 0 }),
        ("detach", { a in a.push(try a.tensor(1).detach()) }),
    ]

    static func flag(_ a: LuaArgs, _ i: Int32) throws -> Bool {
        guard lua_type(a.L, i) == LUA_TBOOLEAN else { throw a.bad(i, "requires_grad must be a boolean, got \(a.typeName(i))") }
        return a.boolean(i)
    }

    static func setRequiresGrad(_ t: Tensor, _ flag: Bool) throws {
        try require(t.isLeaf || flag, "you can only change requires_grad flags of leaf variables; use detach() for a value cut from the graph")
        t.requiresGrad = flag
    }

    static let functions: [(String, LuaFunction)] = [
        ("no_grad", { a in
            guard lua_type(a.L, 1) == LUA_TFUNCTION else { throw a.bad(1, "function expected, got \(a.typeName(1))") }
            let base = lua_gettop(a.L)
            try a.reserve(Int(a.count) + 1)
            lua_pushvalue(a.L, 1)
            for i in 2...max(2, a.count) where i <= a.count { lua_pushvalue(a.L, Int32(i)) }
            let status = GradMode.withoutGrad { lua_pcallk(a.L, max(0, a.count - 1), LUA_MULTRET, 0, 0, nil) }
            if status != LUA_OK { throw passThroughError(a.L.string(at: -1)) }
            return lua_gettop(a.L) - base
        }),
        ("grad_check", { a in
            guard lua_type(a.L, 1) == LUA_TFUNCTION else { throw a.bad(1, "function expected, got \(a.typeName(1))") }
            let inputs: [Tensor]
            if let t = try TensorBox.get(a.L, 2) { inputs = [t] }
            else if a.isTable(2) && !a.isOptionsTable(2) { inputs = try a.table(2).tensorArray() }
            else { throw a.bad(2, "tensor or list of tensors expected, got \(a.typeName(2))") }
            let o = a.isTable(3) ? try a.table(3).checked(keys: ["eps", "atol", "rtol"]) : nil
            if !a.isNone(3) && o == nil { throw a.bad(3, "options table expected, got \(a.typeName(3))") }
            let L = a.L
            let r = try GradCheck.run(inputs, eps: try o?.number("eps") ?? 1e-6, atol: try o?.number("atol") ?? 1e-5,
                                      rtol: try o?.number("rtol") ?? 1e-3) { xs in
                try reserveLuaStack(L, xs.count + 1)
                lua_pushvalue(L, 1)
                for x in xs { TensorBox.push(L, x) }
                guard lua_pcallk(L, Int32(xs.count), 1, 0, 0, nil) == LUA_OK else {
                    let msg = L.string(at: -1)
                    sslua_pop(L, 1)
                    throw passThroughError(msg)
                }
                defer { sslua_pop(L, 1) }
                if lua_type(L, -1) == LUA_TNUMBER { return try Tensor.scalar(lua_tonumberx(L, -1, nil), dtype: .float64) }
                guard let y = try TensorBox.get(L, -1) else {
                    throw SSLuaError("the function must return a scalar tensor, got \(String(cString: lua_typename(L, lua_type(L, -1))))")
                }
                return y
            }
            a.push(r.ok)
            a.push(r.maxError)
            if let m = r.message { a.push(m) } else { a.pushNil() }
            return 3
        }),
    ]
}
