/// A vectorised exp for the softmax rows of the fused losses: the Cephes single-precision
/// polynomial (about 1 ulp) on SIMD8 lanes, so a 1024-wide row costs a few hundred cycles
/// instead of a libm call per element. float64 rows use libm's exp.
public enum FastExp {
    @inline(__always) static func exp8(_ xin: SIMD8<Float>) -> SIMD8<Float> {
        let lo = SIMD8<Float>(repeating: -87.33), hi = SIMD8<Float>(repeating: 88.37)
        var x = xin.clamped(lowerBound: lo, upperBound: hi)
        let fx = (x * 1.44269504088896341).rounded(.toNearestOrEven)
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
        let n = SIMD8<Int32>(fx, rounding: .towardZero)
        let bits = SIMD8<UInt32>(truncatingIfNeeded: (n &+ 127) &<< 23)
        let pow2 = unsafeBitCast(bits, to: SIMD8<Float>.self)
        var r = y * pow2
        r.replace(with: 0, where: xin .< lo)
        return r
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
