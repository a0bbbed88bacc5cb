/// Vectorised float32 loops over raw pointers: the hot kernels behind `exp`, `sum` and
/// `softmax`. libm's `expf` is a scalar call per element; the SIMD polynomial here (Cephes'
/// expf: range reduction by ln 2, degree-6 polynomial, 2^n built from the exponent bits) is
/// within 2 ulp and handles overflow (inf), underflow (denormals, then 0) and NaN.
public enum FastMath {
    public typealias V = SIMD8<Float>

    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> V {
        UnsafeRawPointer(p).loadUnaligned(as: V.self)
    }
    @inline(__always) static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    }

    /// `all(mask)` without the standard library's out-of-line lane reduction: AND the
    /// halves down to one lane (a few shuffles, no call).
    @inline(__always) static func allTrue(_ m: SIMDMask<SIMD8<Int32>>) -> Bool {
        let s = m._storage
        let q = s.lowHalf & s.highHalf
        let d = q.lowHalf & q.highHalf
        return (d[0] & d[1]) != 0
    }

    /// Range reduction x = n ln 2 + r, |r| <= ln 2 / 2: n = round(x / ln 2) by the 1.5 * 2^23
    /// trick, so `t`'s low mantissa bits hold n as an integer; ln 2 in two parts (Cephes).
    @inline(__always) static func reduce(_ x: V) -> (t: V, r: V) {
        let magic = V(repeating: 12582912)
        let t = x * 1.44269504088896341 + magic
        let n = t - magic
        return (t, x - n * 0.693359375 + n * 2.12194440e-4)
    }

    /// e^r on the reduced range by Cephes' expf polynomial, from its top coefficients `p`.
    @inline(__always) static func poly(_ r: V, _ top: V) -> V {
        // Horner steps as fused multiply-adds (Swift never contracts `a * b + c` itself)
        var p = V(repeating: 8.3334519073e-3).addingProduct(top, r)
        p = V(repeating: 4.1665795894e-2).addingProduct(p, r)
        p = V(repeating: 1.6666665459e-1).addingProduct(p, r)
        p = V(repeating: 5.0000001201e-1).addingProduct(p, r)
        return (r + 1).addingProduct(p, r * r)
    }

    /// e^x for 8 lanes. Lanes that are all in [-87.3, 88.7] (the usual case) take the short
    /// path: the result is normal, so the exponent goes straight into the result's bits.
    @inline(__always) public static func exp(_ x: V) -> V {
        // NaN fails both comparisons and takes the full path
        if allTrue((x .>= -87.3) .& (x .<= 88.7)) {
            let (t, r) = reduce(x)
            let y = poly(r, V(repeating: 1.9875691500e-4) * r + 1.3981999507e-3)
            return scaled(y, t)
        }
        return expFull(x)
    }

    /// y 2^n for a normal result, n held in `t`'s low mantissa bits (see `reduce`).
    @inline(__always) static func scaled(_ y: V, _ t: V) -> V {
        unsafeBitCast(unsafeBitCast(y, to: SIMD8<Int32>.self) &+ (unsafeBitCast(t, to: SIMD8<Int32>.self) &<< 23), to: V.self)
    }

    /// e^x for any 8 lanes: overflow to inf, denormal results, NaN kept.
    @inline(__always) static func expFull(_ x0: V) -> V {
        // Clamp to the range where the result is representable (NaN stays NaN: comparisons fail).
        var x = x0
        x.replace(with: V(repeating: 89), where: x .> 89)
        x.replace(with: V(repeating: -104), where: x .< -104)
        let (t, r) = reduce(x)
        let y = poly(r, V(repeating: 1.9875691500e-4) * r + 1.3981999507e-3)
        // 2^n as two factors 2^(n/2) 2^(n - n/2): both normal for n in [-150, 128], so the
        // product rounds correctly into the denormal range and overflows to inf only when due.
        let ni = unsafeBitCast(t, to: SIMD8<Int32>.self) &- 0x4B40_0000
        let n1 = ni &>> 1, n2 = ni &- n1
        let s1 = unsafeBitCast((n1 &+ 127) &<< 23, to: V.self)
        let s2 = unsafeBitCast((n2 &+ 127) &<< 23, to: V.self)
        return y * s1 * s2
    }

    /// e^x for x <= 0 (softmax's shifted logits): no overflow handling, a degree-5
    /// polynomial (within 2e-7 relative) and the exponent added straight into the result's
    /// bits. Results below e^-87.3 (1.2e-38) flush to 0 instead of a denormal: invisible next
    /// to a softmax denominator >= 1.
    @inline(__always) public static func expNonPositive(_ x0: V) -> V {
        if allTrue(x0 .>= -87.3) {  // the usual block: no lane underflows
            let (t, r) = reduce(x0)
            return scaled(poly(r, V(repeating: 1.3981999507e-3)), t)
        }
        var x = x0
        let low = x .< -87.3
        x.replace(with: V(repeating: -87.3), where: low)
        let (t, r) = reduce(x)
        let y = poly(r, V(repeating: 1.3981999507e-3))
        var e = scaled(y, t)
        e.replace(with: V(repeating: 0), where: low)
        return e
    }

    /// dst[i] = f(src[i] - shift) over 8-lane blocks (the tail padded with `pad`); with
    /// `summing`, also returns the sum of the results, accumulated in float64 every 256.
    @inline(__always)
    static func map(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int, shift: Float,
                    pad: Float, summing: Bool, _ f: (V) -> V) -> Double {
        let sh = V(repeating: shift)
        var total = 0.0
        var i = 0
        // blocks of 32 vectors; with `summing`, the block's results are added from L1 after
        // it is written (accumulating inside the element loop makes the compiler shuffle the
        // accumulator on every step)
        while i + 256 <= n {
            var j = i
            while j < i + 256 {   // two vectors a step: independent chains for the FMA pipes
                let a = f(load(src + j) - sh), b = f(load(src + j + 8) - sh)
                store(a, dst + j); store(b, dst + j + 8)
                j += 16
            }
            if summing { total += Double(blockSum(dst + i, 32)) }
            i += 256
        }
        let rest = (n - i) / 8
        for k in 0..<rest { store(f(load(src + i + 8 * k) - sh), dst + i + 8 * k) }
        if summing && rest > 0 { total += Double(blockSum(dst + i, rest)) }
        i += 8 * rest
        if i < n {
            var v = V(repeating: pad)
            for k in 0..<(n - i) { v[k] = src[i + k] }
            let e = f(v - sh)
            for k in 0..<(n - i) { dst[i + k] = e[k]; if summing { total += Double(e[k]) } }
        }
        return total
    }

    /// The softmax numerator: dst[i] = e^(src[i] - shift) with shift >= max(src) finite, and
    /// their sum in float64.
    @inline(__always) @discardableResult
    public static func expShifted(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int,
                                  shift: Float) -> Double {
        map(src, dst, n, shift: shift, pad: -.infinity, summing: true) { expNonPositive($0) }
    }

    /// e^(src - shift) for a softmax row with maximum `max`: the fast non-positive exp, or
    /// the full one when the row holds +inf (which makes the row NaN, as in PyTorch).
    @inline(__always)
    public static func softmaxNumerators(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int,
                                         max: Float, shift: Float) -> Double {
        max == .infinity ? exp(src, dst, n, shift: shift) : expShifted(src, dst, n, shift: shift)
    }

    /// dst[i] = e^(src[i] - shift); returns the sum of the results (float64).
    @inline(__always) @discardableResult
    public static func exp(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int,
                           shift: Float) -> Double {
        map(src, dst, n, shift: shift, pad: 0, summing: true) { exp($0) }
    }

    /// dst[i] = e^(src[i]) (the `exp` op).
    @inline(__always)
    public static func exp(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        _ = map(src, dst, n, shift: 0, pad: 0, summing: false) { exp($0) }
    }

    /// Sum of n floats: blocks of 512 summed in float lanes (pairs of loads added first, four
    /// accumulators), blocks accumulated in float64.
    @inline(__always) public static func sum(_ p: UnsafePointer<Float>, _ n: Int) -> Double {
        var total = 0.0
        var i = 0
        while i + 512 <= n {
            var a0 = V(repeating: 0), a1 = V(repeating: 0), a2 = V(repeating: 0), a3 = V(repeating: 0)
            var j = i
            while j < i + 512 {
                a0 += load(p + j) + load(p + j + 32); a1 += load(p + j + 8) + load(p + j + 40)
                a2 += load(p + j + 16) + load(p + j + 48); a3 += load(p + j + 24) + load(p + j + 56)
                j += 64
            }
            total += Double(hsum((a0 + a1) + (a2 + a3)))
            i += 512
        }
        var rest = 0.0
        while i < n { rest += Double(p[i]); i += 1 }
        return total + rest
    }

    /// Sum of `vectors` consecutive 8-lane vectors, in float lanes (two accumulators).
    @inline(__always) static func blockSum(_ p: UnsafePointer<Float>, _ vectors: Int) -> Float {
        var a0 = V(repeating: 0), a1 = V(repeating: 0)
        var k = 0
        while k + 2 <= vectors { a0 += load(p + 8 * k); a1 += load(p + 8 * k + 8); k += 2 }
        if k < vectors { a0 += load(p + 8 * k) }
        return hsum(a0 + a1)
    }

    /// Horizontal sum of 8 lanes. Deliberately a call: inlined, LLVM carries the halving
    /// shuffles back into the loops that feed it and splits their accumulators into pieces.
    @inline(never) public static func hsum(_ v: V) -> Float {
        let q = v.lowHalf + v.highHalf
        let d = q.lowHalf + q.highHalf
        return d[0] + d[1]
    }

    /// Maximum of n >= 1 floats, ignoring NaN (-inf if all are NaN). Softmax needs no NaN
    /// check here: a NaN input makes the row's exponential sum NaN, hence the whole row NaN.
    @inline(__always) public static func max(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var m0 = V(repeating: -.infinity), m1 = m0, m2 = m0, m3 = m0
        var i = 0
        while i + 32 <= n {
            let v0 = load(p + i), v1 = load(p + i + 8), v2 = load(p + i + 16), v3 = load(p + i + 24)
            m0.replace(with: v0, where: v0 .> m0)
            m1.replace(with: v1, where: v1 .> m1)
            m2.replace(with: v2, where: v2 .> m2)
            m3.replace(with: v3, where: v3 .> m3)
            i += 32
        }
        while i + 8 <= n {
            let v0 = load(p + i)
            m0.replace(with: v0, where: v0 .> m0)
            i += 8
        }
        m0.replace(with: m1, where: m1 .> m0)
        m2.replace(with: m3, where: m3 .> m2)
        m0.replace(with: m2, where: m2 .> m0)
        var best = m0.max()
        while i < n { let v = p[i]; if v > best { best = v }; i += 1 }
        return best
    }

    /// dst[i] = max(src[i], 0); NaN propagates as PyTorch's relu.
    @inline(__always) public static func relu(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        let z = V(repeating: 0)
        while i + 8 <= n {
            var v = load(src + i)
            v.replace(with: z, where: v .< z)
            store(v, dst + i)
            i += 8
        }
        while i < n { let v = src[i]; dst[i] = v < 0 ? 0 : v; i += 1 }
    }

    /// dst[i] = src[i] * s
    @inline(__always) public static func scale(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int, _ s: Float) {
        var i = 0
        let sv = V(repeating: s)
        while i + 8 <= n { store(load(src + i) * sv, dst + i); i += 8 }
        while i < n { dst[i] = src[i] * s; i += 1 }
    }

    /// dst[i] = src[i] - c
    @inline(__always) public static func sub(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int, _ c: Float) {
        var i = 0
        let cv = V(repeating: c)
        while i + 8 <= n { store(load(src + i) - cv, dst + i); i += 8 }
        while i < n { dst[i] = src[i] - c; i += 1 }
    }
}
