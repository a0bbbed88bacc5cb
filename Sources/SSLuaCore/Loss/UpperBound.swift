import RealModule

/// Prop. 3.1's upper bound of InfoNCE for a linear projector g(h) = W^T h, W d_enc x d_proj:
///   L_upper = beta L_inv + beta L_rep + log(2(N-1)),
///   L_inv = -(1/N) sum_i Sim(W^T h_i1, W^T h_i2),  L_rep = (1/N) sum_i Sim(W^T h_i1, W^T h~*_i),
/// with h~*_i the most similar (in projector space) element of the pool [h1; h2] other than
/// i and N+i. The nearest index is held fixed in the backward (the argmax is piecewise
/// constant), exactly as autograd through a gather would do.
public enum UpperBound {
    /// The nearest negative of each anchor and the pieces its loss terms need.
    public final class Pool {
        public let n: Int, dEnc: Int, dProj: Int
        public let nearest: [Int]        // 0-based into the 2N pool
        let h: Tensor, f: Tensor, norms: Tensor, w: Tensor?
        init(n: Int, dEnc: Int, dProj: Int, nearest: [Int], h: Tensor, f: Tensor, norms: Tensor, w: Tensor?) {
            self.n = n; self.dEnc = dEnc; self.dProj = dProj; self.nearest = nearest
            self.h = h; self.f = f; self.norms = norms; self.w = w
        }
    }

    /// Checks W against the batch: it must be d_enc x d_proj (an nn.Linear weight is its transpose).
    static func checkW(_ w: Tensor, dEnc: Int) throws {
        try require(w.dim == 2, "W must be a 2-d d_enc x d_proj matrix, got size \(shapeString(w.shape))")
        try require(w.shape[0] == dEnc,
                    "W must be d_enc x d_proj = \(dEnc) x p, got \(shapeString(w.shape))" +
                    (w.shape[1] == dEnc ? " (an nn.Linear weight is d_proj x d_enc: pass weight:t())" : ""))
        try require(w.shape[1] >= 1, "W has no columns")
    }

    /// Projects, normalises and finds each anchor's nearest negative. `w == nil`: identity projector.
    public static func pool(_ h1: Tensor, _ h2: Tensor, _ w: Tensor?) throws -> Pool {
        let (n, dEnc) = try Contrastive.checkPair(h1, h2, ("h1", "h2"))
        if let w = w { try checkW(w, dEnc: dEnc) }
        var dt = DType.promote(h1.dtype, h2.dtype)
        if let w = w { dt = DType.promote(dt, w.dtype) }
        switch dt {
        case .float32: return try run(Float.self, h1, h2, w, n, dEnc)
        case .float64: return try run(Double.self, h1, h2, w, n, dEnc)
        }
    }

    static func run<T: TensorScalar>(_: T.Type, _ h1: Tensor, _ h2: Tensor, _ w: Tensor?,
                                     _ n: Int, _ dEnc: Int) throws -> Pool {
        let rows = 2 * n
        let h = try Contrastive.pool(h1, h2, T.dtype)
        var wc: Tensor? = nil
        let p = w?.shape[1] ?? dEnc
        let f: Tensor
        if let w = w {
            let wt = try w.detach().to(T.dtype).contiguous()
            wc = wt
            f = try Tensor(shape: [rows, p], dtype: T.dtype, zeroed: false)
            BLAS.gemm(false, false, rows, p, dEnc, T(1), h.base(T.self), dEnc, wt.base(T.self), p, T(0), f.base(T.self), p)
        } else {
            f = try h.clone()
        }
        let norms = try Tensor(shape: [rows], dtype: T.dtype, zeroed: false)
        let fp = f.base(T.self)
        Contrastive.normalizeRows(fp, rows, p, norms.base(T.self))
        let s = try Tensor(shape: [n, rows], dtype: T.dtype, zeroed: false)
        let sp = s.base(T.self)
        BLAS.gemm(false, true, n, rows, p, T(1), fp, p, fp, p, T(0), sp, rows)
        var nearest = try [Int](failableRepeating: 0, count: n)
        for i in 0..<n {
            let row = sp + i * rows
            var best = -T.infinity, bi = -1
            for k in 0..<rows where k != i && k != i + n {
                if row[k] > best || bi < 0 { best = row[k]; bi = k }
            }
            nearest[i] = bi
        }
        return Pool(n: n, dEnc: dEnc, dProj: p, nearest: nearest, h: h, f: f, norms: norms, w: wc)
    }

    /// The h~* rows (N x d_enc) in the pool's dtype.
    public static func nearestRows(_ pool: Pool) throws -> Tensor {
        let out = try Tensor(shape: [pool.n, pool.dEnc], dtype: pool.h.dtype, zeroed: false)
        for i in 0..<pool.n { try out.select(0, i).copyIn(pool.h.select(0, pool.nearest[i])) }
        return out
    }

    /// Prop. 3.1 assembled: the bound and its terms.
    public struct Bound {
        /// beta L_inv + beta L_rep + log(2(N-1)), differentiable with respect to h1, h2 and W.
        public let upper: Tensor
        public let invariance: Tensor, repulsion: Tensor
        /// log(2(N-1)), the bound's constant.
        public let constant: Double
        /// 0-based into the 2N pool [h1; h2], never i or N+i.
        public let nearest: [Int]
    }

    /// The bound for temperature `beta` (> 0).
    public static func bound(_ h1: Tensor, _ h2: Tensor, _ w: Tensor, beta: Double) throws -> Bound {
        try require(beta.isFinite && beta > 0, "beta must be a positive number, got \(beta)")
        let (inv, rep, pool) = try terms(h1, h2, w)
        let constant = Double.log(2 * Double(pool.n - 1))
        let upper = try inv.mul(scalar: beta).add(rep.mul(scalar: beta)).add(scalar: constant)
        return Bound(upper: upper, invariance: inv, repulsion: rep, constant: constant, nearest: pool.nearest)
    }

    /// (L_inv, L_rep) as differentiable 0-d tensors with respect to h1, h2 and W.
    public static func terms(_ h1: Tensor, _ h2: Tensor, _ w: Tensor) throws -> (Tensor, Tensor, Pool) {
        let pl = try pool(h1, h2, w)
        switch pl.f.dtype {
        case .float32: let (a, b) = try terms(Float.self, pl, h1, h2, w); return (a, b, pl)
        case .float64: let (a, b) = try terms(Double.self, pl, h1, h2, w); return (a, b, pl)
        }
    }

    static func terms<T: TensorScalar>(_: T.Type, _ pl: Pool, _ h1: Tensor, _ h2: Tensor,
                                       _ w: Tensor) throws -> (Tensor, Tensor) {
        let n = pl.n, p = pl.dProj, rows = 2 * n, dEnc = pl.dEnc
        let fp = pl.f.base(T.self)
        func dot(_ a: Int, _ b: Int) -> Double {
            var s = 0.0
            for k in 0..<p { s += Double(fp[a * p + k]) * Double(fp[b * p + k]) }
            return s
        }
        var inv = 0.0, rep = 0.0
        for i in 0..<n { inv -= dot(i, i + n); rep += dot(i, pl.nearest[i]) }
        let linv = try Tensor.scalar(inv / Double(n), dtype: T.dtype)
        let lrep = try Tensor.scalar(rep / Double(n), dtype: T.dtype)
        // pairs (a, b, weight): the term is sum weight * f_a.f_b
        func back(_ pairs: [(Int, Int)], _ weight: Double) throws -> [Tensor?] {
            let fp = pl.f.base(T.self)   // pl is captured: its buffers stay alive
            let df = try Tensor(shape: [rows, p], dtype: T.dtype, zeroed: true)
            let dp = df.base(T.self)
            let c = T(weight)
            for (a, b) in pairs {
                for k in 0..<p { dp[a * p + k] += c * fp[b * p + k]; dp[b * p + k] += c * fp[a * p + k] }
            }
            Contrastive.normalizeBackward(dp, fp, pl.norms.base(T.self), rows, p)
            // g = h W: dh = dg W^T, dW = h^T dg
            var out: [Tensor?] = [nil, nil, nil]
            if h1.requiresGrad || h2.requiresGrad, let wc = pl.w {
                let dh = try Tensor(shape: [rows, dEnc], dtype: T.dtype, zeroed: false)
                BLAS.gemm(false, true, rows, dEnc, p, T(1), dp, p, wc.base(T.self), p, T(0), dh.base(T.self), dEnc)
                let s = try Contrastive.split(dh, h1, h2)
                out[0] = s[0]; out[1] = s[1]
            }
            if w.requiresGrad {
                let dw = try Tensor(shape: [dEnc, p], dtype: T.dtype, zeroed: false)
                BLAS.gemm(true, false, dEnc, p, rows, T(1), pl.h.base(T.self), dEnc, dp, p, T(0), dw.base(T.self), p)
                out[2] = try dw.to(w.dtype)
            }
            return out
        }
        let invPairs = (0..<n).map { ($0, $0 + n) }
        let repPairs = (0..<n).map { ($0, pl.nearest[$0]) }
        linv.recorded("upper_bound.invariance", [h1, h2, w]) { g in
            try back(invPairs, -g.value(at: 0) / Double(n))
        }
        lrep.recorded("upper_bound.repulsion", [h1, h2, w]) { g in
            try back(repPairs, g.value(at: 0) / Double(n))
        }
        return (linv, lrep)
    }
}
