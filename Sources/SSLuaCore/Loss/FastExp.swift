/// Generic (float32/float64) front of the tensor core's vector kernels (`FastMath`) for the
/// softmax rows of the fused losses: float32 rows take FastMath's SIMD exp and max, float64
/// rows (gradient checks, analysis) libm's exp. Every shifted argument here is <= 0.
public enum FastExp {
    /// max of p[0..<n] (n >= 1); -inf entries are allowed.
    @inline(__always) public static func rowMax<T: TensorScalar>(_ p: UnsafePointer<T>, _ n: Int) -> T {
        if T.self == Float.self {
            return T(FastMath.max(UnsafeRawPointer(p).assumingMemoryBound(to: Float.self), n))
        }
        var m = -T.infinity
        for i in 0..<n where p[i] > m { m = p[i] }
        return m
    }

    /// p[i] = exp(scale (p[i] - shift)) in place, for scale > 0 and shift >= max p (so every
    /// argument is <= 0; -inf entries give 0); returns the sum in float64.
    @inline(__always) public static func expShiftSum<T: TensorScalar>(_ p: UnsafeMutablePointer<T>, _ n: Int,
                                                                      scale: T, shift: T) -> Double {
        if T.self == Float.self {
            let q = UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self)
            if scale == 1 { return FastMath.expShifted(q, q, n, shift: Float(shift)) }
            let sc = FastMath.V(repeating: Float(scale)), sh = FastMath.V(repeating: Float(shift))
            var acc = FastMath.V(repeating: 0)
            var total = 0.0
            var i = 0
            while i + 8 <= n {
                let v = UnsafeRawPointer(q + i).loadUnaligned(as: FastMath.V.self)
                let e = FastMath.expNonPositive(sc * (v - sh))
                UnsafeMutableRawPointer(q + i).storeBytes(of: e, as: FastMath.V.self)
                acc += e
                i += 8
                if i & 255 == 0 { total += Double(acc.sum()); acc = FastMath.V(repeating: 0) }
            }
            if i < n {
                var v = FastMath.V(repeating: -.infinity)
                for k in 0..<(n - i) { v[k] = q[i + k] }
                let e = FastMath.expNonPositive(sc * (v - sh))
                for k in 0..<(n - i) { q[i + k] = e[k]; total += Double(e[k]) }
            }
            return total + Double(acc.sum())
        }
        var s = 0.0
        for i in 0..<n { let e = T.exp(scale * (p[i] - shift)); p[i] = e; s += Double(e) }
        return s
    }

    /// p[i] *= c for i in 0..<n.
    @inline(__always) public static func scale<T: TensorScalar>(_ p: UnsafeMutablePointer<T>, _ n: Int, _ c: T) {
        for i in 0..<n { p[i] *= c }
    }
}
