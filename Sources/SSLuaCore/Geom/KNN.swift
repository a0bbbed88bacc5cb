import RealModule

/// Weighted cosine kNN classification (Wu et al. 2018, the SSL evaluation protocol): for each
/// test feature, the k most cosine-similar training features vote for their class with weight
/// exp(s / T); the prediction is the class with the largest total (lowest label on a tie).
///
/// Test rows go through in blocks: one sgemm gives the block's similarities to all training
/// rows (block x N_train floats, ~51 MB at 50k), a bounded min-heap keeps the k best per row,
/// so the full N_test x N_train matrix never exists. Training rows are not copied when they are
/// already contiguous float32: their norms are applied during the scan.
public enum KNN {
    public static let blockRows = 256   // 51 MB of similarities at 50k; halves gemm repacking vs 128

    /// Accuracy in [0, 1]. Labels are 0-based here. `k` is capped at the number of training rows.
    public static func accuracy(train: Tensor, trainLabels: [Int], test: Tensor, testLabels: [Int],
                                k kIn: Int = 200, temperature: Double = 0.07) throws -> Double {
        let split = try FeatureSplit(train: train, trainLabels: trainLabels, test: test, testLabels: testLabels)
        let nTrain = split.nTrain, nTest = split.nTest, d = split.dim
        try require(kIn >= 1, "k must be at least 1, got \(kIn)")
        try require(temperature.isFinite && temperature > 0, "temperature must be positive, got \(temperature)")
        let classes = (trainLabels.max() ?? 0) + 1
        try require(classes <= 1 << 24, "too many classes")
        let k = Swift.min(kIn, nTrain)
        let tr = train.dtype == .float32 ? try train.detach().contiguous() : try train.to(.float32)
        let trp = tr.base(Float.self)
        var invNorm = try [Float](failableRepeating: 0, count: nTrain)
        for j in 0..<nTrain {
            var s: Float = 0
            for c in 0..<d { s += trp[j * d + c] * trp[j * d + c] }
            invNorm[j] = 1 / Swift.max(s.squareRoot(), 1e-12)
        }
        let te = try test.to(.float32).contiguous()
        let bmax = Swift.min(blockRows, nTest)
        let q = try Tensor(shape: [bmax, d], dtype: .float32, zeroed: false)
        let sims = try Tensor(shape: [bmax, nTrain], dtype: .float32, zeroed: false)
        let qp = q.base(Float.self), sp = sims.base(Float.self), tep = te.base(Float.self)
        var correct = try [UInt8](failableRepeating: 0, count: nTest)
        let invT = 1 / temperature
        try invNorm.withUnsafeBufferPointer { inb in
            try correct.withUnsafeMutableBufferPointer { cb in
                let inv = inb.baseAddress!, cp = cb.baseAddress!
                var start = 0
                while start < nTest {
                    let b = Swift.min(bmax, nTest - start)
                    for r in 0..<b {
                        let src = tep + (start + r) * d, dst = qp + r * d
                        var s: Float = 0
                        for c in 0..<d { s += src[c] * src[c] }
                        let iv = 1 / Swift.max(s.squareRoot(), 1e-12)
                        for c in 0..<d { dst[c] = src[c] * iv }
                    }
                    BLAS.gemm(false, true, b, nTrain, d, Float(1), qp, d, trp, d, Float(0), sp, nTrain)
                    let base = start
                    // each chunk's heap (k) and votes (classes): out of memory is thrown after
                    let failure = FirstError()
                    Parallel.forRange(b, grain: 1) { lo, hi in
                        var heapV: [Float], heapI: [Int], scores: [Double]
                        do {
                            heapV = try [Float](failableRepeating: 0, count: k, "the kNN heap")
                            heapI = try [Int](failableRepeating: 0, count: k, "the kNN heap")
                            scores = try [Double](failableRepeating: 0, count: classes, "the kNN votes")
                        } catch {
                            failure.set(error)
                            return
                        }
                        for r in lo..<hi {
                            let row = sp + r * nTrain
                            // fill the heap with the first k, then keep the k largest
                            var size = 0
                            for j in 0..<nTrain {
                                let v = row[j] * inv[j]
                                if size < k {
                                    heapV[size] = v; heapI[size] = j; size += 1
                                    var c = size - 1
                                    while c > 0 {
                                        let p = (c - 1) >> 1
                                        if heapV[p] <= heapV[c] { break }
                                        heapV.swapAt(p, c); heapI.swapAt(p, c); c = p
                                    }
                                } else if v > heapV[0] {
                                    heapV[0] = v; heapI[0] = j
                                    var c = 0
                                    while true {
                                        let l = 2 * c + 1, rr = l + 1
                                        var m = c
                                        if l < k && heapV[l] < heapV[m] { m = l }
                                        if rr < k && heapV[rr] < heapV[m] { m = rr }
                                        if m == c { break }
                                        heapV.swapAt(m, c); heapI.swapAt(m, c); c = m
                                    }
                                }
                            }
                            for c in 0..<classes { scores[c] = 0 }
                            // exp((s - s_max) / T): the same vote ratios, no overflow at small T
                            var top = -Float.infinity
                            for t in 0..<size { top = Swift.max(top, heapV[t]) }
                            for t in 0..<size {
                                scores[trainLabels[heapI[t]]] += Double.exp((Double(heapV[t]) - Double(top)) * invT)
                            }
                            var best = 0
                            for c in 1..<Swift.max(classes, 1) where scores[c] > scores[best] { best = c }
                            cp[base + r] = best == testLabels[base + r] ? 1 : 0
                        }
                    }
                    try failure.rethrow()
                    start += b
                    try Parallel.checkInterrupt()
                }
            }
        }
        var hits = 0
        for c in correct { hits += Int(c) }
        return Double(hits) / Double(nTest)
    }
}
