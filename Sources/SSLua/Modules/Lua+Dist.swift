import CLua
import CLuaShim
import SSLuaCore

/// `sslua.dist`: data-parallel collectives over MPI (`docs/DISTRIBUTED.md`), as
/// `torch.distributed`. Ranks are numbered as MPI's, 0 .. size-1. Outside `mpirun`/`srun` (or
/// without MPI) the world has size 1 and the collectives are copies.
///
///     dist.init()                         joins the world (idempotent; every function calls it): rank, size
///     dist.rank(), dist.size()
///     dist.all_reduce(t[, {op="sum"|"mean"|"max"|"min"}])   the reduced tensor (differentiable)
///     dist.all_gather(t)                  every rank's t concatenated along dim 1 in rank order
///                                         (differentiable: backward sums the gradients over the
///                                         ranks and returns this rank's slice)
///     dist.broadcast(t[, {root=0}])       rank root's t on every rank (same size everywhere)
///     dist.barrier()
///     dist.stats([{reset=false}])         {seconds=, bytes=, calls=}: time in MPI, payload, collectives
///     dist.info()                         {rank=, size=, mpi=bool, launcher="OMPI_COMM_WORLD_SIZE=2"}
enum DistBindings {
    static var libraries: [LuaLibrary] { [LuaLibrary("sslua.dist", functions)] }

    static func pushPair(_ a: LuaArgs, _ r: (Int, Int)) -> Int32 {
        a.push(r.0); a.push(r.1); return 2
    }

    static let functions: [(String, LuaFunction)] = [
        ("init", { a in pushPair(a, try Dist.initialize()) }),
        ("rank", { a in a.push(try Dist.initialize().0) }),
        ("size", { a in a.push(try Dist.initialize().1) }),
        ("all_reduce", { a in
            let t = try a.tensor(1)
            let o = try a.optionsArgument(2, keys: ["op"])
            let name = try o?.string("op") ?? "sum"
            guard let op = Dist.Op(rawValue: name) else {
                throw SSLuaError("unknown op '\(name)' (expected sum, mean, max or min)")
            }
            return a.push(try Dist.allReduce(t, op))
        }),
        ("all_gather", { a in a.push(try Dist.allGather(a.tensor(1))) }),
        ("broadcast", { a in
            let t = try a.tensor(1)
            let o = try a.optionsArgument(2, keys: ["root"])
            return a.push(try Dist.broadcast(t, root: o?.integer("root") ?? 0))
        }),
        ("barrier", { _ in try Dist.barrier(); return 0 }),
        ("stats", { a in
            let o = try a.optionsArgument(1, keys: ["reset"])
            lua_createtable(a.L, 0, 3)
            lua_pushnumber(a.L, Dist.seconds); lua_setfield(a.L, -2, "seconds")
            lua_pushinteger(a.L, lua_Integer(Dist.bytes)); lua_setfield(a.L, -2, "bytes")
            lua_pushinteger(a.L, lua_Integer(Dist.calls)); lua_setfield(a.L, -2, "calls")
            if try o?.bool("reset") ?? false { Dist.seconds = 0; Dist.bytes = 0; Dist.calls = 0 }
            return 1
        }),
        ("info", { a in
            let (r, s) = try Dist.initialize()
            lua_createtable(a.L, 0, 4)
            lua_pushinteger(a.L, lua_Integer(r)); lua_setfield(a.L, -2, "rank")
            lua_pushinteger(a.L, lua_Integer(s)); lua_setfield(a.L, -2, "size")
            lua_pushboolean(a.L, Dist.usesMPI ? 1 : 0); lua_setfield(a.L, -2, "mpi")
            lua_pushstring(a.L, Dist.launcher); lua_setfield(a.L, -2, "launcher")
            return 1
        }),
    ]
}
