/// Vectorised row loops for the nn kernels. Swift keeps floating-point reductions in source
/// order and will not vectorise a conditional load, so the hot loops of batch norm and the
/// fused ReLUs are written on 8-lane vectors (two SSE registers for float32; the baseline
/// x86-64 target has 16 vector registers, so wider vectors spill). Reductions use a fixed
/// lane order: results do not depend on the thread count.
typealias Lanes<T: TensorScalar> = SIMD8<T>
let laneCount = 8

@inline(__always) func loadL<T: TensorScalar>(_ p: UnsafePointer<T>) -> SIMD8<T> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<T>.self)
}

@inline(__always) func storeL<T: TensorScalar>(_ v: SIMD8<T>, _ p: UnsafeMutablePointer<T>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<T>.self)
}

/// Sum of p[0..<n].
@inline(__always) func rowSum<T: TensorScalar>(_ p: UnsafePointer<T>, _ n: Int) -> T {
    var acc = SIMD8<T>(repeating: 0)
    var i = 0
    while i + laneCount <= n { acc += loadL(p + i); i += laneCount }
    var s = acc.sum()
    while i < n { s += p[i]; i += 1 }
    return s
}

/// Sum of (p[i] - mu)^2.
@inline(__always) func rowSumSqDev<T: TensorScalar>(_ p: UnsafePointer<T>, _ n: Int, _ mu: T) -> T {
    var acc = SIMD8<T>(repeating: 0)
    let m = SIMD8<T>(repeating: mu)
    var i = 0
    while i + laneCount <= n { let d = loadL(p + i) - m; acc += d * d; i += laneCount }
    var s = acc.sum()
    while i < n { let d = p[i] - mu; s += d * d; i += 1 }
    return s
}

/// (sum of d, sum of d * (x - mu)) with d = g, masked to 0 where y <= 0 when `relu`.
@inline(__always) func rowGradSums<T: TensorScalar>(_ g: UnsafePointer<T>, _ x: UnsafePointer<T>,
                                                    _ y: UnsafePointer<T>, _ n: Int, _ mu: T,
                                                    relu: Bool) -> (T, T) {
    var a = SIMD8<T>(repeating: 0), b = SIMD8<T>(repeating: 0)
    let m = SIMD8<T>(repeating: mu), z = SIMD8<T>(repeating: 0)
    var i = 0
    if relu {
        while i + laneCount <= n {
            let d = loadL(g + i).replacing(with: z, where: loadL(y + i) .<= z)
            a += d; b += d * (loadL(x + i) - m); i += laneCount
        }
    } else {
        while i + laneCount <= n { let d = loadL(g + i); a += d; b += d * (loadL(x + i) - m); i += laneCount }
    }
    var sa = a.sum(), sb = b.sum()
    while i < n {
        let gi = g[i]
        let d = relu && y[i] <= 0 ? 0 : gi
        sa += d; sb += d * (x[i] - mu); i += 1
    }
    return (sa, sb)
}

/// q = (x - mu) * scale + shift, then max(., 0) when `relu`.
@inline(__always) func rowAffine<T: TensorScalar>(_ x: UnsafePointer<T>, _ q: UnsafeMutablePointer<T>, _ n: Int,
                                                  _ mu: T, _ scale: T, _ shift: T, relu: Bool) {
    let m = SIMD8<T>(repeating: mu), s = SIMD8<T>(repeating: scale), t = SIMD8<T>(repeating: shift)
    let z = SIMD8<T>(repeating: 0)
    var i = 0
    if relu {
        while i + laneCount <= n {
            let v = (loadL(x + i) - m) * s + t
            storeL(v.replacing(with: z, where: v .< z), q + i); i += laneCount
        }
    } else {
        while i + laneCount <= n { storeL((loadL(x + i) - m) * s + t, q + i); i += laneCount }
    }
    while i < n { let v = (x[i] - mu) * scale + shift; q[i] = relu && v < 0 ? 0 : v; i += 1 }
}

/// q = d * k0 + (x - mu) * kx + k1 with d = g masked by y > 0 when `relu`.
@inline(__always) func rowBNGrad<T: TensorScalar>(_ g: UnsafePointer<T>, _ x: UnsafePointer<T>, _ y: UnsafePointer<T>,
                                                  _ q: UnsafeMutablePointer<T>, _ n: Int,
                                                  _ mu: T, _ k0: T, _ kx: T, _ k1: T, relu: Bool) {
    let m = SIMD8<T>(repeating: mu), a = SIMD8<T>(repeating: k0), b = SIMD8<T>(repeating: kx)
    let c = SIMD8<T>(repeating: k1), z = SIMD8<T>(repeating: 0)
    var i = 0
    if relu {
        while i + laneCount <= n {
            let d = loadL(g + i).replacing(with: z, where: loadL(y + i) .<= z)
            storeL(d * a + (loadL(x + i) - m) * b + c, q + i); i += laneCount
        }
    } else {
        while i + laneCount <= n { storeL(loadL(g + i) * a + (loadL(x + i) - m) * b + c, q + i); i += laneCount }
    }
    while i < n {
        let gi = g[i]
        let d = relu && y[i] <= 0 ? 0 : gi
        q[i] = d * k0 + (x[i] - mu) * kx + k1; i += 1
    }
}

/// q = k * g, masked to 0 where y <= 0 when `relu`.
@inline(__always) func rowScaledMask<T: TensorScalar>(_ g: UnsafePointer<T>, _ y: UnsafePointer<T>,
                                                      _ q: UnsafeMutablePointer<T>, _ n: Int, _ k: T, relu: Bool) {
    let kv = SIMD8<T>(repeating: k), z = SIMD8<T>(repeating: 0)
    var i = 0
    if relu {
        while i + laneCount <= n {
            storeL((loadL(g + i) * kv).replacing(with: z, where: loadL(y + i) .<= z), q + i); i += laneCount
        }
    } else {
        while i + laneCount <= n { storeL(loadL(g + i) * kv, q + i); i += laneCount }
    }
    while i < n { let gi = g[i] * k; q[i] = relu && y[i] <= 0 ? 0 : gi; i += 1 }
}
