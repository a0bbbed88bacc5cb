/// Iteration over strided views: the one loop every elementwise kernel is built on.
///
/// `StridedLoop` walks the outer dimensions with an odometer and hands the innermost
/// dimension to the kernel as (offsets, count, strides), so kernels run a tight pointer loop
/// and contiguous inner rows vectorise.
public struct StridedLoop {
    public let shape: [Int]
    public let strides: [[Int]]   // one stride vector per operand, all of shape.count

    public init(shape: [Int], strides: [[Int]]) {
        // Drop size-1 dims and merge dims that are contiguous for every operand.
        var sh: [Int] = []
        var st: [[Int]] = Array(repeating: [], count: strides.count)
        for d in 0..<shape.count where shape[d] != 1 {
            if let last = sh.last,
               (0..<strides.count).allSatisfy({ st[$0].last! == strides[$0][d] * shape[d] }) {
                sh[sh.count - 1] = last * shape[d]
                for k in 0..<strides.count { st[k][st[k].count - 1] = strides[k][d] }
            } else {
                sh.append(shape[d])
                for k in 0..<strides.count { st[k].append(strides[k][d]) }
            }
        }
        if sh.isEmpty { sh = [1]; st = st.map { _ in [1] } }
        self.shape = sh
        self.strides = st
    }

    public var count: Int { shape.reduce(1, *) }
    public var innerCount: Int { shape[shape.count - 1] }
    public var outerCount: Int { count / max(innerCount, 1) }

    /// Calls `body(outerIndex, offsets)` for outer rows `lo..<hi`; `offsets[k]` is operand k's
    /// element offset at the start of the row.
    @inlinable public func rows(_ lo: Int, _ hi: Int, _ body: (Int, UnsafePointer<Int>) -> Void) {
        let nd = shape.count
        let nops = strides.count
        if lo >= hi { return }
        var idx = [Int](repeating: 0, count: max(nd - 1, 1))
        var offs = [Int](repeating: 0, count: nops)
        // position the odometer at row `lo`
        var rem = lo
        var d = nd - 2
        while d >= 0 { idx[d] = rem % shape[d]; rem /= shape[d]; d -= 1 }
        for k in 0..<nops {
            var o = 0
            for d in 0..<(nd - 1) { o += idx[d] * strides[k][d] }
            offs[k] = o
        }
        offs.withUnsafeMutableBufferPointer { op in
            for r in lo..<hi {
                body(r, UnsafePointer(op.baseAddress!))
                // advance
                var d = nd - 2
                while d >= 0 {
                    idx[d] += 1
                    for k in 0..<nops { op[k] += strides[k][d] }
                    if idx[d] < shape[d] { break }
                    for k in 0..<nops { op[k] -= strides[k][d] * shape[d] }
                    idx[d] = 0
                    d -= 1
                }
            }
        }
    }
}

/// The most dimensions a tensor may have: NumPy 2's `NPY_MAXDIMS` (64). Beyond it every
/// constructor, view and reader raises "too many dimensions" (recursive conversions such as
/// `totable` and the per-dimension index arrays stay small).
public let maxTensorDims = 64

/// The element count of `shape`, throwing (instead of trapping) on a negative size, more than
/// `maxTensorDims` dimensions, or sizes whose product overflows Int. The product checked is that
/// of the sizes with zeros counted as ones: a zero-size dimension beside huge ones, say
/// `(0, 2^62, 2^62)`, has no elements but its strides (products of the trailing sizes) would
/// still overflow. Every shape that reaches a tensor goes through here (constructors, `reshape`,
/// `expand`, broadcasting, joins, the file readers), so stride and offset arithmetic on a valid
/// tensor cannot overflow: every stride and every element offset is at most this product.
public func checkedCount(_ shape: [Int]) throws -> Int {
    guard shape.count <= maxTensorDims else {
        throw SSLuaError("too many dimensions (\(shape.count); a tensor has at most \(maxTensorDims))")
    }
    var n = 1, span = 1
    for s in shape {
        guard s >= 0 else { throw SSLuaError("invalid size \(s) in \(shapeString(shape))") }
        let (m, o) = span.multipliedReportingOverflow(by: Swift.max(s, 1))
        guard !o else { throw SSLuaError("size \(shapeString(shape)) is too large") }
        span = m
        n = s == 0 ? 0 : n &* s   // n <= span, so it cannot overflow either
    }
    return n
}

/// `a + b` for sizes and counts, throwing instead of trapping on overflow.
public func checkedSum(_ a: Int, _ b: Int, _ what: @autoclosure () -> String = "size") throws -> Int {
    let (r, o) = a.addingReportingOverflow(b)
    guard !o else { throw SSLuaError("\(what()) is too large") }
    return r
}

/// `a * b` for sizes and counts, throwing instead of trapping on overflow.
public func checkedProduct(_ a: Int, _ b: Int, _ what: @autoclosure () -> String = "size") throws -> Int {
    let (r, o) = a.multipliedReportingOverflow(by: b)
    guard !o else { throw SSLuaError("\(what()) is too large") }
    return r
}

/// NumPy broadcasting of two shapes; throws on incompatible shapes or a result too large.
public func broadcastShapes(_ a: [Int], _ b: [Int]) throws -> [Int] {
    let n = max(a.count, b.count)
    var out = [Int](repeating: 1, count: n)
    for i in 0..<n {
        let da = i < n - a.count ? 1 : a[i - (n - a.count)]
        let db = i < n - b.count ? 1 : b[i - (n - b.count)]
        if da == db || db == 1 { out[i] = da }
        else if da == 1 { out[i] = db }
        else {
            throw SSLuaError("shapes \(shapeString(a)) and \(shapeString(b)) cannot be broadcast together")
        }
    }
    _ = try checkedCount(out)
    return out
}

// MARK: memory overlap (the one test every in-place path and `copyIn` use)

extension Tensor {
    /// The storage elements `[lo, hi]` this view can touch, or nil when it has no elements.
    public var storageExtent: ClosedRange<Int>? {
        if numel == 0 { return nil }
        var lo = offset, hi = offset
        for (s, st) in zip(shape, strides) where s > 1 {
            let span = (s - 1) * st    // within the storage, so no overflow
            if span < 0 { lo += span } else { hi += span }
        }
        return lo...hi
    }

    /// Whether this view and `other` may share memory: the same storage and intersecting
    /// element ranges (conservative: interleaved views such as even and odd columns count).
    public func mayOverlap(_ other: Tensor) -> Bool {
        guard storage === other.storage, let a = storageExtent, let b = other.storageExtent else { return false }
        return a.overlaps(b)
    }

    /// Whether `other` is this very view (same storage, shape, offset and strides on every
    /// dimension that has more than one element): an elementwise op may then read and write
    /// each position in one pass.
    public func isSameView(_ other: Tensor) -> Bool {
        guard storage === other.storage, shape == other.shape else { return false }
        if numel == 0 { return true }
        guard offset == other.offset else { return false }
        for d in 0..<dim where shape[d] > 1 && strides[d] != other.strides[d] { return false }
        return true
    }

    /// The value of `src` as it is now, in memory that does not overlap this view (`src` itself
    /// when it does not overlap): what an in-place op must read when it writes this view.
    public func unaliased(_ src: Tensor) throws -> Tensor {
        guard mayOverlap(src) else { return src }
        let c = try Tensor(shape: src.shape, dtype: src.dtype, zeroed: false)
        try c.copyIn(src)
        return c
    }
}

extension Tensor {
    /// Strides of this view expanded to `shape` (stride 0 on broadcast dimensions).
    public func broadcastStrides(to target: [Int]) -> [Int] {
        let pad = target.count - dim
        var st = [Int](repeating: 0, count: target.count)
        for i in 0..<dim where shape[i] != 1 || target[pad + i] == 1 {
            st[pad + i] = shape[i] == 1 ? 0 : strides[i]
        }
        return st
    }

    /// A contiguous tensor with this view's values (self when already contiguous at offset 0).
    public func contiguous() throws -> Tensor {
        if isContiguous && storage.count == numel { return self }
        let out = try Tensor(shape: shape, dtype: dtype, zeroed: false)
        try out.copyIn(self)
        return out
    }

    /// Copies `src` (broadcast to this shape, converting dtype) into this view.
    /// A source whose memory overlaps this view (e.g. `x:narrow(1, 2, 5):copy_(x:narrow(1, 1, 5))`)
    /// is copied aside first, as PyTorch does, so no element is read after it was written.
    public func copyIn(_ src: Tensor) throws {
        guard try broadcastShapes(src.shape, shape) == shape else {
            throw SSLuaError("cannot copy a tensor of size \(shapeString(src.shape)) into one of size \(shapeString(shape))")
        }
        if isSameView(src) { return }   // same storage, so the same dtype: nothing to do
        let src = try unaliased(src)
        let loop = StridedLoop(shape: shape, strides: [strides, src.broadcastStrides(to: shape)])
        func run<D: TensorScalar, S: TensorScalar>(_: D.Type, _: S.Type) {
            let dp = base(D.self), sp = src.base(S.self)
            let n = loop.innerCount, ds = loop.strides[0].last!, ss = loop.strides[1].last!
            Parallel.forRange(loop.outerCount, grain: max(1, 65536 / max(n, 1))) { lo, hi in
                loop.rows(lo, hi) { _, o in
                    let d = dp + o[0], s = sp + o[1]
                    if ds == 1 && ss == 1 { for i in 0..<n { d[i] = D(s[i]) } }
                    else { for i in 0..<n { d[i * ds] = D(s[i * ss]) } }
                }
            }
        }
        switch (dtype, src.dtype) {
        case (.float32, .float32): run(Float.self, Float.self)
        case (.float32, .float64): run(Float.self, Double.self)
        case (.float64, .float32): run(Double.self, Float.self)
        case (.float64, .float64): run(Double.self, Double.self)
        }
    }

    /// A contiguous copy in `dtype`.
    public func to(_ dtype: DType) throws -> Tensor {
        if dtype == self.dtype { return self }
        let out = try Tensor(shape: shape, dtype: dtype, zeroed: false)
        try out.copyIn(self)
        return out
    }

    /// Values as a flat row-major Double array (for tests, printing, small analyses).
    public func toDoubles() throws -> [Double] {
        let c = try to(.float64).contiguous()
        let p = c.base(Double.self)
        return try withExtendedLifetime(c) { try Memory.array(p, count: numel, "a copy of \(numel) values") }
    }

    public static func from(_ values: [Double], shape: [Int], dtype: DType = .float32) throws -> Tensor {
        let t = try Tensor(shape: shape, dtype: dtype, zeroed: false)
        try require(values.count == t.numel, "\(values.count) values for size \(shapeString(shape))")
        switch dtype {
        case .float32: let p = t.base(Float.self); for i in 0..<values.count { p[i] = Float(values[i]) }
        case .float64: let p = t.base(Double.self); for i in 0..<values.count { p[i] = values[i] }
        }
        return t
    }
}
