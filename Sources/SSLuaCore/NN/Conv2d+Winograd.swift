/// Winograd F(2x2, 3x3) for the 3x3 stride-1 float32 convolutions that make up nearly all of a
/// ResNet's work (Lavin & Gray 2016). A 4x4 input tile `d` gives a 2x2 output tile as
/// `Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A`: 16 multiplies per (tile, in, out) channel triple instead of
/// 36, so the 16 products `M[ξ] = U[ξ] · V[ξ]` (one gemm per tile position ξ) do 2.25x less
/// arithmetic than im2col's one gemm. The transforms only add (and halve), so float32 stays
/// within a few ulps of the direct sum.
///
/// The three passes of training all run on it:
/// - forward: `convWinogradForward`;
/// - input gradient: a forward conv of the output gradient with the flipped, transposed kernel
///   (`inputGradAsConv`), so it lands here as well;
/// - weight gradient: `dW[k,c] = Σ_tiles corr(d, dy)` is a 4x4-with-2x2 correlation per tile,
///   F(3x3, 2x2) with the same input transform `Bᵀ d B`; the tile sum moves inside the
///   transform, so it becomes 16 gemms `Σ_t Ŷ[ξ] V[ξ]ᵀ` and one 3x3 output transform per (k, c).
///
/// Matrices (points 0, 1, -1, ∞):
///     Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
///     G  = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1]        Aᵀ  = [1 1 1 0; 0 1 -1 -1]
///     G' = [1 0; ½ ½; ½ -½; 0 1]                A'ᵀ = [1 1 1 0; 0 1 -1 0; 0 1 1 -1]
///
/// Work is cut into blocks of whole tile rows (a tile row is 2 output rows of one sample);
/// each worker transforms a block's inputs into `V[16][C][tiles]`, runs the 16 gemms
/// single-threaded and transforms back, so a block's data stays in cache between the steps.
enum Winograd {
    /// Off only to compare against im2col (`sslua._nn.winograd(false)`, benchmarks and tests).
    nonisolated(unsafe) static var enabled = true

    /// 3x3 kernels, stride 1, enough channels for the gemms to pay off.
    static func eligible(_ g: Conv2dGeometry) -> Bool {
        enabled && g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1 && g.ph <= 2 && g.pw <= 2
            && g.c >= 8 && g.o >= 8 && g.n > 0 && g.oh >= 1 && g.ow >= 1
    }

    /// Tiling of a geometry: `rows` tile rows in all (samples x tile rows per sample).
    struct Tiling {
        let g: Conv2dGeometry
        let tilesY: Int, tilesX: Int
        var rows: Int { g.n * tilesY }
        init(_ g: Conv2dGeometry) { self.g = g; tilesY = (g.oh + 1) / 2; tilesX = (g.ow + 1) / 2 }

        /// Tile rows per block: about `target` tiles, the block's V and M (16 x channels x tiles)
        /// together under ~4 MB so they stay in cache.
        func blockRows(_ channels: Int) -> Int {
            let tiles = Swift.max(96, Swift.min(1024, (1 << 20) / (16 * Swift.max(1, channels))))
            return Swift.max(1, tiles / tilesX)
        }
    }

    // MARK: transforms

    /// `V[ξ][c][t]` (leading dimension `ld` tiles) for tile rows `r0 ..< r1` of input `x`
    /// (`channels` planes of `h x w` per sample, padding `ph, pw`): `Bᵀ d B` of every 4x4 tile.
    /// Rows first (`Bᵀ` down the columns of 4 input rows, 8 columns at a time), then `B` along
    /// each transformed row: tile q reads columns 2q ..< 2q+4, so two 16-wide loads and their
    /// even/odd halves give 8 tiles at once.
    static func inputTransform(_ tl: Tiling, _ x: UnsafePointer<Float>, channels: Int, h: Int, w: Int,
                               ph: Int, pw: Int, _ r0: Int, _ r1: Int,
                               _ v: UnsafeMutablePointer<Float>, ld: Int, _ scratch: UnsafeMutablePointer<Float>) {
        let tx = tl.tilesX, wp = 2 * tx + 2
        let t0 = scratch, t1 = t0 + wp, t2 = t1 + wp, t3 = t2 + wp   // the padded transformed rows
        let zero = t3 + wp                                            // rows above and below the image
        let plane = h * w
        // columns of a padded row that come from the input: [lo, hi)
        let lo = Swift.min(wp, pw), hi = Swift.max(lo, Swift.min(wp, w + pw))
        for k in 0..<wp { zero[k] = 0 }
        for i in 0..<4 {
            let t = t0 + i * wp
            for k in 0..<lo { t[k] = 0 }
            for k in hi..<wp { t[k] = 0 }
        }
        let xi = channels * ld   // V[ξ][c] rows are ld apart, ξ planes channels * ld apart
        for c in 0..<channels {
            for r in r0..<r1 {
                let n = r / tl.tilesY, ty = r % tl.tilesY
                let src = x + (n * channels + c) * plane
                let y0 = 2 * ty - ph
                // input row y0 + i, shifted so that padded column k reads column k - pw
                @inline(__always) func row(_ i: Int) -> UnsafePointer<Float> {
                    let yy = y0 + i
                    return yy >= 0 && yy < h ? src + yy * w - pw : UnsafePointer(zero)
                }
                let d0 = row(0), d1 = row(1), d2 = row(2), d3 = row(3)
                // Bᵀ down the columns: [d0 - d2, d1 + d2, d2 - d1, d1 - d3]
                var k = lo
                while k + 8 <= hi {
                    let a0 = ld8(d0 + k), a1 = ld8(d1 + k), a2 = ld8(d2 + k), a3 = ld8(d3 + k)
                    st8(a0 - a2, t0 + k); st8(a1 + a2, t1 + k); st8(a2 - a1, t2 + k); st8(a1 - a3, t3 + k)
                    k += 8
                }
                while k < hi {
                    let a0 = d0[k], a1 = d1[k], a2 = d2[k], a3 = d3[k]
                    t0[k] = a0 - a2; t1[k] = a1 + a2; t2[k] = a2 - a1; t3[k] = a1 - a3
                    k += 1
                }
                // B along the rows: tile q has e0 = t[2q], o0 = t[2q+1], e1 = t[2q+2], o1 = t[2q+3]
                let base = (r - r0) * tx + c * ld
                for i in 0..<4 {
                    let t = t0 + i * wp
                    let v0 = v + (4 * i) * xi + base, v1 = v0 + xi, v2 = v1 + xi, v3 = v2 + xi
                    var q = 0
                    while q + 8 <= tx {
                        let a = ld16(t + 2 * q), b = ld16(t + 2 * q + 2)
                        let e0 = a.evenHalf, o0 = a.oddHalf, e1 = b.evenHalf, o1 = b.oddHalf
                        st8(e0 - e1, v0 + q); st8(o0 + e1, v1 + q); st8(e1 - o0, v2 + q); st8(o0 - o1, v3 + q)
                        q += 8
                    }
                    while q < tx {
                        let e0 = t[2 * q], o0 = t[2 * q + 1], e1 = t[2 * q + 2], o1 = t[2 * q + 3]
                        v0[q] = e0 - e1; v1[q] = o0 + e1; v2[q] = e1 - o0; v3[q] = o0 - o1
                        q += 1
                    }
                }
            }
        }
    }

    /// `U[ξ][k][c] = (G g Gᵀ)[ξ]` for the kernel `w[K][C][3][3]`.
    static func kernelTransform(_ w: UnsafePointer<Float>, k kk: Int, c cc: Int, _ u: UnsafeMutablePointer<Float>) {
        let xi = kk * cc
        Parallel.forRange(xi, grain: 2048) { lo, hi in
            for kc in lo..<hi {
                let g = w + kc * 9
                // G g (4x3, row by row), then (G g) Gᵀ one row at a time
                @inline(__always) func put(_ i: Int, _ a: Float, _ b: Float, _ d: Float) {
                    u[(4 * i) * xi + kc] = a
                    u[(4 * i + 1) * xi + kc] = 0.5 * (a + b + d)
                    u[(4 * i + 2) * xi + kc] = 0.5 * (a - b + d)
                    u[(4 * i + 3) * xi + kc] = d
                }
                put(0, g[0], g[1], g[2])
                put(1, 0.5 * (g[0] + g[3] + g[6]), 0.5 * (g[1] + g[4] + g[7]), 0.5 * (g[2] + g[5] + g[8]))
                put(2, 0.5 * (g[0] - g[3] + g[6]), 0.5 * (g[1] - g[4] + g[7]), 0.5 * (g[2] - g[5] + g[8]))
                put(3, g[6], g[7], g[8])
            }
        }
    }

    /// Output tiles `Aᵀ M A` of tile rows `r0 ..< r1` written into `out[N][K][OH][OW]` (plus bias):
    /// `Aᵀ` across the 4 row positions for 8 tiles at a time, then `A` along the rows, the two
    /// output columns of each tile interleaved on the way out.
    static func outputTransform(_ tl: Tiling, _ m: UnsafePointer<Float>, ld: Int, _ r0: Int, _ r1: Int,
                                _ bias: UnsafePointer<Float>?, _ out: UnsafeMutablePointer<Float>,
                                _ scratch: UnsafeMutablePointer<Float>) {
        let g = tl.g, tx = tl.tilesX, kk = g.o
        let xi = kk * ld
        let s = scratch   // 8 x tx: s[i][j] = (Aᵀ M)[i][j], rows i = 0, 1, columns j = 0 ..< 4
        let full = g.ow / 2
        for k in 0..<kk {
            let bv = bias?[k] ?? 0
            let b8 = SIMD8<Float>(repeating: bv)
            for r in r0..<r1 {
                let n = r / tl.tilesY, ty = r % tl.tilesY
                let base = k * ld + (r - r0) * tx
                for j in 0..<4 {
                    let m0 = m + j * xi + base, m1 = m0 + 4 * xi, m2 = m1 + 4 * xi, m3 = m2 + 4 * xi
                    let s0 = s + j * tx, s1 = s + (4 + j) * tx
                    var q = 0
                    while q + 8 <= tx {
                        let b = ld8(m1 + q), c = ld8(m2 + q)
                        st8(ld8(m0 + q) + b + c, s0 + q); st8(b - c - ld8(m3 + q), s1 + q)
                        q += 8
                    }
                    while q < tx {
                        let b = m1[q], c = m2[q]
                        s0[q] = m0[q] + b + c; s1[q] = b - c - m3[q]
                        q += 1
                    }
                }
                for i in 0..<2 {
                    let oy = 2 * ty + i
                    if oy >= g.oh { break }
                    let a0 = s + 4 * i * tx, a1 = a0 + tx, a2 = a1 + tx, a3 = a2 + tx
                    let dst = out + ((n * kk + k) * g.oh + oy) * g.ow
                    var q = 0
                    while q + 8 <= full {
                        let b = ld8(a1 + q), c = ld8(a2 + q)
                        let ye = ld8(a0 + q) + b + c + b8, yo = b - c - ld8(a3 + q) + b8
                        st16(interleave(ye, yo), dst + 2 * q)
                        q += 8
                    }
                    while q < tx {
                        let b = a1[q], c = a2[q]
                        dst[2 * q] = a0[q] + b + c + bv
                        if q < full { dst[2 * q + 1] = b - c - a3[q] + bv }
                        q += 1
                    }
                }
            }
        }
    }

    /// `Ŷ[ξ][k][t] = (G' dy G'ᵀ)[ξ]` of the 2x2 output-gradient tiles of tile rows `r0 ..< r1`.
    static func gradTransform(_ tl: Tiling, _ gy: UnsafePointer<Float>, _ r0: Int, _ r1: Int,
                              _ v: UnsafeMutablePointer<Float>, ld: Int, _ scratch: UnsafeMutablePointer<Float>) {
        let g = tl.g, tx = tl.tilesX, kk = g.o
        let xi = kk * ld
        let w2 = 2 * tx
        let t0 = scratch, t1 = t0 + w2, t2 = t1 + w2, t3 = t2 + w2   // G' down the columns
        let zero = t3 + w2   // the row below an odd-height image
        for q in 0..<w2 { zero[q] = 0 }
        for i in 0..<4 { t0[i * w2 + w2 - 1] = 0 }   // the column right of an odd-width image
        let half = SIMD8<Float>(repeating: 0.5)
        for k in 0..<kk {
            for r in r0..<r1 {
                let n = r / tl.tilesY, ty = r % tl.tilesY
                let a = gy + ((n * kk + k) * g.oh + 2 * ty) * g.ow
                let b = 2 * ty + 1 < g.oh ? a + g.ow : UnsafePointer(zero)
                var q = 0
                while q + 8 <= g.ow {
                    let p = ld8(a + q), s = ld8(b + q)
                    st8(p, t0 + q); st8(half * (p + s), t1 + q); st8(half * (p - s), t2 + q); st8(s, t3 + q)
                    q += 8
                }
                while q < g.ow {
                    let p = a[q], s = b[q]
                    t0[q] = p; t1[q] = 0.5 * (p + s); t2[q] = 0.5 * (p - s); t3[q] = s
                    q += 1
                }
                let base = k * ld + (r - r0) * tx
                for i in 0..<4 {
                    let t = t0 + i * w2
                    let v0 = v + (4 * i) * xi + base, v1 = v0 + xi, v2 = v1 + xi, v3 = v2 + xi
                    q = 0
                    while q + 8 <= tx {
                        let p = ld16(t + 2 * q)
                        let e = p.evenHalf, o = p.oddHalf
                        st8(e, v0 + q); st8(half * (e + o), v1 + q); st8(half * (e - o), v2 + q); st8(o, v3 + q)
                        q += 8
                    }
                    while q < tx {
                        let e = t[2 * q], o = t[2 * q + 1]
                        v0[q] = e; v1[q] = 0.5 * (e + o); v2[q] = 0.5 * (e - o); v3[q] = o
                        q += 1
                    }
                }
            }
        }
    }

    // MARK: passes

    /// Workspace slots, clear of im2col's (4 per worker) for up to 256 workers: the kernel
    /// transform, then (V, M, scratch) per worker, then each worker's weight-gradient sums.
    static let slotU = 1 << 10, slotV = slotU + 1, slotAcc = slotV + 3 * 256

    /// Scratch elements per worker for the row transforms.
    static func scratchCount(_ tl: Tiling) -> Int { 5 * (2 * tl.tilesX + 2) + 16 }

    /// How a pass splits its work: blocks of `per` tile rows (`ld` tiles), contiguous ranges of
    /// tile rows per worker, and each worker's buffers: V (transformed inputs, 16 x C x ld),
    /// M (products, or transformed output gradients, 16 x K x ld) and row scratch.
    struct Plan {
        let tl: Tiling, per: Int, ld: Int, workers: Int
        let v: [UnsafeMutablePointer<Float>], m: [UnsafeMutablePointer<Float>], scratch: [UnsafeMutablePointer<Float>]

        init(_ g: Conv2dGeometry) throws {
            tl = Tiling(g)
            per = tl.blockRows(Swift.max(g.c, g.o))
            ld = per * tl.tilesX
            workers = Swift.max(1, Swift.min(Parallel.threads, tl.rows))
            // (closures may not read self before every property is set)
            let n = ld, rows = scratchCount(tl)
            v = try (0..<workers).map { try NNWorkspace.buffer(slotV + 3 * $0, 16 * g.c * n, Float.self) }
            m = try (0..<workers).map { try NNWorkspace.buffer(slotV + 3 * $0 + 1, 16 * g.o * n, Float.self) }
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
        let u = try NNWorkspace.buffer(slotU, 16 * g.o * g.c, Float.self)
        try Parallel.checkInterrupt()
        kernelTransform(w, k: g.o, c: g.c, u)
        let xi = g.o * g.c
        Parallel.runWorkers(plan.workers) { t in
            let v = plan.v[t], m = plan.m[t], scratch = plan.scratch[t]
            plan.blocks(t) { r0, r1, tiles in
                inputTransform(tl, x, channels: g.c, h: g.h, w: g.w, ph: g.ph, pw: g.pw, r0, r1, v, ld: ld, scratch)
                for q in 0..<16 {
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
        let sums = try (0..<workers).map { try NNWorkspace.buffer(slotAcc + $0, 16 * xi, Float.self) }
        try Parallel.checkInterrupt()
        Parallel.runWorkers(workers) { t in
            let v = plan.v[t], dy = plan.m[t], scratch = plan.scratch[t], acc = sums[t]
            var first = true
            plan.blocks(t) { r0, r1, tiles in
                inputTransform(tl, x, channels: g.c, h: g.h, w: g.w, ph: g.ph, pw: g.pw, r0, r1, v, ld: ld, scratch)
                gradTransform(tl, gy, r0, r1, dy, ld: ld, scratch)
                for q in 0..<16 {
                    nnGemm(false, true, g.o, g.c, tiles, Float(1), dy + q * g.o * ld, ld,
                           v + q * g.c * ld, ld, first ? Float(0) : Float(1), acc + q * xi, g.c)
                }
                first = false
            }
            if first { for i in 0..<(16 * xi) { acc[i] = 0 } }
        }
        // sum the workers' partial products (in worker order), then A'ᵀ W A' per (k, c)
        Parallel.forRange(xi, grain: 1024) { lo, hi in
            let parts = sums.map { UnsafePointer($0) }
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 28) { tmp in
                let s = tmp.baseAddress!, h = s + 16
                for kc in lo..<hi {
                    for q in 0..<16 {
                        var a = parts[0][q * xi + kc]
                        for t in 1..<workers { a += parts[t][q * xi + kc] }
                        s[q] = a
                    }
                    // A'ᵀ on the first index, then on the second
                    for j in 0..<4 {
                        let a = s[j], b = s[4 + j], c = s[8 + j], d = s[12 + j]
                        h[j] = a + b + c; h[4 + j] = b - c; h[8 + j] = b + c - d
                    }
                    let dst = gw + kc * 9
                    for i in 0..<3 {
                        let a = h[4 * i], b = h[4 * i + 1], c = h[4 * i + 2], d = h[4 * i + 3]
                        dst[3 * i] = a + b + c; dst[3 * i + 1] = b - c; dst[3 * i + 2] = b + c - d
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
