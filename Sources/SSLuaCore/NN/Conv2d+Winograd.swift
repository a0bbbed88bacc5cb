import CRuntime
/// Winograd F(4x4, 3x3) for the 3x3 stride-1 float32 convolutions that make up nearly all of a
/// ResNet's work (Lavin & Gray 2016, points 0, ±1, ±2, ∞): a 6x6 input tile `d` gives a
/// 4x4 output tile as `Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A`, 36 multiplies per (tile, in, out) channel
/// triple for 16 outputs: 4x fewer than the direct sum (F(2x2, 3x3): 2.25x), as 36 gemms
/// `M[ξ] = U[ξ] · V[ξ]` per block of tiles.
///
///     Bᵀ = [4  0 -5  0  1  0      G = [ 1/4     0    0      Aᵀ = [1  1  1  1  1  0
///           0 -4 -4  1  1  0           -1/6  -1/6 -1/6            0  1 -1  2 -2  0
///           0  4 -4 -1  1  0           -1/6   1/6 -1/6            0  1  1  4  4  0
///           0 -2 -1  2  1  0           1/24  1/12  1/6            0  1 -1  8 -8  1]
///           0  2 -1 -2  1  0           1/24 -1/12  1/6
///           0  4  0 -5  0  1]             0     0    1]
///
/// The weight gradient `dW = Σ_tiles corr(d, dy)` (a 6x6 tile with its 4x4 output-gradient
/// tile) is the dual F(3x3, 4x4) of the same algorithm (transposition principle: differentiate
/// `Σ y'ᵀ Aᵀ[(G g) ⊙ (Bᵀ d)]` by g): `dW = Gᵀ [Σ_t (A dy Aᵀ) ⊙ (Bᵀ d B)] G`, the tile sum inside
/// as 36 gemms `Σ_t Ŷ[ξ] V[ξ]ᵀ` and one 6x6 -> 3x3 transform per (k, c) at the end.
///
/// Float32 error: the transforms' larger coefficients (up to 8 and 1/24) cost about a decimal
/// digit against F(2x2, 3x3) (which this replaced: 2.25x fewer multiplies): 2e-6 to 8e-6 of the
/// largest value against the float64 result on the ResNet shapes (PyTorch's own float32 conv:
/// ~1e-6), checked in `Tests/lua/test_nn_winograd43.lua` against a direct float64 convolution.
///
/// The three passes of training all run on it: the output (`forward`), the input gradient (a
/// forward conv of the output gradient with the flipped, transposed kernel: `inputGradAsConv`
/// in `Conv2d.swift`) and the weight gradient (`weightGrad`).
///
/// Work is cut into blocks of whole tile rows (a tile row is 4 output rows of one sample); each
/// worker transforms a block's inputs into `V[36][C][tiles]`, runs the 36 gemms single-threaded
/// and transforms back, so a block's data stays in cache between the steps. The split depends
/// only on the thread count, so results are bitwise repeatable for a given thread count.
/// The transforms read one channel's plane of a sample after another, planes a page or more
/// apart where the hardware prefetchers stop, so each asks for the next plane in L2 while it
/// works on the current one (on the SimCLR step, 2 threads: about 6% of the step's time).
enum Winograd {
    /// Off only to compare against im2col (`sslua._nn.winograd(false)`, benchmarks and tests).
    nonisolated(unsafe) static var enabled = true

    /// 3x3 kernels, stride 1, enough channels for the gemms to pay off.
    static func eligible(_ g: Conv2dGeometry) -> Bool {
        enabled && g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1 && g.ph <= 2 && g.pw <= 2
            && g.c >= 8 && g.o >= 8 && g.n > 0 && g.oh >= 1 && g.ow >= 1
    }

    /// Workspace slots, clear of im2col's (4 per worker) for up to 256 workers: the kernel
    /// transform, then (V, M, scratch) per worker, then each worker's weight-gradient sums.
    static let slotU = 1 << 10, slotV = slotU + 1, slotAcc = slotV + 3 * 256

    /// Tiling of a geometry: `rows` tile rows in all (samples x tile rows per sample).
    struct Tiling {
        let g: Conv2dGeometry
        let tilesY: Int, tilesX: Int
        var rows: Int { g.n * tilesY }
        init(_ g: Conv2dGeometry) { self.g = g; tilesY = (g.oh + 3) / 4; tilesX = (g.ow + 3) / 4 }
    }

    /// Tiles per block. Each gemm packs its U[ξ] (K x C) once per block and its V[ξ] (C x tiles)
    /// once: packing costs about 1/tiles + 1/K of the multiplies. Measured at batch 128 on Zen 4
    /// (OpenBLAS Haswell kernels, one thread): blocks sized for the 1 MB L2 (32 tiles at 128
    /// channels) ran as fast at 32-64 channels and up to 25% slower at 128-256 channels than 128
    /// tiles, whose V and M (36 x (C + K) x tiles floats, 2.4 MB at 64 channels) live in L2/L3.
    static let targetTiles = 128

    static func blockRows(_ tl: Tiling) -> Int {
        Swift.max(1, targetTiles / tl.tilesX)
    }

    /// Padded row stride of the transforms' scratch rows: the vector loops load up to 8 floats
    /// past a row's last tile.
    static func rowStride(_ tl: Tiling) -> Int { 4 * tl.tilesX + 16 }

    /// Scratch elements per worker: 7 rows for the input or gradient transform, or 24 rows of
    /// tilesX for the output transform (used one after the other).
    static func scratchCount(_ tl: Tiling, ld: Int) -> Int {
        if tl.tilesX < 8 { return (4 * tl.tilesY + 2) * (4 * tl.tilesX + 2) + 40 * ld + 64 }
        return Swift.max(7 * rowStride(tl), 24 * tl.tilesX) + 16
    }

    // MARK: transforms

    /// `Bᵀ` on 6 values (the same formulas for columns and rows).
    @inline(__always)
    static func bt<V: WinoLane>(_ d0: V, _ d1: V, _ d2: V, _ d3: V, _ d4: V, _ d5: V) -> (V, V, V, V, V, V)
    {
        let four = V(wino: 4), five = V(wino: 5), two = V(wino: 2)
        let p = d3 + d4, q = d1 + d2, r = d4 - d3, s = d1 - d2, u = d4 - d2, v = d3 - d1
        return (four * d0 - five * d2 + d4,
                p - four * q,
                r + four * s,
                u + two * v,
                u - two * v,
                four * d1 - five * d3 + d5)
    }

    /// Columns `4q + j` (j = 0 ..< 6) of 8 consecutive tiles starting at `p` (tile q's first column).
    @inline(__always)
    static func tileColumns(_ p: UnsafePointer<Float>) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        let a = ld16(p), b = ld16(p + 16)
        let e = SIMD16(lowHalf: a.evenHalf, highHalf: b.evenHalf), o = SIMD16(lowHalf: a.oddHalf, highHalf: b.oddHalf)
        let a2 = ld16(p + 4), b2 = ld16(p + 20)
        return (e.evenHalf, o.evenHalf, e.oddHalf, o.oddHalf, SIMD16(lowHalf: a2.evenHalf, highHalf: b2.evenHalf).evenHalf,
                SIMD16(lowHalf: a2.oddHalf, highHalf: b2.oddHalf).evenHalf)
    }

    /// `V[ξ][c][t]` (leading dimension `ld` tiles) of tile rows `r0 ..< r1` of input `x`
    /// (`channels` planes of `h x w` per sample, padding `ph, pw`): `Bᵀ d B` of every 6x6 tile,
    /// `Bᵀ` down 6 input rows (8 columns at a time), then `B` along each transformed row.
    static func inputTransform(_ tl: Tiling, _ x: UnsafePointer<Float>, channels: Int, h: Int, w: Int,
                               ph: Int, pw: Int, _ r0: Int, _ r1: Int,
                               _ v: UnsafeMutablePointer<Float>, ld: Int, _ scratch: UnsafeMutablePointer<Float>) {
        if tl.tilesX < 8 {
            return inputTransformSmall(tl, x, channels: channels, h: h, w: w, ph: ph, pw: pw, r0, r1, v, ld: ld, scratch)
        }
        let tx = tl.tilesX, wp = 4 * tx + 2, rs = rowStride(tl)
        let t0 = scratch, zero = t0 + 6 * rs
        let plane = h * w
        let lo = Swift.min(wp, pw), hi = Swift.max(lo, Swift.min(wp, w + pw))
        for k in 0..<rs { zero[k] = 0 }
        for i in 0..<6 {
            let t = t0 + i * rs
            for k in 0..<lo { t[k] = 0 }
            for k in hi..<rs { t[k] = 0 }
        }
        let xi = channels * ld
        for c in 0..<channels {
            for r in r0..<r1 {
                let n = r / tl.tilesY, ty = r % tl.tilesY
                let src = x + (n * channels + c) * plane
                if ty == 0 && c + 1 < channels { sslua_prefetch_l2(src + plane, plane * 4) }
                let y0 = 4 * ty - ph
                @inline(__always) func row(_ i: Int) -> UnsafePointer<Float> {
                    let yy = y0 + i
                    return yy >= 0 && yy < h ? src + yy * w - pw : UnsafePointer(zero)
                }
                let d0 = row(0), d1 = row(1), d2 = row(2), d3 = row(3), d4 = row(4), d5 = row(5)
                var k = lo
                while k + 8 <= hi {
                    let b = bt(ld8(d0 + k), ld8(d1 + k), ld8(d2 + k), ld8(d3 + k), ld8(d4 + k), ld8(d5 + k))
                    st8(b.0, t0 + k); st8(b.1, t0 + rs + k); st8(b.2, t0 + 2 * rs + k)
                    st8(b.3, t0 + 3 * rs + k); st8(b.4, t0 + 4 * rs + k); st8(b.5, t0 + 5 * rs + k)
                    k += 8
                }
                while k < hi {
                    let b = bt(d0[k], d1[k], d2[k], d3[k], d4[k], d5[k])
                    t0[k] = b.0; t0[rs + k] = b.1; t0[2 * rs + k] = b.2
                    t0[3 * rs + k] = b.3; t0[4 * rs + k] = b.4; t0[5 * rs + k] = b.5
                    k += 1
                }
                let base = (r - r0) * tx + c * ld
                for i in 0..<6 {
                    let t = t0 + i * rs
                    let v0 = v + (6 * i) * xi + base
                    var q = 0
                    while q + 8 <= tx {
                        let e = tileColumns(t + 4 * q)
                        let b = bt(e.0, e.1, e.2, e.3, e.4, e.5)
                        st8(b.0, v0 + q); st8(b.1, v0 + xi + q); st8(b.2, v0 + 2 * xi + q)
                        st8(b.3, v0 + 3 * xi + q); st8(b.4, v0 + 4 * xi + q); st8(b.5, v0 + 5 * xi + q)
                        q += 8
                    }
                    while q < tx {
                        let p = t + 4 * q
                        let b = bt(p[0], p[1], p[2], p[3], p[4], p[5])
                        v0[q] = b.0; v0[xi + q] = b.1; v0[2 * xi + q] = b.2
                        v0[3 * xi + q] = b.3; v0[4 * xi + q] = b.4; v0[5 * xi + q] = b.5
                        q += 1
                    }
                }
            }
        }
    }

    /// `G` on 3 values (reciprocals as constants: a division costs ten multiplies).
    @inline(__always)
    static func gk<V: WinoLane>(_ a: V, _ b: V, _ c: V) -> (V, V, V, V, V, V) {
        let s = a + c, sixth = V(wino: 1.0 / 6), a24 = a * V(wino: 1.0 / 24), b12 = b * V(wino: 1.0 / 12), c6 = c * sixth
        return (V(wino: 0.25) * a, V(wino: 0) - (s + b) * sixth, V(wino: 0) - (s - b) * sixth, a24 + b12 + c6, a24 - b12 + c6, c)
    }

    /// `U[ξ][k][c] = (G g Gᵀ)[ξ]` for the kernel `w[K][C][3][3]`, 8 kernels at a time.
    static func kernelTransform(_ w: UnsafePointer<Float>, k kk: Int, c cc: Int, _ u: UnsafeMutablePointer<Float>) {
        let xi = kk * cc
        @inline(__always) func one<V: WinoLane>(_ g: (Int) -> V, _ put: (Int, V) -> Void) {
            // G g: column by column (6 x 3), then each of its rows times Gᵀ
            let c0 = gk(g(0), g(3), g(6)), c1 = gk(g(1), g(4), g(7)), c2 = gk(g(2), g(5), g(8))
            @inline(__always) func row(_ i: Int, _ a: V, _ b: V, _ c: V) {
                let r = gk(a, b, c)
                put(6 * i, r.0); put(6 * i + 1, r.1); put(6 * i + 2, r.2)
                put(6 * i + 3, r.3); put(6 * i + 4, r.4); put(6 * i + 5, r.5)
            }
            row(0, c0.0, c1.0, c2.0); row(1, c0.1, c1.1, c2.1); row(2, c0.2, c1.2, c2.2)
            row(3, c0.3, c1.3, c2.3); row(4, c0.4, c1.4, c2.4); row(5, c0.5, c1.5, c2.5)
        }
        Parallel.forRange((xi + 7) / 8, grain: 128) { lo, hi in
            for blk in lo..<hi {
                let kc = 8 * blk
                if kc + 8 <= xi {
                    let g = w + kc * 9
                    one({ p in SIMD8<Float>(g[p], g[9 + p], g[18 + p], g[27 + p], g[36 + p], g[45 + p], g[54 + p], g[63 + p]) },
                        { q, v in st8(v, u + q * xi + kc) })
                } else {
                    for j in kc..<xi {
                        let g = w + j * 9
                        one({ p in g[p] }, { q, v in u[q * xi + j] = v })
                    }
                }
            }
        }
    }

    /// `Aᵀ` on 6 values.
    @inline(__always)
    static func at<V: WinoLane>(_ m0: V, _ m1: V, _ m2: V, _ m3: V, _ m4: V, _ m5: V) -> (V, V, V, V)
    {
        let a = m1 + m2, b = m1 - m2, c = m3 + m4, d = m3 - m4
        return (m0 + a + c, b + V(wino: 2) * d, a + V(wino: 4) * c, b + V(wino: 8) * d + m5)
    }

    /// Output tiles `Aᵀ M A` of tile rows `r0 ..< r1` into `out[N][K][OH][OW]` (plus bias).
    static func outputTransform(_ tl: Tiling, _ m: UnsafePointer<Float>, ld: Int, _ r0: Int, _ r1: Int,
                                _ bias: UnsafePointer<Float>?, _ out: UnsafeMutablePointer<Float>,
                                _ scratch: UnsafeMutablePointer<Float>) {
        if tl.tilesX < 8 { return outputTransformSmall(tl, m, ld: ld, r0, r1, bias, out, scratch) }
        let g = tl.g, tx = tl.tilesX, kk = g.o
        let xi = kk * ld
        let s = scratch   // s[p][j] (p = 0 ..< 4, j = 0 ..< 6), tx each: Aᵀ over the row index
        let full = g.ow / 4
        for k in 0..<kk {
            let bv = bias?[k] ?? 0
            let b8 = SIMD8<Float>(repeating: bv)
            for r in r0..<r1 {
                let n = r / tl.tilesY, ty = r % tl.tilesY
                let base = k * ld + (r - r0) * tx
                for j in 0..<6 {
                    let p0 = m + j * xi + base
                    let s0 = s + j * tx
                    var q = 0
                    while q + 8 <= tx {
                        let a = at(ld8(p0 + q), ld8(p0 + 6 * xi + q), ld8(p0 + 12 * xi + q),
                                   ld8(p0 + 18 * xi + q), ld8(p0 + 24 * xi + q), ld8(p0 + 30 * xi + q))
                        st8(a.0, s0 + q); st8(a.1, s0 + 6 * tx + q); st8(a.2, s0 + 12 * tx + q); st8(a.3, s0 + 18 * tx + q)
                        q += 8
                    }
                    while q < tx {
                        let a = at(p0[q], p0[6 * xi + q], p0[12 * xi + q],
                                   p0[18 * xi + q], p0[24 * xi + q], p0[30 * xi + q])
                        s0[q] = a.0; s0[6 * tx + q] = a.1; s0[12 * tx + q] = a.2; s0[18 * tx + q] = a.3
                        q += 1
                    }
                }
                for p in 0..<4 {
                    let oy = 4 * ty + p
                    if oy >= g.oh { break }
                    let a = s + 6 * p * tx
                    let dst = out + ((n * kk + k) * g.oh + oy) * g.ow
                    var q = 0
                    while q + 8 <= full {
                        let y = at(ld8(a + q), ld8(a + tx + q), ld8(a + 2 * tx + q),
                                   ld8(a + 3 * tx + q), ld8(a + 4 * tx + q), ld8(a + 5 * tx + q))
                        let e = interleave(y.0 + b8, y.2 + b8), o = interleave(y.1 + b8, y.3 + b8)
                        st16(interleave(e.lowHalf, o.lowHalf), dst + 4 * q)
                        st16(interleave(e.highHalf, o.highHalf), dst + 4 * q + 16)
                        q += 8
                    }
                    while q < tx {
                        let y = at(a[q], a[tx + q], a[2 * tx + q],
                                   a[3 * tx + q], a[4 * tx + q], a[5 * tx + q])
                        let d = dst + 4 * q, left = g.ow - 4 * q
                        d[0] = y.0 + bv
                        if left > 1 { d[1] = y.1 + bv }
                        if left > 2 { d[2] = y.2 + bv }
                        if left > 3 { d[3] = y.3 + bv }
                        q += 1
                    }
                }
            }
        }
    }

    /// `A` on 4 values (6 results).
    @inline(__always)
    static func ay<V: WinoLane>(_ p0: V, _ p1: V, _ p2: V, _ p3: V) -> (V, V, V, V, V, V) {
        let a = p0 + p2, b = p1 + p3
        let c = p0 + V(wino: 4) * p2, d = V(wino: 2) * p1 + V(wino: 8) * p3
        return (p0, a + b, a - b, c + d, c - d, p3)
    }

    /// `Ŷ[ξ][k][t] = (A dy Aᵀ)[ξ]` of the 4x4 output-gradient tiles of tile rows `r0 ..< r1`
    /// (zero beyond the output).
    static func gradTransform(_ tl: Tiling, _ gy: UnsafePointer<Float>, _ r0: Int, _ r1: Int,
                              _ v: UnsafeMutablePointer<Float>, ld: Int, _ scratch: UnsafeMutablePointer<Float>) {
        if tl.tilesX < 8 { return gradTransformSmall(tl, gy, r0, r1, v, ld: ld, scratch) }
        let g = tl.g, tx = tl.tilesX, kk = g.o, rs = rowStride(tl)
        let xi = kk * ld
        let t0 = scratch, zero = t0 + 6 * rs
        for q in 0..<rs { zero[q] = 0 }
        for i in 0..<6 { for q in g.ow..<rs { t0[i * rs + q] = 0 } }   // right of the output
        for k in 0..<kk {
            for r in r0..<r1 {
                let n = r / tl.tilesY, ty = r % tl.tilesY
                let top = gy + ((n * kk + k) * g.oh + 4 * ty) * g.ow
                if ty == 0 && k + 1 < kk { sslua_prefetch_l2(top + g.oh * g.ow, g.oh * g.ow * 4) }
                @inline(__always) func row(_ i: Int) -> UnsafePointer<Float> {
                    4 * ty + i < g.oh ? top + i * g.ow : UnsafePointer(zero)
                }
                let a0 = row(0), a1 = row(1), a2 = row(2), a3 = row(3)
                var q = 0
                while q + 8 <= g.ow {
                    let b = ay(ld8(a0 + q), ld8(a1 + q), ld8(a2 + q), ld8(a3 + q))
                    st8(b.0, t0 + q); st8(b.1, t0 + rs + q); st8(b.2, t0 + 2 * rs + q)
                    st8(b.3, t0 + 3 * rs + q); st8(b.4, t0 + 4 * rs + q); st8(b.5, t0 + 5 * rs + q)
                    q += 8
                }
                while q < g.ow {
                    let b = ay(a0[q], a1[q], a2[q], a3[q])
                    t0[q] = b.0; t0[rs + q] = b.1; t0[2 * rs + q] = b.2
                    t0[3 * rs + q] = b.3; t0[4 * rs + q] = b.4; t0[5 * rs + q] = b.5
                    q += 1
                }
                let base = k * ld + (r - r0) * tx
                for i in 0..<6 {
                    let t = t0 + i * rs
                    let v0 = v + (6 * i) * xi + base
                    q = 0
                    while q + 8 <= tx {
                        let e = tileColumns(t + 4 * q)
                        let b = ay(e.0, e.1, e.2, e.3)
                        st8(b.0, v0 + q); st8(b.1, v0 + xi + q); st8(b.2, v0 + 2 * xi + q)
                        st8(b.3, v0 + 3 * xi + q); st8(b.4, v0 + 4 * xi + q); st8(b.5, v0 + 5 * xi + q)
                        q += 8
                    }
                    while q < tx {
                        let p = t + 4 * q
                        let b = ay(p[0], p[1], p[2], p[3])
                        v0[q] = b.0; v0[xi + q] = b.1; v0[2 * xi + q] = b.2
                        v0[3 * xi + q] = b.3; v0[4 * xi + q] = b.4; v0[5 * xi + q] = b.5
                        q += 1
                    }
                }
            }
        }
    }

    // MARK: small planes

    // Below 8 tiles across (output width <= 28) the row loops above would run their scalar
    // tails only. These variants gather each tile's values into `[position][tile]` arrays of
    // the block (from a zero-padded copy of the plane, so without bounds checks) and run the
    // transforms 8 tiles at a time along the block, whatever the plane's width.

    /// Runs `body` on 8 tiles at a time (`SIMD8`), then one at a time, over `0 ..< count`:
    /// `body(load, store, t)` with loads and stores at offsets from tile `t`.
    @inline(__always)
    static func overTiles(_ count: Int, _ body8: (Int) -> Void, _ body1: (Int) -> Void) {
        var t = 0
        while t + 8 <= count { body8(t); t += 8 }
        while t < count { body1(t); t += 1 }
    }

    /// Stores the six lanes of a transform's result `step` floats apart from `o`.
    @inline(__always)
    static func store6<V: WinoLane>(_ r: (V, V, V, V, V, V), _ o: UnsafeMutablePointer<Float>, _ step: Int,
                                    _ store: (V, UnsafeMutablePointer<Float>) -> Void) {
        store(r.0, o); store(r.1, o + step); store(r.2, o + 2 * step)
        store(r.3, o + 3 * step); store(r.4, o + 4 * step); store(r.5, o + 5 * step)
    }

    /// Gathers the `size x size` tiles (4 apart) of tile rows `r0 ..< r1` of channel `ch` of
    /// `planes` (N x `channels` planes of `h x w`, `plane` floats each) into `d[size²][ld]`,
    /// position-major: each sample's plane is first copied into the zeroed padded plane `p`
    /// (row stride `stride`) at (oy, ox), while the next channel's plane is asked for in L2.
    @inline(__always)
    static func gatherTiles(_ tl: Tiling, size: Int, _ planes: UnsafePointer<Float>, channels: Int, ch: Int,
                            plane: Int, h: Int, w: Int, _ p: UnsafeMutablePointer<Float>, stride: Int, oy: Int, ox: Int,
                            _ r0: Int, _ r1: Int, _ d: UnsafeMutablePointer<Float>, ld: Int) {
        let tx = tl.tilesX
        var current = -1
        for r in r0..<r1 {
            let n = r / tl.tilesY, ty = r % tl.tilesY
            if n != current {
                let src = planes + (n * channels + ch) * plane
                if ch + 1 < channels { sslua_prefetch_l2(src + plane, plane * 4) }
                for y in 0..<h { (p + (oy + y) * stride + ox).update(from: src + y * w, count: w) }
                current = n
            }
            for q in 0..<tx {
                let t = (r - r0) * tx + q, base = p + 4 * ty * stride + 4 * q
                for a in 0..<size {
                    let s = base + a * stride, o = d + size * a * ld + t
                    for j in 0..<size { o[j * ld] = s[j] }
                }
            }
        }
    }

    static func inputTransformSmall(_ tl: Tiling, _ x: UnsafePointer<Float>, channels: Int, h: Int, w: Int,
                                    ph: Int, pw: Int, _ r0: Int, _ r1: Int,
                                    _ v: UnsafeMutablePointer<Float>, ld: Int, _ scratch: UnsafeMutablePointer<Float>) {
        let tx = tl.tilesX, stride = 4 * tx + 2, rowsP = 4 * tl.tilesY + 2
        let p = scratch, d = p + rowsP * stride   // padded plane, then d[36][ld]
        p.update(repeating: 0, count: rowsP * stride)
        let plane = h * w, count = (r1 - r0) * tx, xi = channels * ld
        let hv = Swift.min(h, rowsP - ph), wv = Swift.min(w, stride - pw)   // the part of the plane tiles read
        @inline(__always) func step<V: WinoLane>(_ t: Int, _ c: Int, _ load: (UnsafePointer<Float>) -> V,
                                                 _ store: (V, UnsafeMutablePointer<Float>) -> Void) {
            for b in 0..<6 {   // Bᵀ down the columns, in place
                let q = d + b * ld + t
                let r = bt(load(q), load(q + 6 * ld), load(q + 12 * ld), load(q + 18 * ld), load(q + 24 * ld), load(q + 30 * ld))
                store6(r, q, 6 * ld, store)
            }
            for i in 0..<6 {   // B along the rows, into V
                let q = d + 6 * i * ld + t, o = v + 6 * i * xi + c * ld + t
                let r = bt(load(q), load(q + ld), load(q + 2 * ld), load(q + 3 * ld), load(q + 4 * ld), load(q + 5 * ld))
                store6(r, o, xi, store)
            }
        }
        for c in 0..<channels {
            gatherTiles(tl, size: 6, x, channels: channels, ch: c, plane: plane, h: hv, w: wv,
                        p, stride: stride, oy: ph, ox: pw, r0, r1, d, ld: ld)
            overTiles(count, { t in step(t, c, { ld8($0) }, { st8($0, $1) }) },
                      { t in step(t, c, { $0.pointee }, { $1.pointee = $0 }) })
        }
    }

    static func outputTransformSmall(_ tl: Tiling, _ m: UnsafePointer<Float>, ld: Int, _ r0: Int, _ r1: Int,
                                     _ bias: UnsafePointer<Float>?, _ out: UnsafeMutablePointer<Float>,
                                     _ scratch: UnsafeMutablePointer<Float>) {
        let g = tl.g, tx = tl.tilesX, kk = g.o
        let xi = kk * ld, count = (r1 - r0) * tx
        let s = scratch, y = s + 24 * ld   // s[4][6][ld] = Aᵀ M, y[4][4][ld] = Aᵀ M A
        for k in 0..<kk {
            let bv = bias?[k] ?? 0
            @inline(__always) func step<V: WinoLane>(_ t: Int, _ load: (UnsafePointer<Float>) -> V,
                                                     _ store: (V, UnsafeMutablePointer<Float>) -> Void) {
                let mk = m + k * ld + t
                for j in 0..<6 {
                    let q = mk + j * xi
                    let r = at(load(q), load(q + 6 * xi), load(q + 12 * xi), load(q + 18 * xi), load(q + 24 * xi), load(q + 30 * xi))
                    let o = s + j * ld + t
                    store(r.0, o); store(r.1, o + 6 * ld); store(r.2, o + 12 * ld); store(r.3, o + 18 * ld)
                }
                let b = V(wino: bv)
                for p in 0..<4 {
                    let q = s + 6 * p * ld + t
                    let r = at(load(q), load(q + ld), load(q + 2 * ld), load(q + 3 * ld), load(q + 4 * ld), load(q + 5 * ld))
                    let o = y + 4 * p * ld + t
                    store(r.0 + b, o); store(r.1 + b, o + ld); store(r.2 + b, o + 2 * ld); store(r.3 + b, o + 3 * ld)
                }
            }
            overTiles(count, { t in step(t, { ld8($0) }, { st8($0, $1) }) },
                      { t in step(t, { $0.pointee }, { $1.pointee = $0 }) })
            for r in r0..<r1 {
                let n = r / tl.tilesY, ty = r % tl.tilesY
                let rows = Swift.min(4, g.oh - 4 * ty)
                for q in 0..<tx {
                    let t = (r - r0) * tx + q, cols = Swift.min(4, g.ow - 4 * q)
                    let dst = out + ((n * kk + k) * g.oh + 4 * ty) * g.ow + 4 * q
                    for p in 0..<rows {
                        let src = y + 4 * p * ld + t, o = dst + p * g.ow
                        for j in 0..<cols { o[j] = src[j * ld] }
                    }
                }
            }
        }
    }

    static func gradTransformSmall(_ tl: Tiling, _ gy: UnsafePointer<Float>, _ r0: Int, _ r1: Int,
                                   _ v: UnsafeMutablePointer<Float>, ld: Int, _ scratch: UnsafeMutablePointer<Float>) {
        let g = tl.g, tx = tl.tilesX, kk = g.o, stride = 4 * tx, rowsP = 4 * tl.tilesY
        let p = scratch, d = p + rowsP * stride, s = d + 16 * ld   // padded plane, d[16][ld], s[6][4][ld]
        p.update(repeating: 0, count: rowsP * stride)
        let xi = kk * ld, count = (r1 - r0) * tx, plane = g.oh * g.ow
        @inline(__always) func step<V: WinoLane>(_ t: Int, _ k: Int, _ load: (UnsafePointer<Float>) -> V,
                                                 _ store: (V, UnsafeMutablePointer<Float>) -> Void) {
            for b in 0..<4 {   // A down the columns
                let q = d + b * ld + t
                let r = ay(load(q), load(q + 4 * ld), load(q + 8 * ld), load(q + 12 * ld))
                let o = s + b * ld + t
                store6(r, o, 4 * ld, store)
            }
            for i in 0..<6 {   // A along the rows, into Ŷ
                let q = s + 4 * i * ld + t, o = v + 6 * i * xi + k * ld + t
                let r = ay(load(q), load(q + ld), load(q + 2 * ld), load(q + 3 * ld))
                store6(r, o, xi, store)
            }
        }
        for k in 0..<kk {
            gatherTiles(tl, size: 4, gy, channels: kk, ch: k, plane: plane, h: g.oh, w: g.ow,
                        p, stride: stride, oy: 0, ox: 0, r0, r1, d, ld: ld)
            overTiles(count, { t in step(t, k, { ld8($0) }, { st8($0, $1) }) },
                      { t in step(t, k, { $0.pointee }, { $1.pointee = $0 }) })
        }
    }

    // MARK: passes

    /// Work split and per-worker buffers.
    struct Plan {
        let tl: Tiling, per: Int, ld: Int, workers: Int
        let v: [UnsafeMutablePointer<Float>], m: [UnsafeMutablePointer<Float>], scratch: [UnsafeMutablePointer<Float>]

        init(_ g: Conv2dGeometry) throws {
            tl = Tiling(g)
            per = blockRows(tl)
            ld = per * tl.tilesX
            workers = Swift.max(1, Swift.min(Parallel.threads, tl.rows))
            let n = ld, rows = scratchCount(tl, ld: ld)
            v = try (0..<workers).map { try NNWorkspace.buffer(slotV + 3 * $0, 36 * g.c * n, Float.self) }
            m = try (0..<workers).map { try NNWorkspace.buffer(slotV + 3 * $0 + 1, 36 * g.o * n, Float.self) }
            scratch = try (0..<workers).map { try NNWorkspace.buffer(slotV + 3 * $0 + 2, rows, Float.self) }
        }

        /// Calls `body(r0, r1, tiles)` for worker `t`'s blocks of tile rows, in order.
        func blocks(_ t: Int, _ body: (Int, Int, Int) -> Void) {
            var r = tl.rows * t / workers
            let hi = tl.rows * (t + 1) / workers
            while r < hi {
                let r1 = Swift.min(hi, r + per)
                body(r, r1, (r1 - r) * tl.tilesX)
                r = r1
            }
        }
    }

    static func forward(_ g: Conv2dGeometry, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                        _ b: UnsafePointer<Float>?, _ out: UnsafeMutablePointer<Float>) throws {
        let plan = try Plan(g)
        let (tl, ld) = (plan.tl, plan.ld)
        let u = try NNWorkspace.buffer(slotU, 36 * g.o * g.c, Float.self)
        try Parallel.checkInterrupt()
        kernelTransform(w, k: g.o, c: g.c, u)
        let xi = g.o * g.c
        Parallel.runWorkers(plan.workers) { t in
            let v = plan.v[t], m = plan.m[t], scratch = plan.scratch[t]
            plan.blocks(t) { r0, r1, tiles in
                inputTransform(tl, x, channels: g.c, h: g.h, w: g.w, ph: g.ph, pw: g.pw, r0, r1, v, ld: ld, scratch)
                for q in 0..<36 {
                    nnGemm(false, false, g.o, tiles, g.c, Float(1), u + q * xi, g.c,
                           v + q * g.c * ld, ld, Float(0), m + q * g.o * ld, ld)
                }
                outputTransform(tl, m, ld: ld, r0, r1, b, out, scratch)
            }
        }
        try Parallel.checkInterrupt()
    }

    /// `gw = ∂L/∂w` from input `x` and output gradient `gy`.
    static func weightGrad(_ g: Conv2dGeometry, _ x: UnsafePointer<Float>, _ gy: UnsafePointer<Float>,
                           _ gw: UnsafeMutablePointer<Float>) throws {
        let plan = try Plan(g)
        let (tl, ld, workers) = (plan.tl, plan.ld, plan.workers)
        let xi = g.o * g.c
        let sums = try (0..<workers).map { try NNWorkspace.buffer(slotAcc + $0, 36 * xi, Float.self) }
        try Parallel.checkInterrupt()
        Parallel.runWorkers(workers) { t in
            let v = plan.v[t], dy = plan.m[t], scratch = plan.scratch[t], acc = sums[t]
            var first = true
            plan.blocks(t) { r0, r1, tiles in
                inputTransform(tl, x, channels: g.c, h: g.h, w: g.w, ph: g.ph, pw: g.pw, r0, r1, v, ld: ld, scratch)
                gradTransform(tl, gy, r0, r1, dy, ld: ld, scratch)
                for q in 0..<36 {
                    nnGemm(false, true, g.o, g.c, tiles, Float(1), dy + q * g.o * ld, ld,
                           v + q * g.c * ld, ld, first ? Float(0) : Float(1), acc + q * xi, g.c)
                }
                first = false
            }
            if first { for i in 0..<(36 * xi) { acc[i] = 0 } }
        }
        // the workers' partial sums (in worker order), then Gᵀ S G per (k, c)
        Parallel.forRange(xi, grain: 512) { lo, hi in
            let parts = sums.map { UnsafePointer($0) }
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 64) { tmp in
                let s = tmp.baseAddress!, h = s + 36
                @inline(__always) func gt(_ s0: Float, _ s1: Float, _ s2: Float, _ s3: Float, _ s4: Float, _ s5: Float)
                    -> (Float, Float, Float) {
                    let a = s1 + s2, b = s3 + s4
                    let sixth: Float = 1.0 / 6
                    return (0.25 * s0 - a * sixth + b * (1.0 / 24), (s2 - s1) * sixth + (s3 - s4) * (1.0 / 12), (b - a) * sixth + s5)
                }
                for kc in lo..<hi {
                    for q in 0..<36 {
                        var a = parts[0][q * xi + kc]
                        for t in 1..<workers { a += parts[t][q * xi + kc] }
                        s[q] = a
                    }
                    for j in 0..<6 {   // Gᵀ on the first index: h[a][j]
                        let r = gt(s[j], s[6 + j], s[12 + j], s[18 + j], s[24 + j], s[30 + j])
                        h[j] = r.0; h[6 + j] = r.1; h[12 + j] = r.2
                    }
                    let dst = gw + kc * 9
                    for i in 0..<3 {
                        let p = h + 6 * i
                        let r = gt(p[0], p[1], p[2], p[3], p[4], p[5])
                        dst[3 * i] = r.0; dst[3 * i + 1] = r.1; dst[3 * i + 2] = r.2
                    }
                }
            }
        }
        try Parallel.checkInterrupt()
    }
}

extension Tensor {
    /// Whether eligible float32 3x3 convolutions use Winograd (default) or im2col.
    public static var winogradConvolutions: Bool {
        get { Winograd.enabled }
        set { Winograd.enabled = newValue }
    }
}

@inline(__always) func ld16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}
@inline(__always) func st16(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
}
/// (a0, b0, a1, b1, ...): the two output columns of 8 tiles in memory order.
@inline(__always) func interleave(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD16<Float> {
    SIMD16(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3], a[4], b[4], a[5], b[5], a[6], b[6], a[7], b[7])
}

/// The arithmetic of the transforms, on one float (the tails) or 8 tiles at once.
protocol WinoLane {
    init(wino: Float)
    static func + (a: Self, b: Self) -> Self
    static func - (a: Self, b: Self) -> Self
    static func * (a: Self, b: Self) -> Self
}
extension Float: WinoLane { @inline(__always) init(wino v: Float) { self = v } }
extension SIMD8: WinoLane where Scalar == Float { @inline(__always) init(wino v: Float) { self.init(repeating: v) } }
