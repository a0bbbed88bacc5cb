import RealModule

/// Mean cross-entropy of N x C logits against class indices (0-based here; the Lua layer takes
/// 1-based labels), fused: log-softmax by log-sum-exp forward, (softmax - onehot) / N backward.
public enum CrossEntropy {
    public static func loss(_ logits: Tensor, _ labels: [Int]) throws -> Tensor {
        try require(logits.dim == 2, "logits must be N x C, got size \(shapeString(logits.shape))")
        let n = logits.shape[0], c = logits.shape[1]
        try require(n >= 1 && c >= 1, "logits \(shapeString(logits.shape)) are empty")
        try require(labels.count == n, "\(labels.count) labels for \(n) rows of logits")
        for (i, y) in labels.enumerated() where y < 0 || y >= c {
            throw SSLuaError("label \(y + 1) at position \(i + 1) is out of range 1..\(c)")
        }
        switch logits.dtype {
        case .float32: return try run(Float.self, logits, labels, n, c)
        case .float64: return try run(Double.self, logits, labels, n, c)
        }
    }

    static func run<T: TensorScalar>(_: T.Type, _ logits: Tensor, _ labels: [Int], _ n: Int, _ c: Int) throws -> Tensor {
        let x = try logits.detach().contiguous()
        let prob = try Tensor(shape: [n, c], dtype: T.dtype, zeroed: false)
        let xp = x.base(T.self), pp = prob.base(T.self)
        var rowLoss = try [Double](failableRepeating: 0, count: n)
        rowLoss.withUnsafeMutableBufferPointer { lb in
            let lp = lb.baseAddress!
            Parallel.forRange(n, grain: max(1, 16384 / c)) { lo, hi in
                for i in lo..<hi {
                    let xr = xp + i * c, pr = pp + i * c
                    for k in 0..<c { pr[k] = xr[k] }
                    let m = FastExp.rowMax(UnsafePointer(pr), c)
                    let s = FastExp.expShiftSum(pr, c, scale: T(1), shift: m)
                    FastExp.scale(pr, c, T(1 / s))
                    lp[i] = Double(m) + Double.log(s) - Double(xr[labels[i]])
                }
            }
        }
        let out = try Tensor.scalar(rowLoss.reduce(0, +) / Double(n), dtype: T.dtype)
        return out.recorded("cross_entropy", [logits]) { g in
            let scale = T(g.value(at: 0) / Double(n))
            let gx = try Tensor(shape: [n, c], dtype: T.dtype, zeroed: false)
            let gp = gx.base(T.self), pp = prob.base(T.self)
            for i in 0..<n {
                for k in 0..<c { gp[i * c + k] = pp[i * c + k] * scale }
                gp[i * c + labels[i]] -= scale
            }
            return [gx]
        }
    }
}
