import CLua
import CShim
import SSLuaCore
import Foundation

/// Autograd from Lua: `requires_grad`, `backward`, `.grad`, `no_grad`, `grad_check`.
enum AutogradBindings {
    static var libraries: [LuaLibrary] { [LuaLibrary("sslua", functions), LuaLibrary("Tensor", methods)] }

    static let methods: [(String, LuaFunction)] = [
        ("requires_grad", { a in
            let t = try a.tensor(1)
            if a.isNone(2) && a.count < 2 { t.requiresGrad = true } else {
                let flag = a.boolean(2)
                try require(t.isLeaf || flag, "you can only change requires_grad flags of leaf variables")
                t.requiresGrad = flag
            }
            a.L.pushValue(1)
            return 1
        }),
        ("is_leaf", { a in a.push(try a.tensor(1).isLeaf) }),
        ("backward", { a in
            let t = try a.tensor(1)
            try t.backward(a.optTensor(2))
            return 0
        }),
        ("zero_grad", { a in try a.tensor(1).grad = nil; return 0 }),
        ("detach", { a in a.push(try a.tensor(1).detach()) }),
    ]

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
            let o = a.isTable(3) ? try a.table(3) : nil
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
