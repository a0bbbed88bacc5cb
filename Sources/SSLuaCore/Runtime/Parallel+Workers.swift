import COpenBLAS
import Synchronization

/// The two other ways of spreading work over `pool.c`'s threads, beside `Parallel.forRange`:
/// one body per worker with single-threaded BLAS inside (the convolutions), and items handed
/// out on demand (the augmentation pipeline). Both open one region of at most `threads`
/// chunks, so `sslua.threads(n)` bounds them as it bounds every kernel.
extension Parallel {
    /// Runs `body(worker)` for every worker in `0..<workers` on the pool, with OpenBLAS set to
    /// one thread inside when there are several (each worker calls BLAS on its own slice).
    public static func runWorkers(_ workers: Int, _ body: (Int) -> Void) {
        if workers <= 1 { if workers == 1 { body(0) }; return }
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(Int32(Parallel.threads)) }
        run(workers, body)
    }

    /// Runs `body(i)` for every `i` in `0..<count` on up to `threads` threads, in blocks of
    /// `block` items that each thread takes on demand: a thread slowed down by other load does
    /// not hold the rest back. Which thread runs an item depends on timing, so `body` must
    /// write only to item `i`'s own output (the result then does not depend on scheduling).
    public static func forEachOnDemand(_ count: Int, block: Int, _ body: (Int) -> Void) {
        if count <= 0 { return }
        let b = max(1, block)
        let blocks = count / b + (count % b == 0 ? 0 : 1)
        let chunks = min(threads, blocks)
        if chunks <= 1 { for i in 0..<count { body(i) }; return }
        let next = Atomic<Int>(0)
        run(chunks) { _ in
            while true {
                let k = next.wrappingAdd(1, ordering: .relaxed).oldValue
                if k >= blocks { return }
                var i = k * b
                let hi = min(count, i + b)
                while i < hi { body(i); i += 1 }
            }
        }
    }
}

/// The first error thrown by any of a parallel loop's bodies, kept to be thrown after the loop.
final class FirstError: @unchecked Sendable {
    private let error = Mutex<Error?>(nil)
    private let flag = Atomic<Bool>(false)

    init() {}
    /// True once an error is kept (a hint for the other bodies to stop early).
    var isSet: Bool { flag.load(ordering: .relaxed) }
    func set(_ e: Error) {
        error.withLock { if $0 == nil { $0 = e } }
        flag.store(true, ordering: .relaxed)
    }
    func rethrow() throws { if let e = error.withLock({ $0 }) { throw e } }
}
