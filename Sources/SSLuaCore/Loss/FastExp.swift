/// A vectorised exp for the softmax rows of the fused losses: the Cephes single-precision
/// polynomial (about 1 ulp) on SIMD8 lanes, so a 1024-wide row costs a few hundred cycles
/// instead of a libm call per element. float64 rows use libm's exp.
public enum FastExp {
    @inline(__always) static func exp8(_ xin: SIMD8<Float>) -> SIMD8<Float> {
        let lo = SIMD8<Float>(repeating: -87.33), hi = SIMD8<Float>(repeating: 88.37)
        var x = xin.replacing(with: lo, where: xin .< lo).replacing(with: hi, where: xin .> hi)
        // n = round(x log2 e) by the 1.5 * 2^23 trick: the integer lands in the low mantissa bits
        let magic = SIMD8<Float>(repeating: 0x1.8p23)
        let t = x * 1.44269504088896341 + magic
        let fx = t - magic
        let n = unsafeBitCast(t, to: SIMD8<Int32>.self) &- 0x4B40_0000
        x = x - fx * 0.693359375
        x = x + fx * 2.12194440e-4
        let z = x * x
        var y = SIMD8<Float>(repeating: 1.9875691500e-4)
        y = y * x + 1.3981999507e-3
        y = y * x + 8.3334519073e-3
        y = y * x + 4.1665795894e-2
        y = y * x + 1.6666665459e-1
        y = y * x + 5.0000001201e-1
        y = y * z + x + 1
        let pow2 = unsafeBitCast((n &+ 127) &<< 23, to: SIMD8<Float>.self)
        return (y * pow2).replacing(with: 0, where: xin .< lo)
    }

    /// p[i] = exp(p[i]) for i in 0..<n.
    @inline(__always) public static func expInPlace<T: TensorScalar>(_ p: UnsafeMutablePointer<T>, _ n: Int) {
        if T.self == Float.self {
            let q = UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self)
            var i = 0
            while i + 8 <= n {
                let v = UnsafeRawPointer(q + i).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(q + i).storeBytes(of: exp8(v), as: SIMD8<Float>.self)
                i += 8
            }
            if i < n {
                var v = SIMD8<Float>(repeating: -100)
                for k in 0..<(n - i) { v[k] = q[i + k] }
                let e = exp8(v)
                for k in 0..<(n - i) { q[i + k] = e[k] }
            }
        } else {
            for i in 0..<n { p[i] = T.exp(p[i]) }
        }
    }
}

extension FastExp {
    /// max of p[0..<n] (n >= 1); -inf entries are allowed and NaNs are not looked for.
    @inline(__always) public static func rowMax<T: TensorScalar>(_ p: UnsafePointer<T>, _ n: Int) -> T {
        if T.self == Float.self {
            let q = UnsafeRawPointer(p).assumingMemoryBound(to: Float.self)
            var acc = SIMD8<Float>(repeating: -.infinity)
            var i = 0
            while i + 8 <= n {
                let v = UnsafeRawPointer(q + i).loadUnaligned(as: SIMD8<Float>.self)
                acc = acc.replacing(with: v, where: v .> acc)
                i += 8
            }
            var m = acc.max()
            while i < n { if q[i] > m { m = q[i] }; i += 1 }
            return T(m)
        }
        var m = -T.infinity
        for i in 0..<n where p[i] > m { m = p[i] }
        return m
    }

    /// p[i] = exp(scale (p[i] - shift)) in place (-inf entries give 0); returns the sum.
    @inline(__always) public static func expShiftSum<T: TensorScalar>(_ p: UnsafeMutablePointer<T>, _ n: Int,
                                                                      scale: T, shift: T) -> Double {
        if T.self == Float.self {
            let q = UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self)
            let sc = SIMD8<Float>(repeating: Float(scale)), sh = SIMD8<Float>(repeating: Float(shift))
            var acc = SIMD8<Float>(repeating: 0)
            var i = 0
            while i + 8 <= n {
                let v = UnsafeRawPointer(q + i).loadUnaligned(as: SIMD8<Float>.self)
                let e = exp8(sc * (v - sh))
                UnsafeMutableRawPointer(q + i).storeBytes(of: e, as: SIMD8<Float>.self)
                acc += e
                i += 8
            }
            var s = Double(acc.sum())
            if i < n {
                var v = SIMD8<Float>(repeating: -.infinity)
                for k in 0..<(n - i) { v[k] = q[i + k] }
                let e = exp8(sc * (v - sh))
                for k in 0..<(n - i) { q[i + k] = e[k]; s += Double(e[k]) }
            }
            return s
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
