/// `sort` and `topk` along one dimension. Sorting is stable (ties keep their original order)
/// and puts NaN after every number, as PyTorch does (first when descending).
extension Tensor {
    /// Values and 0-based indices (as floats) sorted along `dim` (no autograd).
    public func sortKernel(dim d: Int, descending: Bool) throws -> (Tensor, Tensor) {
        let x = try contiguous()
        let (outer, n, inner) = x.splitAround(d)
        let vals = try Tensor(shape: shape, dtype: dtype, zeroed: false)
        let idx = try Tensor(shape: shape, dtype: dtype, zeroed: false)
        if numel == 0 { return (vals, idx) }   // no rows to sort (the others may be 2^40 empty ones)
        let rows = outer * inner
        let chunks = Swift.min(Parallel.threads, Swift.max(1, rows / Swift.max(1, 4096 / Swift.max(n, 1))))
        func run<T: TensorScalar>(_: T.Type) throws {
            let s = x.base(T.self), ov = vals.base(T.self), oi = idx.base(T.self)
            // a total order: NaN is the largest value; equal keys compare by position
            @inline(__always) func before(_ a: (T, Int), _ b: (T, Int)) -> Bool {
                let (va, ia) = a, (vb, ib) = b
                if va.isNaN || vb.isNaN {
                    if va.isNaN && vb.isNaN { return ia < ib }
                    return descending ? va.isNaN : vb.isNaN
                }
                if va == vb { return ia < ib }
                return descending ? va > vb : va < vb
            }
            // one scratch row per chunk, allocated (failably) before the parallel region
            // (Swift's own sort allocates a temporary of its own, which cannot fail softly)
            let bufs = try (0..<chunks).map { _ in try Buffer<(T, Int)>(count: 2 * n, "sort's scratch of \(n) elements") }
            Parallel.run(chunks) { c in
                let buf = bufs[c].base
                for r in (rows * c / chunks)..<(rows * (c + 1) / chunks) {
                    let a = r / inner, b = r % inner
                    let base = a * n * inner + b
                    for k in 0..<n { buf[k] = (s[base + k * inner], k) }
                    Tensor.mergeSort(buf, buf + n, n, before)
                    for k in 0..<n { ov[base + k * inner] = buf[k].0; oi[base + k * inner] = T(buf[k].1) }
                }
            }
        }
        switch dtype { case .float32: try run(Float.self); case .float64: try run(Double.self) }
        return (vals, idx)
    }

    /// Sorts `a[0..<n]` by `less`, a strict total order, using `tmp[0..<n]` as scratch: a
    /// bottom-up merge sort over insertion-sorted runs that allocates nothing.
    @inline(__always) static func mergeSort<E>(_ a: UnsafeMutablePointer<E>, _ tmp: UnsafeMutablePointer<E>, _ n: Int,
                                               _ less: (E, E) -> Bool) {
        let run = 16
        var lo = 0
        while lo < n {
            let hi = Swift.min(lo + run, n)
            var i = lo + 1
            while i < hi {
                let v = a[i]
                var j = i
                while j > lo && less(v, a[j - 1]) { a[j] = a[j - 1]; j -= 1 }
                a[j] = v
                i += 1
            }
            lo = hi
        }
        var src = a, dst = tmp
        var width = run
        while width < n {
            var i = 0
            while i < n {
                let mid = Swift.min(i + width, n), hi = Swift.min(i + 2 * width, n)
                var p = i, q = mid, k = i
                while p < mid && q < hi {
                    if less(src[q], src[p]) { dst[k] = src[q]; q += 1 } else { dst[k] = src[p]; p += 1 }
                    k += 1
                }
                while p < mid { dst[k] = src[p]; p += 1; k += 1 }
                while q < hi { dst[k] = src[q]; q += 1; k += 1 }
                i = hi
            }
            swap(&src, &dst)
            width *= 2
        }
        if src != a { a.update(from: src, count: n) }
    }

    /// Sorted values and 0-based indices; the values' gradient flows back to the source
    /// positions.
    public func sort(dim: Int, descending: Bool = false) throws -> (Tensor, Tensor) {
        let x = self
        if self.dim == 0 { return (try clone(), try Tensor.scalar(0, dtype: dtype)) }
        let d = try axis(dim)
        let (v, i) = try sortKernel(dim: d, descending: descending)
        v.recorded("sort", [x]) { g in
            let z = try Tensor.zerosLike(x)
            try z.scatterAddKernel(dim: d, index: i, source: g)
            return [z]
        }
        return (v, i)
    }

    /// The k largest (or smallest) entries along `dim`, sorted, with 0-based indices.
    public func topk(_ k: Int, dim: Int, largest: Bool = true) throws -> (Tensor, Tensor) {
        let x = self
        let d = try axis(dim)
        let n = self.dim == 0 ? 1 : shape[d]
        try require(k >= 0 && k <= n, "k = \(k) out of range for a dimension of size \(n)")
        if self.dim == 0 { return (try clone(), try Tensor.scalar(0, dtype: dtype)) }
        let (sv, si) = try sortKernel(dim: d, descending: largest)
        let v = try sv.narrow(d, 0, k).contiguous(), i = try si.narrow(d, 0, k).contiguous()
        v.recorded("topk", [x]) { g in
            let z = try Tensor.zerosLike(x)
            try z.scatterAddKernel(dim: d, index: i, source: g)
            return [z]
        }
        return (v, i)
    }
}
