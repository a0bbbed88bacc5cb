/// `linear(x, W, b) = x W^T + b` with W stored as PyTorch's (out, in): one gemm with the bias
/// pre-filled into the output, and gemm-only gradients (no transposed copies).
extension Tensor {
    public static func linear(_ x: Tensor, _ w: Tensor, _ b: Tensor?) throws -> Tensor {
        try require(w.dim == 2, "expected a 2-d weight (out, in), got size \(shapeString(w.shape))")
        try require(x.dim >= 1, "expected an input with at least 1 dimension, got a 0-d tensor")
        let (outF, inF) = (w.shape[0], w.shape[1])
        try require(x.shape[x.dim - 1] == inF,
                    "expected input with \(inF) features (weight \(shapeString(w.shape))), got size \(shapeString(x.shape))")
        try require(x.dtype == w.dtype, "input is \(x.dtype.rawValue) but weight is \(w.dtype.rawValue)")
        if let b = b {
            try require(b.dim == 1 && b.shape[0] == outF, "bias of size \(shapeString(b.shape)) for \(outF) output features")
            try require(b.dtype == x.dtype, "bias is \(b.dtype.rawValue) but input is \(x.dtype.rawValue)")
        }
        let rows = try checkedCount(Array(x.shape.dropLast()))   // not numel / inF: inF may be 0
        let xc = try x.contiguous(), wc = try w.contiguous(), bc = try b?.contiguous()
        var outShape = x.shape
        outShape[outShape.count - 1] = outF
        let out = try Tensor(shape: outShape, dtype: x.dtype, zeroed: b == nil)
        func fwd<T: TensorScalar>(_: T.Type) {
            let op = out.base(T.self)
            if let bc = bc {
                let bp = bc.base(T.self)
                Parallel.forRange(rows, grain: max(1, 65536 / max(outF, 1))) { lo, hi in
                    for r in lo..<hi { (op + r * outF).update(from: bp, count: outF) }
                }
            }
            if inF > 0 {
                nnGemm(false, true, rows, outF, inF, T(1), xc.base(T.self), inF, wc.base(T.self), inF,
                       bc == nil ? T(0) : T(1), op, outF)
            }
        }
        switch x.dtype { case .float32: fwd(Float.self); case .float64: fwd(Double.self) }
        var inputs = [x, w]
        if let b = b { inputs.append(b) }
        return out.recorded("linear", inputs) { gout in
            let gc = try gout.contiguous()
            // the gemms below write every element (also with outF == 0); only an empty inner
            // dimension leaves them unwritten
            let gx = x.requiresGrad ? try Tensor(shape: x.shape, dtype: x.dtype, zeroed: inF == 0 || rows == 0) : nil
            let gw = w.requiresGrad ? try Tensor(shape: w.shape, dtype: w.dtype, zeroed: inF == 0 || rows == 0) : nil
            let gb = (b?.requiresGrad ?? false) ? try Tensor(shape: [outF], dtype: x.dtype, zeroed: false) : nil
            func bwd<T: TensorScalar>(_: T.Type) {
                let gp = gc.base(T.self)
                if let gx = gx, inF > 0, rows > 0 {
                    nnGemm(false, false, rows, inF, outF, T(1), gp, outF, wc.base(T.self), inF, T(0), gx.base(T.self), inF)
                }
                if let gw = gw, rows > 0, inF > 0 {
                    nnGemm(true, false, outF, inF, rows, T(1), gp, outF, xc.base(T.self), inF, T(0), gw.base(T.self), inF)
                }
                if let gb = gb {
                    let bp = gb.base(T.self)
                    Parallel.forRange(outF, grain: max(1, 65536 / max(rows, 1))) { lo, hi in
                        for o in lo..<hi {
                            var acc = 0.0
                            for r in 0..<rows { acc += Double(gp[r * outF + o]) }
                            bp[o] = T(acc)
                        }
                    }
                }
            }
            switch x.dtype { case .float32: bwd(Float.self); case .float64: bwd(Double.self) }
            var r: [Tensor?] = [gx, gw]
            if b != nil { r.append(gb) }
            return r
        }
    }

    /// `relu(a + b)` for same-shape tensors in one pass (the end of a ResNet block).
    public static func addRelu(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        try require(a.shape == b.shape, "shapes \(shapeString(a.shape)) and \(shapeString(b.shape)) differ")
        try require(a.dtype == b.dtype, "dtypes \(a.dtype.rawValue) and \(b.dtype.rawValue) differ")
        let ac = try a.contiguous(), bc = try b.contiguous()
        let out = try Tensor(shape: a.shape, dtype: a.dtype, zeroed: false)
        let n = out.numel
        func run<T: TensorScalar>(_: T.Type) {
            let ap = ac.base(T.self), bp = bc.base(T.self), op = out.base(T.self)
            Parallel.forRange(n) { lo, hi in for i in lo..<hi { let v = ap[i] + bp[i]; op[i] = v > 0 ? v : 0 } }
        }
        switch a.dtype { case .float32: run(Float.self); case .float64: run(Double.self) }
        let y = out.detach()   // the output's values without its node: no retain cycle
        return out.recorded("add_relu", [a, b]) { gout in
            let gc = try gout.contiguous()
            let g = try Tensor(shape: a.shape, dtype: a.dtype, zeroed: false)
            func back<T: TensorScalar>(_: T.Type) {
                let gp = gc.base(T.self), yp = y.base(T.self), dp = g.base(T.self)
                Parallel.forRange(n) { lo, hi in rowScaledMask(gp + lo, yp + lo, dp + lo, hi - lo, T(1), relu: true) }
            }
            switch a.dtype { case .float32: back(Float.self); case .float64: back(Double.self) }
            return [g, g]
        }
    }
}
