/// Mean squared error of two tensors of the same size.
public enum MSE {
    public static func loss(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        try require(a.shape == b.shape, "inputs must have the same size, got \(shapeString(a.shape)) and \(shapeString(b.shape))")
        try require(a.numel > 0, "inputs are empty")
        let dt = DType.promote(a.dtype, b.dtype)
        let diff = try GradMode.withoutGrad { try Tensor.binaryKernel(.sub, a, b).to(dt).contiguous() }
        let v = try diff.toDoubles()
        var s = 0.0
        for x in v { s += x * x }
        let n = Double(a.numel)
        let out = try Tensor.scalar(s / n, dtype: dt)
        return out.recorded("mse", [a, b]) { g in
            let gd = try diff.mul(scalar: 2 * g.value(at: 0) / n)
            return [a.requiresGrad ? try gd.to(a.dtype) : nil, b.requiresGrad ? try gd.neg().to(b.dtype) : nil]
        }
    }
}
