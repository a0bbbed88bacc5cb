import COpenBLAS
import CRuntime

/// Typed gemm/syrk on raw row-major pointers, so the fused kernels of `Loss/` and `Geom/` are
/// written once, generic over float32/float64, and still reach OpenBLAS's sgemm or dgemm.
public enum BLAS {
    /// C = alpha op(A) op(B) + beta C, row-major; `op` transposes when the flag is set.
    /// Every element of C is written whatever the sizes: with an empty inner dimension (k = 0)
    /// C becomes beta C (0 when beta is 0, never left uninitialised), and sizes beyond BLAS's
    /// 32-bit integers take a plain loop instead of trapping in an `Int32` conversion.
    @inlinable public static func gemm<T: TensorScalar>(
        _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
        _ alpha: T, _ a: UnsafePointer<T>, _ lda: Int, _ b: UnsafePointer<T>, _ ldb: Int,
        _ beta: T, _ c: UnsafeMutablePointer<T>, _ ldc: Int
    ) {
        if m <= 0 || n <= 0 { return }
        let limit = Int(Int32.max)
        if k <= 0 || m >= limit || n >= limit || k >= limit || lda >= limit || ldb >= limit || ldc >= limit {
            gemmFallback(transA, transB, m, n, Swift.max(k, 0), alpha, a, lda, b, ldb, beta, c, ldc)
            return
        }
        let tA = transA ? CblasTrans : CblasNoTrans, tB = transB ? CblasTrans : CblasNoTrans
        // A small product on OpenBLAS's threads costs more in waking them than it saves, and
        // they then spin for milliseconds beside the pool's workers: run it on this thread.
        let (mn, o1) = m.multipliedReportingOverflow(by: n), (mnk, o2) = mn.multipliedReportingOverflow(by: k)
        let single = !o1 && !o2 && mnk <= smallProduct && Parallel.threads > 1 && sslua_pool_in_region() == 0
        if single { openblas_set_num_threads(1) }
        defer { if single { openblas_set_num_threads(Int32(Parallel.threads)) } }
        if T.self == Float.self {
            cblas_sgemm(CblasRowMajor, tA, tB, Int32(m), Int32(n), Int32(k), Float(alpha),
                        UnsafeRawPointer(a).assumingMemoryBound(to: Float.self), Int32(max(lda, 1)),
                        UnsafeRawPointer(b).assumingMemoryBound(to: Float.self), Int32(max(ldb, 1)), Float(beta),
                        UnsafeMutableRawPointer(c).assumingMemoryBound(to: Float.self), Int32(max(ldc, 1)))
        } else {
            cblas_dgemm(CblasRowMajor, tA, tB, Int32(m), Int32(n), Int32(k), Double(alpha),
                        UnsafeRawPointer(a).assumingMemoryBound(to: Double.self), Int32(max(lda, 1)),
                        UnsafeRawPointer(b).assumingMemoryBound(to: Double.self), Int32(max(ldb, 1)), Double(beta),
                        UnsafeMutableRawPointer(c).assumingMemoryBound(to: Double.self), Int32(max(ldc, 1)))
        }
    }

    /// Multiply-adds (m n k) up to which `gemm` runs on the calling thread: 128 x 128 x 256,
    /// about 0.1 ms on one core. Measured on the resnet3 SimCLR step (its projector and InfoNCE
    /// products, 2 threads, Zen 4): ~5% of the step's time, from OpenBLAS's spinning threads.
    public static let smallProduct = 1 << 22

    /// The reference loop behind `gemm` for k = 0 and for sizes BLAS cannot take. beta = 0
    /// overwrites C (NaN or garbage in C does not survive), as BLAS specifies.
    public static func gemmFallback<T: TensorScalar>(
        _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
        _ alpha: T, _ a: UnsafePointer<T>, _ lda: Int, _ b: UnsafePointer<T>, _ ldb: Int,
        _ beta: T, _ c: UnsafeMutablePointer<T>, _ ldc: Int
    ) {
        for i in 0..<m {
            let row = c + i * ldc
            for j in 0..<n {
                var acc = 0.0
                for p in 0..<k {
                    let av = transA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                    acc += Double(av) * Double(bv)
                }
                let v = k == 0 ? T(0) : alpha * T(acc)
                row[j] = beta == 0 ? v : v + beta * row[j]
            }
        }
    }

    /// C (n x n, upper triangle) = A^T A for a row-major m x n A, in float64 (Gram matrices).
    public static func gramUpper(_ a: UnsafePointer<Double>, rows m: Int, cols n: Int,
                                 into c: UnsafeMutablePointer<Double>) {
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(n), Int32(m), 1, a, Int32(max(n, 1)),
                    0, c, Int32(max(n, 1)))
    }
}

/// Checks that LAPACK/BLAS sizes fit their 32-bit integers.
func requireLapackSize(_ sizes: Int...) throws {
    for s in sizes {
        try require(s >= 0 && s < Int(Int32.max), "matrix dimension \(s) is too large for LAPACK")
    }
}

extension BLAS {
    /// C (m x m, upper triangle) = A A^T for a row-major m x n A, in float64.
    public static func gramUpperRows(_ a: UnsafePointer<Double>, rows m: Int, cols n: Int,
                                     into c: UnsafeMutablePointer<Double>) {
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, Int32(m), Int32(n), 1, a, Int32(max(n, 1)),
                    0, c, Int32(max(m, 1)))
    }
}

extension BLAS {
    /// C = A A^T (n x n, full, row-major) for a row-major n x k A: syrk on the upper
    /// triangle (half a gemm's flops), then mirrored.
    public static func gramFull<T: TensorScalar>(_ a: UnsafePointer<T>, rows n: Int, cols k: Int,
                                                 into c: UnsafeMutablePointer<T>) {
        gramUpperNoMirror(a, rows: n, cols: k, into: c)
        mirrorUpper(c, n)
    }

    /// Copies the upper triangle of a row-major n x n matrix to its lower one, in tiles.
    public static func mirrorUpper<T: TensorScalar>(_ c: UnsafeMutablePointer<T>, _ n: Int) {
        forEachTile(n, upToDiagonal: true) { rows, cols in
            for i in rows { for j in cols.lowerBound..<Swift.min(cols.upperBound, i) { c[i * n + j] = c[j * n + i] } }
        }
    }

    /// out = g + g^T for a row-major n x n g, in tiles.
    public static func symmetrize<T: TensorScalar>(_ g: UnsafePointer<T>, _ n: Int, into out: UnsafeMutablePointer<T>) {
        forEachTile(n, upToDiagonal: false) { rows, cols in
            for i in rows { for j in cols { out[i * n + j] = g[i * n + j] + g[j * n + i] } }
        }
    }

    /// Runs `body(rows, cols)` over the 8 x 8 tiles of an n x n matrix, tile rows in parallel:
    /// every tile, or (`upToDiagonal`) the tiles that start at or left of the diagonal.
    @inline(__always)
    static func forEachTile(_ n: Int, upToDiagonal: Bool, _ body: (Range<Int>, Range<Int>) -> Void) {
        let tile = 8   // small tiles: columns of a power-of-two width alias in one L1 set (4 KB stride)
        let tiles = (n + tile - 1) / tile
        Parallel.forRange(tiles, grain: 1) { lo, hi in
            for bi in lo..<hi {
                let i0 = bi * tile, i1 = Swift.min(n, i0 + tile)
                var j0 = 0
                while upToDiagonal ? j0 <= i0 : j0 < n {
                    body(i0..<i1, j0..<Swift.min(n, j0 + tile))
                    j0 += tile
                }
            }
        }
    }
}

extension BLAS {
    /// C = alpha A B for a symmetric n x n A of which only the upper triangle is read
    /// (row-major), B n x k.
    public static func symmUpper<T: TensorScalar>(_ n: Int, _ k: Int, _ alpha: T, _ a: UnsafePointer<T>,
                                                  _ b: UnsafePointer<T>, _ c: UnsafeMutablePointer<T>) {
        if n == 0 || k == 0 { return }
        if T.self == Float.self {
            cblas_ssymm(CblasRowMajor, CblasLeft, CblasUpper, Int32(n), Int32(k), Float(alpha),
                        UnsafeRawPointer(a).assumingMemoryBound(to: Float.self), Int32(n),
                        UnsafeRawPointer(b).assumingMemoryBound(to: Float.self), Int32(k), 0,
                        UnsafeMutableRawPointer(c).assumingMemoryBound(to: Float.self), Int32(k))
        } else {
            cblas_dsymm(CblasRowMajor, CblasLeft, CblasUpper, Int32(n), Int32(k), Double(alpha),
                        UnsafeRawPointer(a).assumingMemoryBound(to: Double.self), Int32(n),
                        UnsafeRawPointer(b).assumingMemoryBound(to: Double.self), Int32(k), 0,
                        UnsafeMutableRawPointer(c).assumingMemoryBound(to: Double.self), Int32(k))
        }
    }
}

extension BLAS {
    /// The upper triangle of A A^T (row-major n x n) for a row-major n x k A; the lower part
    /// is left as it was.
    public static func gramUpperNoMirror<T: TensorScalar>(_ a: UnsafePointer<T>, rows n: Int, cols k: Int,
                                                          into c: UnsafeMutablePointer<T>) {
        if n == 0 { return }
        if T.self == Float.self {
            cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, Int32(n), Int32(k), 1,
                        UnsafeRawPointer(a).assumingMemoryBound(to: Float.self), Int32(max(k, 1)), 0,
                        UnsafeMutableRawPointer(c).assumingMemoryBound(to: Float.self), Int32(n))
        } else {
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, Int32(n), Int32(k), 1,
                        UnsafeRawPointer(a).assumingMemoryBound(to: Double.self), Int32(max(k, 1)), 0,
                        UnsafeMutableRawPointer(c).assumingMemoryBound(to: Double.self), Int32(n))
        }
    }
}
