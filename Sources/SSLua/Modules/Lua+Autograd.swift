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
            lua_pushvalue(a.L, 1)
            for i in 2...max(2, a.count) where i <= a.count { lua_pushvalue(a.L, Int32(i)) }
            let status = GradMode.withoutGrad { lua_pcallk(a.L, max(0, a.count - 1), LUA_MULTRET, 0, 0, nil) }
            if status != LUA_OK { throw passThroughError(a.L.string(at: -1)) }
            return lua_gettop(a.L) - base
        }),
    ]
}
