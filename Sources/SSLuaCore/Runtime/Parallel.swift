import COpenBLAS
import CRuntime

/// Worker threads for sslua's own kernels and for OpenBLAS (`sslua.threads`).
///
/// Work is split into a fixed number of chunks that depends only on the thread count, so the
/// same seed and the same thread count give bitwise identical results.
public enum Parallel {
    public private(set) static var threads: Int = defaultThreads()

    static func defaultThreads() -> Int {
        let n = Int(openblas_get_num_threads())   // already capped by `sslua_thread_cap` at startup
        return max(1, min(n, Int(sslua_thread_cap())))
    }

    /// Sets the thread count to `n`, or to fewer when the address-space limit leaves no room
    /// for more threads or threads cannot be created (`threads` says how many were obtained).
    public static func setThreads(_ n: Int) {
        let want = max(1, min(n, 256, Int(sslua_thread_cap())))
        let got = Int(sslua_pool_reserve(Int32(want - 1))) + 1
        threads = max(1, min(want, got))
        openblas_set_num_threads(Int32(threads))
        threads = max(1, Int(sslua_settle_threads(Int32(threads))))
    }

    /// Runs `body(lo, hi)` over `0..<count` in at most `threads` contiguous chunks; serial when
    /// the work is small (`grain` elements per chunk at least).
    @inlinable public static func forRange(_ count: Int, grain: Int = 32768,
                                           _ body: (Int, Int) -> Void) {
        let chunks = min(threads, max(1, count / max(grain, 1)))
        if chunks <= 1 { body(0, count); return }
        run(chunks) { c in body(chunkBound(count, c, chunks), chunkBound(count, c + 1, chunks)) }
    }

    /// `count * c / chunks` without overflow (a full-width product): chunk c's first index.
    @inlinable public static func chunkBound(_ count: Int, _ c: Int, _ chunks: Int) -> Int {
        let p = count.multipliedFullWidth(by: c)
        return chunks.dividingFullWidth((high: p.high, low: p.low)).quotient
    }

    /// Runs `body(i)` for each item, items spread over the threads.
    @inlinable public static func forEach(_ count: Int, _ body: (Int) -> Void) {
        let chunks = min(threads, count)
        if chunks <= 1 { for i in 0..<count { body(i) }; return }
        run(chunks) { c in
            var i = chunkBound(count, c, chunks)
            let hi = chunkBound(count, c + 1, chunks)
            while i < hi { body(i); i += 1 }
        }
    }

    /// Runs `body(c)` for c in `0..<chunks` on the worker pool (`pool.c`), one chunk per thread;
    /// returns when all are done.
    public static func run(_ chunks: Int, _ body: (Int) -> Void) {
        if chunks <= 1 { if chunks == 1 { body(0) }; return }
        withoutActuallyEscaping(body) { b in
            var job = b
            withUnsafeMutablePointer(to: &job) { p in
                sslua_pool_run(Int32(chunks), { ctx, c in
                    ctx!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(Int(c))
                }, p)
            }
        }
    }

    /// Throws "interrupted!" if Ctrl-C was pressed: long kernels call this between blocks.
    @inlinable public static func checkInterrupt() throws {
        if sslua_interrupted() != 0 { sslua_clear_interrupt(); throw SSLuaError("interrupted!") }
    }
}
