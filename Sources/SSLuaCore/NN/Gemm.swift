import COpenBLAS
#if canImport(Glibc)
import Glibc
#endif

/// Row-major gemm on raw pointers for the nn kernels, generic over the tensor scalar so the
/// same kernel code serves float32 training and float64 gradient checks.
/// `C = alpha * op(A) * op(B) + beta * C`, through `BLAS.gemm`: C is written for every size,
/// also with an empty inner dimension (a convolution with 0 input channels, `Linear(0, n)`).
@inline(__always)
func nnGemm<T: TensorScalar>(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
                             _ alpha: T, _ a: UnsafePointer<T>, _ lda: Int,
                             _ b: UnsafePointer<T>, _ ldb: Int,
                             _ beta: T, _ c: UnsafeMutablePointer<T>, _ ldc: Int) {
    BLAS.gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

/// Grow-only scratch buffers reused across conv calls (im2col columns, gathered gradients),
/// so a training step does not page-fault fresh buffers in for every layer. The Lua runtime
/// is single-threaded, and each slot is used by one kernel at a time.
enum NNWorkspace {
    nonisolated(unsafe) static var slots: [(UnsafeMutableRawPointer, Int)] = []

    /// A buffer of at least `count` elements of `T` in `slot`. Not thread-safe: take buffers
    /// before entering a parallel region.
    static func buffer<T: TensorScalar>(_ slot: Int, _ count: Int, _: T.Type) throws -> UnsafeMutablePointer<T> {
        while slots.count <= slot { slots.append((UnsafeMutableRawPointer(bitPattern: 0x10)!, 0)) }
        let (b, o) = max(count, 1).multipliedReportingOverflow(by: MemoryLayout<T>.stride)
        guard !o else { throw SSLuaError("workspace of \(count) elements is too large") }
        let bytes = b
        if slots[slot].1 < bytes {
            if slots[slot].1 > 0 { free(slots[slot].0) }
            slots[slot] = (UnsafeMutableRawPointer(bitPattern: 0x10)!, 0)
            guard let p = malloc(bytes) else { throw SSLuaError("out of memory allocating \(bytes) bytes of workspace") }
            slots[slot] = (p, bytes)
        }
        return slots[slot].0.assumingMemoryBound(to: T.self)
    }
}

/// Splits `n` samples into chunks of at most `per` samples (at least one).
@inline(__always) func nnChunks(_ n: Int, _ per: Int) -> [(Int, Int)] {
    let p = max(1, per)
    return stride(from: 0, to: n, by: p).map { ($0, Swift.min(p, n - $0)) }
}
