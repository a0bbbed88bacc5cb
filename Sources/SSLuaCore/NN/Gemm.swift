import COpenBLAS
#if canImport(Glibc)
import Glibc
#endif

/// Row-major gemm on raw pointers for the nn kernels, generic over the tensor scalar so the
/// same kernel code serves float32 training and float64 gradient checks.
/// `C = alpha * op(A) * op(B) + beta * C`.
@inline(__always)
func nnGemm<T: TensorScalar>(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
                             _ alpha: T, _ a: UnsafePointer<T>, _ lda: Int,
                             _ b: UnsafePointer<T>, _ ldb: Int,
                             _ beta: T, _ c: UnsafeMutablePointer<T>, _ ldc: Int) {
    if m == 0 || n == 0 { return }
    let tA = transA ? CblasTrans : CblasNoTrans, tB = transB ? CblasTrans : CblasNoTrans
    if T.self == Float.self {
        cblas_sgemm(CblasRowMajor, tA, tB, Int32(m), Int32(n), Int32(k), Float(alpha),
                    UnsafeRawPointer(a).assumingMemoryBound(to: Float.self), Int32(lda),
                    UnsafeRawPointer(b).assumingMemoryBound(to: Float.self), Int32(ldb), Float(beta),
                    UnsafeMutableRawPointer(c).assumingMemoryBound(to: Float.self), Int32(ldc))
    } else {
        cblas_dgemm(CblasRowMajor, tA, tB, Int32(m), Int32(n), Int32(k), Double(alpha),
                    UnsafeRawPointer(a).assumingMemoryBound(to: Double.self), Int32(lda),
                    UnsafeRawPointer(b).assumingMemoryBound(to: Double.self), Int32(ldb), Double(beta),
                    UnsafeMutableRawPointer(c).assumingMemoryBound(to: Double.self), Int32(ldc))
    }
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
