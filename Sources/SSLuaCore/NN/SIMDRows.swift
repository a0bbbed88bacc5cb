/// Vectorised row loops for the nn kernels (batch norm, fused ReLUs).
///
/// Swift keeps floating-point reductions in source order and does not vectorise them, and
/// SIMD masks on a generic scalar compile to per-lane loops; so each helper has a concrete
/// float32 body on 8-lane vectors (two SSE registers: the baseline x86-64 target has 16, and
/// wider vectors spill) and a plain scalar body for float64 (used by gradient checks).
/// Reductions use a fixed lane order, so results do not depend on the thread count.
@inline(__always) func asF<T>(_ p: UnsafePointer<T>) -> UnsafePointer<Float> {
    UnsafeRawPointer(p).assumingMemoryBound(to: Float.self)
}
@inline(__always) func asF<T>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<Float> {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self)
}
@inline(__always) func ld8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}
@inline(__always) func st8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// Sum of p[0..<n].
@inline(__always) func rowSum<T: TensorScalar>(_ p: UnsafePointer<T>, _ n: Int) -> T {
    if T.self == Float.self { return T(rowSumF(asF(p), n)) }
    var s = T(0)
    for i in 0..<n { s += p[i] }
    return s
}
@inline(never) func rowSumF(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD8<Float>(repeating: 0)
    var i = 0
    while i + 8 <= n { acc += ld8(p + i); i += 8 }
    var s = acc.sum()
    while i < n { s += p[i]; i += 1 }
    return s
}

/// Sum of (p[i] - mu)^2.
@inline(__always) func rowSumSqDev<T: TensorScalar>(_ p: UnsafePointer<T>, _ n: Int, _ mu: T) -> T {
    if T.self == Float.self { return T(rowSumSqDevF(asF(p), n, Float(mu))) }
    var s = T(0)
    for i in 0..<n { let d = p[i] - mu; s += d * d }
    return s
}
@inline(never) func rowSumSqDevF(_ p: UnsafePointer<Float>, _ n: Int, _ mu: Float) -> Float {
    var acc = SIMD8<Float>(repeating: 0)
    let m = SIMD8<Float>(repeating: mu)
    var i = 0
    while i + 8 <= n { let d = ld8(p + i) - m; acc += d * d; i += 8 }
    var s = acc.sum()
    while i < n { let d = p[i] - mu; s += d * d; i += 1 }
    return s
}

/// The fused ReLU's mask in batch norm's backward, recomputed from the input: the forward
/// wrote y = max((x - mu) * scale + shift, 0) (`rowAffine`, the same expression on the same
/// float values, never contracted into an FMA), so `(x - mu) * scale + shift > 0` is exactly
/// `y > 0`, and the backward passes read two streams (g, x) instead of three.
struct ReluMask<T: TensorScalar> {
    let scale: T, shift: T
}

/// (sum of d, sum of d * (x - mu)) with d = g, masked to 0 where the forward's ReLU output was
/// 0 when `relu` is given.
@inline(__always) func rowGradSums<T: TensorScalar>(_ g: UnsafePointer<T>, _ x: UnsafePointer<T>, _ n: Int, _ mu: T,
                                                    relu: ReluMask<T>?) -> (T, T) {
    if T.self == Float.self {
        let (a, b) = rowGradSumsF(asF(g), asF(x), n, Float(mu), relu != nil, Float(relu?.scale ?? 0), Float(relu?.shift ?? 0))
        return (T(a), T(b))
    }
    var sa = T(0), sb = T(0)
    for i in 0..<n {
        let xm = x[i] - mu
        let d: T
        if let r = relu { d = xm * r.scale + r.shift > 0 ? g[i] : 0 } else { d = g[i] }
        sa += d; sb += d * xm
    }
    return (sa, sb)
}
@inline(never) func rowGradSumsF(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int, _ mu: Float,
                                 _ relu: Bool, _ scale: Float, _ shift: Float) -> (Float, Float) {
    var a = SIMD8<Float>(repeating: 0), b = SIMD8<Float>(repeating: 0)
    let m = SIMD8<Float>(repeating: mu), sc = SIMD8<Float>(repeating: scale), sh = SIMD8<Float>(repeating: shift)
    var i = 0
    if relu {
        while i + 8 <= n {
            let xm = ld8(x + i) - m
            let v = xm * sc + sh
            let d = ld8(g + i).replacing(with: 0, where: .!(v .> 0))
            a += d; b += d * xm; i += 8
        }
    } else {
        while i + 8 <= n { let d = ld8(g + i); a += d; b += d * (ld8(x + i) - m); i += 8 }
    }
    var sa = a.sum(), sb = b.sum()
    while i < n {
        let xm = x[i] - mu
        let d = relu && !(xm * scale + shift > 0) ? 0 : g[i]
        sa += d; sb += d * xm; i += 1
    }
    return (sa, sb)
}

/// q = (x - mu) * scale + shift, then max(., 0) when `relu`.
@inline(__always) func rowAffine<T: TensorScalar>(_ x: UnsafePointer<T>, _ q: UnsafeMutablePointer<T>, _ n: Int,
                                                  _ mu: T, _ scale: T, _ shift: T, relu: Bool) {
    if T.self == Float.self { return rowAffineF(asF(x), asF(q), n, Float(mu), Float(scale), Float(shift), relu) }
    for i in 0..<n { let v = (x[i] - mu) * scale + shift; q[i] = relu && v < 0 ? 0 : v }
}
@inline(never) func rowAffineF(_ x: UnsafePointer<Float>, _ q: UnsafeMutablePointer<Float>, _ n: Int,
                               _ mu: Float, _ scale: Float, _ shift: Float, _ relu: Bool) {
    if relu {
        for i in 0..<n { let v = (x[i] - mu) * scale + shift; q[i] = v > 0 ? v : 0 }
    } else {
        for i in 0..<n { q[i] = (x[i] - mu) * scale + shift }
    }
}

/// q = d * k0 + (x - mu) * kx + k1 with d = g masked as in `rowGradSums`.
@inline(__always) func rowBNGrad<T: TensorScalar>(_ g: UnsafePointer<T>, _ x: UnsafePointer<T>,
                                                  _ q: UnsafeMutablePointer<T>, _ n: Int,
                                                  _ mu: T, _ k0: T, _ kx: T, _ k1: T, relu: ReluMask<T>?) {
    if T.self == Float.self {
        return rowBNGradF(asF(g), asF(x), asF(q), n, Float(mu), Float(k0), Float(kx), Float(k1),
                          relu != nil, Float(relu?.scale ?? 0), Float(relu?.shift ?? 0))
    }
    for i in 0..<n {
        let xm = x[i] - mu
        let d: T
        if let r = relu { d = xm * r.scale + r.shift > 0 ? g[i] : 0 } else { d = g[i] }
        q[i] = d * k0 + xm * kx + k1
    }
}
@inline(never) func rowBNGradF(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                               _ q: UnsafeMutablePointer<Float>, _ n: Int,
                               _ mu: Float, _ k0: Float, _ kx: Float, _ k1: Float,
                               _ relu: Bool, _ scale: Float, _ shift: Float) {
    if relu {
        for i in 0..<n {
            let xm = x[i] - mu
            let d = xm * scale + shift > 0 ? g[i] : 0
            q[i] = d * k0 + xm * kx + k1
        }
    } else {
        for i in 0..<n { q[i] = g[i] * k0 + (x[i] - mu) * kx + k1 }
    }
}

/// q = k * g, masked to 0 where y <= 0 when `relu`.
@inline(__always) func rowScaledMask<T: TensorScalar>(_ g: UnsafePointer<T>, _ y: UnsafePointer<T>,
                                                      _ q: UnsafeMutablePointer<T>, _ n: Int, _ k: T, relu: Bool) {
    if T.self == Float.self { return rowScaledMaskF(asF(g), asF(y), asF(q), n, Float(k), relu) }
    for i in 0..<n { let gi = g[i] * k; q[i] = relu && y[i] <= 0 ? 0 : gi }
}
@inline(never) func rowScaledMaskF(_ g: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
                                   _ q: UnsafeMutablePointer<Float>, _ n: Int, _ k: Float, _ relu: Bool) {
    if relu {
        for i in 0..<n { let gi = g[i] * k; q[i] = y[i] > 0 ? gi : 0 }
    } else {
        for i in 0..<n { q[i] = g[i] * k }
    }
}
