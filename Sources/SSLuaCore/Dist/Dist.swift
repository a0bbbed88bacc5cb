import CDist
import Foundation

/// Data-parallel collectives over MPI (`sslua.dist`), as `torch.distributed` on a process group.
///
/// MPI is loaded at run time (`CDist`: `dlopen` of Open MPI's `libmpi.so.40`), and only when the
/// process was started by a launcher for more than one process (`mpirun`, `srun`): otherwise
/// the world has size 1, no MPI is touched, and every collective is the identity (a copy).
/// Every collective returns a new tensor; `allReduce` (sum, mean, max, min), `allGather` and
/// `broadcast` are differentiable, with the backward passes of `torch.distributed.nn`: the
/// backward of a collective is itself a collective, so every rank must run its backward pass
/// (as every rank ran the forward), in the same order.
///
/// Before each collective the ranks compare what they pass (kind, op, dtype, shape, root) with
/// one small all-reduce, so a mismatch is an error on every rank instead of corrupt data or a
/// hang in MPI.
public enum Dist {
    public enum Op: String, CaseIterable {
        case sum, mean, max, min
        var code: Int32 { switch self { case .sum, .mean: return 0; case .max: return 1; case .min: return 2 } }
        var tag: Double { switch self { case .sum: return 0; case .mean: return 1; case .max: return 2; case .min: return 3 } }
    }

    public private(set) static var rank = 0
    public private(set) static var size = 1
    public private(set) static var initialized = false
    /// Whether MPI is in use (false in a world of size 1).
    public private(set) static var usesMPI = false
    /// What the launcher environment said (for messages and `sslua.dist.info`).
    public private(set) static var launcher = "none"
    /// Communication counters: seconds inside MPI calls, payload bytes, number of collectives.
    public static var seconds = 0.0
    public static var bytes = 0
    public static var calls = 0

    /// The number of processes the launcher started, from its environment (nil: not launched
    /// by one; 0: launched, count unknown). `SSLUA_DIST=0` forces a single process.
    static func launcherSize() -> (Int?, String) {
        let env = ProcessInfo.processInfo.environment
        if env["SSLUA_DIST"] == "0" { return (nil, "SSLUA_DIST=0") }
        for key in ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_STEP_NUM_TASKS", "MPI_LOCALNRANKS"] {
            if let v = env[key] { return (Int(v) ?? 0, "\(key)=\(v)") }
        }
        if let v = env["PMIX_RANK"] { return (0, "PMIX_RANK=\(v)") }
        return (nil, "none")
    }

    /// Joins the world (idempotent). Returns (rank, size).
    @discardableResult public static func initialize() throws -> (Int, Int) {
        if initialized { return (rank, size) }
        let (n, what) = launcherSize()
        launcher = what
        guard let expected = n, expected != 1 else {
            initialized = true
            return (0, 1)
        }
        let lib = ProcessInfo.processInfo.environment["SSLUA_MPI_LIB"]
        var r: Int32 = 0, s: Int32 = 1
        var err = [CChar](repeating: 0, count: 1024)
        let rc = err.withUnsafeMutableBufferPointer { e in
            sslua_dist_init(lib, &r, &s, e.baseAddress, Int32(e.count))
        }
        if rc != 0 {
            throw SSLuaError("started by a launcher (\(what)) but MPI is unavailable: \(String(cString: err))")
        }
        if expected > 1 && Int(s) != expected {
            throw SSLuaError("MPI_Init gave a world of \(s) process(es) but the launcher started \(expected) (\(what)); under Slurm use srun --mpi=pmix")
        }
        rank = Int(r); size = Int(s)
        usesMPI = true
        initialized = true
        return (rank, size)
    }

    // MARK: raw calls

    private static func call(_ body: (UnsafeMutablePointer<CChar>, Int32) -> Int32) throws {
        var err = [CChar](repeating: 0, count: 1024)
        let t0 = sslua_dist_wtime()
        let rc = err.withUnsafeMutableBufferPointer { e in body(e.baseAddress!, Int32(e.count)) }
        seconds += sslua_dist_wtime() - t0
        if rc != 0 { throw SSLuaError("rank \(rank) of \(size): \(String(cString: err))") }
    }

    private static func dcode(_ d: DType) -> Int32 { d == .float64 ? 1 : 0 }

    /// In-place all-reduce of a contiguous buffer.
    private static func reduceRaw(_ t: Tensor, _ op: Int32) throws {
        guard t.numel > 0 else { return }
        try call { e, n in sslua_dist_allreduce(t.storage.raw + t.offset * t.dtype.size, Int64(t.numel), dcode(t.dtype), op, e, n) }
    }

    /// Every rank must pass the same descriptor: one MAX all-reduce of [v, -v].
    private static func agree(_ what: String, _ v: [Double], describe: String) throws {
        let buf = try Tensor(shape: [2 * v.count], dtype: .float64)
        let p = buf.base(Double.self)
        for (i, x) in v.enumerated() { p[i] = x; p[v.count + i] = -x }
        try reduceRaw(buf, 1)
        for i in 0..<v.count where p[i] != v[i] || -p[v.count + i] != v[i] {
            throw SSLuaError("ranks disagree: rank \(rank) passes \(describe); every rank must call \(what) with the same size, dtype and options, in the same order")
        }
    }

    private static func descriptor(_ kind: Double, _ t: Tensor, _ extra: [Double]) -> [Double] {
        descriptor(kind, t.dtype, t.shape, extra)
    }

    private static func descriptor(_ kind: Double, _ dtype: DType, _ shape: [Int], _ extra: [Double]) -> [Double] {
        var v: [Double] = [kind, dtype == .float64 ? 1 : 0, Double(shape.count), Double(shape.reduce(1, *))]
        for d in 0..<8 { v.append(d < shape.count ? Double(shape[d]) : -1) }
        return v + extra
    }

    private static func copyOf(_ t: Tensor) throws -> Tensor {
        let out = try Tensor(shape: t.shape, dtype: t.dtype, zeroed: false)
        try out.copyIn(t)
        return out
    }

    // MARK: collectives

    /// Elementwise reduction over the ranks; every rank gets the result.
    public static func allReduce(_ x: Tensor, _ op: Op = .sum) throws -> Tensor {
        try initialize()
        let out = try copyOf(x)
        if size > 1 {
            try agree("all_reduce", descriptor(1, x, [op.tag]), describe: "\(x.dtype.rawValue) \(shapeString(x.shape)) with op '\(op.rawValue)'")
            try reduceRaw(out, op.code)
            bytes += out.numel * out.dtype.size
            calls += 1
        }
        let result = op == .mean && size > 1 ? try GradMode.withoutGrad { try out.div(scalar: Double(size)) } : out
        switch op {
        case .sum, .mean:
            return result.recorded("all_reduce", [x]) { g in [try allReduce(g, op)] }
        case .max, .min:
            // Gradient of the elementwise extreme: the summed gradient, where this rank's value
            // is the extreme (every tied rank gets it, as torch's max/min over a dimension).
            return result.recordedUsingOutput("all_reduce", [x]) { g, y in
                [try allReduce(g, .sum).mul(x.detach().binary(.eq, y))]
            }
        }
    }

    /// Concatenation along dimension 1 (0 here) of every rank's tensor, in rank order. The
    /// first dimension may differ between ranks, the others must agree. A 0-d tensor counts
    /// as one element.
    public static func allGather(_ x: Tensor) throws -> Tensor {
        try initialize()
        let xs = x.dim == 0 ? try x.reshape([1]) : x
        let first = xs.shape[0]
        let rest = Array(xs.shape.dropFirst())
        let inner = rest.reduce(1, *)
        var firsts = [first]
        if size > 1 {
            // Each rank's first size (gathered), and agreement on the rest.
            try agree("all_gather", descriptor(2, xs.dtype, rest, []), describe: "\(x.dtype.rawValue) \(shapeString(xs.shape))")
            let fs = try Tensor(shape: [size], dtype: .float64)
            let mine = try Tensor.full([1], Double(first), dtype: .float64)
            var counts = [Int64](repeating: 1, count: size)
            try call { e, n in
                counts.withUnsafeBufferPointer { c in
                    sslua_dist_allgather(mine.storage.raw, 1, fs.storage.raw, c.baseAddress, 1, e, n)
                }
            }
            firsts = (0..<size).map { Int(fs.base(Double.self)[$0]) }
            counts = firsts.map { Int64($0 * inner) }
            let total = firsts.reduce(0, +)
            let out = try Tensor(shape: [total] + rest, dtype: xs.dtype, zeroed: false)
            let src = try xs.contiguous()
            try call { e, n in
                counts.withUnsafeBufferPointer { c in
                    sslua_dist_allgather(src.storage.raw + src.offset * src.dtype.size, Int64(src.numel),
                                         out.storage.raw, c.baseAddress, dcode(xs.dtype), e, n)
                }
            }
            bytes += out.numel * out.dtype.size
            calls += 1
            let start = firsts.prefix(rank).reduce(0, +)
            let r = rank, shape0 = x.shape
            return out.recorded("all_gather", [x]) { g in
                [try allReduce(g, .sum).narrow(0, start, firsts[r]).reshape(shape0)]
            }
        }
        return try copyOf(xs).recorded("all_gather", [x]) { [shape0 = x.shape] g in [try g.reshape(shape0)] }
    }

    /// Rank `root`'s tensor on every rank (each rank passes a tensor of the same size and
    /// dtype). Backward: the summed gradient goes to the root's input, zero to the others'.
    public static func broadcast(_ x: Tensor, root: Int = 0) throws -> Tensor {
        try initialize()
        try require(root >= 0 && root < size, "root \(root) out of range for a world of size \(size) (ranks are 0..\(size - 1))")
        let out = try copyOf(x)
        if size > 1 {
            try agree("broadcast", descriptor(3, x, [Double(root)]), describe: "\(x.dtype.rawValue) \(shapeString(x.shape)) with root \(root)")
            if out.numel > 0 {
                try call { e, n in sslua_dist_bcast(out.storage.raw, Int64(out.numel), dcode(out.dtype), Int32(root), e, n) }
            }
            bytes += out.numel * out.dtype.size
            calls += 1
        }
        let isRoot = rank == root
        return out.recorded("broadcast", [x]) { g in
            let s = try allReduce(g, .sum)
            return [isRoot ? s : try Tensor.zerosLike(s)]
        }
    }

    public static func barrier() throws {
        try initialize()
        if size > 1 { try call { e, n in sslua_dist_barrier(e, n) } }
    }
}
