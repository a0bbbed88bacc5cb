/// Gradient checking against central finite differences in float64 (`sslua.grad_check`).
///
/// The inputs are copied to float64 leaves that require grad; `fn` maps them to a scalar.
/// Backward gives the analytic gradient; each element is then perturbed by +-eps (with grad
/// mode off) and the slope compared with |analytic - numeric| <= atol + rtol |numeric|
/// (PyTorch's gradcheck defaults: eps 1e-6, atol 1e-5, rtol 1e-3).
public struct GradCheckResult {
    public let ok: Bool
    public let maxError: Double
    /// Where the first failure was found, nil when ok.
    public let message: String?
}

public enum GradCheck {
    public static func run(_ inputs: [Tensor], eps: Double = 1e-6, atol: Double = 1e-5, rtol: Double = 1e-3,
                           _ fn: ([Tensor]) throws -> Tensor) throws -> GradCheckResult {
        try require(!inputs.isEmpty, "no inputs to check")
        try require(eps > 0 && atol >= 0 && rtol >= 0, "eps must be positive and tolerances non-negative")
        let xs: [Tensor] = try inputs.map { t in
            let c = try Tensor(shape: t.shape, dtype: .float64, zeroed: false)
            try c.copyIn(t)
            c.requiresGrad = true
            return c
        }
        func evaluate() throws -> Double {
            let y = try fn(xs)
            try require(y.numel == 1, "the function must return a scalar tensor, got size \(shapeString(y.shape))")
            return y.value(at: 0)
        }
        // analytic
        let y = try GradMode.withGrad { try fn(xs) }
        try require(y.numel == 1, "the function must return a scalar tensor, got size \(shapeString(y.shape))")
        if y.requiresGrad { try GradMode.withGrad { try y.backward(Tensor.full(y.shape, 1, dtype: y.dtype)) } }
        let analytic: [[Double]] = try xs.map { x in
            try x.grad.map { try $0.toDoubles() } ?? [Double](failableRepeating: 0, count: x.numel, "the analytic gradient")
        }
        // numeric
        var maxError = 0.0
        var failure: String? = nil
        try GradMode.withoutGrad {
            for (k, x) in xs.enumerated() {
                let p = x.base(Double.self)
                for i in 0..<x.numel {
                    let saved = p[i]
                    p[i] = saved + eps
                    let fp = try evaluate()
                    p[i] = saved - eps
                    let fm = try evaluate()
                    p[i] = saved
                    let numeric = (fp - fm) / (2 * eps)
                    let a = analytic[k][i]
                    let err = Swift.abs(a - numeric)
                    if !(err <= atol + rtol * Swift.abs(numeric)) {
                        if failure == nil {
                            failure = "gradient mismatch for input \(k + 1) at element \(i + 1): analytic \(a), numeric \(numeric)"
                        }
                    }
                    if err.isNaN { maxError = .nan } else if !maxError.isNaN { maxError = Swift.max(maxError, err) }
                    try Parallel.checkInterrupt()
                }
            }
        }
        return GradCheckResult(ok: failure == nil, maxError: maxError, message: failure)
    }
}

extension GradMode {
    /// Runs `body` with recording on (the inverse of `withoutGrad`).
    public static func withGrad<R>(_ body: () throws -> R) rethrows -> R {
        let saved = enabled
        enabled = true
        defer { enabled = saved }
        return try body()
    }
}
