import RealModule

/// Binary operations with NumPy broadcasting and dtype promotion.
public enum BinaryOp: String {
    case add, sub, mul, div, pow, maximum, minimum, eq, ne, lt, le, gt, ge

    @inlinable func apply<T: TensorScalar>(_ a: T, _ b: T) -> T {
        switch self {
        case .add: return a + b
        case .sub: return a - b
        case .mul: return a * b
        case .div: return a / b
        case .pow: return T.cpow(a, b)
        case .maximum: return a.isNaN || a > b ? a : b
        case .minimum: return a.isNaN || a < b ? a : b
        case .eq: return a == b ? 1 : 0
        case .ne: return a != b ? 1 : 0
        case .lt: return a < b ? 1 : 0
        case .le: return a <= b ? 1 : 0
        case .gt: return a > b ? 1 : 0
        case .ge: return a >= b ? 1 : 0
        }
    }
}

/// Unary operations; `param` carries the scalar of `leaky_relu` and the like.
public enum UnaryOp: String {
    case neg, exp, log, sqrt, abs, relu, sigmoid, tanh, floor, sign, square, reciprocal, sin, cos, log1p, expm1

    @inlinable func apply<T: TensorScalar>(_ x: T) -> T {
        switch self {
        case .neg: return -x
        case .exp: return T.exp(x)
        case .log: return T.log(x)
        case .sqrt: return x.squareRoot()
        case .abs: return Swift.abs(x)
        case .relu: return x > 0 ? x : 0
        case .sigmoid: return x >= 0 ? 1 / (1 + T.exp(-x)) : T.exp(x) / (1 + T.exp(x))
        case .tanh: return T.tanh(x)
        case .floor: return x.rounded(.down)
        case .sign: return x > 0 ? 1 : (x < 0 ? -1 : 0)
        case .square: return x * x
        case .reciprocal: return 1 / x
        case .sin: return T.sin(x)
        case .cos: return T.cos(x)
        case .log1p: return T.log(onePlus: x)
        case .expm1: return T.expMinusOne(x)
        }
    }
}

extension Tensor {
    // MARK: kernels (no autograd)

    /// `op(a, b)` into a new tensor of the broadcast shape.
    /// With `target`, the result is written into that view instead (the in-place `add_` etc.):
    /// it must have the broadcast shape and the computed dtype, and may be `a` itself, since
    /// every element is read before the same position is written.
    public static func binaryKernel(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, into target: Tensor? = nil) throws -> Tensor {
        let shape = try broadcastShapes(a.shape, b.shape)
        let dt = DType.promote(a.dtype, b.dtype)
        let a = try a.to(dt), b = try b.to(dt)
        let out: Tensor
        if let t = target {
            try require(t.shape == shape && t.dtype == dt, "output of size \(shapeString(shape)) doesn't match the in-place target \(shapeString(t.shape))")
            out = t
        } else {
            out = try Tensor(shape: shape, dtype: dt, zeroed: false)
        }
        let outFlat = out.isContiguous
        func run<T: TensorScalar>(_: T.Type) {
            let ap = a.base(T.self), bp = b.base(T.self), op_ = out.base(T.self)
            let n = out.numel
            // Fast paths: same-shape contiguous, or a scalar on either side.
            if outFlat && a.isContiguous && b.isContiguous && a.shape == b.shape {
                Parallel.forRange(n) { lo, hi in
                    switch op {
                    case .add: for i in lo..<hi { op_[i] = ap[i] + bp[i] }
                    case .sub: for i in lo..<hi { op_[i] = ap[i] - bp[i] }
                    case .mul: for i in lo..<hi { op_[i] = ap[i] * bp[i] }
                    case .div: for i in lo..<hi { op_[i] = ap[i] / bp[i] }
                    default: for i in lo..<hi { op_[i] = op.apply(ap[i], bp[i]) }
                    }
                }
                return
            }
            if outFlat && b.numel == 1 && a.isContiguous && a.shape == shape {
                let s = bp[0]
                Parallel.forRange(n) { lo, hi in
                    switch op {
                    case .add: for i in lo..<hi { op_[i] = ap[i] + s }
                    case .sub: for i in lo..<hi { op_[i] = ap[i] - s }
                    case .mul: for i in lo..<hi { op_[i] = ap[i] * s }
                    case .div: for i in lo..<hi { op_[i] = ap[i] / s }
                    default: for i in lo..<hi { op_[i] = op.apply(ap[i], s) }
                    }
                }
                return
            }
            let loop = StridedLoop(shape: shape, strides: [out.strides, a.broadcastStrides(to: shape),
                                                           b.broadcastStrides(to: shape)])
            let m = loop.innerCount
            let so = loop.strides[0].last!, sa = loop.strides[1].last!, sb = loop.strides[2].last!
            Parallel.forRange(loop.outerCount, grain: max(1, 32768 / max(m, 1))) { lo, hi in
                loop.rows(lo, hi) { _, o in
                    let po = op_ + o[0], pa = ap + o[1], pb = bp + o[2]
                    if so == 1 && sa == 1 && sb == 1 {
                        for i in 0..<m { po[i] = op.apply(pa[i], pb[i]) }
                    } else if so == 1 && sa == 1 && sb == 0 {
                        let s = pb[0]
                        for i in 0..<m { po[i] = op.apply(pa[i], s) }
                    } else if so == 1 && sa == 0 && sb == 1 {
                        let s = pa[0]
                        for i in 0..<m { po[i] = op.apply(s, pb[i]) }
                    } else {
                        for i in 0..<m { po[i * so] = op.apply(pa[i * sa], pb[i * sb]) }
                    }
                }
            }
        }
        switch dt { case .float32: run(Float.self); case .float64: run(Double.self) }
        return out
    }

    /// Applies `f` elementwise into a new contiguous tensor.
    @inlinable public func mapKernel(_ f32: (Float) -> Float, _ f64: (Double) -> Double) throws -> Tensor {
        let x = try contiguous()
        let out = try Tensor(shape: shape, dtype: dtype, zeroed: false)
        let n = numel
        switch dtype {
        case .float32:
            let s = x.base(Float.self), d = out.base(Float.self)
            Parallel.forRange(n) { lo, hi in for i in lo..<hi { d[i] = f32(s[i]) } }
        case .float64:
            let s = x.base(Double.self), d = out.base(Double.self)
            Parallel.forRange(n) { lo, hi in for i in lo..<hi { d[i] = f64(s[i]) } }
        }
        return out
    }

    /// float32 `exp` and `relu` on a contiguous tensor: SIMD loops over parallel chunks.
    func fastUnaryKernel(_ op: UnaryOp) throws -> Tensor? {
        guard dtype == .float32, op == .exp || op == .relu else { return nil }
        let x = try contiguous()
        let out = try Tensor(shape: shape, dtype: dtype, zeroed: false)
        let s = x.base(Float.self), d = out.base(Float.self)
        Parallel.forRange(numel, grain: 65536) { lo, hi in
            if op == .exp { FastMath.exp(s + lo, d + lo, hi - lo) } else { FastMath.relu(s + lo, d + lo, hi - lo) }
        }
        return out
    }

    public func unaryKernel(_ op: UnaryOp) throws -> Tensor {
        if let r = try fastUnaryKernel(op) { return r }
        switch op {
        case .relu: return try mapKernel({ $0 < 0 ? 0 : $0 }, { $0 < 0 ? 0 : $0 })
        case .neg: return try mapKernel({ -$0 }, { -$0 })
        case .exp: return try mapKernel({ Float.exp($0) }, { Double.exp($0) })
        default: return try mapKernel({ op.apply($0) }, { op.apply($0) })
        }
    }

    // MARK: differentiable ops

    public func binary(_ op: BinaryOp, _ other: Tensor) throws -> Tensor {
        let a = self, b = other
        let out = try Tensor.binaryKernel(op, a, b)
        switch op {
        case .add:
            return out.recorded("add", [a, b]) { g in [g, g] }
        case .sub:
            return out.recorded("sub", [a, b]) { g in [g, try g.neg()] }
        case .mul:
            return out.recorded("mul", [a, b]) { g in
                [a.requiresGrad ? try g.mul(b) : nil, b.requiresGrad ? try g.mul(a) : nil]
            }
        case .div:
            return out.recordedUsingOutput("div", [a, b]) { g, out in
                [a.requiresGrad ? try g.div(b) : nil,
                 b.requiresGrad ? try g.mul(out).div(b).neg() : nil]
            }
        case .pow:
            return out.recordedUsingOutput("pow", [a, b]) { g, out in
                // d/da a^b = b a^(b-1); d/db a^b = a^b log a (0 where a = 0)
                let ga: Tensor? = a.requiresGrad
                    ? try g.mul(b).mul(try Tensor.binaryKernel(.pow, a, b.sub(scalar: 1))) : nil
                var gb: Tensor? = nil
                if b.requiresGrad {
                    let la = try a.mapKernel({ $0 > 0 ? Float.log($0) : 0 }, { $0 > 0 ? Double.log($0) : 0 })
                    gb = try g.mul(out).mul(la)
                }
                return [ga, gb]
            }
        case .maximum, .minimum:
            return out.recordedUsingOutput(op.rawValue, [a, b]) { g, out in
                // gradient to the selected operand (ties: split evenly, as PyTorch)
                let ma = try Tensor.binaryKernel(.eq, out, a), mb = try Tensor.binaryKernel(.eq, out, b)
                let both = try ma.mul(mb)
                let wa = try ma.sub(both.mul(scalar: 0.5)), wb = try mb.sub(both.mul(scalar: 0.5))
                return [try g.mul(wa), try g.mul(wb)]
            }
        default:
            return out  // comparisons are not differentiable
        }
    }

    public func unary(_ op: UnaryOp) throws -> Tensor {
        let x = self
        let out = try unaryKernel(op)
        switch op {
        case .neg: return out.recorded("neg", [x]) { g in [try g.neg()] }
        case .exp: return out.recordedUsingOutput("exp", [x]) { g, out in [try g.mul(out)] }
        case .log: return out.recorded("log", [x]) { g in [try g.div(x)] }
        case .sqrt: return out.recordedUsingOutput("sqrt", [x]) { g, out in [try g.div(out.mul(scalar: 2))] }
        case .abs: return out.recorded("abs", [x]) { g in [try g.mul(x.unaryKernel(.sign))] }
        case .relu: return out.recorded("relu", [x]) { g in [try g.mul(Tensor.binaryKernel(.gt, x, Tensor.scalar(0, dtype: x.dtype)))] }
        case .sigmoid: return out.recordedUsingOutput("sigmoid", [x]) { g, out in
            [try g.mul(out.mul(out.rsub(scalar: 1)))] }
        case .tanh: return out.recordedUsingOutput("tanh", [x]) { g, out in
            [try g.mul(out.mul(out).rsub(scalar: 1))] }
        case .square: return out.recorded("square", [x]) { g in [try g.mul(x).mul(scalar: 2)] }
        case .reciprocal: return out.recordedUsingOutput("reciprocal", [x]) { g, out in [try g.mul(out).mul(out).neg()] }
        case .sin: return out.recorded("sin", [x]) { g in [try g.mul(x.unaryKernel(.cos))] }
        case .cos: return out.recorded("cos", [x]) { g in [try g.mul(x.unaryKernel(.sin)).neg()] }
        case .log1p: return out.recorded("log1p", [x]) { g in [try g.div(x.add(scalar: 1))] }
        case .expm1: return out.recordedUsingOutput("expm1", [x]) { g, out in [try g.mul(out.add(scalar: 1))] }
        case .floor, .sign: return out.recorded(op.rawValue, [x]) { g in [try Tensor.zerosLike(g)] }
        }
    }

    public func add(_ o: Tensor) throws -> Tensor { try binary(.add, o) }
    public func sub(_ o: Tensor) throws -> Tensor { try binary(.sub, o) }
    public func mul(_ o: Tensor) throws -> Tensor { try binary(.mul, o) }
    public func div(_ o: Tensor) throws -> Tensor { try binary(.div, o) }
    public func pow(_ o: Tensor) throws -> Tensor { try binary(.pow, o) }
    public func neg() throws -> Tensor { try unary(.neg) }
    public func exp() throws -> Tensor { try unary(.exp) }
    public func log() throws -> Tensor { try unary(.log) }
    public func sqrt() throws -> Tensor { try unary(.sqrt) }
    public func relu() throws -> Tensor { try unary(.relu) }

    public func add(scalar s: Double) throws -> Tensor { try binary(.add, Tensor.scalar(s, dtype: dtype)) }
    public func sub(scalar s: Double) throws -> Tensor { try binary(.sub, Tensor.scalar(s, dtype: dtype)) }
    public func mul(scalar s: Double) throws -> Tensor { try binary(.mul, Tensor.scalar(s, dtype: dtype)) }
    public func div(scalar s: Double) throws -> Tensor { try binary(.div, Tensor.scalar(s, dtype: dtype)) }
    /// `s - self`
    public func rsub(scalar s: Double) throws -> Tensor { try Tensor.scalar(s, dtype: dtype).binary(.sub, self) }

    /// `clamp(lo, hi)`; either bound may be nil. Gradient passes where the value was inside.
    public func clamp(_ lo: Double?, _ hi: Double?) throws -> Tensor {
        let l = lo ?? -Double.infinity, h = hi ?? Double.infinity
        try require(l <= h, "clamp: min \(l) is greater than max \(h)")
        let x = self
        let out = try mapKernel({ Swift.min(Swift.max($0, Float(l)), Float(h)) },
                                { Swift.min(Swift.max($0, l), h) })
        return out.recorded("clamp", [x]) { g in
            let inside = try x.mapKernel({ $0 >= Float(l) && $0 <= Float(h) ? 1 : 0 },
                                         { $0 >= l && $0 <= h ? 1 : 0 })
            return [try g.mul(inside)]
        }
    }

    /// `leaky_relu(x, a)`
    public func leakyRelu(_ a: Double) throws -> Tensor {
        let x = self
        let out = try mapKernel({ $0 > 0 ? $0 : Float(a) * $0 }, { $0 > 0 ? $0 : a * $0 })
        return out.recorded("leaky_relu", [x]) { g in
            [try g.mul(x.mapKernel({ $0 > 0 ? 1 : Float(a) }, { $0 > 0 ? 1 : a }))]
        }
    }
}
